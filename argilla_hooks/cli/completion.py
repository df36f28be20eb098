"""Shell-completion sources: event names, profile names and (when a server answers) webhook ids."""

from __future__ import annotations

import os

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


def webhook_ids(incomplete: str) -> list[tuple[str, str]]:
    """Ids of the configured server's webhooks; quietly nothing when it cannot be reached quickly."""
    from argilla_hooks import settings
    from argilla_hooks.cli.connect import get_client

    try:
        # Completion runs before options are parsed, so only the environment and the profile can name the server.
        env = os.environ.get
        with get_client(env(settings.ENV_API_URL), env(settings.ENV_API_KEY), env(settings.ENV_PROFILE), timeout=2.0) as client:
            hooks = client.list()
    except Exception:
        return []
    return [(str(h.id), h.url) for h in hooks if str(h.id).startswith(incomplete.lower())]
