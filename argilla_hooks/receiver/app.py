"""The receiver: a plain ASGI app that verifies Argilla deliveries, then runs handlers and forwards each event once.

No web framework: any ASGI server (uvicorn, hypercorn, several workers or replicas) can serve `create_app(...)`.
Answers: 204 (no body) once every handler and forward succeeded, 200 for an event already handled, 401 signature, 400
not an event, 413 too large, 408 a body not complete in time, 404/405 wrong path/method, 500 a handler raised, 502 a
forward failed, 503 past `max_events` or the body budget, 508 a delivery this receiver forwarded that came back to it;
`GET`/`HEAD /healthz` -> 200. A request refused before its body was read in full is answered `connection: close`, so
that the server drops the connection instead of reading the rest.
"""

from __future__ import annotations

import logging
import math
import secrets
import time
from collections.abc import Iterable, MutableMapping
from typing import Any, Callable, Optional, Union

import anyio
import httpx

from argilla_hooks.events import ALL_EVENTS
from argilla_hooks.receiver.asgi import DUPLICATE as _DUPLICATE, HEALTHY as _HEALTHY, Send
from argilla_hooks.receiver.asgi import error_body as _error_body, is_cancellation as _is_cancellation, respond as _respond
from argilla_hooks.receiver.arguments import DEFAULT_BODY_BUDGET, DEFAULT_MAX_BODY, check_forward_url, check_limits, check_path
from argilla_hooks.receiver.asgi import path_below
from argilla_hooks.receiver.dedup import DEFAULT_CAPACITY, DeliveryLog, is_replay
from argilla_hooks.receiver.explain import Explainer, OtherSecrets
from argilla_hooks.receiver.forward import HOPS_HEADER, Forwarder, forwarded_headers
from argilla_hooks.receiver.handlers import Delivery, Handler, NotAnEvent, decode_headers
from argilla_hooks.receiver.intake import BodyBudget, Disconnected, Receive, Rejected, read_verified
from argilla_hooks.receiver.journal import Journal, PathLike
from argilla_hooks.receiver.loader import load_handler
from argilla_hooks.receiver.queueing import DeliveryQueue, QueueStep
from argilla_hooks.receiver.report import (
    DeliveryReport, ForwardResult, HandlerResult, Reporter, describe_error, elapsed_ms, guarded,
)
from argilla_hooks.receiver.sdk import handler_for
from argilla_hooks.receiver.verify import DEFAULT_TOLERANCE, Verifier

Scope = MutableMapping[str, Any]
HandlerSpec = Union[str, Callable[..., Any], Handler]

# From its first read, a body must be complete within this (Argilla sends its bodies at once): a client that trickles
# or stalls is answered 408 instead of holding its delivery open, and a shutdown waiting for it, for ever.
BODY_TIMEOUT = 10.0
HEALTH_PATH = "/healthz"

logger = logging.getLogger("argilla_hooks.receiver")



def create_app(
    handlers: Iterable[HandlerSpec] = (),
    secrets: Iterable[str] = (),
    verify: bool = True,
    path: str = "/",
    tolerance: int = DEFAULT_TOLERANCE,
    max_body: int = DEFAULT_MAX_BODY,
    forward_to: Iterable[str] = (),
    on_report: Optional[Reporter] = None,
    *,
    app_dir: Optional[str] = ".",
    forward_transport: Optional[httpx.AsyncBaseTransport] = None,
    dedup_capacity: int = DEFAULT_CAPACITY,
    max_events: Optional[int] = None,
    body_budget: Optional[int] = None,
    body_timeout: Optional[float] = BODY_TIMEOUT,
    queue: Optional[DeliveryQueue] = None,
    journal: Union[None, PathLike, Journal] = None,
    other_secrets: Optional[OtherSecrets] = None,
) -> ReceiverApp:
    """The receiver ASGI app. `handlers` are callables or `module:function` strings (imported from `app_dir`, and
    named in reports as written); `handlers`, `secrets` and `forward_to` also take a single string.

    `max_events`: handle at most this many events (those but pings that reach a handler or forward target, or every
    event but pings when there are none); once they are handled or running, later new events are answered 503.
    `body_timeout`: seconds a body may take to arrive once it began, else 408; None when the server bounds the time a
    request takes (`hooks listen` does: a timer per request costs a tenth of a delivery's time).
    `journal`: a SQLite file (or a Journal) recording each request before it is answered (journal.py);
    `other_secrets()`: {label: secret} of other webhooks, to name the one that signed a 401 (explain.py).

    Memory: `max_body` bounds one body (413), `body_budget` (64 MiB, or `max_body` if larger) the bodies being read and
    verified together, however many clients send at once (503 past it, Argilla retries). Headers that condemn a
    delivery are refused before its body is read; the server buffers a little of each unread body (uvicorn: about
    64 KiB a connection), and verified deliveries hold their body and parsed event until they are answered.
    `queue` (argilla_hooks.queue.RedisQueue): store each new event there, answer 202; workers run the handlers.
    Raises HandlerLoadError for a handler that cannot be loaded, ValueError for a bad secret, URL or setting.
    """
    # One string is one item: iterated, "module:fn" would be eleven handlers named by a letter each.
    handlers, secrets, forward_to = (_listed(handlers), _listed(secrets), _listed(forward_to))
    body_budget = check_limits(max_body, body_budget, max_events, tolerance, dedup_capacity)
    check_path(path)
    verifier = Verifier(list(secrets), tolerance) if verify else None
    return ReceiverApp(
        [_handler(h, app_dir) for h in handlers],
        verifier,
        path=path,
        max_body=max_body,
        body_budget=body_budget,
        forward_to=[check_forward_url(url) for url in dict.fromkeys(forward_to)],
        on_report=None if on_report is None else guarded(on_report),
        forwarder=Forwarder(forward_transport),
        log=DeliveryLog(dedup_capacity),
        max_events=max_events,
        body_timeout=body_timeout,
        queue=queue,
        journal=journal if journal is None or isinstance(journal, Journal) else Journal(journal),
        explainer=None if verifier is None else Explainer(verifier, other_secrets),
    )


class ReceiverApp(QueueStep):
    """The ASGI callable; see `create_app`. `aclose()` (or ASGI lifespan shutdown) closes the forwarding client."""

    def __init__(
        self,
        handlers: list[Handler],
        verifier: Optional[Verifier],
        *,
        path: str,
        max_body: int,
        forward_to: list[str],
        on_report: Optional[Reporter],
        forwarder: Forwarder,
        log: DeliveryLog,
        max_events: Optional[int] = None,
        body_budget: int = DEFAULT_BODY_BUDGET,
        body_timeout: Optional[float] = BODY_TIMEOUT,
        queue: Optional[DeliveryQueue] = None,
        journal: Optional[Journal] = None,
        explainer: Optional[Explainer] = None,
    ) -> None:
        if queue is not None and (handlers or forward_to):
            raise ValueError("with a queue, handlers run in the workers (`hooks work`): give no handlers or forward_to")
        self.handlers = handlers
        self.queue = queue
        self.journal, self.explainer = journal, explainer
        self.verifier = verifier
        self.forward_to = forward_to
        self.on_report = on_report
        self.max_body = max_body
        self._budget = BodyBudget(body_budget)
        self.body_timeout = body_timeout
        self.log = log
        self._forwarder = forwarder
        self._hop = secrets.token_hex(8).encode()  # this receiver's token in forwarded deliveries (see HOPS_HEADER)
        root = "/" + path.strip("/")
        # Argilla normalizes a bare host URL to end in "/", so accept the path with and without it.
        self.paths = frozenset({root, root.rstrip("/") + "/"})
        self._by_type: dict[str, list[tuple[int, Handler]]] = {}
        # Events that may still start (inf: no limit). Taken when one starts, given back when it fails, so that
        # exactly `max_events` succeed however many arrive at once.
        self._slots: float = math.inf if max_events is None else max_events

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)
        elif kind == "websocket":
            await receive()
            await send({"type": "websocket.close", "code": 1008})

    async def aclose(self) -> None:
        await self._forwarder.aclose()
        if self.queue is not None:
            await self.queue.aclose()
        if self.journal is not None:
            await self.journal.aclose()

    def replace_handlers(self, handlers: list[Handler]) -> None:
        """Run these from the next delivery on (`hooks listen --reload`); deliveries in flight finish with the old."""
        self.handlers, self._by_type = handlers, {}

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw_headers: list[tuple[bytes, bytes]] = scope["headers"]
        try:
            if self._is_health_check(scope):
                await _respond(send, 200, _HEALTHY)  # (the server drops the body of a HEAD answer)
                return
            headers = dict(raw_headers)  # a repeated header counts once, with its last value
            body = await read_verified(receive, headers, self.verifier, self.max_body, self.body_timeout, self._budget)
            if self.forward_to and HOPS_HEADER in headers and self._hop in headers[HOPS_HEADER].split():
                raise Rejected(508, "this delivery came back through a --forward-to loop; it was not handled again", body=body)
            try:
                delivery = Delivery(body, raw_headers)
            except NotAnEvent as exc:
                raise Rejected(400, str(exc), body=body) from None
            await self._deliver(send, headers.get(b"webhook-id"), body, delivery)
        except Rejected as rejected:
            await _respond(send, rejected.status, _error_body(rejected.reason), rejected.allow, rejected.close)
            if self.on_report is not None or self.journal is not None:
                await self._refused(rejected, decode_headers(raw_headers))
        except Disconnected:
            pass

    async def _refused(self, rejected: Rejected, headers: dict[str, str]) -> None:
        """Journal and report a refused request; a 401 with its cause explained (which runs no code of the user's)."""
        reason, cause = rejected.reason, rejected.cause
        if rejected.status == 401 and self.explainer is not None:
            explained = await self.explainer.explain(reason, cause, headers, rejected.body)
            reason, cause = explained.reason, explained.cause
        report = DeliveryReport("rejected", rejected.status, headers.get("webhook-id"), headers=headers, reason=reason, cause=cause)
        if self.journal is not None:
            await self.journal.record(report, rejected.body)
        if self.on_report is not None:
            self.on_report(report)

    def _is_health_check(self, scope: Scope) -> bool:
        """True for a health check, False for a delivery (a POST to the path); Rejected (404, 405) for anything else."""
        path, method, root_path = scope["path"], scope["method"], scope.get("root_path", "")
        if root_path:
            path = path_below(root_path, path)
        if path in self.paths:
            if method == "POST":
                return False
            raise Rejected(405, f"{method} is not allowed: deliveries are POSTed", allow=b"POST")
        if path == HEALTH_PATH:
            if method in ("GET", "HEAD"):  # load balancers probe both
                return True
            raise Rejected(405, f"{method} is not allowed: {HEALTH_PATH} answers GET", allow=b"GET, HEAD")
        raise Rejected(404, f"nothing here: deliveries go to {root_path.rstrip('/')}{min(self.paths)}")  # as sent to

    async def _deliver(self, send: Send, msg_id: Optional[bytes], body: bytes, delivery: Delivery) -> None:
        """Run the handlers and forwards not yet successful for this event (once, however many copies arrive at once),
        then answer and report."""
        if self.queue is not None:  # workers run the handlers: store it (see queueing.py)
            return await self._store(send, msg_id, body, delivery)
        wanted = self._handlers_for(delivery.type)
        key = delivery.key
        replay = is_replay(msg_id)
        done = await self.log.begin(key, again=replay)
        if done is None:
            report = self._report(200, msg_id, delivery, [], [], reason="already handled", duplicate=True)
            await self._answer(send, 200, _DUPLICATE, report, body)
            return
        # An event that runs nothing is not one handled, nor is a ping (a test, e.g. `hooks listen`'s own at start).
        counted = delivery.type != "ping" and bool(wanted or self.forward_to or not self.handlers)
        if counted:
            if self._slots <= 0:
                self.log.end(key, done, False)
                raise Rejected(503, "this receiver has handled all the events it was asked to", body=body)
            self._slots -= 1
        succeeded = set(done)
        handler_results: list[HandlerResult] = []
        forward_results: list[ForwardResult] = []
        handlers_ok = forwards_ok = False
        try:
            handlers_ok = not wanted or await self._run_handlers(wanted, delivery, succeeded, handler_results)
            forwards_ok = not self.forward_to or await self._run_forwards(body, delivery.raw_headers, succeeded, forward_results)
        finally:
            self.log.end(key, frozenset(succeeded), handlers_ok and forwards_ok)
            if counted and not (handlers_ok and forwards_ok):
                self._slots += 1
        if not handlers_ok:
            status, answer = 500, _error_body("a handler failed")
        elif not forwards_ok:
            status, answer = 502, _error_body("a forward target failed")
        else:
            status, answer = 204, b""
        await self._answer(send, status, answer, self._report(status, msg_id, delivery, handler_results, forward_results, replay=replay), body)

    async def _answer(self, send: Send, status: int, answer: bytes, report: Optional[DeliveryReport], body: bytes) -> None:
        """Journal the delivery (committed before the answer goes), answer it, then report it."""
        if report is not None and self.journal is not None:
            await self.journal.record(report, body)
        await _respond(send, status, answer)
        if report is not None and self.on_report is not None:
            self.on_report(report)

    def _handlers_for(self, event_type: str) -> list[tuple[int, Handler]]:
        """The (index, handler) pairs that want this event type."""
        wanted = self._by_type.get(event_type)
        if wanted is None:
            wanted = [(i, h) for i, h in enumerate(self.handlers) if h.wants(event_type)]
            if event_type in ALL_EVENTS:  # an unknown type is not cached, so a sender cannot grow the cache
                self._by_type[event_type] = wanted
        return wanted

    async def _run_handlers(
        self, wanted: list[tuple[int, Handler]], delivery: Delivery, succeeded: set[int], results: list[HandlerResult]
    ) -> bool:
        """Run the wanted handlers not yet successful for this event, in order; a failure does not stop the rest."""
        ok = True
        for index, handler in wanted:
            if index in succeeded:
                continue
            started = time.perf_counter()
            try:
                await handler(delivery)
            except BaseException as exc:  # sys.exit() or any BaseException fails that delivery only, bar a real cancel
                if _is_cancellation(exc):
                    raise
                ok = False
                results.append(HandlerResult(handler.name, False, elapsed_ms(started), describe_error(exc), exc))
                if self.on_report is None:
                    logger.error("handler %s failed on %s", handler.name, delivery.type, exc_info=exc)
            else:
                results.append(HandlerResult(handler.name, True, elapsed_ms(started)))
                succeeded.add(index)
        return ok

    async def _run_forwards(
        self, body: bytes, raw_headers: list[tuple[bytes, bytes]], succeeded: set[int], results: list[ForwardResult]
    ) -> bool:
        """Send the delivery to every forward target not yet successful for this event, all at once."""
        offset = len(self.handlers)
        pending = [(offset + i, url) for i, url in enumerate(self.forward_to) if offset + i not in succeeded]
        if not pending:
            return True
        headers = forwarded_headers(raw_headers, self._hop)

        async def forward(step: int, url: str) -> None:
            result = await self._forwarder.send(url, body, headers)
            results.append(result)
            if result.ok:
                succeeded.add(step)
            elif self.on_report is None:
                logger.warning("forward to %s failed: %s", url, result.error)

        async with anyio.create_task_group() as group:
            for step, url in pending:
                group.start_soon(forward, step, url)
        results.sort(key=lambda r: self.forward_to.index(r.url))
        return all(r.ok for r in results)

    def _report(
        self,
        status: int,
        msg_id: Optional[bytes],
        delivery: Delivery,
        handlers: list[HandlerResult],
        forwards: list[ForwardResult],
        **extra: Any,
    ) -> Optional[DeliveryReport]:
        if self.on_report is None and self.journal is None:
            return None  # (a receiver that neither reports nor journals does not build one)
        return DeliveryReport(
            kind="event",
            status=status,
            webhook_id=None if msg_id is None else msg_id.decode("latin-1"),
            type=delivery.type,
            timestamp=delivery.timestamp,
            verified=self.verifier is not None,
            handlers=handlers,
            forwards=forwards,
            delivery=delivery,
            **extra,
        )


def _listed(value: Union[str, Iterable[Any]]) -> list[Any]:
    return [value] if isinstance(value, str) else list(value)


def _handler(spec: HandlerSpec, app_dir: Optional[str]) -> Handler:
    if isinstance(spec, Handler):  # already loaded and checked (`hooks listen` does, to name it as typed)
        return spec
    if isinstance(spec, str):  # (a handler that takes the Argilla SDK's objects gets them: receiver/sdk.py)
        return handler_for(load_handler(spec, app_dir), spec)
    return handler_for(spec)
