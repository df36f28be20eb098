"""The delivery log: bounded, remembers partial progress, and lets one of two identical deliveries run at a time."""

from __future__ import annotations

import anyio
import pytest

from argilla_hooks.receiver.dedup import DeliveryLog

pytestmark = pytest.mark.anyio


async def test_a_completed_event_is_a_duplicate_and_a_failed_one_resumes_where_it_stopped():
    log = DeliveryLog()
    assert await log.begin(("a",)) == frozenset()
    log.end(("a",), frozenset({0}), complete=False)
    assert await log.begin(("a",)) == frozenset({0})
    log.end(("a",), frozenset({0, 1}), complete=True)
    assert await log.begin(("a",)) is None


async def test_only_the_most_recent_keys_are_kept():
    log = DeliveryLog(capacity=3)
    for i in range(10):
        await log.begin((i,))
        log.end((i,), frozenset(), complete=True)
    assert len(log) == 3
    assert await log.begin((9,)) is None
    assert await log.begin((0,)) == frozenset()


async def test_an_event_seen_again_counts_as_recent():
    # A duplicate refreshes its key: an event Argilla keeps re-sending is not the first forgotten (and run again).
    log = DeliveryLog(capacity=2)
    for key in (("a",), ("b",)):
        await log.begin(key)
        log.end(key, frozenset(), complete=True)
    assert await log.begin(("a",)) is None
    await log.begin(("c",))
    log.end(("c",), frozenset(), complete=True)
    assert await log.begin(("a",)) is None  # "b" was dropped instead
    assert await log.begin(("b",)) == frozenset()


async def test_an_identical_delivery_waits_for_the_one_in_flight():
    log = DeliveryLog()
    order = []

    async def second():
        order.append(("second starts", await log.begin(("k",))))

    assert await log.begin(("k",)) == frozenset()
    async with anyio.create_task_group() as group:
        group.start_soon(second)
        await anyio.sleep(0.01)
        assert order == []  # still waiting
        order.append("first ends")
        log.end(("k",), frozenset({0}), complete=True)
    assert order == ["first ends", ("second starts", None)]
