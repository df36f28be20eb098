"""The threads that run `def` handlers: results come back, blocking calls run side by side, quick ones are not held up."""

from __future__ import annotations

import asyncio
import contextvars
import threading

import pytest

from argilla_hooks.receiver.workers import SyncWorkers

REQUEST = contextvars.ContextVar("request", default=None)


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, 10))


def test_results_exceptions_and_the_callers_context_reach_the_caller():
    workers = SyncWorkers()

    def boom():
        raise KeyError("nope")

    async def main():
        loop = asyncio.get_running_loop()
        REQUEST.set("r-1")
        ok = workers.run(loop, lambda: (REQUEST.get(), threading.current_thread().name))
        failed = workers.run(loop, boom)
        assert await ok == ("r-1", "argilla-hooks-handler")
        with pytest.raises(KeyError, match="nope"):
            await failed

    run(main())


def test_blocking_calls_made_together_run_side_by_side():
    workers = SyncWorkers()
    barrier = threading.Barrier(3, timeout=5)  # passes only when all three run at the same time

    async def main():
        loop = asyncio.get_running_loop()
        return await asyncio.gather(*(workers.run(loop, barrier.wait) for _ in range(3)))

    assert sorted(run(main())) == [0, 1, 2]


def test_a_quick_call_is_not_held_up_by_a_blocked_one_made_in_the_same_turn():
    workers = SyncWorkers()
    release = threading.Event()

    async def main():
        loop = asyncio.get_running_loop()
        blocked = workers.run(loop, lambda: release.wait(5))
        quick = workers.run(loop, lambda: "quick")
        assert await asyncio.wait_for(quick, 2) == "quick"
        assert not blocked.done()
        release.set()
        assert await blocked is True

    run(main())


def test_the_threads_are_bounded_and_every_call_still_runs():
    workers = SyncWorkers(max_threads=2)
    names, lock = set(), threading.Lock()

    def work(i):
        with lock:
            names.add(threading.current_thread().ident)
        threading.Event().wait(0.005)  # long enough for the batch to be offered to another thread
        return i

    async def main():
        loop = asyncio.get_running_loop()
        return await asyncio.gather(*(workers.run(loop, lambda i=i: work(i)) for i in range(20)))

    assert run(main()) == list(range(20))
    assert len(names) == 2


def test_a_call_outliving_its_loop_does_not_stop_the_workers():
    workers = SyncWorkers(max_threads=1)
    release = threading.Event()

    async def abandon():
        workers.run(asyncio.get_running_loop(), lambda: release.wait(5))
        await asyncio.sleep(0.05)  # the call has started; this loop then closes without waiting for it

    asyncio.run(abandon())
    release.set()

    async def main():
        return await workers.run(asyncio.get_running_loop(), lambda: "still working")

    assert run(main()) == "still working"


def test_waiting_calls_do_not_pile_up_in_the_queue_while_every_thread_is_busy():
    workers = SyncWorkers(max_threads=1)
    release = threading.Event()

    async def main():
        loop = asyncio.get_running_loop()
        calls = [workers.run(loop, lambda: release.wait(5)) for _ in range(3)]
        await asyncio.sleep(0.1)  # some 50 chances to offer the waiting calls again
        assert workers._offered.qsize() == 0
        release.set()
        return await asyncio.gather(*calls)

    assert run(main()) == [True, True, True]


def test_waiting_calls_look_for_a_thread_less_and_less_often_while_every_thread_is_busy():
    workers = SyncWorkers(max_threads=1)
    release = threading.Event()
    offers = []
    real_offer = workers._offer

    def counted(*args):
        offers.append(args)
        real_offer(*args)

    workers._offer = counted

    async def main():
        loop = asyncio.get_running_loop()
        calls = [workers.run(loop, lambda: release.wait(5)) for _ in range(3)]
        await asyncio.sleep(0.5)  # 250 looks at 2 ms each
        looked = len(offers)
        release.set()
        await asyncio.gather(*calls)
        return looked

    assert run(main()) < 20  # backing off to every 0.1 s: about a dozen
