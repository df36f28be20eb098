"""What a request must pass before it is a delivery: the head checked before the body is read, and a time limit on
each body; refused early, a request's connection is closed."""

from __future__ import annotations

import time
from typing import Any, Optional

import anyio
import pytest
from receiver_samples import event_body, signed_headers

from argilla_hooks import create_app
from test_app import malformed

pytestmark = pytest.mark.anyio


class Request:
    """One request driven straight through ASGI: `body` (declared in content-length unless `length` is False) sent in
    `pieces` (default: at once), then, `then`, nothing more to send ("end"), a stall for ever or a disconnect."""

    def __init__(self, headers: dict[str, str], body: bytes, pieces: Optional[list[bytes]] = None, *,
                 then: str = "end", length: bool = True) -> None:
        raw = [(name.encode(), value.encode()) for name, value in headers.items()]
        if length:
            raw.append((b"content-length", b"%d" % len(body)))
        self.scope = {"type": "http", "method": "POST", "path": "/", "headers": raw}
        self.pieces, self.then = ([body] if pieces is None else list(pieces)), then
        self.reads = 0
        self.sent: list[dict[str, Any]] = []

    async def receive(self) -> dict[str, Any]:
        self.reads += 1
        if self.pieces:
            piece = self.pieces.pop(0)
            return {"type": "http.request", "body": piece, "more_body": bool(self.pieces) or self.then != "end"}
        if self.then == "disconnect":
            return {"type": "http.disconnect"}
        await anyio.sleep_forever()
        raise AssertionError

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    async def to(self, app: Any) -> None:
        await app(self.scope, self.receive, self.send)

    @property
    def status(self) -> int:
        return self.sent[0]["status"]

    @property
    def closes(self) -> bool:
        return (b"connection", b"close") in self.sent[0]["headers"]


HEAD_CONDEMNS = ["without webhook-id", "without webhook-timestamp", "without webhook-signature", "v1 without comma",
                 "only v2", "non-integer timestamp", "stale", "future"]


@pytest.mark.parametrize("change", HEAD_CONDEMNS)
async def test_headers_that_condemn_a_delivery_are_refused_401_before_the_body_is_read(secret, change):
    reports = []
    app = create_app(handlers=[lambda: None], secrets=[secret], on_report=reports.append)
    body = event_body()
    request = Request(malformed(secret, body, change), body)
    await request.to(app)
    assert (request.status, request.reads, request.closes) == (401, 0, True)
    assert [r.kind for r in reports] == ["rejected"]


@pytest.mark.parametrize("change", ["bad base64", "wrong secret"])
async def test_a_signature_that_only_the_body_can_refute_is_checked_on_the_whole_body(secret, change):
    body = event_body()
    request = Request(malformed(secret, body, change), body)
    await request.to(create_app(handlers=[], secrets=[secret]))
    assert (request.status, request.reads, request.closes) == (401, 1, False)  # read in full: the connection stays


async def test_without_verification_nothing_is_refused_on_the_head(request_to):
    app = create_app(handlers=[], verify=False)
    assert (await request_to(app, "POST", content=event_body())).status_code == 204


async def test_a_body_declared_over_max_body_is_refused_unread_and_its_connection_closed(secret):
    body = event_body("record.created", data={"id": "r", "padding": "x" * 2000})
    request = Request(signed_headers(secret, body), body)
    await request.to(create_app(handlers=[], secrets=[secret], max_body=1000))
    assert (request.status, request.reads, request.closes) == (413, 0, True)


async def test_a_body_whose_first_piece_never_comes_is_answered_408_in_time(secret):
    # The time counts from the first read: with no first piece, a request held its delivery open for ever.
    calls = []
    app = create_app(handlers=[lambda: calls.append(1)], secrets=[secret])
    app.body_timeout = 0.2
    body = event_body()
    request = Request(signed_headers(secret, body), body, [], then="stall")
    started = time.monotonic()
    await request.to(app)
    assert (request.status, request.reads, request.closes) == (408, 1, True)
    assert time.monotonic() - started < 2 and calls == []
