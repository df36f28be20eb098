"""What floods of clients can make `hooks listen` hold: bounded, whatever they send (issue 19, item 1), at CI scale.

The listener refuses from the head what the head condemns (no or malformed `webhook-*` headers: 401, connection
closed, body never read); bodies that must be read to be refused share one budget (64 MiB, then 503); connections
beyond 512 are answered 503 and closed. Each test floods a listener of its own and reads its peak RSS (VmHWM).
"""

from __future__ import annotations

import sys

import httpx
import pytest

from tests.flood import enough_descriptors, flood, held_heads, peak_rss_mib
from tests.listener_process import Listener
from tests.unit.receiver.receiver_samples import event_body, new_secret, signed_headers

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the peak RSS from /proc")
MIB = 1024 * 1024
PEAK_BOUND = 200  # MiB: the bound for 300 concurrent 10 MiB POSTs


def still_serves(listener: Listener, secret: str) -> None:
    body = event_body("dataset.created")
    answer = httpx.post(listener.url, content=body, headers=signed_headers(secret, body), timeout=30)
    assert answer.status_code == 204


def events_of(listener: Listener) -> list[dict]:
    """The `event` lines of a listener that has stopped: only the delivery still_serves() sent."""
    return [line for line in listener.remaining() if line["kind"] == "event"]


@pytest.mark.parametrize("forged", [False, True], ids=["unsigned", "signed with a wrong key"])
def test_300_concurrent_10_mib_posts_are_refused_within_the_memory_bound(forged):
    # Unsigned, they took the listener to 3,065 MiB: each body was read before the headers were looked at.
    secret = new_secret()
    with Listener(["--secret", secret]) as listener:
        statuses = flood(listener.ready["port"], 300, 10 * MIB, forged=forged)
        peak = peak_rss_mib(listener.proc.pid)
        still_serves(listener, secret)
        listener.stop()
        [event] = events_of(listener)  # nothing of the flood reached code
    assert set(statuses) <= {"401", "503", "refused"} and sum(statuses.values()) == 300, statuses
    assert peak is not None and peak < PEAK_BOUND, f"peak RSS {peak:.0f} MiB, {statuses}"
    assert event["type"] == "dataset.created" and event["status"] == 204


def test_connections_beyond_the_limit_are_answered_503_and_half_heads_stay_bounded():
    # uvicorn's limit_concurrency alone looks at a request once its head is complete: 3,000 connections holding 60 KiB
    # of an unfinished head each took 249 MiB.
    secret = new_secret()
    enough_descriptors(2048)
    with Listener(["--secret", secret]) as listener:
        statuses = held_heads(listener.ready["port"], 700, 60 * 1024, hold=2)
        peak = peak_rss_mib(listener.proc.pid)
        still_serves(listener, secret)
        listener.stop()
    assert statuses["held"] == 512 and statuses["503"] == 188, statuses
    assert peak is not None and peak < PEAK_BOUND, f"peak RSS {peak:.0f} MiB"
