"""Ingest: each event stored once in the stream, atomically with its de-duplication key, or not at all."""

from __future__ import annotations

import asyncio
import time

import orjson
import pytest

from argilla_hooks.queue.connection import QueueUnavailable
from argilla_hooks.queue.ingest import RedisQueue
from argilla_hooks.queue.record import DeliveryRecord
from tests.unit.queue.conftest import KEYS, delivery

pytestmark = pytest.mark.anyio


async def test_a_delivery_is_stored_as_received(redis_url, client):
    queue = RedisQueue(redis_url)
    body, event = delivery("record.created")
    entry_id = await queue.enqueue(body, event, verified=True)
    await queue.aclose()
    [(stored_id, fields)] = await client.xrange(KEYS.stream)
    assert stored_id.decode() == entry_id
    record = DeliveryRecord.from_fields(fields)
    assert record.body == body  # the raw bytes, never re-serialized
    assert record.headers == event.raw_headers and record.verified and record.type == "record.created"
    assert orjson.loads(record.key) == list(event.key)
    assert abs(record.received_at - time.time()) < 5  # from the Redis server's clock
    assert fields[b"received_at"].split(b".")[1].isdigit() and len(fields[b"received_at"].split(b".")[1]) == 6


async def test_the_same_event_twice_is_stored_once_whichever_receiver_gets_it(redis_url, client):
    first, second = RedisQueue(redis_url), RedisQueue(redis_url)  # two receivers, one Redis
    body, event = delivery()
    results = await asyncio.gather(*[(first if i % 2 else second).enqueue(body, event, True) for i in range(40)])
    assert len([r for r in results if r is not None]) == 1
    assert await client.xlen(KEYS.stream) == 1
    ttl = await client.ttl(KEYS.seen(orjson.dumps(list(event.key))))
    assert 86_000 < ttl <= 86_400  # longer than Argilla's retries (about 5 minutes) by far
    await first.aclose()
    await second.aclose()


async def test_deliveries_arriving_together_are_stored_together_each_on_its_own(redis_url, client):
    queue = RedisQueue(redis_url)
    events = [delivery("record.created") for _ in range(150)]  # more than one script run takes
    sent = events + events[:50]  # and 50 of them twice
    results = await asyncio.gather(*[queue.enqueue(body, event, True) for body, event in sent])
    stored = {entry_id.decode(): DeliveryRecord.from_fields(fields).body for entry_id, fields in await client.xrange(KEYS.stream)}
    assert len(stored) == 150 and sorted(stored.values()) == sorted(body for body, _ in events)
    # Each caller is told its own entry, or None for the copy that came second (whichever that was).
    assert [stored[entry_id] for entry_id in results if entry_id] == [body for (body, _), entry_id in zip(sent, results) if entry_id]
    assert len([r for r in results if r]) == 150
    await queue.aclose()


async def test_a_failed_xadd_leaves_no_deduplication_key(redis_url, client):
    """Pitfall: the de-dup key must exist only if the XADD happened, or the event's retries are taken for duplicates
    and it is lost. A Redis out of memory (noeviction) refuses the script's first write, so nothing is written."""
    queue = RedisQueue(redis_url)
    body, event = delivery()
    await client.config_set("maxmemory", 1)
    with pytest.raises(QueueUnavailable, match="maxmemory"):
        await queue.enqueue(body, event, True)
    await client.config_set("maxmemory", 0)
    assert await client.keys("*") == []
    assert await queue.enqueue(body, event, True) is not None  # Argilla's retry is then stored
    await queue.aclose()


async def test_a_key_of_the_wrong_type_fails_the_script_before_anything_is_written(redis_url, client):
    queue = RedisQueue(redis_url)
    await client.set(KEYS.stream, "not a stream")
    body, event = delivery()
    with pytest.raises(QueueUnavailable, match="WRONGTYPE"):
        await queue.enqueue(body, event, True)
    assert await client.exists(KEYS.seen(orjson.dumps(list(event.key)))) == 0
    await queue.aclose()


async def test_the_stream_is_capped(redis_url, client):
    queue = RedisQueue(redis_url, maxlen=100)
    await client.config_set("stream-node-max-entries", 10)  # `MAXLEN ~` trims whole nodes
    for _ in range(500):
        await queue.enqueue(*delivery(), True)
    assert 100 <= await client.xlen(KEYS.stream) < 150
    await client.config_set("stream-node-max-entries", 100)
    await queue.aclose()


async def test_an_unreachable_redis_fails_at_once(own_redis):
    """Pitfall: redis-py retries with backoff by default, so a down Redis would answer slowly; here it fails fast."""
    queue = RedisQueue(own_redis.url)
    own_redis.stop()
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(QueueUnavailable, match="Redis at redis://127.0.0.1"):
        await queue.enqueue(*delivery(), True)
    assert loop.time() - started < 0.5
    await queue.aclose()


async def test_a_hung_redis_fails_after_the_timeout(own_redis):
    queue = RedisQueue(own_redis.url, timeout=0.5)
    own_redis.pause()
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        with pytest.raises(QueueUnavailable):
            await queue.enqueue(*delivery(), True)
    finally:
        own_redis.resume()
    assert 0.4 < loop.time() - started < 1.5
    await queue.aclose()
