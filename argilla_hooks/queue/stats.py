"""What a queue holds: the stream, and per consumer group its backlog, pending entries, consumers and dead letters."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Optional

from redis.exceptions import ResponseError

from argilla_hooks.queue.record import QueueKeys, as_text, id_time


@dataclass(frozen=True)
class ConsumerStats:
    name: str
    pending: int
    idle_seconds: float  # since this consumer last read or claimed

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "pending": self.pending, "idle_seconds": self.idle_seconds}


@dataclass(frozen=True)
class GroupStats:
    name: str
    pending: int  # delivered to a worker, not acknowledged yet (running, waiting for a retry, or left by a dead worker)
    lag: Optional[int]  # entries not delivered to any worker of the group yet (None where Redis cannot tell)
    oldest_pending_seconds: Optional[float]  # age of the oldest pending entry, since it was queued
    dead: int
    consumers: list[ConsumerStats] = field(default_factory=list)
    last_delivered: str = "0-0"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "pending": self.pending, "lag": self.lag, "oldest_pending_seconds": self.oldest_pending_seconds,
            "dead": self.dead, "last_delivered": self.last_delivered, "consumers": [c.to_json() for c in self.consumers],
        }  # fmt: skip


@dataclass(frozen=True)
class QueueStats:
    stream: str
    length: int  # entries in the stream: not yet acknowledged by every group, or not trimmed yet
    first: Optional[str]
    last: Optional[str]
    groups: list[GroupStats]
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "stream": self.stream, "length": self.length, "first": self.first, "last": self.last,
            "groups": [g.to_json() for g in self.groups], "warnings": self.warnings,
        }  # fmt: skip


async def queue_stats(redis: Any, keys: QueueKeys, group: Optional[str] = None) -> QueueStats:
    """The queue's state; only `group` when given. Dead letters of groups that no longer exist count too."""
    stream = keys.stream
    try:
        info = await redis.xinfo_stream(stream)
        groups = await redis.xinfo_groups(stream)
    except ResponseError as exc:
        if "no such key" not in str(exc).lower():
            raise
        info, groups = {"length": 0, "first-entry": None, "last-entry": None}, []
    names = [as_text(g["name"]) for g in groups]
    dead_only = sorted(set(await dead_groups(redis, keys)) - set(names))
    found = [await _group_stats(redis, keys, g) for g in groups if group in (None, as_text(g["name"]))]
    found += [GroupStats(name, 0, None, None, await redis.xlen(keys.dead(name))) for name in dead_only if group in (None, name)]
    first = as_text(info["first-entry"][0]) if info.get("first-entry") else None
    last = as_text(info["last-entry"][0]) if info.get("last-entry") else None
    warnings = [
        f"group {g.name}: entries were trimmed from the stream before it read them (the stream's cap was reached)"
        for g in found
        if first is not None and g.last_delivered != "0-0" and _older(g.last_delivered, first) and g.name in names
    ]
    return QueueStats(stream, int(info["length"]), first, last, found, warnings)


async def _group_stats(redis: Any, keys: QueueKeys, group: dict[str, Any]) -> GroupStats:
    name = as_text(group["name"])
    summary = await redis.xpending(keys.stream, name)
    oldest = None
    if summary["pending"] and summary["min"] is not None:
        oldest = round((datetime.now(timezone.utc) - id_time(as_text(summary["min"]))).total_seconds(), 3)
    consumers = [
        ConsumerStats(as_text(c["name"]), int(c["pending"]), int(c["idle"]) / 1000)
        for c in await redis.xinfo_consumers(keys.stream, name)
    ]
    lag = group.get("lag")
    return GroupStats(
        name=name,
        pending=int(summary["pending"]),
        lag=None if lag is None else int(lag),
        oldest_pending_seconds=oldest,
        dead=await redis.xlen(keys.dead(name)),
        consumers=consumers,
        last_delivered=as_text(group["last-delivered-id"]),
    )


async def dead_groups(redis: Any, keys: QueueKeys) -> list[str]:
    """The groups that have a dead-letter stream."""
    prefix = keys.dead("")
    return sorted({as_text(key)[len(prefix) :] async for key in redis.scan_iter(match=keys.dead_pattern, _type="stream")})


def _older(a: str, b: str) -> bool:
    return tuple(map(int, a.split("-"))) < tuple(map(int, b.split("-")))
