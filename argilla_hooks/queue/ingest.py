"""Ingest: a verified delivery stored in the Redis stream once per event, before the receiver answers 2xx.

`create_app(queue=RedisQueue(url))` (and `hooks listen --queue URL`) hands each verified delivery here instead of
running handlers. One script (scripts.INGEST) checks the event's de-duplication key, adds the delivery record to the
stream and sets the key with an expiry, atomically: the key exists only if the entry does, so a crash anywhere
neither loses nor doubles an event, and every receiver sharing the Redis sees the same keys. Any failure raises, and
the receiver answers 503 (Argilla retries): nothing is acknowledged that is not stored.
"""

from __future__ import annotations

from typing import Optional

from redis.exceptions import RedisError

from argilla_hooks.queue.connection import QueueUnavailable, connect, describe_failure
from argilla_hooks.queue.record import DEFAULT_PREFIX, DeliveryRecord, QueueKeys
from argilla_hooks.queue.scripts import INGEST
from argilla_hooks.receiver.handlers import Delivery

# Argilla retries a delivery at +10 s, +60 s and +180 s, each with a 20 s timeout, and two webhooks may send the same
# event: a day covers both with a wide margin, for about 150 bytes per event.
DEFAULT_DEDUP_TTL = 24 * 3600
# A hard cap on the stream: workers trim what every group has acknowledged, so it only matters when workers are away;
# past it the oldest entries are dropped, delivered or not (`hooks queue stats` warns).
DEFAULT_MAXLEN = 100_000


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
        self._ingest = self.redis.register_script(INGEST)

    async def enqueue(self, body: bytes, delivery: Delivery, verified: bool) -> Optional[str]:
        """The stream id of the new entry, or None when this event was queued already (by any receiver).
        QueueUnavailable when Redis cannot take it: then nothing was stored."""
        record = DeliveryRecord.of(body, delivery, verified)
        args: list[bytes | int] = [self.dedup_ttl, self.maxlen]
        for name, value in record.fields().items():
            args += (name, value)
        try:
            entry_id = await self._ingest(keys=[self.keys.seen(record.key), self.keys.stream], args=args)
        except RedisError as exc:
            raise QueueUnavailable(describe_failure(self.url, exc)) from None
        return None if entry_id is None else entry_id.decode()

    async def aclose(self) -> None:
        await self.redis.aclose()
