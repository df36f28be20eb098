"""What a request must pass before it is a delivery: the head checked before the body is read, a budget for the bodies
of all requests in flight, and a time limit on each body; refused early, a request's connection is closed."""

from __future__ import annotations

import time
from typing import Any, Optional

import anyio
import pytest
from receiver_samples import event_body, malformed, signed_headers

from argilla_hooks import create_app

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


async def test_bodies_in_flight_beyond_the_budget_are_answered_503_unread_until_the_budget_frees(secret):
    app = create_app(handlers=[], secrets=[secret], max_body=4000, body_budget=5000)
    first_body, second_body = (event_body("record.created", data={"id": str(i), "padding": "x" * 2500}) for i in (1, 2))
    stalled = Request(signed_headers(secret, first_body), first_body, [first_body[:100]], then="stall")
    refused = Request(signed_headers(secret, second_body), second_body)
    async with anyio.create_task_group() as group:
        group.start_soon(stalled.to, app)
        while stalled.reads < 2:  # the first holds its declared ~2.6 KB; with the second's it would be over 5000
            await anyio.sleep(0.001)
        await refused.to(app)
        assert (refused.status, refused.reads, refused.closes) == (503, 0, True)
        group.cancel_scope.cancel()  # the stalled client goes away: its share of the budget is given back
    again = Request(signed_headers(secret, second_body), second_body)
    await again.to(app)
    assert again.status == 204


async def test_a_body_without_a_length_is_counted_against_the_budget_as_it_arrives(secret):
    app = create_app(handlers=[], secrets=[secret], max_body=4000, body_budget=4000)
    body = event_body()
    held = Request(signed_headers(secret, body), body, [b"x" * 3000], then="stall", length=False)
    refused = Request(signed_headers(secret, body), body, [body[:500], body[500:1500], body[1500:]], length=False)
    async with anyio.create_task_group() as group:
        group.start_soon(held.to, app)
        while held.reads < 2:
            await anyio.sleep(0.001)
        await refused.to(app)
        group.cancel_scope.cancel()
    assert (refused.status, refused.reads, refused.closes) == (503, 2, True)  # 3000 + 500 + 1000 > 4000


async def test_a_verified_delivery_gives_its_share_back_before_its_handlers_run(secret):
    # The budget bounds what unverified clients can make the receiver hold; a slow handler must not starve it.
    started, release = anyio.Event(), anyio.Event()

    async def slow(type):
        if type == "record.created":
            started.set()
            await release.wait()

    app = create_app(handlers=[slow], secrets=[secret], max_body=4000, body_budget=4000)
    first, second = (event_body(t, data={"id": t, "padding": "x" * 3000}) for t in ("record.created", "record.updated"))
    handled, quick = Request(signed_headers(secret, first), first), Request(signed_headers(secret, second), second)
    async with anyio.create_task_group() as group:
        group.start_soon(handled.to, app)
        await started.wait()
        await quick.to(app)  # 3 KB more would not fit beside the first if it still held its share
        release.set()
    assert (handled.status, quick.status) == (204, 204)


@pytest.mark.parametrize("refusal", ["413", "401 on the head", "401 on the body", "400", "408", "disconnect", "204"])
async def test_every_request_gives_its_share_of_the_budget_back(secret, refusal):
    app = create_app(handlers=[], secrets=[secret], max_body=5000, body_budget=5000)
    app.body_timeout = 0.05
    body = event_body()
    headers = signed_headers(secret, body)
    request = {
        "413": Request(headers, b"x" * 6000, length=False),
        "401 on the head": Request(malformed(secret, body, "stale"), body),
        "401 on the body": Request(malformed(secret, body, "wrong secret"), body),
        "400": Request(signed_headers(secret, b"not json"), b"not json"),
        "408": Request(headers, body, [body[:10]], then="stall"),
        "disconnect": Request(headers, body, [body[:10]], then="disconnect"),
        "204": Request(headers, body),
    }[refusal]
    await request.to(app)
    assert app._budget.left == 5000
    full = Request(signed_headers(secret, event_body()), b"x" * 5000)
    await full.to(app)
    assert full.status == 401  # the whole budget is there to read it (then the signature fails)


def test_a_budget_smaller_than_one_body_is_refused_and_the_default_grows_to_fit_one(secret):
    with pytest.raises(ValueError, match="body_budget must be at least max_body"):
        create_app(secrets=[secret], max_body=2000, body_budget=1000)
    assert create_app(secrets=[secret])._budget.limit == 64 * 1024 * 1024
    assert create_app(secrets=[secret], max_body=100 * 1024 * 1024)._budget.limit == 100 * 1024 * 1024  # --max-body 100MiB


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
