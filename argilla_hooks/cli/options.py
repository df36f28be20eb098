"""Options shared by several commands, declared once (with their env vars and completions)."""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer

from argilla_hooks import settings
from argilla_hooks.cli import completion
from argilla_hooks.cli.connect import given_by
from argilla_hooks.cli.errors import UsageProblem

ApiUrl = Annotated[
    Optional[str],
    typer.Option(
        "--api-url",
        envvar=settings.ENV_API_URL,
        help=f"Argilla server URL \\[default: the profile's, else {settings.DEFAULT_API_URL}].",
        show_default=False,
        rich_help_panel="Connection",
    ),
]
_KEY_FROM_FILE = "argilla_hooks.api_key_from_file"
MAX_SECRET_FILE = 64 * 1024  # a key or a few secrets take a few hundred bytes


def read_secret_file(path: str, option: str) -> str:
    """The text of a file that holds a secret (`-`: stdin), without surrounding whitespace; a usage error naming the
    option when it cannot be read, is not UTF-8 text, or is empty. Named pipes are fine (`<(pass show argilla)`)."""
    from argilla_hooks.cli.output import read_stdin

    try:
        if path == "-":
            text = read_stdin()
        else:
            with open(path, "rb") as file:
                text = file.read(MAX_SECRET_FILE + 1).decode("utf-8")
    except OSError as exc:
        raise UsageProblem(f"{option} {path}: {exc.strerror or exc}") from None
    except ValueError as exc:  # not UTF-8; stdin closed
        raise UsageProblem(f"{option} {path}: {exc}") from None
    if len(text) > MAX_SECRET_FILE:
        raise UsageProblem(f"{option} {path}: larger than {MAX_SECRET_FILE // 1024} KiB, so not a secret")
    if not text.strip():
        raise UsageProblem(f"{option} {path} is empty")
    return text.strip()


def _key_file_read(ctx: typer.Context, path: Optional[str]) -> Optional[str]:
    # Eager, so read before --api-key's callback, which puts the key in its place.
    if path is not None and not ctx.resilient_parsing:  # (not while completing a command line)
        ctx.meta[_KEY_FROM_FILE] = read_secret_file(path, "--api-key-file")
    return path


def _key_or_key_file(ctx: typer.Context, key: Optional[str]) -> Optional[str]:
    """--api-key, or the key --api-key-file read: the file beats ARGILLA_API_KEY and a profile, as any flag does."""
    from_file = ctx.meta.get(_KEY_FROM_FILE)
    if from_file is None:
        return key
    if given_by(ctx, "api_key", "COMMANDLINE"):
        raise UsageProblem("give --api-key or --api-key-file, not both")
    return from_file


ApiKey = Annotated[
    Optional[str],
    typer.Option(
        "--api-key",
        envvar=settings.ENV_API_KEY,
        help="Argilla API key of an owner (never printed; visible to other users in `ps`: prefer the variable or --api-key-file).",
        show_default=False,
        show_envvar=True,
        rich_help_panel="Connection",
        callback=_key_or_key_file,
    ),
]
ApiKeyFile = Annotated[
    Optional[str],
    typer.Option(
        "--api-key-file",
        help="Read the API key from this file (`-`: stdin).",
        metavar="FILE",
        show_default=False,
        is_eager=True,
        callback=_key_file_read,
        rich_help_panel="Connection",
    ),
]


def profile_option(help: str, **options: Any) -> Any:
    """`--profile` (or ARGILLA_HOOKS_PROFILE), completing saved profile names on <TAB>."""
    return typer.Option("--profile", help=help, envvar=settings.ENV_PROFILE, autocompletion=completion.profile_names, **options)


Profile = Annotated[
    Optional[str],
    profile_option("Profile saved by `hooks login` \\[default: 'default'].", show_default=False, rich_help_panel="Connection"),
]
Json = Annotated[bool, typer.Option("--json", help="Print JSON on stdout (stable, for scripts).")]
WebhookId = Annotated[
    str,
    typer.Argument(help="Webhook id: the full UUID or any unique prefix.", metavar="ID", autocompletion=completion.webhook_ids),
]
WebhookIds = Annotated[
    Optional[list[str]],
    typer.Argument(help="Webhook ids: full UUIDs or unique prefixes.", metavar="ID", autocompletion=completion.webhook_ids, show_default=False),
]
RequiredWebhookIds = Annotated[
    list[str],
    typer.Argument(help="Webhook ids: full UUIDs or unique prefixes.", metavar="ID", autocompletion=completion.webhook_ids, show_default=False),
]


def event_option(*names: str, help: str, **options: Any) -> Any:
    """An option that takes event names (repeats, comma lists, globs), completing them on <TAB>."""
    return typer.Option(*names, help=help, autocompletion=completion.event_names, show_default=False, **options)


Events = Annotated[
    Optional[list[str]],
    event_option("--event", "-e", help="Event to subscribe to; repeat it, or give a comma list or a glob (dataset.*, *)."),
]
