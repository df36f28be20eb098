"""Workers: handlers run as `hooks listen` runs them, retried with backoff, dead-lettered, reclaimed from dead workers,
never run twice by two live workers, and a clean stop."""

from __future__ import annotations

import asyncio
import collections
import time
from typing import Any

import pytest

from argilla_hooks import on
from argilla_hooks.queue.attempts import Policy
from argilla_hooks.queue.connection import connect
from argilla_hooks.queue.deadletters import dead_letters, redrive
from argilla_hooks.queue.ingest import RedisQueue
from argilla_hooks.queue.reports import EntryReport
from argilla_hooks.queue.worker import Worker, WorkerSettings
from argilla_hooks.receiver.handlers import Handler
from tests.unit.queue.conftest import KEYS, delivery, wait_until

pytestmark = pytest.mark.anyio
FAST = Policy(max_attempts=3, retry_delay=0.01)


async def enqueue(url: str, *types: str) -> list[str]:
    queue = RedisQueue(url)
    ids = []
    for event_type in types:
        body, event = delivery(event_type)
        ids.append(await queue.enqueue(body, event, True))
    await queue.aclose()
    return ids


def worker(url: str, *handlers: Any, reports: list[EntryReport] | None = None, **settings: Any) -> Worker:
    settings.setdefault("policy", FAST)
    return Worker(connect(url, timeout=5), [h if isinstance(h, Handler) else Handler(h) for h in handlers],
                  WorkerSettings(**settings), url=url, on_report=None if reports is None else reports.append)  # fmt: skip


async def drain(url: str, *handlers: Any, **settings: Any) -> tuple[Any, list[EntryReport]]:
    reports: list[EntryReport] = []
    w = worker(url, *handlers, reports=reports, drain=True, block=0.05, **settings)
    tally = await w.run()
    await w.redis.aclose()
    return tally, reports


async def test_handlers_get_the_delivery_as_listen_gives_it(redis_url):
    seen = []

    @on("record.created")
    async def typed(record, type, timestamp, headers):
        seen.append((type, str(record.id), timestamp.tzinfo is not None, headers["webhook-id"]))

    def untyped(data, **kwargs):  # no @on: every event but ping; **kwargs gets what the Argilla SDK passes
        seen.append(("untyped", sorted(kwargs)))

    await enqueue(redis_url, "record.created", "dataset.created")
    tally, _ = await drain(redis_url, typed, untyped)
    assert tally.done == 2
    [typed_call] = [call for call in seen if call[0] == "record.created"]
    assert typed_call[2:] == (True, "msg_test")
    assert ("untyped", ["record", "timestamp", "type"]) in seen and ("untyped", ["dataset", "timestamp", "type"]) in seen


async def test_a_handler_that_fails_twice_then_succeeds_runs_to_success_once(redis_url, client):
    calls = collections.Counter()
    effects = []

    def flaky(data):
        calls[data["id"]] += 1
        if calls[data["id"]] < 3:
            raise RuntimeError(f"attempt {calls[data['id']]} fails")
        effects.append(data["id"])

    await enqueue(redis_url, "dataset.created")
    tally, reports = await drain(redis_url, flaky)
    assert [(r.outcome, r.attempt) for r in reports] == [("retry", 1), ("retry", 2), ("done", 3)]
    assert reports[0].error.endswith("RuntimeError: attempt 1 fails") and reports[0].delay == 0.01
    assert len(effects) == 1 and tally.done == 1 and tally.retries == 2
    assert (await client.xpending(KEYS.stream, "workers"))["pending"] == 0
    assert await client.xinfo_consumers(KEYS.stream, "workers") == []  # a clean stop leaves no consumer behind


async def test_one_that_always_fails_ends_in_the_dead_letters_and_redrive_brings_it_back(redis_url, client):
    def broken(type):
        raise ValueError("no luck")

    [entry_id] = await enqueue(redis_url, "response.created")
    tally, reports = await drain(redis_url, broken)
    assert [r.outcome for r in reports] == ["retry", "retry", "dead"] and tally.dead == 1
    [dead] = await dead_letters(client, KEYS)
    assert dead.entry == entry_id and dead.attempts == 3 and dead.group == "workers" and dead.type == "response.created"
    assert "broken: ValueError: no luck" in dead.error
    assert (await client.xpending(KEYS.stream, "workers"))["pending"] == 0

    [redriven] = await redrive(client, KEYS, [dead.id])
    assert redriven.dead_id == dead.id and await dead_letters(client, KEYS) == []
    fixed = []
    tally, reports = await drain(redis_url, lambda type: fixed.append(type))
    assert fixed == ["response.created"] and [r.outcome for r in reports] == ["done"]


async def test_a_handler_that_succeeded_is_not_run_again_when_another_fails(redis_url):
    runs = collections.Counter()

    def steady(type):
        runs["steady"] += 1

    def flaky(type):
        runs["flaky"] += 1
        if runs["flaky"] < 3:
            raise RuntimeError("not yet")

    await enqueue(redis_url, "dataset.created")
    await drain(redis_url, steady, flaky)
    assert runs == {"steady": 1, "flaky": 3}


async def test_a_redriven_entry_runs_only_the_handlers_that_had_not_succeeded(redis_url, client):
    runs = collections.Counter()

    def steady(type):
        runs["steady"] += 1

    def broken(type):
        runs["broken"] += 1
        raise RuntimeError("down")

    await enqueue(redis_url, "dataset.created")
    handlers = [Handler(steady, name="h:steady"), Handler(broken, name="h:broken")]
    await drain(redis_url, *handlers)
    [dead] = await dead_letters(client, KEYS)
    assert dead.done == ["h:steady"]
    await redrive(client, KEYS, [], group="workers")  # --all
    handlers[1] = Handler(lambda type: runs.update(["fixed"]), name="h:broken")
    await drain(redis_url, *handlers)
    assert runs == {"steady": 1, "broken": 3, "fixed": 1}


async def test_a_redriven_entry_is_only_for_the_group_it_failed_in(redis_url, client):
    runs = []
    await enqueue(redis_url, "dataset.created")
    await drain(redis_url, lambda type: runs.append("exports"), group="exports")
    await drain(redis_url, lambda type: 1 / 0, group="notify")
    [dead] = await dead_letters(client, KEYS)
    await redrive(client, KEYS, [dead.id])
    _, reports = await drain(redis_url, lambda type: runs.append("exports again"), group="exports")
    assert runs == ["exports"] and [r.outcome for r in reports] == ["skipped"]


async def test_an_entry_left_by_a_dead_worker_is_reclaimed_with_its_attempt_counted(redis_url, client):
    """Pitfall: XAUTOCLAIM with JUSTID would not count an attempt, so a delivery that kills its worker every time
    would be reclaimed for ever; here each reclaim counts, and past --max-attempts it goes to the dead letters."""
    await enqueue(redis_url, "dataset.created", "dataset.created")
    await client.xgroup_create(KEYS.stream, "workers", id="0")
    await client.xreadgroup("workers", "killed-worker", {KEYS.stream: ">"}, count=2)  # then it dies: both pending
    await asyncio.sleep(0.25)
    runs = []
    tally, reports = await drain(redis_url, lambda type: runs.append(type), claim_idle=0.2)
    assert runs == ["dataset.created"] * 2 and [(r.outcome, r.attempt) for r in reports] == [("done", 2)] * 2

    [entry_id] = await enqueue(redis_url, "record.created")
    await client.xreadgroup("workers", "killed-worker", {KEYS.stream: ">"}, count=1)
    await asyncio.sleep(0.25)
    tally, reports = await drain(redis_url, lambda type: runs.append(type), claim_idle=0.2, policy=Policy(max_attempts=1))
    assert runs == ["dataset.created"] * 2 and [r.outcome for r in reports] == ["dead"]
    [dead] = await dead_letters(client, KEYS)
    assert dead.entry == entry_id and "its worker went away" in dead.error


async def test_a_long_handler_is_not_taken_over_by_another_worker(redis_url):
    """Pitfall: a worker must read no more entries than it has free slots, and keep the ones it runs claimed, or
    another worker reclaims them after the idle time and runs them too."""
    runs = collections.Counter()

    async def slow(data):
        runs[data["id"]] += 1
        await asyncio.sleep(0.6)  # three times the claim idle time

    await enqueue(redis_url, *["dataset.created"] * 6)
    workers = [worker(redis_url, slow, concurrency=1, claim_idle=0.2) for _ in range(2)]
    tasks = [asyncio.ensure_future(w.run()) for w in workers]
    await wait_until(lambda: sum(w.tally.done for w in workers) == 6, timeout=15)
    for w in workers:
        w.stop()
    await asyncio.gather(*tasks)
    assert len(runs) == 6 and set(runs.values()) == {1}
    assert all(w.tally.lost == 0 for w in workers)
    for w in workers:
        await w.redis.aclose()


async def test_a_worker_holds_no_more_entries_than_it_has_slots(redis_url, client):
    release = asyncio.Event()

    async def blocked(type):
        await release.wait()

    await enqueue(redis_url, *["dataset.created"] * 10)
    w = worker(redis_url, blocked, concurrency=3)
    task = asyncio.ensure_future(w.run())
    await wait_until(lambda: w.tally.in_flight == 3)
    await asyncio.sleep(0.3)
    summary = await client.xpending(KEYS.stream, "workers")
    assert summary["pending"] == 3
    release.set()
    await wait_until(lambda: w.tally.done == 10)
    w.stop()
    await task
    await w.redis.aclose()


async def test_a_lost_group_is_created_again(redis_url, client):
    """Redis restarted without persistence (or the group deleted): NOGROUP, and the worker carries on."""
    runs = []
    w = worker(redis_url, lambda type: runs.append(type))
    task = asyncio.ensure_future(w.run())
    await enqueue(redis_url, "dataset.created")
    await wait_until(lambda: len(runs) == 1)
    await client.xgroup_destroy(KEYS.stream, "workers")
    await client.delete(KEYS.stream)
    await enqueue(redis_url, "record.created")
    await wait_until(lambda: len(runs) == 2)
    w.stop()
    await task
    assert runs == ["dataset.created", "record.created"]
    await w.redis.aclose()


async def test_a_restarted_redis_without_persistence_is_survived(own_redis):
    runs = []
    w = worker(own_redis.url, lambda type: runs.append(type))
    task = asyncio.ensure_future(w.run())
    await enqueue(own_redis.url, "dataset.created")
    await wait_until(lambda: len(runs) == 1)
    own_redis.stop()
    await wait_until(lambda: w.tally.redis_error is not None)
    own_redis.start()
    await wait_until(lambda: w.tally.redis_error is None)
    await enqueue(own_redis.url, "record.created")
    await wait_until(lambda: len(runs) == 2)
    w.stop()
    await task
    assert runs == ["dataset.created", "record.created"]
    await w.redis.aclose()


async def test_a_stop_gives_back_an_entry_waiting_for_its_retry_at_once(redis_url, client):
    def broken(type):
        raise RuntimeError("down")

    await enqueue(redis_url, "dataset.created")
    reports: list[EntryReport] = []
    w = worker(redis_url, broken, reports=reports, policy=Policy(max_attempts=5, retry_delay=30))
    task = asyncio.ensure_future(w.run())
    await wait_until(lambda: reports and reports[-1].outcome == "retry")
    started = time.monotonic()
    w.stop()
    tally = await task
    assert time.monotonic() - started < 2 and tally.given_back == 1 and tally.cut_short == 0
    [consumer] = await client.xinfo_consumers(KEYS.stream, "workers")  # it stays while it holds an entry
    assert consumer["pending"] == 1
    # Given back idle "for a year", with its attempt count: the next worker takes it at once, as attempt 2.
    _, more = await drain(redis_url, lambda type: None, claim_idle=60)
    assert [(r.outcome, r.attempt) for r in more] == [("done", 2)]
    await w.redis.aclose()


async def _stopped_while_running(redis_url, handler, grace):
    """The tally of a worker stopped while `handler` runs on one entry."""
    await enqueue(redis_url, "dataset.created")
    w = worker(redis_url, handler, grace=grace)
    task = asyncio.ensure_future(w.run())
    await wait_until(lambda: w.tally.in_flight == 1)
    w.stop()
    tally = await task
    await w.redis.aclose()
    return tally


async def test_a_stop_waits_for_running_handlers_then_gives_back_what_outlasts_the_grace(redis_url):
    finished = []

    async def quick(data):
        await asyncio.sleep(0.2)
        finished.append("quick")

    tally = await _stopped_while_running(redis_url, quick, grace=5)
    assert finished == ["quick"] and tally.done == 1 and tally.cut_short == 0

    async def endless(data):
        await asyncio.sleep(60)

    tally = await _stopped_while_running(redis_url, endless, grace=0.2)
    assert tally.cut_short == 1 and tally.given_back == 1
    _, more = await drain(redis_url, lambda type: None)
    assert [r.outcome for r in more] == ["done"]


async def test_acknowledged_entries_are_trimmed_from_the_stream(redis_url, client):
    await enqueue(redis_url, *["dataset.created"] * 20)
    w = worker(redis_url, lambda type: None)
    task = asyncio.ensure_future(w.run())
    await wait_until(lambda: w.tally.done == 20)
    await asyncio.sleep(1.5)  # the worker trims about once a second
    assert await client.xlen(KEYS.stream) <= 1
    w.stop()
    await task
    await w.redis.aclose()


async def test_nothing_is_trimmed_that_a_group_has_not_acknowledged(redis_url, client):
    await enqueue(redis_url, *["dataset.created"] * 5)
    await client.xgroup_create(KEYS.stream, "slow", id="0")  # a group whose workers are away
    tally, _ = await drain(redis_url, lambda type: None)
    await asyncio.sleep(1.2)
    assert tally.done == 5 and await client.xlen(KEYS.stream) == 5
