"""Reading the delivery journal (see journal.py): the newest deliveries, one by id or prefix, the last event."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass, field
from typing import Any, Optional

import orjson

from argilla_hooks.journal_file import JournalError, ListenerInfo, PathLike, connect


class DeliveryNotFound(JournalError):
    """No delivery in the journal has that id (or prefix)."""


class AmbiguousDeliveryId(JournalError):
    """A prefix that more than one delivery's id starts with."""


@dataclass
class JournalEntry:
    """One answered request as the journal holds it; `body` and `headers` only when asked for."""

    id: str
    received_at: float  # Unix seconds
    status: int
    verdict: str  # handled, failed, duplicate, queued, rejected
    reason: Optional[str]
    cause: Optional[str]
    type: Optional[str]
    event_timestamp: Optional[str]
    resource_id: Optional[str]
    webhook_id: Optional[str]
    replay: bool
    verified: bool
    error: Optional[str]
    handlers: list[dict[str, Any]]
    forwards: list[dict[str, Any]]
    listener: ListenerInfo = field(default_factory=ListenerInfo)
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: Optional[bytes] = None
    body_truncated: bool = False

    @property
    def short_id(self) -> str:
        return self.id[:8]

    def to_json(self, *, with_body: bool = False, with_headers: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id, "received_at": _iso(self.received_at), "status": self.status, "verdict": self.verdict,
            "reason": self.reason, "cause": self.cause, "type": self.type, "timestamp": self.event_timestamp,
            "resource_id": self.resource_id, "webhook_id": self.webhook_id, "replay": self.replay,
            "verified": self.verified, "error": self.error, "handlers": self.handlers, "forwards": self.forwards,
            "listener": {"url": self.listener.url, "webhook_id": self.listener.webhook_id},
        }  # fmt: skip
        if with_headers:
            data["headers"] = dict(self.headers)
        if with_body:
            data["body"] = None if self.body is None else self.body.decode("utf-8", "replace")
            data["body_truncated"] = self.body_truncated
        return data


_SUMMARY = (
    "d.id, d.received_at, d.status, d.verdict, d.reason, d.cause, d.type, d.event_timestamp, d.resource_id, "
    "d.webhook_id, d.replay, d.verified, d.error, d.handlers, d.forwards, l.url, l.webhook_id, l.fingerprints"
)
_FROM = "FROM deliveries d LEFT JOIN listeners l ON l.id = d.listener"


class JournalReader:
    """Queries over one journal file; JournalError when there is none or it is not one."""

    def __init__(self, path: PathLike) -> None:
        self.path = path
        self._db = connect(path, create=False)

    def __enter__(self) -> "JournalReader":
        return self

    def __exit__(self, *exc: object) -> None:
        self._db.close()

    def newest(self, limit: int, *, type_glob: Optional[str] = None, status: Optional[tuple[int, int]] = None,
               rejected: bool = False) -> list[JournalEntry]:  # fmt: skip
        """The newest `limit` entries, newest first; `type_glob` as `dataset.*`, `status` an inclusive range."""
        where: list[str] = []
        params: list[Any] = []
        if type_glob is not None:
            where.append("d.type GLOB ?")
            params.append(type_glob)
        if status is not None:
            where.append("d.status BETWEEN ? AND ?")
            params.extend(status)
        if rejected:
            where.append("d.verdict = 'rejected'")
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        rows = self._query(f"SELECT {_SUMMARY} {_FROM} {clause} ORDER BY d.seq DESC LIMIT ?", (*params, limit))
        return [_entry(row) for row in rows]

    def get(self, id_or_prefix: str) -> JournalEntry:
        """One entry, with its headers and body, by id or unique prefix."""
        prefix = id_or_prefix.strip().lower()
        if not prefix or not all(c in "0123456789abcdef" for c in prefix):
            raise DeliveryNotFound(f"no delivery with id {id_or_prefix!r} in {self.path} (ids are hexadecimal, see `hooks deliveries list`)")
        missing = DeliveryNotFound(f"no delivery with id {id_or_prefix!r} in {self.path} (see `hooks deliveries list`)")
        shown = 5  # candidates named when the prefix is ambiguous
        ids = [row[0] for row in self._query("SELECT id FROM deliveries WHERE id >= ? AND id < ? ORDER BY id LIMIT ?", (prefix, prefix + "g", shown + 1))]
        if not ids:
            raise missing
        if len(ids) > 1:
            more = ", ..." if len(ids) > shown else ""
            raise AmbiguousDeliveryId(f"delivery id prefix {id_or_prefix!r} is ambiguous; it matches {', '.join(ids[:shown])}{more}")
        rows = self._query(f"SELECT {_SUMMARY}, d.headers, d.body, d.body_truncated {_FROM} WHERE d.id = ?", (ids[0],))
        if not rows:  # pruned meanwhile by a listener writing the journal
            raise missing
        return _entry(rows[0], full=True)

    def last_event(self) -> JournalEntry:
        """The newest event the receiver accepted (handled, failed, queued or a duplicate), to replay."""
        rows = self._query(f"SELECT d.id {_FROM} WHERE d.verdict != 'rejected' AND d.body IS NOT NULL ORDER BY d.seq DESC LIMIT 1", ())
        if not rows:
            raise DeliveryNotFound(f"no event in {self.path} yet")
        return self.get(rows[0][0])

    def stats(self, since: float) -> tuple[int, Optional[float], int, Optional[JournalEntry]]:
        """How many entries there are, when the newest came, how many refusals since `since` and the last of them."""
        count, newest = self._query("SELECT count(*), max(received_at) FROM deliveries", ())[0]
        refused = self._query("SELECT count(*) FROM deliveries WHERE verdict = 'rejected' AND received_at >= ?", (since,))[0][0]
        last = self.newest(1, rejected=True)
        return count, newest, refused, (last[0] if last else None)

    def _query(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        try:
            return self._db.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise JournalError(f"cannot read the journal {self.path}: {exc}") from None


def _entry(row: tuple[Any, ...], full: bool = False) -> JournalEntry:
    (id_, received, status, verdict, reason, cause, kind, stamp, resource, webhook_id, replay, verified, error, handlers,
     forwards, url, listener_webhook, fingerprints, *rest) = row  # fmt: skip
    entry = JournalEntry(
        id_, received, status, verdict, reason, cause, kind, stamp, resource, webhook_id, bool(replay), bool(verified),
        error, orjson.loads(handlers), orjson.loads(forwards),
        ListenerInfo(url, listener_webhook, tuple(fingerprints.split(",")) if fingerprints else ()),
    )  # fmt: skip
    if full:
        headers, body, truncated = rest
        entry.headers = [(name, value) for name, value in orjson.loads(headers)]
        entry.body, entry.body_truncated = body, bool(truncated)
    return entry


def _iso(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{int(seconds % 1 * 1e6):06d}Z"
