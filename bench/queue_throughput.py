"""The Redis queue in one run: answer latency with a slow handler, `hooks listen --queue` throughput, worker scaling.

    .venv/bin/python bench/queue_throughput.py [--duration S] [--rounds R] [--entries N]

A redis-server on a loopback port, as the queue's docs recommend it (append-only file, fsync every second,
noeviction), the same wrk load generator and signed deliveries as bench/listen_throughput.py (1 thread), and:

  1. latency: wrk -c4, each connection pausing 20 ms before each request (Argilla's rq workers each send one
     delivery at a time, and far fewer than 200 a second), after a warm-up, medians of 3 runs, to
     (l) `hooks listen --json` with no handler (the floor: what this machine's noise does to a p99),
     (q) `hooks listen --queue URL --json`, while `hooks work URL sleepy:second --concurrency 64` runs a handler
         that waits 1 s from the queue, and
     (i) `hooks listen sleepy:second --json`, which runs that handler in the request;
     target: p99 of (q) under 10 ms, while (i) answers in over 1 s;
  2. throughput: wrk -c32, alternating over the rounds, (l) `hooks listen --json` (no handler: it prints each event)
     and (q) `hooks listen --queue URL --json` (the stream emptied between rounds); target: (q)/(l) >= 0.6 by median
     req/s; the CPU time of the listener and of redis-server per request are shown too;
  3. scaling: N entries stored through the real ingest (RedisQueue.enqueue, what `listen --queue` does), then K = 1, 2
     and 4 `hooks work URL HANDLER --drain --concurrency 16` processes start together; events/s from the first entry
     read to the last one acknowledged, read from Redis (XINFO GROUPS, XPENDING), for `noop:handler` (a `def` that
     does nothing: the worker's own cost) and `sleepy:io` (20 ms of waiting per event).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import listen_throughput
from listen_throughput import BENCH, HOOKS, LUA, ROOT, DeliveryWriter, Server, check_valid, describe_setup, ensure_wrk, run_wrk

import redis

from argilla_hooks.queue.ingest import RedisQueue
from argilla_hooks.receiver.handlers import Delivery
from argilla_hooks.trigger.samples import build_event
from tests.e2e.local_server import _die_with_parent
from tests.redis_process import RedisProcess

TARGET_P99_MS, TARGET_RATIO = 10.0, 0.6
PACE_MS = 20  # per connection: with 4 connections, at most 200 deliveries a second
GROUP = "workers"


class Args(argparse.Namespace):
    only: str | None
    duration: int
    rounds: int
    entries: int
    threads: int
    connections: int


def listen_server(key: str, label: str, secret: str, *args: str) -> Server:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARGILLA_")}
    cmd = [str(HOOKS), "listen", "--json", "--secret", secret, "--port", "{port}", "--app-dir", str(BENCH), *args]
    return Server(key, label, cmd, ROOT, env, listener=True)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def latency(wrk: str, writer: DeliveryWriter, secret: str, queue: RedisProcess, args: Args, logdir: Path) -> bool:
    args.connections = 4
    # run_wrk's script, paced (bench/paced_deliveries.lua loads it)
    os.environ.update(SIGNED_DELIVERIES_LUA=str(LUA), PACE_MS=str(PACE_MS))
    listen_throughput.LUA = BENCH / "paced_deliveries.lua"
    servers = [
        listen_server("l", "hooks listen (no handler: the floor)", secret),
        listen_server("q", "hooks listen --queue (hooks work runs it)", secret, "--queue", queue.url),
        listen_server("i", "hooks listen sleepy:second (in the request)", secret, "sleepy:second"),
    ]
    work = subprocess.Popen([str(HOOKS), "work", queue.url, "sleepy:second", "--concurrency", "64", "--app-dir", str(BENCH)],
                            stdout=subprocess.DEVNULL, stderr=(logdir / "work-latency.stderr").open("wb"), preexec_fn=_die_with_parent)  # fmt: skip
    try:
        for server in servers:
            server.start(logdir)
            run_wrk(wrk, server, writer.write(1_000), args, duration=2)  # warm-up, not counted: connections, caches
            for _ in range(3):
                server.loads.append(run_wrk(wrk, server, writer.write(250 * args.duration), args, duration=args.duration))
                check_valid(server, server.loads[-1])
            server.stop()
    finally:
        listen_throughput.LUA = LUA
        for server in servers:
            server.stop()
        work.terminate()
        work.wait(60)
    print(f"\n1. latency, wrk -t1 -c4, each connection pausing {PACE_MS} ms between requests, 3 runs of {args.duration} s "
          "(medians), a handler that waits 1 s:")
    p50 = {s.key: statistics.median(x.p50_ms for x in s.loads) for s in servers}
    p99 = {s.key: statistics.median(x.p99_ms for x in s.loads) for s in servers}
    for server in servers:
        runs = " ".join(f"{x.p99_ms:.1f}" for x in server.loads)
        rate = statistics.median(x.rate for x in server.loads)
        print(f"  ({server.key}) {server.label:44} p50 {p50[server.key]:8.1f} ms  p99 {p99[server.key]:8.1f} ms [{runs}]  {rate:5,.0f} req/s")
    ok = p99["q"] < TARGET_P99_MS and p50["i"] > 1000
    print(f"  p99 with --queue {p99['q']:.1f} ms (target < {TARGET_P99_MS:g}), in the request {p99['i']:.0f} ms (> 1000) -> {'PASS' if ok else 'FAIL'}")
    return ok


def throughput(wrk: str, writer: DeliveryWriter, secret: str, queue: RedisProcess, args: Args, logdir: Path) -> bool:
    args.connections = 32
    servers = [listen_server("l", "hooks listen (no handler)", secret), listen_server("q", "hooks listen --queue", secret, "--queue", queue.url)]
    assert queue.proc is not None
    redis_cpu: list[float] = []
    try:
        warm = []
        for server in servers:
            server.start(logdir)
            warm.append(run_wrk(wrk, server, writer.write(60_000), args, duration=2))  # warm-up, not counted
            check_valid(server, warm[-1])
        per_round = int(2.5 * max(load.rate for load in warm) * args.duration)  # no listener may see one twice
        for r in range(args.rounds):
            deliveries = writer.write(per_round)
            for server in servers[r % 2 :] + servers[: r % 2]:
                flush(queue)
                before = cpu_seconds(queue.proc.pid)
                load = run_wrk(wrk, server, deliveries, args, duration=args.duration)
                check_valid(server, load)
                if server.key == "q":
                    redis_cpu.append((cpu_seconds(queue.proc.pid) - before) / load.requests * 1e6)
                server.loads.append(load)
                print(f"  round {r + 1} ({server.key}) {load.rate:8,.0f} req/s  listener CPU {load.cpu_us:4.0f} us/req  "
                      f"p50 {load.p50_ms:5.1f} ms  p99 {load.p99_ms:5.1f} ms  steal {load.steal:4.0%}", flush=True)
            deliveries.unlink()
    finally:
        for server in servers:
            server.stop()
    return print_throughput(servers, redis_cpu, args)


def print_throughput(servers: list[Server], redis_cpu: list[float], args: Args) -> bool:
    median = {s.key: statistics.median(x.rate for x in s.loads) for s in servers}
    cpu = {s.key: statistics.median(x.cpu_us for x in s.loads) for s in servers}
    print(f"\n2. throughput, wrk -t1 -c32, {args.duration} s per run, {args.rounds} rounds, every answer 2xx:")
    for s in servers:
        runs = " ".join(f"{x.rate:,.0f}" for x in s.loads)
        print(f"  ({s.key}) {s.label:28} {median[s.key]:8,.0f} req/s  [{runs}]  listener CPU {cpu[s.key]:4.0f} us/req")
    print(f"  redis-server CPU with --queue: {statistics.median(redis_cpu):.0f} us/req")
    ratio = median["q"] / median["l"]
    ok = ratio >= TARGET_RATIO
    print(f"  (q)/(l) = {ratio:.2f} (target >= {TARGET_RATIO:g}) -> {'PASS' if ok else 'FAIL'}")
    return ok


def flush(queue: RedisProcess) -> None:
    with redis.Redis.from_url(queue.url) as client:
        client.flushall()


async def fill(url: str, count: int) -> None:
    """`count` distinct deliveries stored as `hooks listen --queue` stores them."""
    queue = RedisQueue(url)
    templates = [build_event(t) for t in ("dataset.created", "record.created", "response.created")]
    for start in range(0, count, 200):
        batch = []
        for i in range(start, min(start + 200, count)):
            body = templates[i % 3].replace(b'"data": {"id": "', b'"data": {"id": "%08d-' % i, 1)
            batch.append(queue.enqueue(body, Delivery(body, [(b"content-type", b"application/json")]), True))
        await asyncio.gather(*batch)
    await queue.aclose()


def scaling_run(queue: RedisProcess, handler: str, workers: int, entries: int, logdir: Path) -> float:
    flush(queue)
    asyncio.run(fill(queue.url, entries))
    cmd = [str(HOOKS), "work", queue.url, handler, "--drain", "--concurrency", "16", "--app-dir", str(BENCH), "--json"]
    procs = [subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=(logdir / f"work-{handler}-{workers}-{i}.stderr").open("wb"),
                              preexec_fn=_die_with_parent) for i in range(workers)]  # fmt: skip
    started = finished = None
    with redis.Redis.from_url(queue.url) as client:
        while finished is None:
            time.sleep(0.01)
            groups = client.xinfo_groups("argilla-hooks:deliveries")
            read = int(groups[0]["entries-read"] or 0) if groups else 0
            if started is None and read > 0:
                started = time.monotonic()
            if read >= entries and client.xpending("argilla-hooks:deliveries", GROUP)["pending"] == 0:
                finished = time.monotonic()
            if all(p.poll() is not None for p in procs) and finished is None:
                raise SystemExit(f"workers exited before the {entries} entries were handled; see {logdir}")
    for proc in procs:
        if proc.wait(60) != 0:
            raise SystemExit(f"a worker exited {proc.returncode}; see {logdir}")
    assert started is not None
    return entries / (finished - started)


def scaling(queue: RedisProcess, args: Args, logdir: Path) -> None:
    print(f"\n3. scaling: {args.entries:,} stored entries, `hooks work --drain --concurrency 16` x K, events/s from first read to last ack:")
    print(f"  {'handler':24} {'K=1':>8} {'K=2':>8} {'K=4':>8}   (x K=1)")
    for handler, entries in (("noop:handler", args.entries), ("sleepy:io", args.entries // 4)):
        rates = [scaling_run(queue, handler, k, entries, logdir) for k in (1, 2, 4)]
        gains = ", ".join(f"{r / rates[0]:.2f}" for r in rates[1:])
        print(f"  {handler:24} {rates[0]:8,.0f} {rates[1]:8,.0f} {rates[2]:8,.0f}   ({gains})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=6, help="seconds per wrk run [6]")
    parser.add_argument("--rounds", type=int, default=5, help="throughput rounds of (l) and (q) [5]")
    parser.add_argument("--only", choices=["latency", "throughput", "scaling"], help="run one part only")
    parser.add_argument("--entries", type=int, default=20_000, help="entries drained per scaling run with noop:handler (a quarter with sleepy:io) [20000]")
    args = parser.parse_args(namespace=Args())
    args.threads = 1
    started = time.monotonic()
    wrk = ensure_wrk()
    secret = base64.b64encode(os.urandom(64)).decode()
    logdir = Path(tempfile.mkdtemp(prefix="bench-queue-"))
    writer = DeliveryWriter(secret, logdir)
    print(describe_setup(wrk, logdir) + f"; redis-py {redis.__version__}", flush=True)
    extra = ("--appendfsync", "everysec", "--maxmemory-policy", "noeviction")
    with RedisProcess(logdir / "redis", persistent=True, extra=extra) as queue:
        version = redis.Redis.from_url(queue.url).info()["redis_version"]
        print(f"redis-server {version} on {queue.url}: appendonly yes, appendfsync everysec", flush=True)
        results = []
        if args.only in (None, "latency"):
            results.append(latency(wrk, writer, secret, queue, args, logdir))
        if args.only in (None, "throughput"):
            results.append(throughput(wrk, writer, secret, queue, args, logdir))
        if args.only in (None, "scaling"):
            scaling(queue, args, logdir)
    for path in logdir.glob("*.tsv"):
        path.unlink()
    print(f"\n{'PASS' if all(results) else 'FAIL'} (took {time.monotonic() - started:.0f} s; logs in {logdir})")
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
