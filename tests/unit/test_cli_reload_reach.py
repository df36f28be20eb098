"""`hooks listen --reload` (handlers imported again in the running listener) and the reachability check at start
(against the fake Argilla over HTTP, whose ping reaches nothing)."""

from __future__ import annotations

import base64
import time

import pytest

from argilla_hooks.cli.listen.reachability import advice
from tests.listener_process import Listener
from tests.unit.test_cli_deliveries import trigger

SECRET = base64.b64encode(b"k" * 64).decode()

VERSION = '''
import os
from argilla_hooks import on
from helper import tag

@on("dataset.created")
def handle(dataset):
    with open(os.environ["HANDLED"], "a") as f:
        f.write(tag("{version}", dataset.name) + "\\n")
'''


def wait_for(condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture
def app_dir(tmp_path, monkeypatch):
    (tmp_path / "handlers.py").write_text(VERSION.format(version="v1"))
    (tmp_path / "helper.py").write_text('def tag(version, name):\n    return f"{version}:{name}"\n')
    monkeypatch.setenv("HANDLED", str(tmp_path / "handled.txt"))
    return tmp_path


def handled(app_dir):
    return (app_dir / "handled.txt").read_text().split()


def test_reload_runs_the_changed_handler_in_the_same_listener_and_survives_a_broken_edit(app_dir):
    with Listener(["handlers:handle", "--secret", SECRET, "--reload"], cwd=app_dir) as listener:
        assert trigger(listener.url, "dataset.created", SECRET, "--data", '{"name": "a"}').returncode == 0
        (app_dir / "handlers.py").write_text(VERSION.format(version="v2"))
        wait_for(lambda: "reloaded handlers:handle after a change to handlers.py" in listener.stderr)
        assert trigger(listener.url, "dataset.created", SECRET, "--data", '{"name": "b"}').returncode == 0
        (app_dir / "helper.py").write_text('def tag(version, name):\n    return f"{version}+helper:{name}"\n')
        wait_for(lambda: "after a change to helper.py" in listener.stderr)  # a module the handler imports
        assert trigger(listener.url, "dataset.created", SECRET, "--data", '{"name": "c"}').returncode == 0
        (app_dir / "handlers.py").write_text("def handle(:\n")
        wait_for(lambda: "failed, the handlers loaded before go on" in listener.stderr)
        assert trigger(listener.url, "dataset.created", SECRET, "--data", '{"name": "d"}').returncode == 0
        port = listener.ready["port"]
        assert listener.stop() == 0
    assert handled(app_dir) == ["v1:a", "v2:b", "v2+helper:c", "v2+helper:d"]
    assert "SyntaxError" in listener.stderr and str(port) in listener.url


def test_reload_needs_a_handler():
    from tests.unit.hooks_cli import hooks

    result = hooks("listen", "--secret", SECRET, "--reload")
    assert result.exit_code == 2 and "--reload imports handlers again" in result.stderr


def test_register_warns_when_argillas_ping_does_not_arrive_and_require_reachable_exits_1(served_argilla):
    # The fake Argilla answers the ping 204 without sending one: as a URL that leads to another server.
    args = ["--register", "-e", "dataset.created", "--api-url", served_argilla.url]
    env = {"ARGILLA_API_URL": None}
    started = time.monotonic()
    with Listener(args, env=env) as listener:
        wait_for(lambda: "warning:" in listener.stderr)
        assert time.monotonic() - started < 10
        assert listener.stop() == 0
    assert "its ping did not arrive at this listener" in listener.stderr
    served_argilla.ping_error = "[Errno 111] Connection refused"
    with Listener([*args, "--require-reachable"], env=env) as listener:
        assert listener.proc.wait(timeout=15) == 1
    assert "cannot reach http://127.0.0.1:" in listener.stderr and "host.docker.internal" in listener.stderr
    assert "stopped: Argilla cannot reach this listener (--require-reachable" in listener.stderr
    assert served_argilla.webhooks == []  # the session's webhook was deleted all the same


def test_require_reachable_needs_a_webhook_to_ping():
    from tests.unit.hooks_cli import hooks

    result = hooks("listen", "--secret", SECRET, "--require-reachable")
    assert result.exit_code == 2 and "--require-reachable pings the webhook of --register or --webhook" in result.stderr


@pytest.mark.parametrize(
    ("webhook_url", "unreachable", "words"),
    [
        ("http://127.0.0.1:18099/", "All connection attempts failed (ConnectError)",
         ["cannot reach http://127.0.0.1:18099/", "this listener is on port 18091", "host.docker.internal:18091/"]),
        ("http://localhost:18091/", "timed out", ["If Argilla runs in a container (Docker), localhost is the container itself"]),
        ("https://tunnel.example.com/", "Name or service not known", ["Is the tunnel or proxy running", "port 18091"]),
        ("https://tunnel.example.com/", "no answer", ["did not answer within 8 s"]),
        ("https://tunnel.example.com/x", None, ["reached https://tunnel.example.com/x, but its ping did not arrive", "(/)"]),
    ],
)
def test_the_warning_names_the_likely_cause_and_fix(webhook_url, unreachable, words):
    text = advice(webhook_url, "http://127.0.0.1:18091/", "http://argilla:6900", unreachable)
    assert all(word in text for word in words), text
