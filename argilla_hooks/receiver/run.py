"""Handlers run on one delivery without a server: in tests (`call_handler`, which `hooks deliveries export --as
pytest` writes), and by `hooks deliveries replay --run` (`run_handlers`)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from typing import Any, Callable, Optional

import anyio
import httpx

from argilla_hooks.receiver.app import HandlerSpec, create_app
from argilla_hooks.receiver.dedup import REPLAY_PREFIX
from argilla_hooks.receiver.handlers import Delivery, Handler
from argilla_hooks.receiver.report import DeliveryReport
from argilla_hooks.receiver.sdk import handler_for

# Headers of the original delivery that a re-run leaves out: they describe its transport or its signature.
_NOT_PASSED = frozenset({"host", "content-length", "transfer-encoding", "connection", "webhook-signature"})


def call_handler(fn: Callable[..., Any], body: bytes, headers: Optional[Mapping[str, str]] = None) -> None:
    """Call `fn` on the delivery `body` as `hooks listen` would (arguments injected by name, a `def` in a worker
    thread, the SDK's objects for parameters annotated with its types); raises what it raises. ValueError when `body`
    is not an event or `fn`'s @on events leave its type out; HandlerLoadError for an `@rg.webhook_listener`, which
    only `hooks listen` runs."""
    handler = fn if isinstance(fn, Handler) else handler_for(fn)
    delivery = Delivery(body, [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in (headers or {}).items()])
    if not handler.wants(delivery.type):
        raise ValueError(f"handler {handler.name} does not take {delivery.type} events (see its @on)")
    anyio.run(handler, delivery)


async def run_handlers(handlers: Sequence[HandlerSpec], body: bytes, headers: Mapping[str, str], app_dir: Optional[str] = ".") -> DeliveryReport:
    """What the receiver does with this delivery (a replay: handlers run whatever ran before), without verifying it
    or serving it: the report says how each handler did. HandlerLoadError for a handler that cannot be loaded."""
    reports: list[DeliveryReport] = []
    app = create_app(handlers=handlers, verify=False, on_report=reports.append, app_dir=app_dir, body_timeout=None)
    kept = {name: value for name, value in headers.items() if name.lower() not in _NOT_PASSED}
    kept["webhook-id"] = f"{REPLAY_PREFIX.decode()}{secrets.token_urlsafe(12)}"
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://replay") as client:
        await client.post("/", content=body, headers=kept)
    await app.aclose()
    return reports[0]
