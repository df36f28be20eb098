"""What one hop to a worker thread and back costs here: the price of running a `def` handler off the event loop.

    .venv/bin/python bench/thread_hop.py [--calls N]

Process CPU time per `await anyio.to_thread.run_sync(noop)` (what the receiver does for each `def` handler call), one
at a time and 32 at once, and per call through asyncio's default executor, on asyncio's own loop and on uvloop.
Compare with bench/receiver_inprocess.py's CPU per request of the raw verify-and-parse app (about 20 us here).
"""

from __future__ import annotations

import argparse
import asyncio
import time

import anyio.to_thread
import uvloop


def noop() -> None:
    pass


async def one_at_a_time(calls: int) -> float:
    started = time.process_time()
    for _ in range(calls):
        await anyio.to_thread.run_sync(noop)
    return (time.process_time() - started) / calls * 1e6


async def side_by_side(calls: int, at_once: int = 32) -> float:
    async def caller() -> None:
        for _ in range(calls // at_once):
            await anyio.to_thread.run_sync(noop)

    started = time.process_time()
    await asyncio.gather(*(caller() for _ in range(at_once)))
    return (time.process_time() - started) / calls * 1e6


async def executor(calls: int) -> float:
    loop, started = asyncio.get_running_loop(), time.process_time()
    for _ in range(calls):
        await loop.run_in_executor(None, noop)
    return (time.process_time() - started) / calls * 1e6


async def measure(calls: int) -> str:
    await one_at_a_time(500)  # warm-up: the threads exist
    return (f"anyio one at a time {await one_at_a_time(calls):6.1f} us CPU/call, 32 at once {await side_by_side(calls):6.1f}; "
            f"run_in_executor one at a time {await executor(calls):6.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5000)
    args = parser.parse_args()
    for name, factory in (("asyncio", asyncio.new_event_loop), ("uvloop", uvloop.new_event_loop)):
        with asyncio.Runner(loop_factory=factory) as runner:
            print(f"{name:8} {runner.run(measure(args.calls))}")
