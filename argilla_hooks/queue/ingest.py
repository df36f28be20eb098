"""Ingest: a verified delivery stored in the Redis stream once per event, before the receiver answers 2xx.

`create_app(queue=RedisQueue(url))` (and `hooks listen --queue URL`) hands each verified delivery here instead of
running handlers. One script (scripts.ingest_script) checks the event's de-duplication key, adds the delivery record to the
stream and sets the key with an expiry, atomically: the key exists only if the entry does, so a crash anywhere
neither loses nor doubles an event, and every receiver sharing the Redis sees the same keys. Any failure raises, and
the receiver answers 503 (Argilla retries): nothing is acknowledged that is not stored.
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any, Optional

from redis.exceptions import NoScriptError, RedisError

from argilla_hooks.queue.connection import QueueUnavailable, connect, describe_failure
from argilla_hooks.queue.record import DEFAULT_PREFIX, QueueKeys, sent_values
from argilla_hooks.queue.scripts import ingest_script
from argilla_hooks.receiver.handlers import Delivery

# Argilla retries a delivery at +10 s, +60 s and +180 s, each with a 20 s timeout, and two webhooks may send the same
# event: a day covers both with a wide margin, for about 150 bytes per event.
DEFAULT_DEDUP_TTL = 24 * 3600
# A hard cap on the stream: workers trim what every group has acknowledged, so it only matters when workers are away;
# past it the oldest entries are dropped, delivered or not (`hooks queue stats` warns).
DEFAULT_MAXLEN = 100_000
MAX_BATCH = 100  # deliveries stored by one script run at most
Command = tuple[bytes, list[bytes]]  # a delivery's seen key, and the values of its record


class RedisQueue:
    """Where a receiver queues deliveries: `create_app(secrets=..., queue=RedisQueue("redis://host:6379/0"))`.

    `prefix` names the queue's keys (see QueueKeys); `dedup_ttl` is how long, in seconds, an event is remembered
    across receivers; `maxlen` caps the stream; `timeout` bounds each Redis call (connecting included), after which
    the delivery is answered 503. Serve it on asyncio (redis-py's client is asyncio only).
    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        dedup_ttl: int = DEFAULT_DEDUP_TTL,
        maxlen: int = DEFAULT_MAXLEN,
        timeout: float = 2.0,
    ) -> None:
        if dedup_ttl < 1 or maxlen < 1 or timeout <= 0:
            raise ValueError("dedup_ttl, maxlen and timeout must be positive")
        self.url = url
        self.keys = QueueKeys(prefix)
        self.dedup_ttl = dedup_ttl
        self.maxlen = maxlen
        self.redis = connect(url, timeout=timeout)
        self._script = ingest_script(dedup_ttl, maxlen)
        self._sha = hashlib.sha1(self._script.encode()).hexdigest()  # what Redis names it by
        self._waiting: list[tuple[Command, asyncio.Future[Any]]] = []
        self._sending: set[asyncio.Task[None]] = set()

    async def enqueue(self, body: bytes, delivery: Delivery, verified: bool, replay_id: Optional[str] = None) -> Optional[str]:
        """The stream id of the new entry, or None when this event was queued already (by any receiver; a replay,
        named by its `replay_id`, is queued again). QueueUnavailable when Redis cannot take it: then nothing was stored."""
        key, values = sent_values(body, delivery, verified, replay_id)
        command = (self.keys.seen(key), values)
        loop = asyncio.get_running_loop()
        stored = loop.create_future()
        self._waiting.append((command, stored))
        if len(self._waiting) == 1:
            loop.call_soon(self._send)
        try:
            entry_id = await stored
        except RedisError as exc:
            raise QueueUnavailable(describe_failure(self.url, exc)) from None
        return None if entry_id is None else entry_id.decode()

    def _send(self) -> None:
        # The deliveries that arrived in one turn of the event loop go to Redis in one script run: redis-py spends
        # about 100 us of CPU per command (pool, locks, packing, timeouts), which halved a receiver's throughput when
        # each delivery sent its own (bench/queue_throughput.py). Each is still de-duplicated and stored on its own.
        batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
        if self._waiting:
            asyncio.get_running_loop().call_soon(self._send)
        task = asyncio.ensure_future(self._store(batch))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _store(self, batch: list[tuple[Command, asyncio.Future[Any]]]) -> None:
        keys: list[Any] = [self.keys.stream, *(seen for (seen, _), _ in batch)]
        args: list[bytes] = [value for (_, values), _ in batch for value in values]
        try:
            try:
                results = await self.redis.evalsha(self._sha, len(keys), *keys, *args)
            except NoScriptError:  # a new or restarted Redis
                await self.redis.script_load(self._script)
                results = await self.redis.evalsha(self._sha, len(keys), *keys, *args)
        except BaseException as exc:  # refused, failed or timed out: none of them is known to be stored
            for _, stored in batch:
                if not stored.done():
                    stored.set_exception(exc if isinstance(exc, Exception) else RedisError("interrupted"))
            if not isinstance(exc, Exception):
                raise
            return
        for (_, stored), result in zip(batch, results):
            if not stored.done():
                stored.set_result(result)

    async def aclose(self) -> None:
        await self.redis.aclose()
