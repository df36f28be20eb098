"""Connecting to the queue's Redis, and what a queue needs of that Redis (the checks a `doctor` can show too).

redis-py retries a failed command with backoff by default (3 times from redis-py 6): a receiver must instead answer
503 at once, so that Argilla retries, and a worker must notice and say so. Every client here is made by `connect`,
which turns retries off and bounds connecting and each reply by `timeout`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Optional

import redis.asyncio
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError, ResponseError

from argilla_hooks.urls import hide_userinfo

MIN_VERSION = (6, 2)  # XAUTOCLAIM, and XPENDING by idle time and consumer


class QueueError(Exception):
    """The queue's Redis cannot be used as it is; the message says why and what to change."""


class QueueUnavailable(QueueError):
    """The queue's Redis cannot be reached, or did not answer in time."""


def connect(url: str, *, timeout: float = 2.0, max_connections: int = 100) -> redis.asyncio.Redis:
    """An asyncio client for `url` (connected on first use, in the running event loop) that never retries: a command
    fails after `timeout` seconds at most, and when `max_connections` are busy a command waits `timeout` for one."""
    pool = redis.asyncio.BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=timeout,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
        client_name="argilla-hooks",
    )
    return redis.asyncio.Redis.from_pool(pool)  # the client owns the pool: aclose() closes its connections


def describe_failure(url: str, exc: BaseException) -> str:
    """One line for a failed Redis command, naming the server (without its password)."""
    detail = str(exc) or type(exc).__name__
    return f"Redis at {hide_userinfo(url)}: {detail}"


def is_nogroup(exc: BaseException) -> bool:
    """The consumer group (or the stream) is gone: Redis restarted without persistence, or someone deleted it."""
    return isinstance(exc, ResponseError) and str(exc).startswith("NOGROUP")


@dataclass(frozen=True)
class Check:
    """One finding about the queue's Redis: `fail` stops the commands, `warn` is printed at their start."""

    name: str
    level: Literal["pass", "warn", "fail"]
    message: str

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "level": self.level, "message": self.message}


async def check_server(client: redis.asyncio.Redis, url: str) -> list[Check]:
    """What this Redis means for the queue: its version (6.2 or newer), its eviction policy (must be `noeviction`:
    another one drops de-duplication keys and queued events silently) and its persistence (off: a restart loses
    the queued events and the consumer groups). QueueUnavailable when it cannot be reached."""
    try:
        info: dict[str, Any] = await client.info()
        save = await _config(client, "save")
    except RedisError as exc:
        raise QueueUnavailable(describe_failure(url, exc)) from None
    return [_version_check(str(info.get("redis_version", "0"))), _eviction_check(info), _persistence_check(info, save)]


async def _config(client: redis.asyncio.Redis, name: str) -> Optional[str]:
    """A CONFIG GET value, or None where CONFIG is refused (managed services rename or forbid it)."""
    try:
        found = await client.config_get(name)
    except ResponseError:
        return None
    value: Any = found.get(name) if isinstance(found, dict) else None
    return value.decode() if isinstance(value, bytes) else value


def _version_check(version: str) -> Check:
    try:
        numbers = tuple(int(part) for part in version.split(".")[:2])
    except ValueError:
        numbers = (0, 0)
    if numbers < MIN_VERSION:
        wanted = ".".join(map(str, MIN_VERSION))
        return Check("version", "fail", f"Redis {version} is too old for the queue: it needs {wanted} or newer (XAUTOCLAIM)")
    return Check("version", "pass", f"Redis {version}")


def _eviction_check(info: dict[str, Any]) -> Check:
    policy = str(info.get("maxmemory_policy", "unknown"))
    if policy == "noeviction":
        return Check("eviction", "pass", "maxmemory-policy noeviction: a full Redis refuses deliveries (503) rather than drop any")
    return Check(
        "eviction",
        "warn",
        f"maxmemory-policy is {policy}: when memory runs short Redis drops keys silently, so events may be handled "
        "twice (de-duplication keys) or lost (queued deliveries); set maxmemory-policy noeviction",
    )


def _persistence_check(info: dict[str, Any], save: Optional[str]) -> Check:
    aof = str(info.get("aof_enabled", "0")) == "1"
    if aof:
        return Check("persistence", "pass", "append-only file on")
    if save:
        return Check("persistence", "warn", f"RDB snapshots only (save {save}): a crash loses what was queued since the last one; set appendonly yes")
    if save is None:
        return Check("persistence", "warn", "append-only file off, and RDB snapshots unknown (CONFIG GET refused): set appendonly yes")
    return Check(
        "persistence",
        "warn",
        "persistence is off (no append-only file, no RDB snapshots): a restart loses the queued events and the consumer "
        "groups; set appendonly yes",
    )
