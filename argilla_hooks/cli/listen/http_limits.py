"""The one module that relies on uvicorn beyond its documented API: limits on request heads for `hooks listen`.

uvicorn's httptools protocol bounds neither the size of a request line and headers nor the time a request takes to
arrive: one connection sending an endless header grows the listener by hundreds of MiB, and one that sends half a
request, or nothing, holds its connection (and a Ctrl-C's wait) for ever. Nor does it bound how many connections are
open: its `limit_concurrency` (which `hooks listen` sets too) refuses a request only once its head is complete, so
3,000 connections each holding 60 KiB of an unfinished head took 249 MiB. (The receiver can time a body itself, but a
timer per delivery costs a tenth of its time.) No public option of uvicorn sets either (h11's
`h11_max_incomplete_event_size` bounds the size only, at half the speed). So this subclasses
`uvicorn.protocols.http.httptools_impl.HttpToolsProtocol` and relies on exactly: that import path; its asyncio
`connection_made`/`connection_lost`/`data_received` (which feeds the parser); its httptools parser callbacks
`on_message_begin`, `on_headers_complete`, `on_message_complete`; its `send_400_response(msg)`, which uvicorn calls
when the parser fails; and its `transport`, `loop`, `url` and `headers` (the parsed request line and headers)
attributes. A head is measured as it arrives, read by read, and once whole only when one read could hold more than
the limit (a Python call per header would cost a tenth of a delivery's time).
pyproject.toml bounds uvicorn to the minor versions the suite ran on, and `check()` refuses to serve (and a unit test
fails) when any of those is missing, rather than serve without the limits.
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable, Optional

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_HEAD = 64 * 1024  # request line and headers; Argilla's take well under 1 KiB
# Connections open at once; one more is answered 503 and closed before anything is read from it. Each holds at most a
# head (MAX_HEAD) or uvicorn's 64 KiB of body read ahead, so all of them together about 64 MiB.
MAX_CONNECTIONS = 512
# A request must be complete this long after it began (or after its connection opened); Argilla sends each at once.
REQUEST_TIMEOUT = 15.0
RELIED_ON = (
    "connection_made", "connection_lost", "data_received", "on_message_begin", "on_headers_complete", "on_message_complete",
    "send_400_response",
)  # fmt: skip


def check() -> None:
    """RuntimeError when the installed uvicorn lacks what this module relies on."""
    missing = [name for name in RELIED_ON if not callable(getattr(HttpToolsProtocol, name, None))]
    if missing:
        raise RuntimeError(f"this uvicorn's HttpToolsProtocol lacks {', '.join(missing)}: install a uvicorn version that pyproject.toml allows")


class LimitedHead(HttpToolsProtocol):
    """uvicorn's httptools protocol with the limits above; `on_refused(status, reason)` hears of each refusal."""

    on_refused: Callable[[int, str], None] = staticmethod(lambda status, reason: None)
    open_connections = [0]  # of the server this class serves (limited_protocol makes a class per server)
    _counted = False
    _head_reads = 0  # every read that ended inside this head
    _read_size = 0  # of the read being parsed
    _in_head = _began_in_this_read = _began = False
    _refused = False
    _timer: Optional[asyncio.TimerHandle] = None

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        if self.open_connections[0] >= MAX_CONNECTIONS:
            self._refuse(503, f"{MAX_CONNECTIONS} connections are open already; send it again")
            return
        self.open_connections[0] += 1
        self._counted = True
        self._restart_timer()  # a connection that sends nothing is closed in time too

    def connection_lost(self, exc: Optional[Exception]) -> None:
        if self._counted:
            self.open_connections[0] -= 1
            self._counted = False
        self._stop_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self._began_in_this_read, self._read_size = False, len(data)
        super().data_received(data)
        # A head that began in this read counts from the next: the read may also hold the request before it.
        if self._in_head and not self._began_in_this_read:
            self._head_reads += len(data)
            if self._head_reads > MAX_HEAD:
                self._refuse(431, f"request head larger than {MAX_HEAD} bytes")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_reads = 0
        self._in_head = self._began_in_this_read = self._began = True
        self._restart_timer()

    def on_headers_complete(self) -> None:
        self._in_head = False
        could_be_over = self._read_size > MAX_HEAD or not self._began_in_this_read
        if could_be_over and len(self.url) + sum(len(n) + len(v) + 4 for n, v in self.headers) > MAX_HEAD:
            self._refuse(431, f"request head larger than {MAX_HEAD} bytes")
        if not self._refused:
            super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._stop_timer()
        if not self._refused:
            super().on_message_complete()

    def send_400_response(self, msg: str) -> None:
        if not self._refused:
            super().send_400_response(msg)

    def _restart_timer(self) -> None:
        self._stop_timer()
        self._timer = self.loop.call_later(REQUEST_TIMEOUT, self._too_slow)

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _too_slow(self) -> None:
        # The receiver, waiting for the body, then sees the client go away and ends the delivery unanswered.
        self._timer = None
        if self._began:
            self._refuse(408, f"request not complete within {REQUEST_TIMEOUT:g} s")
        else:
            self.transport.close()  # nothing was sent: there is no request to answer

    def _refuse(self, status: int, reason: str) -> None:
        if self._refused or self.transport.is_closing():
            return
        self._refused = True
        phrase = {408: b"Request Timeout", 431: b"Request Header Fields Too Large", 503: b"Service Unavailable"}[status]
        body = reason.encode()
        self.transport.write(
            b"HTTP/1.1 %d %s\r\ncontent-type: text/plain; charset=utf-8\r\nconnection: close\r\n"
            b"content-length: %d\r\n\r\n%s" % (status, phrase, len(body), body)
        )
        self.transport.close()
        self.on_refused(status, reason)


def limited_protocol(on_refused: Callable[[int, str], None]) -> type[LimitedHead]:
    """The protocol class to give uvicorn.Config(http=...), telling `on_refused` of each request it refuses."""
    return type("LimitedHead", (LimitedHead,), {"on_refused": staticmethod(on_refused), "open_connections": [0]})
