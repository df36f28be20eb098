"""Webhooks as a file (TOML or JSON): read and validate one, or write the server's webhooks as one.

`load_file` validates a whole file before anything is planned (see `declarative` for the plan) and raises SpecError
with every problem, each naming the file, the entry and the field; `dump` writes what `hooks export` prints.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, TypeVar

from argilla_hooks.client.models import MAX_WEBHOOKS, Webhook, check_description
from argilla_hooks.urls import check_url_shape, hide_userinfo, normalize_url, shorten_url
from argilla_hooks.events import UnknownEventError, expand_events, unknown_events
from argilla_hooks.text import DuplicateKeyError, did_you_mean, loads_strict

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

FORMATS = ("toml", "json")
KEYS = ("url", "events", "enabled", "description")
# Problems listed per file (and unknown keys / events per entry); the rest are counted, so that a huge broken file
# gives a short message, quickly.
MAX_SHOWN = 20


class SpecError(ValueError):
    """A webhooks file that cannot be applied; one line per problem, each naming the file, entry and field.

    `problems` holds them all; `shown` (and the message) the first MAX_SHOWN, then `... and N more problems`.
    """

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__("\n".join(f"{source}: {problem}" for problem in self.shown))

    @property
    def shown(self) -> list[str]:
        if len(self.problems) <= MAX_SHOWN:
            return list(self.problems)
        return [*self.problems[:MAX_SHOWN], f"... and {len(self.problems) - MAX_SHOWN} more problems"]


@dataclass(frozen=True)
class DesiredWebhook:
    """One entry of a webhooks file; `entry` is its 1-based position, for messages."""

    url: str
    events: tuple[str, ...]
    enabled: bool = True
    description: Optional[str] = None
    entry: Optional[int] = None
    source: Optional[str] = None

    @property
    def normalized_url(self) -> str:
        return normalize_url(self.url)

    @property
    def where(self) -> str:
        return _where(self.entry, self.url)

    def to_json(self) -> dict[str, Any]:
        return {"url": self.url, "events": list(self.events), "enabled": self.enabled, "description": self.description}


# --- reading and writing files ------------------------------------------------------------------


def load_file(path: str | Path) -> list[DesiredWebhook]:
    """Read and validate a whole webhooks file; raises SpecError listing every problem found."""
    source = str(path)
    try:
        # Bytes, then decoded: read_text() would turn a lone CR into a line break, accepting from a path a file
        # that TOML refuses (and that `-f -` refuses).
        text = Path(path).read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(source, [f"cannot read the file: {exc}"]) from None
    return load_text(text, source)


def load_text(text: str, source: str = "<stdin>") -> list[DesiredWebhook]:
    """Validate a webhooks file already read (e.g. from stdin); the format comes from `source`'s extension, else the text.

    One leading byte-order mark (U+FEFF, which Windows editors write) is dropped first.
    """
    text = text.removeprefix("\ufeff")
    return parse(text, source=source, format=_format_of(source, text))


def _format_of(source: str, text: str) -> str:
    suffix = Path(source).suffix.lower()
    if suffix in (".toml", ".json"):
        return suffix[1:]
    # No telling extension (stdin, `.conf`): a JSON document starts with `{`, a TOML one cannot.
    return "json" if text.lstrip().startswith("{") else "toml"


def parse(text: str, *, source: str = "<input>", format: str = "toml") -> list[DesiredWebhook]:
    """Validate the text of a webhooks file (`format` "toml" or "json"); see load_file."""
    try:
        # A key twice in JSON is refused, as TOML does: `"webhooks"` twice would silently drop the first list (and
        # --prune then delete its webhooks).
        document = loads_strict(text) if format == "json" else tomllib.loads(text)
    except DuplicateKeyError as exc:
        raise SpecError(source, [f"invalid JSON: {exc} in one object"]) from None
    except json.JSONDecodeError as exc:
        raise SpecError(source, [f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"]) from None
    except tomllib.TOMLDecodeError as exc:
        # JSON in a file named .toml: the extension chose the format, so say so.
        hint = " (it looks like JSON: name the file .json)" if text.lstrip().startswith("{") else ""
        raise SpecError(source, [f"invalid TOML: {exc}{hint}"]) from None

    if not isinstance(document, dict):
        raise SpecError(source, ['expected an object with a "webhooks" list at the top level'])
    problems = [f"unknown top-level key {key!r} (only 'webhooks' is allowed)" for key in document if key != "webhooks"]
    if "webhooks" not in document:
        # An empty file must not silently mean "no webhooks" (with --prune it would delete them all).
        problems.append("no 'webhooks' list; to declare that there are none, write `webhooks = []` explicitly")
        raise SpecError(source, problems)
    entries = document["webhooks"]
    if not isinstance(entries, list):
        raise SpecError(source, [*problems, "'webhooks' must be a list of tables ([[webhooks]] in TOML)"])

    if len(entries) > MAX_WEBHOOKS:
        # Refused before the entries are checked: a huge file then costs no time and gives one line, not one per entry.
        problems.append(
            f"{len(entries)} webhooks declared; Argilla allows at most {MAX_WEBHOOKS} per server "
            "(the entries were not checked: remove some first)"
        )
        raise SpecError(source, problems)

    desired: list[DesiredWebhook] = []
    for number, raw in enumerate(entries, start=1):
        webhook, entry_problems = _parse_entry(raw, number, source, format)
        problems.extend(entry_problems)
        if webhook is not None:
            desired.append(webhook)

    problems.extend(_duplicate_problems(desired))
    if problems:
        raise SpecError(source, problems)
    return desired


def _where(entry: Optional[int], url: str) -> str:
    """`entry 3 (url http://...)`: how messages point at an entry (its URL shortened, without a password)."""
    shown = shorten_url(hide_userinfo(url))
    return f"entry {entry} (url {shown})" if entry is not None else f"url {shown}"


def _parse_entry(raw: Any, number: int, source: str, format: str) -> tuple[Optional[DesiredWebhook], list[str]]:
    if not isinstance(raw, dict):
        return None, [f"entry {number}: expected {_kind({}, format)} with {', '.join(KEYS)}, got {_kind(raw, format)}"]
    url = raw.get("url")
    where = _where(number, url) if isinstance(url, str) else f"entry {number}"
    problems = []

    def fail(field_name: str, message: str) -> None:
        problems.append(f"{where}: {field_name}: {message}")

    unknown = [str(key) for key in raw if key not in KEYS]
    for key in unknown[:MAX_SHOWN]:
        fail(key, f"unknown key{did_you_mean(key, KEYS)}; valid keys: {', '.join(KEYS)}")
    if len(unknown) > MAX_SHOWN:
        problems.append(f"{where}: ... and {len(unknown) - MAX_SHOWN} more unknown keys")

    if "url" not in raw:
        fail("url", f"missing (e.g. {_entry_line('url', _EXAMPLE_URL, format)})")
    elif not isinstance(url, str):
        fail("url", f"must be a string, got {_kind(url, format)}")
    else:
        # Only the shape here: `plan` checks Argilla's full rule on the URLs it sends (see check_url_shape).
        _check(fail, "url", check_url_shape, url)

    events = _parse_events(raw.get("events", _MISSING), fail, format)

    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        fail("enabled", f"must be true or false, got {_kind(enabled, format)}")

    description = raw.get("description")
    if description is not None and not isinstance(description, str):
        fail("description", f"must be a string, got {_kind(description, format)}")
    elif description is not None:
        _check(fail, "description", check_description, description)

    if problems:
        return None, problems
    assert isinstance(url, str)  # else a problem was listed
    return DesiredWebhook(url, tuple(events), enabled, description, entry=number, source=source), []


def _parse_events(raw_events: Any, fail: Callable[[str, str], None], format: str) -> list[str]:
    """The expanded events of an entry, or [] after reporting every bad name or pattern in it (each with its hint)."""
    if raw_events is _MISSING:
        fail("events", f"missing (e.g. {_entry_line('events', _EXAMPLE_EVENTS, format)}, or {_ALL_EVENTS} for all)")
        return []
    if isinstance(raw_events, str):
        fail("events", f"must be a list of event names, not a string: write {_as_list(raw_events, format)}")
        return []
    if not isinstance(raw_events, list):
        fail("events", f"must be a list of event names, got {_kind(raw_events, format)}")
        return []
    if not raw_events:
        fail("events", "must not be empty (use [\"*\"] for every event)")
        return []
    # One name or pattern per item: the CLI's comma lists (`-e a,b`) are not part of the file format.
    names = [item for item in raw_events if _is_one_event(item)]
    malformed = [_not_one_event(item, format) for item in raw_events if not _is_one_event(item)]
    unknown = unknown_events(names)
    for message in malformed[:MAX_SHOWN]:
        fail("events", message)
    for part in unknown[: max(0, MAX_SHOWN - len(malformed))]:
        # The hint is only worked out for the names shown (difflib is slow on a list of thousands).
        _check(fail, "events", expand_events, [part])
    hidden = max(0, len(malformed) + len(unknown) - MAX_SHOWN)
    if hidden:
        fail("events", f"... and {hidden} more unknown events")
    if malformed or unknown:
        return []
    events = expand_events(raw_events)
    if not events:
        fail("events", "names no event (use [\"*\"] for every event)")
    return events


def _is_one_event(item: Any) -> bool:
    return isinstance(item, str) and bool(item.strip()) and "," not in item


def _not_one_event(item: Any, format: str) -> str:
    if not isinstance(item, str):
        return f"each item must be an event name or pattern (a string), got {_kind(item, format)}"
    if "," in item:
        return f"{item!r} holds several events; give each its own item: {_as_list(item, format)}"
    return "an empty string is not an event name"


_MISSING = object()  # a key left out, as opposed to one given as JSON's null
_EXAMPLE_URL, _EXAMPLE_EVENTS, _ALL_EVENTS = '"http://127.0.0.1:8000/"', '["dataset.*"]', '["*"]'


def _entry_line(key: str, value: str, format: str) -> str:
    """`key = value` as the file's format writes it, for the examples in messages."""
    return f'"{key}": {value}' if format == "json" else f"{key} = {value}"


def _kind(value: Any, format: str) -> str:
    """What a value is, in the words of the file's format (`null` and `a number` in JSON, `a float` in TOML)."""
    if value is None:
        return "null"
    json_file = format == "json"
    kinds = [(bool, "a boolean"), (int, "a number" if json_file else "an integer"),
             (float, "a number" if json_file else "a float"), (str, "a string"), (list, "an array"),
             (dict, "an object" if json_file else "a table")]
    return next((kind for cls, kind in kinds if isinstance(value, cls)), f"a {type(value).__name__}")  # TOML dates


def _as_list(events: str, format: str) -> str:
    """`events = ["a", "b"]` (or the JSON `"events": [...]`) for a string of comma-separated events."""
    names = [part.strip() for part in events.split(",") if part.strip()] or ["dataset.created", "record.*"]
    written = json.dumps(names, ensure_ascii=False)  # also a valid TOML array of strings
    if len(written) > 200:
        written = '["dataset.created", "record.*"]'
    return f'"events": {written}' if format == "json" else f"events = {written}"


def _check(fail, field_name: str, check, value):
    try:
        return check(value)
    except (ValueError, UnknownEventError) as exc:
        fail(field_name, str(exc))
        return None


def _duplicate_problems(desired: list[DesiredWebhook]) -> list[str]:
    # Entries that differ in anything (events, say) are distinct webhooks, as Argilla allows; identical ones are a
    # mistake that would double every delivery.
    return [
        f"{later.where}: url: duplicate of entry {first.entry} (same URL, events, enabled and description); "
        "remove one, or give them different descriptions"
        for first, later in _repeats(desired, lambda w: (w.normalized_url, w.events, w.enabled, w.description))
    ]


def identical_webhooks(webhooks: list[Webhook]) -> list[tuple[Webhook, Webhook]]:
    """Pairs of server webhooks an exported file cannot tell apart (`apply` refuses such duplicate entries)."""
    return _repeats(webhooks, lambda w: (normalize_url(w.url), w.events, w.enabled, w.description))


T = TypeVar("T")


def _repeats(items: list[T], fields: Callable[[T], tuple[Any, Any, Any, Any]]) -> list[tuple[T, T]]:
    """(first, later) for each item identical to an earlier one: same normalized URL, events (as a set), enabled and
    description, which `fields` gives in that order."""
    first_seen: dict[tuple[Any, ...], T] = {}
    pairs = []
    for item in items:
        url, events, enabled, description = fields(item)
        key = (url, frozenset(events), enabled, description)
        if key in first_seen:
            pairs.append((first_seen[key], item))
        else:
            first_seen[key] = item
    return pairs


def dump(webhooks: list[Webhook], format: str = "toml") -> str:
    """The server's webhooks as a file `load_file` reads back: no ids, secrets or timestamps."""
    entries = []
    for webhook in webhooks:
        entry: dict[str, Any] = {"url": webhook.url, "events": list(webhook.events), "enabled": webhook.enabled}
        if webhook.description is not None:  # TOML has no null
            entry["description"] = webhook.description
        entries.append(entry)
    document = {"webhooks": entries}
    if format == "json":
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if format == "toml":
        import tomli_w

        return tomli_w.dumps(document)
    raise ValueError(f"unknown format {format!r}; expected one of: {', '.join(FORMATS)}")
