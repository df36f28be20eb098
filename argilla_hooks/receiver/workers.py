"""The threads that run `def` handlers, so that a slow or blocking handler never stalls the event loop.

A hop to a thread and back costs more than a small handler itself: waking the thread, handing it the interpreter
lock, waking the loop again. So the calls made in one turn of the event loop go to a thread together, as one batch,
and results finished while the loop is busy go back together. A batch that still has calls waiting after
`OFFER_AGAIN_AFTER` (a slow handler is holding its thread) is offered to another thread, started if none is idle, up to
`max_threads` (anyio's default, 40): slow handlers run side by side and do not hold up quick ones for long.
"""

from __future__ import annotations

import asyncio
import contextvars
import queue
import threading
from collections import deque
from typing import Any, Callable, Optional

OFFER_AGAIN_AFTER = 0.002  # seconds
# While every thread is busy a waiting batch looks again less and less often, up to this: 2 ms forever cost an idle
# listener a sixth of a core with 200 calls stuck behind blocked handlers.
OFFER_AGAIN_AT_MOST = 0.1

_Call = tuple["asyncio.Future[Any]", Callable[..., Any], Callable[[], Any]]  # future, context runner, call
_Outcome = tuple["asyncio.Future[Any]", Any, Optional[BaseException]]


class SyncWorkers:
    def __init__(self, max_threads: int = 40) -> None:
        self._max_threads = max_threads
        self._offered: queue.SimpleQueue[tuple[asyncio.AbstractEventLoop, deque[_Call]]] = queue.SimpleQueue()
        self._lock = threading.Lock()  # guards the counts and _finished, which threads and loops share
        self._threads = self._idle = 0
        self._gathering: dict[asyncio.AbstractEventLoop, deque[_Call]] = {}  # this loop turn's calls; loop thread only
        self._finished: dict[asyncio.AbstractEventLoop, list[_Outcome]] = {}

    def run(self, loop: asyncio.AbstractEventLoop, call: Callable[[], Any]) -> asyncio.Future[Any]:
        """Run `call` (in a copy of the current context) on a worker thread; the future gets its result. Loop thread only."""
        future = loop.create_future()
        batch = self._gathering.get(loop)
        if batch is None:
            batch = self._gathering[loop] = deque()
            loop.call_soon(self._submit, loop)  # once this turn's other ready callbacks have added theirs
        batch.append((future, contextvars.copy_context().run, call))
        return future

    def _submit(self, loop: asyncio.AbstractEventLoop) -> None:
        self._offer(loop, self._gathering.pop(loop))

    def _offer(
        self, loop: asyncio.AbstractEventLoop, batch: deque[_Call], again: bool = False, wait: float = OFFER_AGAIN_AFTER
    ) -> None:
        if not batch:
            return
        with self._lock:
            start = self._idle == 0 and self._threads < self._max_threads
            if start:
                self._threads += 1
            # Offered again only when a thread can take it: while every thread is busy, the queue must not grow.
            offer = not again or start or self._idle > 0
        if offer:
            self._offered.put((loop, batch))
        if start:
            threading.Thread(target=self._work, name="argilla-hooks-handler", daemon=True).start()
        wait = OFFER_AGAIN_AFTER if offer else min(wait * 2, OFFER_AGAIN_AT_MOST)
        loop.call_later(wait, self._offer, loop, batch, True, wait)

    def _work(self) -> None:
        while True:
            with self._lock:
                self._idle += 1
            loop, batch = self._offered.get()
            with self._lock:
                self._idle -= 1
            # Several threads may drain one batch; deque.popleft hands each call to exactly one of them.
            while True:
                try:
                    future, run_in_context, call = batch.popleft()
                except IndexError:
                    break
                outcome: _Outcome
                try:
                    outcome = (future, run_in_context(call), None)
                except BaseException as exc:  # handed to the awaiting handler call, which reports it
                    outcome = (future, None, exc)
                self._hand_back(loop, outcome)

    def _hand_back(self, loop: asyncio.AbstractEventLoop, outcome: _Outcome) -> None:
        with self._lock:
            finished = self._finished.setdefault(loop, [])
            finished.append(outcome)
            if len(finished) > 1:
                return  # the loop is already due to collect these
        try:
            loop.call_soon_threadsafe(self._collect, loop)
        except RuntimeError:  # the loop closed meanwhile: nobody waits for these results
            with self._lock:
                self._finished.pop(loop, None)

    def _collect(self, loop: asyncio.AbstractEventLoop) -> None:
        with self._lock:
            finished = self._finished.pop(loop, [])
        for future, result, exc in finished:
            if future.cancelled():
                continue
            if exc is None:
                future.set_result(result)
            else:
                future.set_exception(exc)


SYNC_WORKERS = SyncWorkers()
