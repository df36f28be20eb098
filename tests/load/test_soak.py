"""A soak: `hooks listen` with a handler, under 32 senders for 60 s (HOOKS_SOAK_SECONDS), counting deliveries lost
(answered 2xx, never handled) and doubled (handled twice), 5xx answers, forged requests that reached code, and the
listener's peak RSS. Marked `soak`: CI runs it (`scripts/test` runs everything); skip it with `-m "not soak"`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter

import httpx
import pytest

from tests.e2e.local_server import free_port
from tests.flood import peak_rss_mib
from tests.listener_process import hooks_executable
from tests.load.senders import send_for
from tests.unit.receiver.receiver_samples import new_secret

pytestmark = pytest.mark.soak
SECONDS = float(os.environ.get("HOOKS_SOAK_SECONDS", "60"))
SENDERS = 32
FIGURES: dict = {}  # for the terminal summary (conftest.py)

# One line per run of the handler, written through a buffer: the listener's memory stays its own.
HANDLER = '''
import atexit, os

HANDLED = open(os.environ["SOAK_HANDLED"], "a", buffering=1 << 20)
atexit.register(HANDLED.close)

async def count(type, data):
    HANDLED.write(f"{type} {data['id']}\\n")
'''


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the peak RSS from /proc")
def test_no_delivery_is_lost_or_doubled_under_load(tmp_path):
    (tmp_path / "soak_handler.py").write_text(HANDLER)
    secret, handled_file, port = new_secret(), tmp_path / "handled.txt", free_port()
    proc = subprocess.Popen(  # its --json lines (some 2 KB a delivery) go nowhere: the handler counts
        [hooks_executable(), "listen", "soak_handler:count", "--secret", secret, "--port", str(port), "--json"],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
        env={**os.environ, "SOAK_HANDLED": str(handled_file), "NO_COLOR": "1"},
    )
    try:
        _wait_until_serving(port, proc)
        began = time.monotonic()
        tally = send_for(port, secret, new_secret(), SENDERS, SECONDS)
        took = time.monotonic() - began
        peak = peak_rss_mib(proc.pid)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(60) == 0, proc.stderr.read()[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    handled = Counter(handled_file.read_text().splitlines())
    lost = tally.acknowledged - set(handled)
    doubled = {key: n for key, n in handled.items() if n > 1}
    forged_reached = tally.forged & set(handled)
    five_xx = sum(n for status, n in tally.statuses.items() if isinstance(status, int) and status >= 500)
    FIGURES.update(seconds=round(took, 1), senders=SENDERS, requests=tally.requests, deliveries=len(tally.acknowledged),
                   per_second=round(tally.requests / took), statuses=dict(tally.statuses), repeats=tally.repeats,
                   cut=tally.cut, forged=len(tally.forged), lost=len(lost), doubled=len(doubled),
                   forged_reached=len(forged_reached), five_xx=five_xx, gave_up=tally.gave_up, peak_rss_mib=round(peak or 0))
    assert (len(lost), len(doubled), len(forged_reached), five_xx, tally.gave_up) == (0, 0, 0, 0, 0), FIGURES
    assert set(handled) == tally.acknowledged, FIGURES  # nothing handled that was not answered 2xx either
    assert tally.statuses[401] == len(tally.forged) and tally.repeats <= tally.statuses[200], FIGURES
    assert peak is not None and peak < 200, FIGURES


def _wait_until_serving(port: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read() if proc.poll() is not None else "timeout"
        time.sleep(0.05)
