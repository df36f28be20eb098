"""`create_app(queue=...)`: verified deliveries are stored and answered 202, duplicates 200, and 503 when Redis
cannot take them; nothing unverified is stored."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from argilla_hooks.queue.ingest import RedisQueue
from argilla_hooks.receiver import create_app
from argilla_hooks.receiver.report import DeliveryReport
from argilla_hooks.trigger.samples import build_event
from tests.unit.queue.conftest import KEYS
from tests.unit.receiver.receiver_samples import new_secret, signed_headers

pytestmark = pytest.mark.anyio
SECRET = new_secret()


async def post(app, body: bytes, headers: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://receiver") as http:
        return await http.post("/", content=body, headers=headers)


async def test_each_event_is_queued_once_across_receivers(redis_url, client):
    reports: list[DeliveryReport] = []
    apps = [create_app(secrets=SECRET, queue=RedisQueue(redis_url), on_report=reports.append) for _ in range(2)]
    body = build_event("response.created")
    # Two webhooks (or Argilla's retries) send the same event with new webhook-ids, to either receiver.
    answers = [await post(apps[i % 2], body, signed_headers(SECRET, body)) for i in range(4)]
    assert [a.status_code for a in answers] == [202, 200, 200, 200]
    assert answers[0].content == b"" and answers[1].json() == {"ok": True, "duplicate": True}
    assert await client.xlen(KEYS.stream) == 1
    assert reports[0].to_json()["queued"] == (await client.xrange(KEYS.stream))[0][0].decode()
    assert reports[0].handlers == [] and reports[1].duplicate
    for app in apps:
        await app.aclose()


async def test_unverified_deliveries_are_never_stored(redis_url, client):
    app = create_app(secrets=SECRET, queue=RedisQueue(redis_url))
    body = build_event("dataset.created")
    answer = await post(app, body, signed_headers(new_secret(), body))
    assert answer.status_code == 401
    assert await client.exists(KEYS.stream) == 0
    await app.aclose()


async def test_redis_down_is_answered_503_at_once_and_the_retry_is_stored(own_redis):
    app = create_app(secrets=SECRET, queue=RedisQueue(own_redis.url))
    body = build_event("dataset.created")
    own_redis.stop()
    loop = asyncio.get_running_loop()
    started = loop.time()
    answer = await post(app, body, signed_headers(SECRET, body))
    assert answer.status_code == 503 and "could not queue the delivery" in answer.json()["error"]
    assert loop.time() - started < 0.5  # no redis-py retries with backoff
    own_redis.start()
    answer = await post(app, body, signed_headers(SECRET, body))  # Argilla's retry, new webhook-id
    assert answer.status_code == 202
    await app.aclose()


async def test_a_queue_takes_no_handlers():
    with pytest.raises(ValueError, match="hooks work"):
        create_app(secrets=SECRET, handlers=[lambda: None], queue=RedisQueue("redis://127.0.0.1:1/0"))


async def test_max_events_queues_exactly_that_many_however_many_arrive_at_once(redis_url, client):
    app = create_app(secrets=SECRET, queue=RedisQueue(redis_url), max_events=3)
    bodies = [build_event("dataset.created") for _ in range(10)]
    answers = await asyncio.gather(*[post(app, body, signed_headers(SECRET, body)) for body in bodies])
    assert sorted(a.status_code for a in answers) == [202] * 3 + [503] * 7
    assert await client.xlen(KEYS.stream) == 3
    await app.aclose()


async def test_a_queued_delivery_is_journaled_before_its_202_and_a_replay_is_queued_again(redis_url, client, tmp_path):
    from argilla_hooks.receiver.journal_reader import JournalReader

    path = tmp_path / "journal.sqlite3"
    app = create_app(secrets=SECRET, queue=RedisQueue(redis_url), journal=path)
    body = build_event("record.completed")
    assert (await post(app, body, signed_headers(SECRET, body))).status_code == 202
    assert (await post(app, body, signed_headers(SECRET, body))).status_code == 200  # Argilla's retry
    replay = await post(app, body, signed_headers(SECRET, body, msg_id="replay_abc"))  # `hooks deliveries replay`
    assert replay.status_code == 202
    assert await client.xlen(KEYS.stream) == 2
    await app.aclose()
    with JournalReader(path) as reader:
        newest = reader.newest(10)
    assert [(e.status, e.verdict, e.replay) for e in newest] == [(202, "queued", True), (200, "duplicate", False), (202, "queued", False)]
