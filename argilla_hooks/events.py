"""The Argilla webhook event catalogue: names, meanings, and pattern expansion.

Kept free of pydantic and httpx so that the CLI can complete and validate event
names without loading them.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from enum import Enum

from argilla_hooks.text import did_you_mean


class EventName(str, Enum):
    """Every event Argilla 2.x sends. `ping` is sent only by the ping endpoint and cannot be subscribed to."""

    DATASET_CREATED = "dataset.created"
    DATASET_UPDATED = "dataset.updated"
    DATASET_DELETED = "dataset.deleted"
    DATASET_PUBLISHED = "dataset.published"
    RECORD_CREATED = "record.created"
    RECORD_UPDATED = "record.updated"
    RECORD_DELETED = "record.deleted"
    RECORD_COMPLETED = "record.completed"
    RESPONSE_CREATED = "response.created"
    RESPONSE_UPDATED = "response.updated"
    RESPONSE_DELETED = "response.deleted"
    PING = "ping"

    def __str__(self) -> str:
        return self.value


EVENT_DESCRIPTIONS: dict[str, str] = {
    "dataset.created": "a dataset was created (still a draft, no records yet)",
    "dataset.updated": "a dataset's name, guidelines or settings changed",
    "dataset.deleted": "a dataset was deleted, with all its records",
    "dataset.published": "a dataset was published and is ready for annotation",
    "record.created": "a record was added to a dataset (one event per record)",
    "record.updated": "a record's fields, metadata or responses changed",
    "record.deleted": "a record was deleted",
    "record.completed": "a record reached its distribution's minimum of submitted responses",
    "response.created": "an annotator saved a response (draft, submitted or discarded)",
    "response.updated": "an annotator changed a response",
    "response.deleted": "a response was deleted",
    "ping": "a test delivery sent by `hooks ping` (cannot be subscribed to)",
}

# The names a webhook can subscribe to, in Argilla's order.
SUBSCRIBABLE: tuple[str, ...] = tuple(e.value for e in EventName if e is not EventName.PING)
ALL_EVENTS: tuple[str, ...] = tuple(e.value for e in EventName)


class UnknownEventError(ValueError):
    """An event name or pattern that matches no event; the message says what would."""


def expand_events(values: list[str] | tuple[str, ...], *, allow_ping: bool = False) -> list[str]:
    """Expand repeated, comma-separated and glob event arguments into unique names, in catalogue order.

    `["dataset.*", "record.created,record.deleted"]` -> the four dataset events and two record events.
    Raises UnknownEventError naming the bad value, the closest valid name and the valid ones.
    """
    choices = ALL_EVENTS if allow_ping else SUBSCRIBABLE
    wanted: set[str] = set()
    for part in _parts(values):
        matched = _matching(part, choices)
        if not matched:
            raise UnknownEventError(_unknown_message(part, choices))
        wanted.update(matched)
    return [name for name in choices if name in wanted]


def expand_required(values: list[str] | tuple[str, ...], *, option: str = "-e") -> list[str]:
    """expand_events that also refuses a list naming no event (`-e ''`, `-e ,`: often an unset shell variable)."""
    events = expand_events(values)
    if not events:
        # '*' for all: not for --remove-event, where it would leave no event (refused too)
        every = "" if option == "--remove-event" else f", or {option} '*' for all"
        raise UnknownEventError(f"at least one event is required (e.g. {option} dataset.created{every})")
    return events


def unknown_events(values: list[str] | tuple[str, ...]) -> list[str]:
    """The names and patterns in `values` (as `expand_events` reads them) that match no subscribable event, each once."""
    return list(dict.fromkeys(part for part in _parts(values) if not _matching(part, SUBSCRIBABLE)))


def _parts(values: list[str] | tuple[str, ...]) -> Iterator[str]:
    for value in values:
        yield from (part for part in (p.strip() for p in str(value).split(",")) if part)


def _is_pattern(part: str) -> bool:
    return any(ch in part for ch in "*?[")


def _matching(part: str, choices: tuple[str, ...]) -> list[str]:
    if _is_pattern(part):
        return fnmatch.filter(choices, part)
    return [part] if part in choices else []


def _unknown_message(name: str, choices: tuple[str, ...]) -> str:
    if _is_pattern(name):
        return f"event pattern {name!r} matches no event; valid events: {', '.join(choices)}"
    if name == "ping" and "ping" not in choices:
        return "'ping' cannot be subscribed to; Argilla sends it only for `hooks ping`"
    return f"unknown event {name!r}{did_you_mean(name, choices)}; valid events: {', '.join(choices)}"
