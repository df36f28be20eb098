"""The embedded uvicorn of `hooks listen`: serving the receiver, uvicorn's Server told when it is ready and how to stop,
and an httptools protocol that bounds what uvicorn leaves unbounded (request head size, request time)."""

from __future__ import annotations

import contextlib
import functools
import signal
import socket
from typing import TYPE_CHECKING, Any, Callable, Iterator, Optional

from argilla_hooks import settings
from argilla_hooks.cli import output
from argilla_hooks.cli.listen import signals
from argilla_hooks.cli.errors import UsageProblem

if TYPE_CHECKING:
    import logging

    from argilla_hooks.cli.listen.output import ListenInfo, Printer


def serve(
    sock: socket.socket, handlers: list, secrets: list[str], info: ListenInfo, printer: Printer, *,
    verify: bool, tolerance: int, limit: int,
) -> tuple[int, int]:
    """Run uvicorn on the bound socket until Ctrl-C, SIGTERM, --exit-after or a closed stdout; return the number of
    handled events and of deliveries cut short (a second Ctrl-C, or still running after the grace period)."""
    import uvicorn

    from argilla_hooks.receiver import create_app
    from argilla_hooks.receiver.report import DeliveryReport

    handled = 0
    server = None

    def on_report(report) -> None:
        nonlocal handled
        printer.delivery(report)
        # Handled: answered 2xx, new, and run by a handler or forward (with no target, the printer takes every event).
        if report.kind == "event" and report.ok and not report.duplicate and (report.handlers or report.forwards or not handlers):
            handled += 1
            if info.exit_after and handled >= info.exit_after and server is not None:
                server.should_exit = True

    try:
        app = create_app(
            handlers=handlers,  # loaded and named as typed by listen
            secrets=secrets,
            verify=verify,
            path=info.path,
            tolerance=tolerance,
            max_body=limit,
            forward_to=info.forward_to,
            on_report=on_report,
            max_events=info.exit_after,  # exactly N, however many arrive before the server stops accepting
        )
    except ValueError as exc:
        raise UsageProblem(str(exc)) from None
    config = uvicorn.Config(
        app,
        http=http_protocol(on_refused=lambda status, reason: on_report(DeliveryReport("rejected", status, reason=reason))),
        lifespan="on",
        log_level="warning",
        access_log=False,
        server_header=False,
        proxy_headers=False,  # the receiver never reads the client address or scheme
        timeout_graceful_shutdown=30,  # Argilla waits 20 s for an answer; let in-flight deliveries finish
    )
    if not settings.debug_enabled():
        import logging

        logging.getLogger("uvicorn.error").addFilter(no_cancellation_noise)
    def on_ready() -> None:
        printer.ready(info)
        printer.watch_reader()

    server = server_class()(config, on_ready=on_ready)
    printer.on_closed = server.stop
    server.run(sockets=[sock])
    return handled, server.cut_short


MAX_REQUEST_HEAD = 64 * 1024  # request line and headers; Argilla's take well under 1 KiB


def http_protocol(on_refused: Optional[Callable[[int, str], None]] = None) -> Any:
    """uvicorn's httptools protocol (httptools is a dependency) with what uvicorn leaves unbounded there: the size of
    a request head (one connection sending an endless header grew the listener by hundreds of MiB) and the time a
    request may take to arrive. `on_refused(status, reason)` hears of each request it answers itself."""
    from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

    from argilla_hooks.receiver.app import BODY_TIMEOUT

    head_too_large = f"request head larger than {MAX_REQUEST_HEAD} bytes"

    async def refuse_head(scope: Any, receive: Any, send: Any) -> None:
        """The app of a request whose head is over the limit, in place of the receiver: 431, and the connection closes."""
        await send({"type": "http.response.start", "status": 431, "headers": [
            (b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"%d" % len(head_too_large)), (b"connection", b"close"),
        ]})
        await send({"type": "http.response.body", "body": head_too_large.encode()})
        if on_refused is not None:
            on_refused(431, head_too_large)

    class BoundedRequest(HttpToolsProtocol):
        _in_head = True  # reading a request line and headers (a connection starts with one)
        _head_bytes = 0
        _in_request = False  # a request has begun and not yet fully arrived
        _began_in_this_read = False
        _read_size = 0  # of the read being parsed (0: nothing received on this connection yet)
        # A request that one read leaves incomplete must be complete this many seconds later, or it is answered 408
        # and its connection closed: uvicorn waits for ever on a client that sends a head and then nothing, which held
        # a delivery open and made a Ctrl-C wait out the whole grace period. Longer than the receiver's own limit for
        # a body that comes in pieces, so that a trickled body is still answered (and reported) by the receiver.
        timeout = BODY_TIMEOUT + 5
        _deadline: Any = None  # the timer, while one runs

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            # A connection's first request counts from the opening: one that sends nothing is closed in time too.
            self._in_request = True
            self._start_deadline()

        def data_received(self, data: bytes) -> None:
            self._began_in_this_read, self._read_size = False, len(data)
            super().data_received(data)  # counted after parsing: the part of `data` past a complete head is body
            # A head that began in this read is counted from the next one: the read may also hold the request before
            # it, body and all (one read is bounded, so an endless head is still cut off).
            if self._in_head and not self._began_in_this_read:
                self._head_bytes += len(data)
                if self._head_bytes > MAX_REQUEST_HEAD and not self.transport.is_closing():
                    self._close(431, head_too_large)
            # Timed only when a read leaves a request incomplete: one that arrives whole, the usual case, costs no timer.
            if self._in_request and self._deadline is None and not self.transport.is_closing():
                self._start_deadline()

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._in_head = self._in_request = self._began_in_this_read = True
            self._head_bytes = 0
            self._stop_deadline()  # the connection's own (see connection_made): the request's starts when it is late

        def on_headers_complete(self) -> None:
            self._in_head = False
            # Measured when it could be over the limit: a head that came whole in a smaller read cannot be.
            if (self._read_size > MAX_REQUEST_HEAD or not self._began_in_this_read) and _head_size(self) > MAX_REQUEST_HEAD:
                # Answered by uvicorn's own request cycle, in its turn (after a request before it on this connection),
                # but by refuse_head instead of the receiver.
                app, self.app = self.app, refuse_head
                try:
                    super().on_headers_complete()
                finally:
                    self.app = app
                return
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            super().on_message_complete()
            self._in_request = False
            self._stop_deadline()

        def connection_lost(self, exc: Optional[Exception]) -> None:
            self._stop_deadline()
            super().connection_lost(exc)

        def _start_deadline(self) -> None:
            self._deadline = self.loop.call_later(self.timeout, self._too_slow)

        def _stop_deadline(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _too_slow(self) -> None:
            self._deadline = None
            if self.transport.is_closing():
                return
            if self._client_is_late():
                self._close(408, f"request not complete within {self.timeout:g} s")
            else:
                self._start_deadline()

        def shutdown(self) -> None:
            # Stopping: a request whose body is still arriving has run nothing, so the shutdown need not wait for it.
            if not self._in_head and self._client_is_late() and not self.transport.is_closing():
                self._close(503, "the listener is stopping; send it again")
            else:
                super().shutdown()

        def _client_is_late(self) -> bool:
            """A request is still arriving, and nothing earlier on this connection is being answered (uvicorn stops
            reading a pipelined request until then: that wait is ours, not the client's)."""
            if not self._in_request or self.pipeline:
                return False
            return not self._in_head or self.cycle is None or self.cycle.response_complete

        def _close(self, status: int, message: str) -> None:
            # The receiver, if it waits for the body, then sees the client go away (uvicorn tells it when the
            # connection closes) and ends the delivery; an answer it already started is left as it is.
            if not self._read_size:
                pass  # nothing was sent: there is no request to answer
            elif self._in_head or not self.cycle.response_started:
                self.transport.write(
                    STATUS_LINE[status]
                    + b"content-type: text/plain; charset=utf-8\r\nconnection: close\r\n"
                    + b"content-length: %d\r\n\r\n%s" % (len(message), message.encode())
                )
                if on_refused is not None:
                    on_refused(status, message)
            self.transport.close()

    return BoundedRequest


def _head_size(protocol: Any) -> int:
    """The size of a parsed request line and headers, near enough (the method and version are not kept; 16 bytes
    stand for them): uvicorn keeps the target in `url` and the headers in `headers`."""
    return len(protocol.url) + sum(len(name) + len(value) + 4 for name, value in protocol.headers) + 16


def no_cancellation_noise(record: "logging.LogRecord") -> bool:
    """Drop uvicorn's tracebacks of deliveries cancelled at shutdown: `listen` reports how many were cut short."""
    import asyncio

    if record.exc_info and record.exc_info[0] is not None and issubclass(record.exc_info[0], asyncio.CancelledError):
        return False
    return not record.getMessage().endswith("timeout graceful shutdown exceeded")


@functools.lru_cache(maxsize=None)
def server_class() -> type:
    """uvicorn.Server, reporting readiness and leaving the exit to `listen` (built lazily: uvicorn is heavy)."""
    import asyncio

    import uvicorn

    class Server(uvicorn.Server):
        def __init__(self, config: "uvicorn.Config", on_ready: Callable[[], None]) -> None:
            super().__init__(config)
            self._on_ready = on_ready
            self.cut_short = 0  # deliveries still running when the shutdown ended

        def stop(self) -> None:
            self.should_exit = True

        async def startup(self, sockets: Optional[list[socket.socket]] = None) -> None:
            await super().startup(sockets=sockets)
            if self.started:
                self._on_ready()

        async def _wait_tasks_to_complete(self) -> None:
            # uvicorn's wait for in-flight deliveries, once each connection was told to stop (a request still arriving
            # was then answered 503 and is not waited for): cancelled when the grace period runs out (uvicorn then
            # cancels the deliveries, which have left its task set by the time shutdown() returns, so count them
            # here), or left early after a second Ctrl-C (abandoning them).
            running = len(self.server_state.tasks)
            if running and not self.force_exit:
                grace = self.config.timeout_graceful_shutdown
                output.info(f"stopping: waiting up to {grace} s for {running} in-flight deliver{'y' if running == 1 else 'ies'} (Ctrl-C again to stop now)")
            try:
                await super()._wait_tasks_to_complete()
            except asyncio.CancelledError:
                self.cut_short = len(self.server_state.tasks)
                raise
            if self.force_exit:
                self.cut_short = len(self.server_state.tasks)

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            # Like uvicorn's, minus re-raising the signal afterwards: that would end the process before the
            # temporary webhook is deleted. A second Ctrl-C still forces an immediate shutdown.
            with signals.handled_by(self.handle_exit, signal.SIGINT, signal.SIGTERM):
                yield

    return Server
