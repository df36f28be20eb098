"""What the queue stores: the Redis keys of one queue, and a delivery as a stream entry (the delivery record).

A delivery record is what a receiver took in, as it took it, so a worker can run handlers exactly as `hooks listen`
would have: the raw body bytes (never re-serialized: a handler may verify or hash them), the request headers as sent,
the receipt time and the event key. Version 1, each field a stream entry field:

    v            "1"
    received_at  when it was stored: Unix time in seconds with microseconds, "1796634284.201337", from the Redis
                 server's clock (one clock for every receiver)
    key          the event key as JSON text: ["record.created", "2026-11-27T21:30:19.154092Z", "<data.id>"]
    type         the event type (also inside the body; here so that `hooks queue` can list without parsing)
    verified     "1" when its signature was checked, "0" under --no-verify
    headers      JSON array of [name, value] pairs, names lower-case, in the order received (latin-1 text)
    body         the raw body bytes

and, only on an entry put back by `hooks queue redrive`: `group` (only that consumer group runs it), `done` (JSON
array of the handlers that already succeeded on it) and `redriven_from` (its dead-letter id). A dead letter is the
record plus `group`, `consumer`, `entry` (its id in the stream), `attempts`, `failed_at` (Unix time, as
`received_at`), `error` and `done`.
"""

from __future__ import annotations

from dataclasses import dataclass
import time
from datetime import datetime, timezone
from typing import Any, Optional

import orjson

from argilla_hooks.receiver.handlers import Delivery

VERSION = b"1"
RECORD_FIELDS = (b"v", b"received_at", b"key", b"type", b"verified", b"headers", b"body")  # in this order
SENT_FIELDS = RECORD_FIELDS[2:]  # those a receiver sends; the ingest script writes `v` and `received_at` itself
DEFAULT_PREFIX = "argilla-hooks"
DEFAULT_GROUP = "workers"
Fields = dict[bytes, bytes]


@dataclass(frozen=True)
class QueueKeys:
    """The Redis keys of one queue, all under `prefix`: one stream shared by every consumer group, a de-duplication
    key per event, and per group its dead letters and the handlers done on an entry being retried."""

    prefix: str = DEFAULT_PREFIX

    @property
    def stream(self) -> str:
        return f"{self.prefix}:deliveries"

    def seen(self, event_key: bytes) -> bytes:
        return b"%s:seen:%s" % (self.prefix.encode(), event_key)

    def dead(self, group: str) -> str:
        return f"{self.prefix}:dead:{group}"

    @property
    def dead_pattern(self) -> str:
        return f"{self.prefix}:dead:*"

    def done(self, group: str, entry_id: str) -> str:
        return f"{self.prefix}:done:{group}:{entry_id}"


class NotARecord(ValueError):
    """A stream entry that is not a delivery record this version can read."""


@dataclass(frozen=True)
class DeliveryRecord:
    """A stored delivery, as a worker reads it."""

    body: bytes
    headers: list[tuple[bytes, bytes]]
    key: bytes
    type: str
    received_at: float
    verified: bool = True
    group: Optional[str] = None  # set on a redriven entry: only this group runs it
    done: frozenset[str] = frozenset()  # handlers that already succeeded on it (a redriven entry)

    @classmethod
    def from_fields(cls, fields: Fields) -> DeliveryRecord:
        """NotARecord when the entry lacks a field or has another version."""
        if fields.get(b"v") != VERSION:
            raise NotARecord(f"not a version-1 delivery record (v={fields.get(b'v')!r})")
        try:
            headers = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in orjson.loads(fields[b"headers"])]
            group = fields.get(b"group")
            return cls(
                body=fields[b"body"],
                headers=headers,
                key=fields[b"key"],
                type=fields[b"type"].decode(),
                received_at=float(fields[b"received_at"]),
                verified=fields[b"verified"] == b"1",
                group=None if group is None else group.decode(),
                done=done_handlers(fields),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise NotARecord(f"malformed delivery record ({type(exc).__name__}: {exc})") from None


def sent_values(body: bytes, delivery: Delivery, verified: bool, replay_id: Optional[str] = None) -> tuple[bytes, list[bytes]]:
    """What a delivery is de-duplicated on (JSON text), and the values of its record's SENT_FIELDS, in order: its
    event key, or for a replay (`hooks deliveries replay`) that key and the replay's own id, so that it is queued and
    handled again."""
    key = orjson.dumps(delivery.key)
    seen = key if replay_id is None else orjson.dumps([*delivery.key, replay_id])
    headers = orjson.dumps([[n.decode("latin-1"), v.decode("latin-1")] for n, v in delivery.raw_headers])
    return seen, [key, delivery.type.encode(), b"1" if verified else b"0", headers, body]


def done_handlers(fields: Fields) -> frozenset[str]:
    """The `done` field of a record or dead letter: the handlers that already succeeded on it."""
    raw = fields.get(b"done")
    return frozenset(orjson.loads(raw)) if raw else frozenset()


def unix_time_text() -> bytes:
    """Now as Unix time with microseconds, as `received_at` and `failed_at` are written."""
    return b"%.6f" % time.time()


def iso_time(unix_text: Any) -> str:
    """A stored Unix time (`received_at`, `failed_at`) as ISO 8601 UTC with a `Z`, for output; "" when unreadable."""
    try:
        moment = datetime.fromtimestamp(float(unix_text), timezone.utc)
    except (TypeError, ValueError, OverflowError):
        return ""
    return moment.isoformat(timespec="microseconds")[:-6] + "Z"


def id_time(entry_id: str) -> datetime:
    """When a stream entry was added: its id is `<unix milliseconds>-<sequence>`."""
    return datetime.fromtimestamp(int(entry_id.partition("-")[0]) / 1000, timezone.utc)


def as_text(value: Any) -> str:
    """A Redis reply (bytes, as the queue's clients do not decode) as text."""
    return value.decode() if isinstance(value, bytes) else str(value)
