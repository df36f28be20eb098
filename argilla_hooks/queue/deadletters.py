"""Dead letters: entries whose handlers failed on every attempt, listed, and put back for their group (redrive)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import orjson

from argilla_hooks.queue.ingest import DEFAULT_MAXLEN
from argilla_hooks.queue.record import RECORD_FIELDS, Fields, QueueKeys, as_text, done_handlers, iso_time
from argilla_hooks.queue.scripts import REDRIVE
from argilla_hooks.queue.stats import dead_groups


class DeadLetterNotFound(LookupError):
    """No dead letter has this id."""


@dataclass(frozen=True)
class DeadLetter:
    id: str
    group: str
    type: str
    key: Any
    attempts: int
    failed_at: str  # ISO 8601 UTC
    error: str
    entry: str  # its id in the stream when it failed
    done: list[str]  # handlers that had succeeded on it (a redrive does not run them again)

    @classmethod
    def of(cls, entry_id: str, fields: Fields) -> DeadLetter:
        def text(name: bytes) -> str:
            return as_text(fields.get(name, b""))

        try:
            key = orjson.loads(fields[b"key"])
        except (KeyError, orjson.JSONDecodeError):
            key = None
        attempts = text(b"attempts")
        return cls(entry_id, text(b"group"), text(b"type"), key, int(attempts) if attempts.isdigit() else 0,
                   iso_time(fields.get(b"failed_at")), text(b"error"), text(b"entry"), sorted(done_handlers(fields)))  # fmt: skip

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "group": self.group, "type": self.type, "key": self.key, "attempts": self.attempts,
            "failed_at": self.failed_at, "error": self.error, "entry": self.entry, "done": self.done,
        }  # fmt: skip


@dataclass(frozen=True)
class Redriven:
    dead_id: str
    group: str
    entry: str  # its new id in the stream

    def to_json(self) -> dict[str, str]:
        return {"dead_id": self.dead_id, "group": self.group, "entry": self.entry}


async def dead_letters(redis: Any, keys: QueueKeys, group: Optional[str] = None, limit: int = 100) -> list[DeadLetter]:
    """The newest `limit` dead letters of `group` (of every group when None), newest first."""
    found = []
    for name in [group] if group else await dead_groups(redis, keys):
        for entry_id, fields in await redis.xrevrange(keys.dead(name), count=limit):
            found.append(DeadLetter.of(as_text(entry_id), fields))
    found.sort(key=lambda d: tuple(map(int, d.id.split("-"))), reverse=True)
    return found[:limit]


async def redrive(redis: Any, keys: QueueKeys, ids: list[str], group: Optional[str] = None, maxlen: int = DEFAULT_MAXLEN) -> list[Redriven]:
    """Put dead letters back on the stream, each for the group it failed in only, with its handlers' successes kept:
    those by id, or every one (of `group`, or of all groups) when `ids` is empty. DeadLetterNotFound names an id that
    is no dead letter (before anything is put back)."""
    groups = [group] if group else await dead_groups(redis, keys)
    chosen: list[tuple[str, str, Fields]] = []
    for name in groups:
        if ids:
            for entry_id in ids:
                chosen += [(name, as_text(i), f) for i, f in await redis.xrange(keys.dead(name), entry_id, entry_id)]
        else:
            chosen += [(name, as_text(i), f) for i, f in await redis.xrange(keys.dead(name))]
    missing = sorted(set(ids) - {entry_id for _, entry_id, _ in chosen})
    if missing:
        raise DeadLetterNotFound(f"no dead letter {', '.join(missing)}" + (f" in group {group}" if group else "") + " (see `hooks queue dead`)")
    script = redis.register_script(REDRIVE)
    done = []
    for name, entry_id, fields in chosen:
        args: list[Any] = [maxlen, entry_id]
        for field_name in RECORD_FIELDS:  # the delivery record; the dead letter's own fields stay behind
            args += (field_name, fields.get(field_name, b""))
        args += (b"group", name.encode(), b"done", fields.get(b"done", b"[]"), b"redriven_from", entry_id.encode())
        new_id = await script(keys=[keys.stream, keys.dead(name)], args=args)
        if new_id is not None:  # else redriven meanwhile by someone else
            done.append(Redriven(entry_id, name, as_text(new_id)))
    return done
