"""The receiver served on trio (e.g. by hypercorn): the same as on asyncio, `def` handlers in anyio's threads.

In-flight de-duplication on trio is checked in test_app.py.
"""

from __future__ import annotations

import threading

import pytest
import trio
from receiver_samples import event_body

from argilla_hooks import create_app

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "trio"


async def test_sync_and_async_handlers_run_and_a_retry_after_failure_runs_only_what_failed(secret, deliver):
    calls = []
    attempts = iter([RuntimeError("flaky"), None])

    def sync_handler(record):
        thread = threading.current_thread()
        calls.append(("sync", thread is not threading.main_thread(), record.dataset.name))

    async def flaky(type):
        trio.lowlevel.current_task()  # raises unless this really runs on trio
        calls.append(("async", type))
        failure = next(attempts)
        if failure:
            raise failure

    app = create_app(handlers=[sync_handler, flaky], secrets=[secret])
    body = event_body("record.created")
    answers = [await deliver(app, body) for _ in range(3)]

    assert [a.status_code for a in answers] == [500, 204, 200]
    assert calls == [
        ("sync", True, "reviews"),  # in a worker thread, once: it succeeded the first time
        ("async", "record.created"),
        ("async", "record.created"),
    ]

