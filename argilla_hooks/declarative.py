"""Webhooks as a file: export the server's, plan the changes that make it match a file, apply them.

`load_file` validates a whole TOML/JSON file before anything is planned, `plan` is a pure diff of the
file against the server (which also checks Argilla's URL rule on the URLs it would send), `execute` applies a plan
in a safe order and says exactly what was done.
Nothing here prints: the CLI renders `Plan.lines()`, `Plan.to_json()` and `ApplyResult.to_json()`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Optional, Protocol, TypeVar
from urllib.parse import urlsplit
from uuid import UUID

from argilla_hooks.client.errors import WebhookNotFound
from argilla_hooks.client.models import (
    MAX_WEBHOOKS,
    Webhook,
    WebhookCreate,
    WebhookUpdate,
    check_description,
    check_has_host,
    check_url,
    hide_userinfo,
    normalize_url,
)
from argilla_hooks import strict_json
from argilla_hooks.events import UnknownEventError, expand_events, unknown_events
from argilla_hooks.hints import did_you_mean

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

FORMATS = ("toml", "json")
KEYS = ("url", "events", "enabled", "description")
# Problems listed per file (and unknown keys / events per entry); the rest are counted, so that a huge broken file
# gives a short message, quickly.
MAX_SHOWN = 20
# How much of a URL a message shows: Argilla stores percent-encoded URLs thousands of characters long.
URL_SHOWN = 100


class WebhookClient(Protocol):
    """What apply needs from `ArgillaClient`; tests pass an in-memory fake."""

    def list(self) -> list[Webhook]: ...

    def create(self, body: WebhookCreate) -> Webhook: ...

    def update(self, webhook_id: UUID, body: WebhookUpdate) -> Webhook: ...

    def delete(self, webhook_id: UUID) -> Webhook: ...


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


def shorten_url(url: str) -> str:
    """The URL as a message shows it: its first URL_SHOWN characters, and its length when it is longer."""
    return url if len(url) <= URL_SHOWN else f"{url[:URL_SHOWN]}... ({len(url)} characters)"


def check_url_shape(url: str) -> str:
    """What any URL in a file must be: http(s) with a host (and a numeric port, if any), by a lenient parse.

    Not Argilla's full rule (`check_url`: length, pydantic's parser): a URL the server already holds was valid for
    the server, even where our pydantic, or the length of its stored, percent-encoded form, says otherwise. `plan`
    applies `check_url` to the URLs it would send.
    """
    if not url.lower().startswith(("http://", "https://")):
        raise ValueError(f"{shorten_url(url)!r} is not an http(s) URL (e.g. http://127.0.0.1:8000/)")
    try:
        check_has_host(url)
    except ValueError as exc:
        raise ValueError(str(exc).replace(repr(url), repr(shorten_url(url)))) from None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in 0-65535
        host = parts.hostname
    except ValueError:
        host = None
    # Nor stricter than that rule where urlsplit finds no host but pydantic does (e.g. a bracketed host it reads).
    if not host and _strict_url_problem(url) is not None:
        raise ValueError(
            f"{shorten_url(url)!r} is not a valid http(s) URL with a host (e.g. http://127.0.0.1:8000/)"
        )
    return url


def _strict_url_problem(url: str) -> Optional[str]:
    """Why Argilla would refuse this URL in a create (`check_url`), with the URL shortened; None when it would not."""
    try:
        check_url(url)
    except ValueError as exc:
        return str(exc).replace(repr(url), repr(shorten_url(url)))
    return None


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
        """`entry 3 (url http://...)`: how messages point at this entry."""
        url = shorten_url(hide_userinfo(self.url))
        return f"entry {self.entry} (url {url})" if self.entry is not None else f"url {url}"

    def to_json(self) -> dict[str, Any]:
        return {"url": self.url, "events": list(self.events), "enabled": self.enabled, "description": self.description}


# --- reading and writing files ------------------------------------------------------------------


def load_file(path: str | Path) -> list[DesiredWebhook]:
    """Read and validate a whole webhooks file; raises SpecError listing every problem found."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
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
        document = strict_json.loads(text) if format == "json" else tomllib.loads(text)
    except strict_json.DuplicateKeyError as exc:
        raise SpecError(source, [f"invalid JSON: {exc} in one object"]) from None
    except json.JSONDecodeError as exc:
        raise SpecError(source, [f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(source, [f"invalid TOML: {exc}"]) from None

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


def _parse_entry(raw: Any, number: int, source: str, format: str = "toml") -> tuple[Optional[DesiredWebhook], list[str]]:
    if not isinstance(raw, dict):
        return None, [f"entry {number}: expected {_kind({}, format)} with {', '.join(KEYS)}, got {_kind(raw, format)}"]
    url = raw.get("url")
    where = f"entry {number} (url {shorten_url(url)})" if isinstance(url, str) else f"entry {number}"
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
        fail(field_name, str(exc).removeprefix(f"{field_name} "))  # not "description: description must be..."
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


# --- planning ----------------------------------------------------------------------------------

ActionKind = Literal["create", "update", "delete", "unchanged"]
_SYMBOLS = {"create": "+", "update": "~", "delete": "-", "unchanged": "="}


@dataclass(frozen=True)
class FieldDiff:
    field: str
    old: Any
    new: Any

    def __str__(self) -> str:
        return f"{self.field}: {_show(self.old)} -> {_show(self.new)}"


def _show(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (list, tuple)):
        return f"[{', '.join(value)}]"
    return json.dumps(value, ensure_ascii=False)


@dataclass(frozen=True)
class Action:
    """One step of a plan: `desired` is the file's entry (none for deletes), `current` the server's (none for creates)."""

    kind: ActionKind
    desired: Optional[DesiredWebhook] = None
    current: Optional[Webhook] = None
    diffs: tuple[FieldDiff, ...] = ()

    @property
    def url(self) -> str:
        return self.current.url if self.current is not None else self.desired.normalized_url

    def line(self) -> str:
        """`+ url [events]`, `~ url: events: [a] -> [b]; enabled: true -> false`, `- url`."""
        symbol = _SYMBOLS[self.kind]
        if self.kind == "create":
            target = self.desired
            extra = "" if target.enabled else " (disabled)"
            described = f" {_show(target.description)}" if target.description is not None else ""
            return f"{symbol} {self.url}{described} {_show(target.events)}{extra}"
        described = f" {_show(self.current.description)}" if self.current.description is not None else ""
        ident = f" (id {self.current.short_id})"
        if self.kind == "update":
            return f"{symbol} {self.url}{described}{ident}: " + "; ".join(str(d) for d in self.diffs)
        return f"{symbol} {self.url}{described}{ident}"

    def to_json(self) -> dict[str, Any]:
        """Uniform keys for every kind: the target state (the deleted one's for deletes) and the field changes."""
        state = self.desired.to_json() if self.desired is not None else _state_of(self.current)
        return {
            "action": self.kind,
            "id": str(self.current.id) if self.current is not None else None,
            "entry": self.desired.entry if self.desired is not None else None,
            **state,
            "url": self.url,
            "changes": {d.field: {"from": _jsonable(d.old), "to": _jsonable(d.new)} for d in self.diffs},
        }


def _state_of(webhook: Webhook) -> dict[str, Any]:
    return {"url": webhook.url, "events": list(webhook.events), "enabled": webhook.enabled, "description": webhook.description}


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


@dataclass
class Plan:
    """What apply would do. `unmanaged` are server webhooks absent from the file and kept (no --prune)."""

    creates: list[Action] = field(default_factory=list)
    updates: list[Action] = field(default_factory=list)
    deletes: list[Action] = field(default_factory=list)
    unchanged: list[Action] = field(default_factory=list)
    unmanaged: list[Webhook] = field(default_factory=list)
    prune: bool = False

    @property
    def is_empty(self) -> bool:
        return not (self.creates or self.updates or self.deletes)

    @property
    def actions(self) -> list[Action]:
        """The changes in execution order: deletes first (room under the 10-webhook limit), updates, creates."""
        return [*self.deletes, *self.updates, *self.creates]

    @property
    def total_after(self) -> int:
        """How many webhooks the server holds once the plan is applied."""
        return len(self.creates) + len(self.updates) + len(self.unchanged) + len(self.unmanaged)

    def lines(self) -> list[str]:
        return [action.line() for action in self.actions]

    def to_json(self) -> dict[str, Any]:
        return {
            "prune": self.prune,
            "empty": self.is_empty,
            "summary": {
                "create": len(self.creates),
                "update": len(self.updates),
                "delete": len(self.deletes),
                "unchanged": len(self.unchanged),
                "unmanaged": len(self.unmanaged),
            },
            "creates": [a.to_json() for a in self.creates],
            "updates": [a.to_json() for a in self.updates],
            "deletes": [a.to_json() for a in self.deletes],
            "unchanged": [a.to_json() for a in self.unchanged],
            "unmanaged": [{"id": str(w.id), **_state_of(w)} for w in self.unmanaged],
        }


def plan(desired: list[DesiredWebhook], current: list[Webhook], prune: bool = False) -> Plan:
    """Diff the file against the server; raises SpecError, before anything is sent, when the URL of an entry to create
    breaks Argilla's rule (`check_url`) or when the result would exceed the webhook limit.

    An entry that matches a webhook on the server sends no URL (an update PATCHes events, enabled and description
    only), so its URL is valid as the server holds it, even where our own check would refuse it: a URL with an IDN
    host our pydantic rejects, or a percent-encoded form longer than the 2083 characters Argilla allows in a request.

    Matching is on the normalized URL; where several webhooks share a URL, identical ones pair first, then those with
    equal descriptions, then the rest in file / server order (so an edited description is an update that keeps the
    webhook's secret, not a delete and a create). Events compare as sets: the server keeps any order.
    """
    result = Plan(prune=prune)
    remaining = list(current)
    matches: dict[int, Webhook] = {}
    rules: tuple[Callable[[Webhook, DesiredWebhook], bool], ...] = (
        lambda webhook, wanted: not _diffs(wanted, webhook),
        lambda webhook, wanted: webhook.description == wanted.description,
        lambda webhook, wanted: True,
    )
    for rule in rules:
        for index, wanted in enumerate(desired):
            if index in matches:
                continue
            match = next((w for w in remaining if _same_url(w, wanted) and rule(w, wanted)), None)
            if match is not None:
                remaining.remove(match)
                matches[index] = match

    for index, wanted in enumerate(desired):
        match = matches.get(index)
        if match is None:
            result.creates.append(Action("create", desired=wanted))
            continue
        diffs = _diffs(wanted, match)
        kind = "update" if diffs else "unchanged"
        (result.updates if diffs else result.unchanged).append(Action(kind, wanted, match, diffs))

    if prune:
        result.deletes = [Action("delete", current=w) for w in remaining]
    else:
        result.unmanaged = remaining

    problems = []
    for action in result.creates:
        problem = _strict_url_problem(action.desired.url)
        if problem is not None:
            problems.append(f"{action.desired.where}: url: {problem}")
    if result.total_after > MAX_WEBHOOKS:
        problems.append(
            f"the server would hold {result.total_after} webhooks after this apply ({len(desired)} in the file "
            f"+ {len(result.unmanaged)} on the server but not in the file); Argilla allows at most "
            f"{MAX_WEBHOOKS}: remove entries, or pass --prune to delete the ones not in the file"
        )
    if problems:
        raise SpecError(next((d.source for d in desired if d.source), "<input>"), problems)
    return result


def _same_url(webhook: Webhook, wanted: DesiredWebhook) -> bool:
    return normalize_url(webhook.url) == wanted.normalized_url


def _diffs(wanted: DesiredWebhook, webhook: Webhook) -> tuple[FieldDiff, ...]:
    diffs = []
    if set(wanted.events) != set(webhook.events):
        diffs.append(FieldDiff("events", tuple(webhook.events), wanted.events))
    if wanted.enabled != webhook.enabled:
        diffs.append(FieldDiff("enabled", webhook.enabled, wanted.enabled))
    if wanted.description != webhook.description:
        diffs.append(FieldDiff("description", webhook.description, wanted.description))
    return tuple(diffs)


# --- applying ----------------------------------------------------------------------------------

Status = Literal["done", "failed", "not_attempted"]


@dataclass
class Outcome:
    """What became of one action. `webhook` is the server's copy after it (with its secret, for new ones)."""

    action: Action
    status: Status
    webhook: Optional[Webhook] = None
    error: Optional[BaseException] = None
    note: Optional[str] = None

    @property
    def created(self) -> bool:
        """This step made a new webhook: the only kind whose secret `--show-secrets` shows (an updated or deleted
        webhook's secret is no news)."""
        return self.action.kind == "create" and self.webhook is not None

    def to_json(self, *, with_secret: bool = False) -> dict[str, Any]:
        """`with_secret` includes the secret of a created webhook only, as the text output does."""
        # Every outcome has every key (null when it does not apply), so that scripts can index it without checks.
        data = {**self.action.to_json(), "status": self.status, "webhook": None, "error": None, "note": self.note}
        if self.webhook is not None:
            data["id"] = str(self.webhook.id)
            data["webhook"] = self.webhook.to_json(with_secret=with_secret and self.created)
        if self.error is not None:
            data["error"] = {"type": type(self.error).__name__, "message": str(self.error)}
        return data


@dataclass
class ApplyResult:
    outcomes: list[Outcome]

    def _with(self, status: Status) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == status]

    @property
    def done(self) -> list[Outcome]:
        return self._with("done")

    @property
    def failed(self) -> list[Outcome]:
        return self._with("failed")

    @property
    def not_attempted(self) -> list[Outcome]:
        return self._with("not_attempted")

    @property
    def ok(self) -> bool:
        return not self.failed

    def to_json(self, *, with_secrets: bool = False) -> dict[str, Any]:
        """`with_secrets` adds the secrets of created webhooks."""
        return {
            "ok": self.ok,
            "done": [o.to_json(with_secret=with_secrets) for o in self.done],
            "failed": [o.to_json(with_secret=with_secrets) for o in self.failed],
            "not_attempted": [o.to_json() for o in self.not_attempted],
        }


def execute(plan: Plan, client: WebhookClient) -> ApplyResult:
    """Apply the plan's actions in order, stopping at the first failure; never raises a client error.

    Ctrl-C during a step stops it too: that step is reported failed with the KeyboardInterrupt as its error, so the
    caller can still say what was and was not applied.
    """
    outcomes: list[Outcome] = []
    actions = plan.actions
    for index, action in enumerate(actions):
        outcome = _run(action, client)
        outcomes.append(outcome)
        if outcome.status == "failed":
            outcomes.extend(Outcome(rest, "not_attempted") for rest in actions[index + 1 :])
            break
    return ApplyResult(outcomes)


def _run(action: Action, client: WebhookClient) -> Outcome:
    created: Optional[Webhook] = None
    try:
        if action.kind == "delete":
            try:
                return Outcome(action, "done", client.delete(action.current.id))
            except WebhookNotFound:  # deleted meanwhile (another `apply --prune`, `hooks delete`): gone, as wanted
                return Outcome(action, "done", action.current, note="it was already deleted")
        if action.kind == "update":
            body = WebhookUpdate(**{d.field: _jsonable(d.new) for d in action.diffs})
            return Outcome(action, "done", client.update(action.current.id, body))
        wanted = action.desired
        created = client.create(WebhookCreate(url=wanted.url, events=list(wanted.events), description=wanted.description))
        if wanted.enabled:
            return Outcome(action, "done", created)
        # Argilla ignores `enabled` on create: a disabled webhook is a create, then a PATCH.
        return Outcome(action, "done", client.update(created.id, WebhookUpdate(enabled=False)))
    except (Exception, KeyboardInterrupt) as exc:  # the client's errors are opaque: report whatever stopped this step
        note = None
        if created is not None:
            # A failed PATCH left it enabled; an interrupted one may or may not have reached the server.
            interrupted = isinstance(exc, KeyboardInterrupt)
            state, disabling = ("may still be", "was interrupted") if interrupted else ("is still", "failed")
            note = f"created as {created.id}, but it {state} enabled: disabling it {disabling}"
        return Outcome(action, "failed", created, exc, note)
