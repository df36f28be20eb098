"""A worker: one consumer of a consumer group on the delivery stream, running entries through their attempts.

It reads at most as many entries as it has free slots (`concurrency`), so none waits in the worker while its idle
time runs towards `claim_idle`; it heartbeats the entries it holds (resets their idle time) every third of
`claim_idle`, so a handler that runs long is not reclaimed by another worker; and it reclaims (XAUTOCLAIM, which
counts an attempt) entries idle past `claim_idle`, left by a worker that died. When Redis has lost the group
(NOGROUP: restarted without persistence) it re-creates it from the start of the stream rather than wait forever.
`stop()` stops reading: entries waiting for a retry are given back at once, running ones get `grace` seconds to
finish and are then given back (marked idle, so that another worker takes them at once).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from redis.exceptions import ConnectionError, RedisError, ResponseError, TimeoutError

from argilla_hooks.queue.attempts import GIVE_BACK_IDLE_MS, Entry, EntryRunner, GiveUp, Policy, entry_report
from argilla_hooks.queue.connection import describe_failure, is_nogroup
from argilla_hooks.queue.record import DEFAULT_GROUP, QueueKeys, as_text
from argilla_hooks.queue.reports import EntryReport, Tally
from argilla_hooks.queue.scripts import Scripts
from argilla_hooks.receiver.handlers import Handler
from argilla_hooks.receiver.report import describe_error

Reporter = Callable[[EntryReport], None]


def consumer_name() -> str:
    """Unique per process, and telling where it runs: `host-pid-3f2a`."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(2)}"


@dataclass(frozen=True)
class WorkerSettings:
    group: str = DEFAULT_GROUP
    consumer: str = field(default_factory=consumer_name)
    concurrency: int = 4
    policy: Policy = Policy()
    claim_idle: float = 60.0  # seconds an entry's worker may be silent before another worker takes the entry over
    grace: float = 30.0  # seconds running handlers get to finish at a stop
    block: float = 0.5  # seconds a read waits for new entries (and so the longest a stop waits for a read)
    drain: bool = False  # stop once the group has nothing left to read, retry or reclaim

    def __post_init__(self) -> None:
        if self.concurrency < 1 or self.policy.max_attempts < 1:
            raise ValueError("concurrency and max_attempts must be at least 1")
        if self.claim_idle <= 0 or self.grace < 0 or self.policy.retry_delay < 0:
            raise ValueError("claim_idle must be positive; grace and retry_delay must not be negative")


class Worker:
    """`await Worker(redis, handlers, settings).run()` until `stop()`; `redis` is a client made by `connect()`."""

    def __init__(self, redis: Any, handlers: list[Handler], settings: WorkerSettings = WorkerSettings(), *,
                 url: str = "", keys: QueueKeys = QueueKeys(), on_report: Optional[Reporter] = None) -> None:  # fmt: skip
        self.redis, self.handlers, self.settings, self.url, self.keys = redis, handlers, settings, url, keys
        self.on_report = on_report
        self.tally = Tally()
        self.on_change: Callable[[], None] = lambda: None  # told when the tally changes (a status line redraws)
        self._scripts = Scripts(redis)
        self._stopping = asyncio.Event()
        self._stop_now = asyncio.Event()
        self._finished = asyncio.Event()
        self._slot_freed = asyncio.Event()
        self._in_flight: dict[str, asyncio.Task[None]] = {}
        self._entries: dict[str, Entry] = {}
        self._runner = EntryRunner(redis, self._scripts, keys, settings.group, settings.consumer, handlers,
                                   settings.policy, self._stopping, self._report, self._redis_failed)  # fmt: skip
        self._cursor = "0-0"  # where the next XAUTOCLAIM goes on scanning
        self._next_beat = 0.0
        self._acked_since_trim = False

    def stop(self, now: bool = False) -> None:
        """Stop reading; `now`: give back running entries without waiting for them (a second Ctrl-C)."""
        self._stopping.set()
        if now:
            self._stop_now.set()

    async def run(self) -> Tally:
        """Consume until `stop()` (or, with `drain`, until nothing is left); the tally says what was done."""
        await self.ensure_group()
        maintenance = asyncio.ensure_future(self._maintain())
        try:
            await self._consume()
            await self._finish()
        finally:
            # Told, not cancelled: redis-py may swallow a cancellation that lands inside a command.
            self._finished.set()
            await maintenance
        with contextlib.suppress(RedisError):  # (`hooks queue stats` would list it, idle, for ever)
            await self._scripts.forget(keys=[self.keys.stream], args=[self.settings.group, self.settings.consumer])
        return self.tally

    async def ensure_group(self) -> None:
        """Create the group from the start of the stream (making the stream if need be) unless it exists: deliveries
        queued before any worker ran are handled too."""
        try:
            await self.redis.xgroup_create(self.keys.stream, self.settings.group, id="0", mkstream=True)
        except ResponseError as exc:
            if not str(exc).startswith("BUSYGROUP"):
                raise

    async def _consume(self) -> None:
        loop = asyncio.get_running_loop()
        next_claim, pause = 0.0, 0.1
        while not self._stopping.is_set():
            free = self.settings.concurrency - len(self._in_flight)
            if free <= 0:
                self._slot_freed.clear()
                await _first_of(self._slot_freed.wait(), self._stopping.wait())
                continue
            try:
                entries: list[Entry] = []
                if loop.time() >= next_claim:
                    entries, more = await self._reclaim(free)
                    next_claim = loop.time() + (0 if more else self.settings.claim_idle / 4)
                if not entries:
                    entries = await self._read(free)
                    if not entries and self.settings.drain and not self._in_flight and await self._group_is_empty():
                        return
                self._redis_failed(None)
                pause = 0.1
            except (ConnectionError, TimeoutError, OSError) as exc:
                self._redis_failed(exc)
                await _first_of(asyncio.sleep(pause), self._stopping.wait())
                pause = min(pause * 2, 5.0)
                continue
            except ResponseError as exc:
                if not is_nogroup(exc):
                    raise
                await self.ensure_group()  # Redis lost the group: make it again rather than wait for ever
                continue
            for entry in entries:
                self._start(entry)

    async def _read(self, count: int) -> list[Entry]:
        block = max(1, int(self.settings.block * 1000))
        found = await self.redis.xreadgroup(self.settings.group, self.settings.consumer, {self.keys.stream: ">"}, count=count, block=block)
        return [Entry(as_text(entry_id), fields, 1) for _, messages in found or [] for entry_id, fields in messages]

    async def _reclaim(self, count: int) -> tuple[list[Entry], bool]:
        """Entries idle past claim_idle, taken over (and their attempt counted); True when there may be more."""
        idle_ms = int(self.settings.claim_idle * 1000)
        found = await self.redis.xautoclaim(self.keys.stream, self.settings.group, self.settings.consumer, idle_ms, self._cursor, count=count)
        self._cursor = as_text(found[0])
        claimed = [(as_text(entry_id), fields) for entry_id, fields in found[1] if fields is not None]
        for entry_id in found[2] if len(found) > 2 else []:  # pending, but trimmed from the stream (past its cap)
            self._report(EntryReport(as_text(entry_id), "trimmed", error="it was trimmed from the stream (past its cap) before it was handled"))
        if not claimed:
            return [], self._cursor != "0-0"
        counts = await self.redis.xpending_range(self.keys.stream, self.settings.group, claimed[0][0], claimed[-1][0], len(claimed), self.settings.consumer)
        attempts = {as_text(p["message_id"]): int(p["times_delivered"]) for p in counts}
        return [Entry(entry_id, fields, attempts.get(entry_id, 2)) for entry_id, fields in claimed], self._cursor != "0-0"

    async def _group_is_empty(self) -> bool:
        summary = await self.redis.xpending(self.keys.stream, self.settings.group)
        return int(summary["pending"]) == 0

    def _start(self, entry: Entry) -> None:
        task = asyncio.ensure_future(self._process(entry))
        self._in_flight[entry.id] = task
        self._entries[entry.id] = entry
        self.tally.in_flight = len(self._in_flight)
        self.on_change()

    async def _process(self, entry: Entry) -> None:
        try:
            await self._runner.run(entry)
        except GiveUp as exc:
            self._report(entry_report(entry, "given_back", error=str(exc)))
        except Exception as exc:  # a Redis error the runner could not place: the entry stays pending, and is
            # reclaimed by a worker after claim_idle (its heartbeat stops here)
            self._report(entry_report(entry, "given_back", error=f"left pending after {describe_error(exc)}"))
        finally:
            del self._in_flight[entry.id]
            del self._entries[entry.id]
            self.tally.in_flight = len(self._in_flight)
            self._slot_freed.set()
            self.on_change()

    async def _finish(self) -> None:
        """At a stop: wait `grace` for running entries (those waiting for a retry are given back at once), then give
        back the rest and cancel them. (A `def` handler's thread cannot be cancelled: it runs on until the process
        ends.)"""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.grace
        stop_now = asyncio.ensure_future(self._stop_now.wait())
        while self._in_flight and not stop_now.done() and loop.time() < deadline:
            await asyncio.wait([*self._in_flight.values(), stop_now], timeout=deadline - loop.time(), return_when=asyncio.FIRST_COMPLETED)
        stop_now.cancel()
        left = dict(self._in_flight)
        if not left:
            return
        try:
            await self._scripts.give_back(keys=[self.keys.stream], args=[self.settings.group, self.settings.consumer, GIVE_BACK_IDLE_MS, *left])
        except RedisError as exc:
            self._redis_failed(exc)
        self.tally.cut_short = len(left)
        for entry_id, task in left.items():
            task.cancel()
            self._report(entry_report(self._entries[entry_id], "given_back", error=f"still running {self.settings.grace:g} s after the stop"))
        await asyncio.wait(left.values(), timeout=1.0)  # async handlers unwind

    async def _maintain(self) -> None:
        """Heartbeat the entries held, and trim what every group has acknowledged, for as long as the worker runs."""
        interval = self.settings.claim_idle / 3
        while not self._finished.is_set():
            await _first_of(asyncio.sleep(min(interval, 1.0)), self._finished.wait())
            try:
                if self._in_flight and self._heartbeat_due(interval):
                    await self._scripts.touch(keys=[self.keys.stream], args=[self.settings.group, self.settings.consumer, "", *self._in_flight])
                if self._acked_since_trim:  # (once more after the last entry: the stream is left trimmed)
                    self._acked_since_trim = False
                    await self._scripts.trim(keys=[self.keys.stream])
            except RedisError as exc:
                self._redis_failed(exc)

    def _heartbeat_due(self, interval: float) -> bool:
        now = asyncio.get_running_loop().time()
        due = now >= self._next_beat
        if due:
            self._next_beat = now + interval
        return due

    def _report(self, report: EntryReport) -> None:
        self.tally.count(report)
        if report.outcome in ("done", "dead", "skipped"):
            self._acked_since_trim = True
        if self.on_report is not None:
            self.on_report(report)
        self.on_change()

    def _redis_failed(self, exc: Optional[BaseException]) -> None:
        error = None if exc is None else describe_failure(self.url, exc)
        if error != self.tally.redis_error:
            self.tally.redis_error = error
            self.on_change()


async def _first_of(*waits: Any) -> None:
    """Wait until the first of these awaitables is done; cancel the others."""
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
