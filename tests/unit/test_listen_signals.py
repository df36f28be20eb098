"""`hooks listen` stops cleanly on SIGHUP (a closed terminal, a dropped SSH connection) and SIGQUIT as on SIGTERM:
in-flight deliveries finish and a --register webhook is deleted (issue 19, item 2). Against the fake Argilla over HTTP."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time

import httpx
import pytest

from tests.listener_process import Listener, hooks_executable
from tests.unit.fake_argilla import OWNER_KEY
from tests.unit.receiver.receiver_samples import event_body, new_secret, signed_headers

SLOW = '''
import os, time

if os.environ.get("IMPORT_MARKER"):  # a slow start-up: handlers still importing
    open(os.environ["IMPORT_MARKER"], "w").close()
    time.sleep(60)

def slow(type):
    time.sleep(1.5)
'''


@pytest.fixture
def env(served_argilla, tmp_path):
    return {"ARGILLA_API_URL": served_argilla.url, "ARGILLA_API_KEY": OWNER_KEY, "ARGILLA_WEBHOOK_SECRET": None}


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGQUIT, signal.SIGTERM], ids=lambda s: s.name)
def test_a_stopping_signal_deletes_the_registered_webhook(sig, served_argilla, env):
    # On SIGHUP and SIGQUIT the process died on the spot, its webhook left on the server.
    with Listener(["--register", "-e", "dataset.created"], env=env) as listener:
        [webhook] = served_argilla.webhooks
        assert webhook["id"] == listener.ready["webhook_id"]
        assert listener.stop(sig) == 0
    assert served_argilla.webhooks == []
    assert "deleted the temporary webhook" in listener.stderr and "Traceback" not in listener.stderr


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGQUIT], ids=lambda s: s.name)
def test_a_stopping_signal_lets_the_delivery_in_flight_finish(sig, tmp_path):
    (tmp_path / "slow_handler.py").write_text(SLOW)
    secret, answers = new_secret(), []
    with Listener(["slow_handler:slow", "--secret", secret], cwd=tmp_path) as listener:
        body = event_body("dataset.created")
        sender = threading.Thread(target=lambda: answers.append(
            httpx.post(listener.url, content=body, headers=signed_headers(secret, body), timeout=30).status_code))
        sender.start()
        time.sleep(0.5)  # the handler is running
        assert listener.stop(sig) == 0
        sender.join(30)
    assert answers == [204]
    assert listener.remaining()[-1] == {"kind": "stopped", "handled": 1}
    assert "waiting up to 30 s for 1 in-flight delivery" in listener.stderr


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGQUIT], ids=lambda s: s.name)
def test_a_stopping_signal_during_start_up_exits_through_the_clean_up(sig, tmp_path):
    (tmp_path / "slow_handler.py").write_text(SLOW)
    marker = tmp_path / "importing"
    proc = subprocess.Popen(
        [hooks_executable(), "listen", "slow_handler:slow", "--secret", new_secret(), "--port", "0", "--json"],
        cwd=tmp_path, env={**os.environ, "IMPORT_MARKER": str(marker)},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not marker.exists():
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)
        proc.send_signal(sig)
        assert proc.wait(timeout=30) == 130  # as for Ctrl-C, not killed by the signal before any `finally` ran
        assert "Traceback" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
