"""A forward has one deadline for the whole exchange, not per read: a target that drips its answer cannot hold it up."""

from __future__ import annotations

import re
import time
from contextlib import asynccontextmanager

import anyio
import anyio.abc
import httpx
import pytest
from receiver_samples import event_body

from argilla_hooks import create_app
from argilla_hooks.receiver.forward import FORWARD_TIMEOUT, Forwarder

pytestmark = pytest.mark.anyio

both_backends = pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])

DRIPS, EVERY = 10, 0.03  # the answer's body takes 0.3 s, a byte at a time: no single read waits longer than 0.03 s


@asynccontextmanager
async def dripping_target():
    """A local HTTP server that sends its status line and headers at once, then the body one byte every EVERY s."""

    async def answer(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            request = b""
            while b"\r\n\r\n" not in request:
                request += await stream.receive()
            head, _, body = request.partition(b"\r\n\r\n")
            length = int(re.search(rb"content-length:\s*(\d+)", head, re.IGNORECASE).group(1))
            while len(body) < length:
                body += await stream.receive()
            await stream.send(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: %d\r\n\r\n" % DRIPS)
            for _ in range(DRIPS):
                await anyio.sleep(EVERY)
                await stream.send(b".")

    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    async with listener, anyio.create_task_group() as group:
        group.start_soon(listener.serve, answer)
        yield f"http://127.0.0.1:{listener.extra(anyio.abc.SocketAttribute.local_port)}/hooks"
        group.cancel_scope.cancel()


def test_the_default_deadline_is_the_one_constant_below_argillas_20_seconds():
    assert Forwarder()._timeout == FORWARD_TIMEOUT < 20


@both_backends
async def test_a_target_dripping_its_answer_fails_at_the_deadline(secret):
    forwarder = Forwarder(timeout=0.1)
    async with dripping_target() as url:
        started = time.perf_counter()
        result = await forwarder.send(url, event_body(), [(b"content-type", b"application/json")])
        waited = time.perf_counter() - started
    await forwarder.aclose()
    assert (result.url, result.status, result.ok) == (url, None, False)
    assert result.error == "no complete answer within 0.1 s"
    assert waited < DRIPS * EVERY and result.duration_ms < DRIPS * EVERY * 1000


@both_backends
async def test_a_slow_answer_that_completes_within_the_deadline_is_a_success():
    forwarder = Forwarder(timeout=5)
    async with dripping_target() as url:
        result = await forwarder.send(url, event_body(), [])
    await forwarder.aclose()
    assert (result.status, result.ok, result.error) == (200, True, None)
    assert result.duration_ms >= DRIPS * EVERY * 1000 * 0.9


async def test_the_delivery_answers_502_and_reports_the_deadline(secret, deliver):
    reports = []
    async with dripping_target() as url:
        app = create_app(handlers=[], secrets=[secret], forward_to=[url], on_report=reports.append)
        app._forwarder = Forwarder(timeout=0.1)
        answer = await deliver(app, event_body("record.created"))
        await app.aclose()
    assert answer.status_code == 502
    assert answer.json() == {"ok": False, "error": "a forward target failed"}
    (forward,) = reports[0].forwards
    assert forward.to_json() | {"duration_ms": None} == {
        "url": url,
        "status": None,
        "ok": False,
        "duration_ms": None,
        "error": "no complete answer within 0.1 s",
    }


@both_backends
async def test_a_cancellation_of_the_delivery_during_a_forward_still_propagates():
    async def never_answers(request: httpx.Request) -> httpx.Response:
        await anyio.sleep_forever()

    forwarder = Forwarder(httpx.MockTransport(never_answers), timeout=5)
    results = []
    with anyio.move_on_after(0.05) as outer:
        results.append(await forwarder.send("http://target.test/", b"{}", []))
    await forwarder.aclose()
    assert outer.cancelled_caught and results == []
