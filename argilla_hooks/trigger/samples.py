"""Realistic Argilla 2.8 webhook deliveries, signed like the server signs them, for `hooks trigger`.

Bodies copy `argilla_server/webhooks/v1`: the envelope of `commons._build_payload`, `data` shaped by its
`schemas.py` (key order included) and encoded as `jsonable_encoder` then `json.dumps` do (naive UTC ISO
times without `Z` inside `data`, a `Z` timestamp on the envelope). Works with no Argilla server at all.
"""

from __future__ import annotations

import copy
import json
import math
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Optional, get_args
from uuid import UUID

from pydantic import BaseModel, ValidationError

from argilla_hooks.events import ALL_EVENTS, UnknownEventError, expand_events
from argilla_hooks.text import DuplicateKeyError, did_you_mean, loads_strict
from argilla_hooks.receiver.payloads import data_model, format_event_timestamp, server_time_text

ARGILLA_VERSION = "2.8.0"


class SampleError(ValueError):
    """An event or `--data` override that cannot be sent; `path` is the first bad field (`data.dataset.name`)."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        self.path = problems[0][0]
        super().__init__("; ".join(f"{path}: {message}" for path, message in problems))


# --- sample payloads ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Times:
    """When things happened in a sample, as Argilla writes times. Argilla commits a change, then sends its event: the
    changed resource's times come just before the event's timestamp, and what it belongs to (workspace, user, the
    dataset of a record) is older."""

    now: str  # the change the event is about
    before: str  # resources that existed already

    @classmethod
    def of(cls, event_at: datetime) -> "_Times":
        return cls(server_time_text(event_at - _COMMIT_TO_SEND), server_time_text(event_at - _EARLIER))


_COMMIT_TO_SEND = timedelta(milliseconds=18)  # what real deliveries show between a change and its event
_EARLIER = timedelta(days=2)


def _stamps(inserted: str, updated: Optional[str] = None) -> dict[str, str]:
    return {"inserted_at": inserted, "updated_at": updated or inserted}


def _changed_stamps(times: _Times, verb: Optional[str]) -> dict[str, str]:
    """The times of a resource that the event is about (`verb` is the event's: made now when "created", else made
    earlier and changed now), or of one that it only includes (`verb` None: older)."""
    if verb is None:
        return _stamps(times.before)
    return _stamps(times.now) if verb == "created" else _stamps(times.before, times.now)


def _dataset(times: _Times, verb: Optional[str]) -> dict[str, Any]:
    """A dataset with one text field, one label question and one terms metadata property (empty while a draft, as
    when just created). `verb`: of the dataset's own event, None for the dataset of a record or response."""
    published = verb != "created"
    field = {
        "id": str(uuid.uuid4()),
        "name": "text",
        "title": "Text",
        "required": True,
        "settings": {"type": "text", "use_markdown": False},
        **_stamps(times.before),
    }
    question = {
        "id": str(uuid.uuid4()),
        "name": "sentiment",
        "title": "What is the sentiment of the text?",
        "description": None,
        "required": True,
        "settings": {
            "type": "label_selection",
            "options": [
                {"value": "positive", "text": "Positive", "description": None},
                {"value": "negative", "text": "Negative", "description": None},
            ],
            "visible_options": None,
        },
        **_stamps(times.before),
    }
    metadata_property = {
        "id": str(uuid.uuid4()),
        "name": "source",
        "title": "Source",
        "settings": {"type": "terms", "values": ["reviews", "support"]},
        "visible_for_annotators": True,
        **_stamps(times.before),
    }
    return {
        "id": str(uuid.uuid4()),
        "name": "customer-reviews",
        "guidelines": "Label the sentiment of each review.",
        "allow_extra_metadata": True,  # Argilla's default
        "status": "ready" if published else "draft",
        "distribution": {"strategy": "overlap", "min_submitted": 1},
        "workspace": {"id": str(uuid.uuid4()), "name": "argilla", **_stamps(times.before)},
        "questions": [question] if published else [],
        "fields": [field] if published else [],
        "metadata_properties": [metadata_property] if published else [],
        "vectors_settings": [],
        "last_activity_at": times.now,
        **_changed_stamps(times, verb),
    }


def _record(times: _Times, *, completed: bool, verb: Optional[str]) -> dict[str, Any]:
    """`verb`: of the record's own event ("created", "updated", ...), None for the record of a response."""
    return {
        "id": str(uuid.uuid4()),
        "status": "completed" if completed else "pending",
        "fields": {"text": "The delivery was fast and the product works great."},
        "metadata": {"source": "reviews"},
        "external_id": str(uuid.uuid4()),  # the SDK's `rg.Record(id=...)`, a UUID unless set
        "dataset": _dataset(times, None),
        **_changed_stamps(times, verb),
    }


def _response(times: _Times, verb: str) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "values": {"sentiment": {"value": "positive"}},
        "status": "submitted",
        # The record as Argilla loaded it: for response.created, before this response counted (still pending,
        # though with the dataset's min_submitted of 1 the response completes it: record.completed follows); for
        # a response updated or deleted, one that this response completed earlier.
        "record": _record(times, completed=verb != "created", verb=None),
        "user": {
            "id": str(uuid.uuid4()),
            "first_name": "Annotator",
            "last_name": None,
            "username": "annotator",
            "role": "annotator",
            **_stamps(times.before),
        },
        **_changed_stamps(times, verb),
    }


def check_event_type(event_type: str) -> str:
    """One event name from the catalogue (`ping` included); a pattern or unknown name raises SampleError."""
    if event_type in ALL_EVENTS:
        return event_type
    try:
        matched = expand_events([event_type], allow_ping=True)
    except UnknownEventError as exc:
        raise SampleError([("type", str(exc))]) from None
    if not matched:  # '' or ','
        raise SampleError([("type", "no event given: name one (see `hooks events`)")])
    raise SampleError([("type", f"{event_type!r} matches {len(matched)} events; trigger sends one: {', '.join(matched)}")])


def sample_data(event_type: str, event_at: Optional[datetime] = None) -> dict[str, Any]:
    """Fresh `data` for an event type sent at `event_at` (now): new UUIDs, and times just before it."""
    times = _Times.of(event_at or datetime.now(timezone.utc))
    kind, _, verb = check_event_type(event_type).partition(".")
    if kind == "ping":
        return {"agent": "argilla-server", "version": ARGILLA_VERSION}
    if kind == "dataset":
        return _dataset(times, verb)
    if kind == "record":
        return _record(times, completed=event_type == "record.completed", verb=verb)
    return _response(times, verb)


def sample_event(event_type: str) -> dict[str, Any]:
    """The whole body Argilla 2.8 would send for `event_type`: `{"type", "version", "timestamp", "data"}`."""
    event_at = datetime.now(timezone.utc)
    return {
        "type": check_event_type(event_type),
        "version": 1,
        "timestamp": format_event_timestamp(event_at),
        "data": sample_data(event_type, event_at),
    }


# --- overrides ---------------------------------------------------------------------------------


def deep_merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """A copy of `base` with `overrides` merged in: objects merge key by key, anything else (lists too) replaces."""
    merged = copy.deepcopy(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def parse_overrides(value: str) -> dict[str, Any]:
    """`--data`: a JSON object, or `@FILE` holding one (UTF-8, with or without a byte order mark).

    Stricter than `json.loads`: a key repeated in one object is refused, not "last one wins" (as `hooks apply` does).
    """
    text = value
    if value.startswith("@"):
        if value == "@":  # Path("") is ".", whose error ("Is a directory") would not say what is wrong
            raise SampleError([("--data", '"@" needs a file name after it, as in --data @data.json')])
        try:
            # utf-8-sig drops one leading byte order mark, which Windows editors write and json.loads refuses.
            text = Path(value[1:]).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise SampleError([("--data", f"cannot read {value[1:]}: {exc}")]) from None
    try:
        overrides = loads_strict(text)
    except DuplicateKeyError as exc:
        raise SampleError([("--data", f"invalid JSON: {exc} in one object")]) from None
    except json.JSONDecodeError as exc:
        raise SampleError([("--data", f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}")]) from None
    except RecursionError:
        raise SampleError([("--data", "invalid JSON: nested too deeply")]) from None
    if not isinstance(overrides, dict):
        raise SampleError([("--data", f"expected a JSON object to merge into data, got {type(overrides).__name__}")])
    return overrides


def build_event(event_type: str, overrides: Optional[dict[str, Any]] = None) -> bytes:
    """The raw body to send: the sample with `overrides` deep-merged into `data`, validated, encoded as Argilla does.

    Raises SampleError naming each bad field (`data.dataset.name: Input should be a valid string`), including keys
    the payload model does not have (a misspelt override would otherwise be silently sent) and values not written
    the way Argilla writes them (`data.id` in upper case, `data.inserted_at` with a `Z`).
    """
    body = sample_event(event_type)
    unknown: list[tuple[str, str]] = []
    if overrides:
        # What JSON cannot carry would otherwise fail below as "Invalid JSON ... column 637", or be sent as `NaN`.
        unsendable = _not_json(overrides, "data")
        if unsendable:
            raise SampleError(unsendable)
        unknown = _unknown_keys(overrides, data_model(event_type), "data")  # reported with bad values, all at once
        body["data"] = deep_merge(body["data"], overrides)
    model = data_model(event_type)
    assert model is not None  # sample_event refused any other type
    try:
        # Strictly, from the JSON text that is sent: what passes is what goes out, as Argilla would write it, so
        # "3" is no count, "true" no boolean and 0 no time (lax validation would pass them and send them as given).
        data = model.model_validate_json(json.dumps(body["data"]), strict=True)
    except ValidationError as exc:
        # Only `data` can be wrong (the envelope is ours), and its errors are located relative to it.
        raise SampleError(unknown + [(_path("data", error["loc"]), error["msg"]) for error in exc.errors()]) from None
    problems = unknown + _not_as_argilla_writes(data, body["data"], data.model_dump(mode="json"), "data")
    if problems:
        raise SampleError(problems)
    # json.dumps with its default separators: byte for byte what the server signs and posts.
    return json.dumps(body).encode("utf-8")


def _path(prefix: str, loc: tuple) -> str:
    return prefix + "".join(f"[{part}]" if isinstance(part, int) else f".{_shown(str(part))}" for part in loc)


def _shown(text: str) -> str:
    # A lone surrogate cannot be printed (no encoding has it): show it as the escape that was written, `\ud800`.
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # json.loads joins a valid pair into one character
# Far deeper than any payload, and well within what copying, encoding and pydantic's JSON parser (200) recurse into.
MAX_DEPTH = 100


def _not_json(value: Any, path: str) -> list[tuple[str, str]]:
    """Where `value` holds what JSON text cannot carry: lone surrogates (`"\\ud800"`), NaN and infinities; or nests
    deeper than MAX_DEPTH."""
    problems: list[tuple[str, str]] = []
    # (value, its path, its depth, the path of its top-level key: where a too deep value is reported)
    pending = [(value, path, 0, path)]
    while pending:  # a loop, not recursion: overrides may nest as deep as json.loads allows
        item, where, depth, top = pending.pop()
        if isinstance(item, (dict, list)) and depth >= MAX_DEPTH:
            return [*problems, (top, f"nested more than {MAX_DEPTH} levels deep")]
        if isinstance(item, dict):
            for key, child in reversed(item.items()):
                child_path = f"{where}.{_shown(str(key))}"
                if isinstance(key, str) and _LONE_SURROGATE.search(key):
                    problems.append((child_path, f"this key {_surrogates(key)}"))
                pending.append((child, child_path, depth + 1, child_path if depth == 0 else top))
        elif isinstance(item, list):
            for index, child in reversed(list(enumerate(item))):
                child_path = f"{where}[{index}]"
                pending.append((child, child_path, depth + 1, child_path if depth == 0 else top))
        elif isinstance(item, str) and _LONE_SURROGATE.search(item):
            problems.append((where, _surrogates(item)))
        elif isinstance(item, float) and not math.isfinite(item):
            if math.isnan(item):
                problems.append((where, "NaN is not a JSON number; Argilla never sends one"))
            else:
                sign = "" if item > 0 else "-"
                reason = f"{sign}Infinity (or beyond {sign}1.8e308) is not a JSON number; Argilla never sends one"
                problems.append((where, reason))
    return problems


def _surrogates(text: str) -> str:
    found = _LONE_SURROGATE.search(text)
    assert found is not None  # called for a text that holds one
    escape = _shown(found.group())
    return f"holds a lone surrogate escape ({escape}), half of a UTF-16 pair and no character; Argilla never sends one"


def _not_as_argilla_writes(
    model: BaseModel, raw: dict[str, Any], written: dict[str, Any], path: str
) -> list[tuple[str, str]]:
    """What `raw` (the data to send) has that Argilla would not write: keys the payload lacks, and typed values in
    another form than Argilla's (`written`, the model's JSON dump: lowercase hyphenated UUIDs, naive UTC times).

    The payload models accept any form, so a handler of `hooks listen` is never refused a delivery; `trigger` sends
    the text as given, so only Argilla's own is let through.
    """
    problems: list[tuple[str, str]] = []  # (unknown keys: see _unknown_keys)
    for name in type(model).model_fields:
        if name not in raw:
            continue
        value, where = getattr(model, name), f"{path}.{name}"
        if isinstance(value, BaseModel):
            problems += _not_as_argilla_writes(value, raw[name], written[name], where)
        elif isinstance(value, list) and any(isinstance(item, BaseModel) for item in value):
            for index, item in enumerate(value):
                problems += _not_as_argilla_writes(item, raw[name][index], written[name][index], f"{where}[{index}]")
        elif isinstance(value, (UUID, datetime)) and raw[name] != written[name]:
            problems.append((where, _expected_form(value, written[name])))
    return problems


def _unknown_keys(overrides: Any, model: Any, path: str) -> list[tuple[str, str]]:
    """The keys of `overrides` that payload `model` lacks, at any depth (a misspelt override would otherwise be sent as
    it is: the payload models keep unknown keys, for newer servers). Free-form objects (fields, metadata) take any."""
    if isinstance(overrides, list):
        return [problem for index, item in enumerate(overrides) for problem in _unknown_keys(item, model, f"{path}[{index}]")]
    if not (isinstance(overrides, dict) and isinstance(model, type) and issubclass(model, BaseModel)):
        return []
    fields = model.model_fields
    problems = []
    for key, value in overrides.items():
        where = f"{path}.{_shown(key)}"
        if key not in fields:
            problems.append((where, f"not a key of this payload{_did_you_mean(key, list(fields))}"))
            continue
        inner = [t for t in (fields[key].annotation, *get_args(fields[key].annotation)) for t in (t, *get_args(t))]
        problems += _unknown_keys(value, next((t for t in inner if isinstance(t, type) and issubclass(t, BaseModel)), None), where)
    return problems


def _expected_form(value: Any, written: Any) -> str:
    if isinstance(value, UUID):
        return f'Argilla writes UUIDs in lower case with hyphens: "{written}"'
    return f'Argilla writes times in data as naive UTC, YYYY-MM-DDTHH:MM:SS[.ffffff] without Z or offset: "{written}"'


def _did_you_mean(key: str, fields: list[str]) -> str:
    return did_you_mean(key, fields) or f"; keys: {', '.join(fields)}"
