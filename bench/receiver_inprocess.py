"""CPU per request of the receiver against bench/hmac_asgi.py's app, driven in-process: no sockets, no uvicorn.

    .venv/bin/python bench/receiver_inprocess.py [--requests N] [--concurrency C] [--rounds R]

A quick guide while changing the receiver; bench/listen_throughput.py measures the real thing end to end. Each app is
called as an ASGI server calls it, C requests at a time on one event loop (uvloop when installed, as `hooks listen`
uses), with distinct, freshly signed Argilla bodies of all 11 event types (argilla_hooks.trigger.samples), the whole
body in one `http.request` message; every answer must be 204. Apps alternate over the rounds; medians of process CPU
time per request (handler threads included):

  (a)  bench/bare_asgi.py: reads the body and answers 204;
  (c)  bench/hmac_asgi.py: HMAC check + json.loads, the raw verify-and-parse app;
  (d)  create_app(handlers=[def noop], on_report=<to_json_line()>), what `hooks listen noop:handler --json` runs;
  (d') the same with `async def noop`;
  (e)  create_app() with no handler and no report: the floor under (d).

"c/d" is (c)'s CPU per request over (d)'s: the throughput (d) would have relative to (c) if the app were all there
is. A server adds the same cost to both (uvicorn's share is some 25-30 us a request), so end to end the ratio is
closer to 1 than here.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import importlib.util
import itertools
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Callable

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

from argilla_hooks import create_app  # noqa: E402
from argilla_hooks.events import SUBSCRIBABLE  # noqa: E402
from argilla_hooks.trigger.delivery import sign  # noqa: E402
from argilla_hooks.trigger.samples import build_event  # noqa: E402

SECRET = base64.b64encode(os.urandom(64)).decode()
os.environ["BENCH_SECRET"] = SECRET  # read by hmac_asgi at import
TEMPLATES_PER_TYPE = 4
_stamps = itertools.count()


def bench_app(name: str) -> Callable[..., Any]:
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.app


def noop() -> None:
    pass


async def async_noop() -> None:
    pass


def json_lines(report: Any) -> None:
    report.to_json_line()  # what `hooks listen --json` prints for each delivery


def requests(templates: list[tuple[bytes, bytes]], count: int) -> list[tuple[dict, bytes]]:
    """`count` (scope, body) pairs, each a distinct event (a new data.id) signed now."""
    made = []
    for i in range(count):
        body, old_id = templates[i % len(templates)]
        if old_id.endswith(b"Z"):  # a ping, keyed on its timestamp: a new one
            seconds, micros = divmod(next(_stamps), 1_000_000)
            new_id = b"2026-11-27T%02d:%02d:%02d.%06dZ" % (seconds // 3600 % 24, seconds // 60 % 60, seconds % 60, micros)
        else:
            new_id = str(uuid.uuid4()).encode()
        body = body.replace(old_id, new_id)
        headers = [(k.encode(), v.encode()) for k, v in sign(SECRET, None, None, body).items()]
        headers.append((b"content-length", b"%d" % len(body)))
        made.append(({"type": "http", "method": "POST", "path": "/", "root_path": "", "headers": headers}, body))
    return made


async def drive(app: Callable[..., Any], batch: list[tuple[dict, bytes]], concurrency: int) -> float:
    """Process CPU seconds to serve the batch, `concurrency` requests at a time."""
    pending = iter(batch)
    statuses: list[int] = []

    async def client() -> None:
        for scope, body in pending:
            async def receive(body: bytes = body) -> dict:
                return {"type": "http.request", "body": body, "more_body": False}

            async def send(message: dict) -> None:
                if message["type"] == "http.response.start":
                    statuses.append(message["status"])

            await asyncio.create_task(app(scope, receive, send))  # a task per request, as uvicorn runs them

    started = time.process_time()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    used = time.process_time() - started
    assert statuses == [204] * len(batch), sorted(set(statuses))
    return used


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20_000, help="per app per round")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    templates = []
    for event_type in (*SUBSCRIBABLE, "ping"):
        for _ in range(TEMPLATES_PER_TYPE):
            body = build_event(event_type)
            event = json.loads(body)
            templates.append((body, event["data"].get("id", event["timestamp"]).encode()))
    apps: dict[str, Callable[[], Callable[..., Any]]] = {
        "(a) bare": lambda: bench_app("bare_asgi"),
        "(c) hmac+json.loads": lambda: bench_app("hmac_asgi"),
        # body_timeout=None as `hooks listen` runs it: its HTTP protocol bounds the time a request takes to arrive.
        "(d) def handler + JSON line": lambda: create_app(handlers=[noop], secrets=[SECRET], on_report=json_lines, body_timeout=None),
        "(d') async handler + JSON line": lambda: create_app(handlers=[async_noop], secrets=[SECRET], on_report=json_lines, body_timeout=None),
        "(e) no handler, no output": lambda: create_app(secrets=[SECRET], body_timeout=None),
    }
    try:
        import uvloop

        loop_factory: Any = uvloop.new_event_loop
    except ImportError:
        loop_factory = asyncio.new_event_loop
    cpu: dict[str, list[float]] = {name: [] for name in apps}
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        for round_ in range(args.rounds + 1):  # the first round warms up (threads, caches) and is not counted
            names = list(apps)
            names = names[round_ % len(names):] + names[: round_ % len(names)]
            for name in names:
                batch = requests(templates, args.requests)  # fresh: no app sees an event twice, all within tolerance
                used = runner.run(drive(apps[name](), batch, args.concurrency))
                if round_:
                    cpu[name].append(used / args.requests * 1e6)
    median = {name: statistics.median(values) for name, values in cpu.items()}
    print(f"{args.requests} requests x {args.rounds} rounds, concurrency {args.concurrency}, "
          f"{loop_factory.__module__}, Python {sys.version.split()[0]}")
    for name, value in median.items():
        spread = f"{min(cpu[name]):.1f}-{max(cpu[name]):.1f}"
        print(f"  {name:34} {value:6.1f} us CPU/request  [{spread}]")
    c = median["(c) hmac+json.loads"]
    for name in ("(d) def handler + JSON line", "(d') async handler + JSON line"):
        print(f"  c/{name.split()[0].strip('()')}: {c / median[name]:.2f}  (target >= 0.9)")


if __name__ == "__main__":
    main()
