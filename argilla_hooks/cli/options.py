"""Options shared by several commands, declared once (with their env vars and completions)."""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer

from argilla_hooks import settings
from argilla_hooks.cli import completion

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
ApiKey = Annotated[
    Optional[str],
    typer.Option(
        "--api-key",
        envvar=settings.ENV_API_KEY,
        help="Argilla API key of an owner (never printed).",
        show_default=False,
        show_envvar=True,
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
