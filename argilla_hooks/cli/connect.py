"""The one place a command gets its Argilla client (tests and other front-ends replace it here)."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Any, Optional

from argilla_hooks import settings
from argilla_hooks.cli.errors import UsageProblem

if TYPE_CHECKING:
    import typer

    from argilla_hooks.client import ArgillaClient


def get_client(api_url: Optional[str], api_key: Optional[str], profile: Optional[str], **options: Any) -> "ArgillaClient":
    """A client for flag-or-environment values, completed from the profile; `options` go to ArgillaClient."""
    from argilla_hooks.client import ArgillaClient

    resolved = settings.resolve(api_url, api_key, profile)
    if not (resolved.api_key or "").strip():
        raise UsageProblem(f"no API key: set {settings.ENV_API_KEY}, pass --api-key, or run `hooks login`")
    return ArgillaClient(resolved.api_url, resolved.api_key, **options)


def same_server(ctx: "typer.Context") -> tuple[str, str]:
    """For a command we tell the user to run next: the `--profile` and `--api-url` typed on this command line (without
    them it would go to another server), and a note to add after the command when a key was typed there (the key is
    never printed)."""
    options = ""
    for name, flag in (("profile", "--profile"), ("api_url", "--api-url")):
        if given_by(ctx, name, "COMMANDLINE"):
            options += f" {flag} {shlex.quote(ctx.params[name])}"
    return options, " with the same --api-key" if given_by(ctx, "api_key", "COMMANDLINE") else ""


def given_by(ctx: typer.Context, name: str, source: str) -> bool:
    """Whether parameter `name` got its value from `source`: "COMMANDLINE", "ENVIRONMENT" or "DEFAULT"."""
    found = ctx.get_parameter_source(name)
    return found is not None and found.name == source
