"""One queued delivery through its attempts: handlers run as `hooks listen` runs them, retried with backoff, then
acknowledged or moved to the dead letters.

The entry's delivery count in the consumer group's pending list is its attempt number: XREADGROUP makes it 1, each
retry sets it (XCLAIM RETRYCOUNT), and a reclaim from a worker that died raises it (XAUTOCLAIM), so an entry that
kills its worker every time still ends in the dead letters. With several handlers, each success is recorded at once
(a set per entry), and a retry runs only the handlers that have not succeeded.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, Callable, Optional, TypeVar

import orjson
from redis.exceptions import ConnectionError, RedisError, TimeoutError

from argilla_hooks.queue.connection import is_nogroup
from argilla_hooks.queue.record import DeliveryRecord, Fields, NotARecord, QueueKeys, done_handlers, unix_time_text
from argilla_hooks.queue.reports import EntryReport, Outcome
from argilla_hooks.queue.scripts import Scripts
from argilla_hooks.receiver.handlers import Delivery, Handler, NotAnEvent
from argilla_hooks.receiver.report import HandlerResult, describe_error, elapsed_ms

T = TypeVar("T")
DONE_TTL = 7 * 24 * 3600  # a safety net: the set of handlers done on an entry goes when the entry is settled
DEAD_MAXLEN = 10_000
GIVE_BACK_IDLE_MS = 365 * 24 * 3600 * 1000  # idle "for a year": the next XAUTOCLAIM of any worker takes it


class GiveUp(Exception):
    """The worker is stopping while Redis is unreachable: the entry stays pending, for another worker to reclaim."""


@dataclass
class Entry:
    id: str
    fields: Fields
    attempt: int  # the attempt this read starts: 1 for a new entry, the delivery count for a reclaimed one


@dataclass(frozen=True)
class Policy:
    max_attempts: int = 5
    retry_delay: float = 1.0  # before the second attempt; doubled for each next one
    max_retry_delay: float = 300.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait after attempt number `attempt` failed."""
        return min(self.retry_delay * 2 ** (attempt - 1), self.max_retry_delay)


class EntryRunner:
    """Runs entries for one consumer of a group; `stopping` is set when the worker stops."""

    def __init__(self, redis: Any, scripts: Scripts, keys: QueueKeys, group: str, consumer: str, handlers: list[Handler],
                 policy: Policy, stopping: asyncio.Event, report: Callable[[EntryReport], None],
                 redis_failed: Callable[[Optional[BaseException]], None]) -> None:  # fmt: skip
        self.redis, self.scripts, self.keys = redis, scripts, keys
        self.group, self.consumer, self.handlers, self.policy = group, consumer, handlers, policy
        self.stopping, self.report, self.redis_failed = stopping, report, redis_failed

    async def run(self, entry: Entry) -> None:
        try:
            record = DeliveryRecord.from_fields(entry.fields)
            delivery = Delivery(record.body, record.headers)
        except (NotARecord, NotAnEvent) as exc:
            return await self._dead(entry, None, f"not a delivery handlers can take: {exc}", [], frozenset())
        if record.group is not None and record.group != self.group:  # redriven for another group only
            return await self._settle(entry, delivery, "skipped", [], None)
        wanted = [h for h in self.handlers if h.wants(delivery.type)]
        done = set(record.done)
        if len(wanted) > 1:
            done |= {m.decode() for m in await self._stored(lambda: self.redis.smembers(self._done_key(entry)))}
        attempt, results = entry.attempt, []
        if attempt > self.policy.max_attempts:  # reclaimed after its worker died during the last attempt
            error = f"its worker went away (killed, crashed or stopped past its grace) during attempt {attempt - 1}"
            return await self._dead(entry, delivery, error, [], frozenset(done), attempts=attempt - 1)
        while True:
            results = await self._run_handlers(entry, wanted, delivery, done, track=len(wanted) > 1)
            failed = [r for r in results if not r.ok]
            if not failed:
                return await self._settle(entry, delivery, "done", results, attempt)
            error = "; ".join(f"{r.name}: {r.error}" for r in failed)
            if attempt >= self.policy.max_attempts:
                return await self._dead(entry, delivery, error, results, frozenset(done), attempts=attempt)
            delay = self.policy.delay(attempt)
            self.report(self._report(entry, "retry", attempt, delivery, results, error=error, delay=delay))
            if await self._stopped_within(delay):
                await self._stored(lambda: self.scripts.give_back(keys=[self.keys.stream], args=[self.group, self.consumer, GIVE_BACK_IDLE_MS, entry.id]))
                return self.report(self._report(entry, "given_back", attempt, delivery, [], error="the worker stopped"))
            attempt += 1
            lost = await self._stored(lambda: self.scripts.touch(keys=[self.keys.stream], args=[self.group, self.consumer, attempt, entry.id]))
            if lost:
                return self.report(self._report(entry, "lost", attempt, delivery, [], error="another worker took it over"))

    async def _run_handlers(self, entry: Entry, wanted: list[Handler], delivery: Delivery, done: set[str], track: bool) -> list[HandlerResult]:
        """The wanted handlers not done yet, in order; a failure does not stop the rest."""
        results = []
        for handler in wanted:
            if handler.name in done:
                continue
            started = time.perf_counter()
            try:
                await handler(delivery)
            except asyncio.CancelledError:
                raise
            except BaseException as exc:  # sys.exit() in a handler fails that entry, not the worker
                results.append(HandlerResult(handler.name, False, elapsed_ms(started), describe_error(exc), exc))
                continue
            results.append(HandlerResult(handler.name, True, elapsed_ms(started)))
            done.add(handler.name)
            if track:  # now, so that a worker dying before the others finish does not run this one again
                key = self._done_key(entry)
                await self._stored(lambda: self._remember(key, handler.name))
        return results

    async def _remember(self, key: str, name: str) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            await pipe.sadd(key, name).expire(key, DONE_TTL).execute()

    async def _settle(self, entry: Entry, delivery: Delivery, outcome: Outcome, results: list[HandlerResult], attempt: Optional[int]) -> None:
        acked = await self._stored(lambda: self.scripts.ack(keys=[self.keys.stream, self._done_key(entry)], args=[self.group, self.consumer, entry.id]))
        if not acked:
            outcome = "lost"
        self.report(self._report(entry, outcome, attempt or entry.attempt, delivery, results,
                                 error="another worker took it over; its handlers ran here too" if not acked else None))  # fmt: skip

    async def _dead(self, entry: Entry, delivery: Optional[Delivery], error: str, results: list[HandlerResult], done: frozenset[str], attempts: int = 0) -> None:
        fields = dict(entry.fields)
        fields.update({
            b"group": self.group.encode(), b"consumer": self.consumer.encode(), b"entry": entry.id.encode(),
            b"attempts": str(attempts).encode(), b"failed_at": unix_time_text(), b"error": error.encode(),
            b"done": orjson.dumps(sorted(done | done_handlers(entry.fields))),
        })  # fmt: skip
        args: list[Any] = [self.group, self.consumer, entry.id, DEAD_MAXLEN]
        for name, value in fields.items():
            args += (name, value)
        keys = [self.keys.stream, self.keys.dead(self.group), self._done_key(entry)]
        moved = await self._stored(lambda: self.scripts.dead(keys=keys, args=args))
        outcome: Outcome = "dead" if moved else "lost"
        self.report(self._report(entry, outcome, attempts, delivery, results, error=error))

    async def _stopped_within(self, delay: float) -> bool:
        try:
            await asyncio.wait_for(self.stopping.wait(), delay)
        except asyncio.TimeoutError:
            return False
        return True

    async def _stored(self, call: Callable[[], Awaitable[T]]) -> T:
        """`call()`, tried again while Redis cannot be reached (a handler's work is done: its outcome must be kept);
        GiveUp once the worker stops. A lost consumer group raises GiveUp at once: the entry went with it."""
        pause = 0.1
        while True:
            try:
                result = await call()
            except (ConnectionError, TimeoutError, OSError) as exc:
                self.redis_failed(exc)
            except RedisError as exc:
                if is_nogroup(exc):
                    raise GiveUp("the consumer group is gone (Redis lost it); the entry went with it") from None
                raise
            else:
                self.redis_failed(None)
                return result
            if self.stopping.is_set():
                raise GiveUp("Redis could not be reached to record the outcome; the entry stays pending")
            await asyncio.sleep(pause)
            pause = min(pause * 2, 5.0)

    def _done_key(self, entry: Entry) -> str:
        return self.keys.done(self.group, entry.id)

    def _report(self, entry: Entry, outcome: Outcome, attempt: int, delivery: Optional[Delivery], results: list[HandlerResult], **more: Any) -> EntryReport:
        return entry_report(entry, outcome, attempt, delivery, results, **more)


def entry_report(entry: Entry, outcome: Outcome, attempt: Optional[int] = None, delivery: Optional[Delivery] = None,
                 results: Optional[list[HandlerResult]] = None, **more: Any) -> EntryReport:  # fmt: skip
    """A report on `entry`, its type and event key read from the record's fields when there is no delivery."""
    try:
        key = orjson.loads(entry.fields[b"key"])
    except (KeyError, orjson.JSONDecodeError):
        key = None
    event_type = delivery.type if delivery is not None else entry.fields.get(b"type", b"").decode("utf-8", "replace") or None
    return EntryReport(entry.id, outcome, entry.attempt if attempt is None else attempt, event_type, key, results or [], delivery=delivery, **more)
