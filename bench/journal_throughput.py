"""What the delivery journal costs `hooks listen`: verified deliveries per second with and without it, in one run.

    .venv/bin/python bench/journal_throughput.py [--rounds R] [--duration S] [--connections C] [--keep N]

Three servers on loopback, all on uvicorn with httptools and uvloop, the same load generator and deliveries as
bench/listen_throughput.py (whose machinery this reuses: fresh, distinct, signed Argilla-shaped bodies of all 11
event types; every answer must be 2xx, none "already handled"):

  (c)  bench/hmac_asgi.py: HMAC check and json.loads only, for reference;
  (d)  `hooks listen noop:handler --json --no-journal`;
  (j)  `hooks listen noop:handler --json --journal FILE`: the default, every delivery committed to SQLite (WAL,
       synchronous=NORMAL) before its answer, pruned to --keep (10,000, the default) as it goes.

Servers alternate over the rounds (order rotated each round); medians. Target (issue 15): j/d >= 0.8. Afterwards
the journal must hold min(--keep, deliveries answered) rows, the newest of them the last delivery answered, and its
file must stay bounded (checked and printed).
"""

from __future__ import annotations

import argparse
import base64
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

from listen_throughput import (  # also puts the project root on sys.path
    BENCH, HOOKS, ROOT, UVICORN_FLAGS, DeliveryWriter, Server, check_listen_stack, check_valid, describe_setup, ensure_wrk,
    measure, run_wrk,
)

TARGET = 0.8


def servers(secret: str, journal: Path, keep: int) -> list[Server]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARGILLA_", "WEB_CONCURRENCY"))}
    env |= {"BENCH_SECRET": secret, "PYTHONUNBUFFERED": "1"}
    ours = [sys.executable, "-m", "uvicorn", "--host", "127.0.0.1", "--port", "{port}", *UVICORN_FLAGS]
    listen = [str(HOOKS), "listen", "noop:handler", "--json", "--secret", secret, "--port", "{port}", "--app-dir", str(BENCH)]
    return [
        Server("c", "raw ASGI: HMAC + json.loads", [*ours, "hmac_asgi:app"], BENCH, env),
        Server("d", "hooks listen --no-journal", [*listen, "--no-journal"], ROOT, env, listener=True),
        Server("j", "hooks listen, journal (default)", [*listen, "--journal", str(journal), "--journal-keep", str(keep)], ROOT, env,
               listener=True),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="rounds of c, d, j [7]")
    parser.add_argument("--duration", type=int, default=6, help="whole seconds per wrk run [6]")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections [32]")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads [1]")
    parser.add_argument("--keep", type=int, default=10_000, help="--journal-keep of (j) [10000]")
    parser.add_argument("--requests", type=int, default=None, help="distinct deliveries per round [from the warm-up]")
    parser.add_argument("--max-steal", type=float, default=0.10, help="a run with more CPU stolen than this is run again")
    parser.add_argument("--retries", type=int, default=2, help="runs again at most this many times [2]")
    parser.add_argument("--stdout", default="null", help=argparse.SUPPRESS)  # (what listen_throughput's measure reads)
    args = parser.parse_args()

    started = time.monotonic()
    wrk = ensure_wrk()
    secret = base64.b64encode(os.urandom(64)).decode()
    workdir = Path(tempfile.mkdtemp(prefix="bench-journal-"))
    journal = workdir / "journal.sqlite3"
    writer = DeliveryWriter(secret, workdir)
    print(describe_setup(wrk, workdir), flush=True)
    chosen = servers(secret, journal, args.keep)
    try:
        run(chosen, wrk, writer, args)
        answered = sum(load.answered for load in chosen[2].loads)
        passed = report(chosen, args) & check_journal(journal, args.keep, answered)
    finally:
        for path in workdir.glob("*.tsv"):
            path.unlink()
    shutil.rmtree(workdir, ignore_errors=True)
    print(f"\n{'PASS' if passed else 'FAIL'} (took {time.monotonic() - started:.0f} s)")
    sys.exit(0 if passed else 1)


def run(chosen: list[Server], wrk: str, writer: DeliveryWriter, args: argparse.Namespace) -> None:
    try:
        for server in chosen:
            server.start(writer.workdir)
        print(check_listen_stack(chosen[1]), flush=True)
        warm, deliveries = {}, writer.write(60_000)
        for server in chosen:
            warm[server.key] = run_wrk(wrk, server, deliveries, args, duration=2)
            check_valid(server, warm[server.key])
        deliveries.unlink()
        per_round = args.requests or max(20_000, int(2 * max(warm["d"].rate, warm["j"].rate) * args.duration))
        print("warm-up req/s: " + ", ".join(f"({k}) {v.rate:,.0f}" for k, v in warm.items()) + f"; {per_round:,} deliveries per round")
        for r in range(args.rounds):
            deliveries = writer.write(per_round)
            for server in chosen[r % len(chosen) :] + chosen[: r % len(chosen)]:
                load = measure(server, deliveries, per_round, wrk, writer, args)
                server.loads.append(load)
                print(f"  round {r + 1} ({server.key}) {load.rate:8,.0f} req/s  CPU {load.cpu_us:4.0f} us/req ({load.cpu_share:4.0%} busy)  "
                      f"p50 {load.p50_ms:5.1f} ms  p99 {load.p99_ms:5.1f} ms  steal {load.steal:4.0%}{'  NOISY' if load.noisy else ''}", flush=True)
            deliveries.unlink()
    finally:
        for server in chosen:
            server.stop()


def report(chosen: list[Server], args: argparse.Namespace) -> bool:
    by_key = {s.key: s for s in chosen}
    median = {s.key: statistics.median(x.rate for x in s.loads) for s in chosen}
    cpu = {s.key: statistics.median(x.cpu_us for x in s.loads) for s in chosen}
    print(f"\nthroughput: wrk -t{args.threads} -c{args.connections}, {args.duration} s per run, {args.rounds} rounds, medians")
    for s in chosen:
        p50, p99 = statistics.median(x.p50_ms for x in s.loads), statistics.median(x.p99_ms for x in s.loads)
        runs = " ".join(f"{x.rate:,.0f}{'*' if x.noisy else ''}" for x in s.loads)
        print(f"({s.key}) {s.label:34} {median[s.key]:8,.0f} req/s  CPU {cpu[s.key]:4.0f} us/req  p50 {p50:5.1f} ms  p99 {p99:5.1f} ms  [{runs}]")
    ratio = median["j"] / median["d"]
    rounds = statistics.median(j.rate / d.rate for j, d in zip(by_key["j"].loads, by_key["d"].loads))
    print(f"j/d = {ratio:.2f} (target >= {TARGET}) -> {'PASS' if ratio >= TARGET else 'FAIL'}   [median of per-round ratios: {rounds:.2f}; "
          f"by CPU time per request: {cpu['d'] / cpu['j']:.2f}]")
    print(f"d/c = {median['d'] / median['c']:.2f}, j/c = {median['j'] / median['c']:.2f}  (reference: the least a verifying receiver does)")
    return ratio >= TARGET


def check_journal(journal: Path, keep: int, answered: int) -> bool:
    """The journal holds the newest `keep` deliveries and stays bounded on disk."""
    with sqlite3.connect(journal) as db:
        rows = db.execute("SELECT count(*) FROM deliveries").fetchone()[0]
        refused = db.execute("SELECT count(*) FROM deliveries WHERE verdict != 'handled'").fetchone()[0]
    size = sum(p.stat().st_size for p in journal.parent.glob(journal.name + "*")) / 2**20
    ok = rows == min(keep, rows) and rows >= min(keep, answered) and refused == 0
    print(f"journal: {rows:,} rows kept (--journal-keep {keep:,}) of {answered:,} journaled in the counted runs, {refused} not "
          f"handled; {size:.1f} MiB on disk with its WAL -> {'OK' if ok else 'WRONG'}")
    return ok


if __name__ == "__main__":
    main()
