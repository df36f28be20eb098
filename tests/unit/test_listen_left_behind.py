"""A webhook that a killed `hooks listen --register` left behind is found and reused by the next `--register` for the
same URL on this host (issue 19, item 2), against the fake Argilla over HTTP."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from argilla_hooks.cli.listen.left_behind import left_behind, session_description
from argilla_hooks.client.models import Webhook
from tests.listener_process import Listener
from tests.unit.fake_argilla import OWNER_KEY


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def env(served_argilla):
    return {"ARGILLA_API_URL": served_argilla.url, "ARGILLA_API_KEY": OWNER_KEY, "ARGILLA_WEBHOOK_SECRET": None}


def test_the_next_register_on_the_url_reuses_the_webhook_left_behind(served_argilla, env):
    # It made a second webhook, answered the stale one's retries 401, and after ten such the 11th failed (exit 5).
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    killed = dead_pid()
    stale = served_argilla.add(url=url, events=["record.created"], description=session_description(killed), enabled=False)
    other = served_argilla.add(url=url, events=["record.created"], description=session_description(dead_pid()))
    with Listener(["--register", "-e", "dataset.created", "--port", str(port)], env=env) as listener:
        assert listener.ready["webhook_id"] == stale["id"]
        [reused] = served_argilla.webhooks
        assert reused["secret"] == stale["secret"] and reused["events"] == ["dataset.created"] and reused["enabled"]
        assert reused["description"] == session_description(listener.proc.pid)
        assert listener.stop() == 0
    assert served_argilla.webhooks == []
    [line] = [line for line in listener.stderr_lines if "reusing" in line]
    assert line == (
        f"reusing webhook {stale['id'][:8]}, left for this URL by hooks listen pid {killed}, "
        f"which no longer runs; deleted 1 more left the same way ({other['id'][:8]})\n"
    )


@pytest.mark.parametrize("whose", ["a live process", "another host", "another URL", "not a session"])
def test_a_webhook_that_is_not_left_behind_here_is_never_touched(whose, served_argilla, env):
    import os

    port = free_port()
    url, description = f"http://127.0.0.1:{port}/", session_description(dead_pid())
    if whose == "a live process":
        description = session_description(os.getpid())
    elif whose == "another host":
        description = description.replace(socket.gethostname(), "elsewhere.example")
    elif whose == "another URL":
        url = f"http://127.0.0.1:{port}/other"
    else:
        description = "my own " + description
    kept = served_argilla.add(url=url, events=["record.created"], description=description)
    with Listener(["--register", "-e", "dataset.created", "--port", str(port)], env=env) as listener:
        assert listener.ready["webhook_id"] != kept["id"] and len(served_argilla.webhooks) == 2
        assert listener.stop() == 0
    assert served_argilla.webhooks == [kept] and "reusing" not in listener.stderr


def test_left_behind_lists_those_of_dead_listeners_on_this_host():
    from datetime import datetime
    from uuid import uuid4

    def webhook(description):
        now = datetime(2026, 1, 1)
        return Webhook(id=uuid4(), url="http://h/", secret="s", events=["dataset.created"], description=description,
                       inserted_at=now, updated_at=now)

    pid = dead_pid()
    hooks = [webhook(session_description(pid)), webhook(session_description(1)), webhook(None), webhook("temporary")]
    assert [(found.webhook, found.pid) for found in left_behind(hooks)] == [(hooks[0], pid)]  # pid 1 runs
