"""Shell-completion sources: event names, profile names and (when a server answers) webhook ids."""

from __future__ import annotations

import typer

from argilla_hooks.events import ALL_EVENTS, EVENT_DESCRIPTIONS


def event_names(incomplete: str) -> list[tuple[str, str]]:
    """Subscribable events, for `-e`: completes the last item of a comma list, keeping what came before it."""
    head, _, last = incomplete.rpartition(",")
    prefix = f"{head}," if head else ""
    return [(prefix + name, text) for name, text in _events_starting_with(last) if name != "ping"]


def sendable_event_names(incomplete: str) -> list[tuple[str, str]]:
    """Every event, `ping` included, for `hooks trigger EVENT`."""
    return _events_starting_with(incomplete)


def _events_starting_with(start: str) -> list[tuple[str, str]]:
    return [(name, EVENT_DESCRIPTIONS[name]) for name in ALL_EVENTS if name.startswith(start)]


def profile_names(incomplete: str) -> list[str]:
    from argilla_hooks import settings

    try:
        return [name for name in settings.profiles() if name.startswith(incomplete)]
    except Exception:
        return []


def webhook_ids(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    """Ids of the server's webhooks; quietly nothing when it cannot be reached within about 2 seconds.

    The server is the one the command would use: `--api-url`, `--api-key` and `--profile` already on the line (click
    has parsed them, with their environment variables, into ctx.params), else the profile.
    """
    from argilla_hooks.cli.connect import get_client

    params = ctx.params
    try:
        # One attempt, 1 s per phase: the shell waits for us on every Tab.
        with get_client(params.get("api_url"), params.get("api_key"), params.get("profile"), timeout=1.0, connect_retries=0) as client:
            hooks = client.list()
    except Exception:
        return []
    return [(str(h.id), h.url) for h in hooks if str(h.id).startswith(incomplete.lower())]
