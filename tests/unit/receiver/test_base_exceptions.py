"""A handler that raises a BaseException fails that handler only; a real cancellation of the delivery propagates."""

from __future__ import annotations

import asyncio
import sys

import anyio
import pytest
from receiver_samples import event_body, signed_headers

from argilla_hooks import create_app

pytestmark = pytest.mark.anyio

both_backends = pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])


class MyBase(BaseException):
    pass


def asgi_request(secret: str, body: bytes) -> dict:
    headers = [(name.encode(), value.encode()) for name, value in signed_headers(secret, body).items()]
    return {"type": "http", "method": "POST", "path": "/", "headers": [*headers, (b"content-length", b"%d" % len(body))]}


async def call_app(app, secret: str, body: bytes, sent: list) -> None:
    """The app called as an ASGI server calls it, in the current task, so that the test can cancel that task."""
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive():
        if messages:
            return messages.pop(0)
        await anyio.sleep_forever()

    async def send(message):
        sent.append(message)

    await app(asgi_request(secret, body), receive, send)


async def deliver_expecting_no_escape(deliver, app, body: bytes):
    """`deliver(app, body)`, turning an exception that escaped the app into a test failure (not a crashed test run)."""
    try:
        return await deliver(app, body)
    except (MyBase, asyncio.CancelledError) as exc:
        pytest.fail(f"{exc!r} escaped the app")


# What a handler raises, and the error reported for it.
RAISED = [
    pytest.param(lambda: MyBase("boom"), "MyBase: boom", id="custom"),
    pytest.param(asyncio.CancelledError, "CancelledError", id="own-CancelledError"),
]


@both_backends
@pytest.mark.parametrize(("make", "error"), RAISED)
@pytest.mark.parametrize("kind", ["async", "sync"])
async def test_a_base_exception_fails_its_handler_and_the_next_handler_still_runs(
    secret, deliver, kind, make, error, anyio_backend
):
    calls = []

    async def async_raiser(type):
        raise make()

    def sync_raiser(type):
        raise make()

    reports = []
    app = create_app(
        handlers=[async_raiser if kind == "async" else sync_raiser, lambda type: calls.append(type)],
        secrets=[secret],
        on_report=reports.append,
    )
    if make is asyncio.CancelledError and anyio_backend == "asyncio" and sys.version_info < (3, 11):
        # Python 3.10 has no Task.cancelling(), so the receiver cannot tell a CancelledError a handler raised from
        # a cancellation of the delivery, and lets it propagate as one (the README says so).
        sent = []
        with pytest.raises(asyncio.CancelledError):
            await call_app(app, secret, event_body("record.created"), sent)
        assert (sent, reports, calls) == ([], [], [])
        return
    answer = await deliver_expecting_no_escape(deliver, app, event_body("record.created"))

    assert answer.status_code == 500
    assert answer.json() == {"ok": False, "error": "a handler failed"}
    assert calls == ["record.created"]
    failed, passed = reports[0].handlers
    assert (failed.ok, failed.error, passed.ok) == (False, error, True)


@both_backends
async def test_a_delivery_cancelled_while_a_handler_awaits_propagates_the_cancellation(secret):
    started = anyio.Event()
    attempts, later = [], []

    async def waits(type):
        attempts.append(type)
        if len(attempts) == 1:
            started.set()
            await anyio.sleep_forever()

    reports, sent, propagated = [], [], []
    app = create_app(handlers=[waits, lambda type: later.append(type)], secrets=[secret], on_report=reports.append)
    body = event_body("record.created")

    async def delivery():
        try:
            await call_app(app, secret, body, sent)
        except anyio.get_cancelled_exc_class():
            propagated.append(True)
            raise

    async with anyio.create_task_group() as group:
        group.start_soon(delivery)
        await started.wait()
        group.cancel_scope.cancel()

    assert propagated == [True]
    assert sent == [] and reports == [] and later == []

    # The cancelled attempt did not count as handled: Argilla's retry runs the handlers again.
    retry = []
    await call_app(app, secret, body, retry)
    assert retry[0]["status"] == 204
    assert attempts == ["record.created", "record.created"] and later == ["record.created"]


async def test_an_asyncio_task_cancel_as_at_server_shutdown_propagates(secret):
    started = asyncio.Event()

    async def waits(type):
        started.set()
        await asyncio.sleep(3600)

    reports, sent = [], []
    app = create_app(handlers=[waits], secrets=[secret], on_report=reports.append)
    task = asyncio.ensure_future(call_app(app, secret, event_body(), sent))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert task.cancelled()
    assert sent == [] and reports == []
