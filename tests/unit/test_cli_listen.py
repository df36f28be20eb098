"""`hooks listen` without Argilla: start-up checks, verification end to end with `hooks trigger`, output, lifecycle."""

import asyncio
import base64
import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import time
from typing import Optional

import httpx
import pytest

from argilla_hooks.cli.app import app
from argilla_hooks.events import ALL_EVENTS
from argilla_hooks.receiver.verify import fingerprint
from tests.listener_process import Listener, hooks_executable
from tests.unit.hooks_cli import hooks

SECRET = base64.b64encode(b"k" * 64).decode()
OTHER_SECRET = base64.b64encode(b"o" * 64).decode()

HANDLERS = '''
import json, os
from argilla_hooks import on

OUT = os.environ["HANDLER_OUT"]

def record(**fields):
    with open(OUT, "a") as f:
        f.write(json.dumps(fields, default=str) + "\\n")

@on("dataset.created")
def typed(dataset, type, timestamp):
    print("a handler's print must not reach stdout in --json mode")
    record(handler="typed", type=type, cls=dataset.__class__.__name__, name=dataset.name)

@on("record.*", "ping")
async def asynchronous(type, data):
    record(handler="async", type=type, id=data.get("id"))

@on("response.created")
def flaky(response):
    marker = OUT + ".failed-once"
    if not os.path.exists(marker):
        open(marker, "w").close()
        raise RuntimeError("first attempt fails")
    record(handler="flaky", id=str(response.id))

not_callable = 42

class Counter:
    def __call__(self, type):
        record(handler="instance", type=type)

counter = Counter()

@on("ping")
def pings_only(type):
    pass

async def generator(type):
    yield
'''

NOISY = '''
import os

print("printed while the module is imported")

def quits(type):
    raise SystemExit(3)

def after(type):
    print("the handler after it still runs")

def child(type):
    import os, subprocess
    subprocess.run(["echo", "printed by a child process"], check=True)
    os.write(1, b"written to descriptor 1\\n")

async def hangs(type):
    import asyncio
    open(os.environ["HANDLER_OUT"] + ".started", "w").close()
    await asyncio.sleep(3600)
'''

SLOW_IMPORT = '''
import os, time
open(os.environ["HANDLER_OUT"] + ".importing", "w").close()
time.sleep(60)

def fn(type):
    pass
'''


@pytest.fixture
def app_dir(tmp_path, monkeypatch):
    (tmp_path / "handlers.py").write_text(HANDLERS)
    (tmp_path / "broken.py").write_text("import module_that_does_not_exist_xyz\n\ndef fn(): pass\n")
    (tmp_path / "noisy.py").write_text(NOISY)
    (tmp_path / "failing.py").write_text('def multiline(type):\n    raise ValueError("first line\\nsecond line\\nthird line")\n')
    (tmp_path / "slow_import.py").write_text(SLOW_IMPORT)
    monkeypatch.setenv("HANDLER_OUT", str(tmp_path / "out.jsonl"))
    return tmp_path


def handled(app_dir):
    path = app_dir / "out.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def trigger(url, event, secret=SECRET, *extra):
    return subprocess.run(
        [hooks_executable(), "trigger", event, "--to", url, "--secret", secret, *extra],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )


def listen(*args):
    return hooks("listen", *args)


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("handlers", "defines no @rg.webhook_listener function: name a handler as 'module:function'"),
        ("a:b:c", "handler 'a:b:c' must be"),  # shown as typed: rich would turn ':b:' into an emoji
        ("no_such_module_xyz:fn", "could not import module 'no_such_module_xyz'"),
        ("handlers:missing", "has no attribute 'missing'"),
        ("handlers:not_callable", "is not callable"),
        ("./handlers:typed", "give the module's dotted name"),  # a path: importlib's TypeError looked like a bug
        (".handlers:typed", "give the module's dotted name"),
        # called and then doing nothing, answered 204: the event was lost
        ("handlers:Counter", "is a class: name a function, or an instance"),
        ("handlers:generator", "is a generator (it uses `yield`)"),
    ],
)
def test_bad_target_is_one_line_exit_2_before_binding(app_dir, target, message):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = listen(target, "--secret", SECRET, "--app-dir", str(app_dir), "--port", str(port))
    assert result.exit_code == 2 and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    with socket.socket() as probe:  # nothing was bound: the port is still free
        probe.bind(("127.0.0.1", port))


@pytest.mark.parametrize(("args", "message"), [
    (["--path", "hooks?x=1"], "--path: '/hooks?x=1' must be a plain URL path"),  # printed a URL that always got 404
    (["--host", ""], "--host needs an address"),  # bound every interface and printed http://:PORT/
    (["handlers:pings_only", "--register"], "--register: the handlers take no event a webhook can subscribe to"),
])
def test_listen_settings_that_cannot_work_are_refused_before_anything_binds(app_dir, args, message):
    result = listen(*args, "--secret", SECRET, "--app-dir", str(app_dir), "--port", "0")
    assert result.exit_code == 2 and message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_handlers_are_reported_by_the_target_as_typed(app_dir):
    # reports named an instance by its class (handlers:Counter), so scripts could not match it to the ready line
    with Listener(["handlers:counter", "--secret", SECRET], cwd=app_dir) as listener:
        assert listener.ready["handlers"] == ["handlers:counter"]
        assert trigger(listener.url, "dataset.created").returncode == 0
        assert [h["name"] for h in listener.next_event()["handlers"]] == ["handlers:counter"]
        listener.stop()
    assert handled(app_dir) == [{"handler": "instance", "type": "dataset.created"}]


def test_import_error_inside_the_module_shows_its_traceback(app_dir):
    result = subprocess.run(
        [hooks_executable(), "listen", "broken:fn", "--secret", SECRET, "--app-dir", str(app_dir)],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 1
    assert "Traceback" in result.stderr and "module_that_does_not_exist_xyz" in result.stderr


def test_no_secret_refuses_to_start(monkeypatch):
    monkeypatch.delenv("ARGILLA_WEBHOOK_SECRET", raising=False)
    result = listen()
    assert result.exit_code == 2 and "--no-verify" in result.stderr and "--secret" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--no-verify", "--secret", SECRET], "cannot be combined"),
        (["--webhook", "abc", "--register"], "not both"),
        (["--secret", SECRET, "-e", "dataset.created"], "--register"),
        (["--secret", SECRET, "--max-body", "lots"], "is not a size"),
        (["--secret", SECRET, "--forward-to", "ftp://x"], "--forward-to"),
        (["--secret", SECRET, "--public-url", "nope"], "--public-url"),
        (["--secret", "not base64!"], "--secret: a webhook secret must be base64"),  # before binding or registering
        (["--register", "-e", ""], "at least one event is required"),
        (["--register", "-e", ","], "at least one event is required"),
    ],
)
def test_bad_options_exit_2(args, message):
    result = listen(*args)
    assert result.exit_code == 2 and message in result.stderr


def test_a_bad_secret_in_the_environment_is_named_as_such(monkeypatch):
    monkeypatch.setenv("ARGILLA_WEBHOOK_SECRET", "garbage!")
    result = listen()
    assert result.exit_code == 2 and "ARGILLA_WEBHOOK_SECRET: a webhook secret must be base64" in result.stderr


@pytest.mark.parametrize(
    ("webhook_url", "listen_url", "warned"),
    [
        ("http://localhost:8000/", "http://127.0.0.1:8000/", False),  # all three reach a loopback listener
        ("http://[::1]:8000", "http://127.0.0.1:8000/", False),
        ("http://LOCALHOST:8000/hooks", "http://127.0.0.1:8000/hooks", False),
        ("http://localhost:8001/", "http://127.0.0.1:8000/", True),
        ("http://127.0.0.1:8000/other", "http://127.0.0.1:8000/", True),
        ("http://host.docker.internal:8000/", "http://127.0.0.1:8000/", True),
    ],
)
def test_webhook_elsewhere_is_a_warning_only_when_it_is(capsys, webhook_url, listen_url, warned):
    from argilla_hooks.cli.listen.registration import existing_webhook

    class OneWebhook:
        def get(self, webhook_id):
            return type("Webhook", (), {"url": webhook_url, "enabled": True})()

    existing_webhook(OneWebhook(), "3f2a", listen_url)
    message = capsys.readouterr().err
    assert bool(message) is warned
    if warned:
        assert "deliveries arrive here only if that URL leads to this port" in message


@pytest.mark.parametrize("target", ["http://127.0.0.1:{port}/hook", "http://localhost:{port}/hook",
                                    "http://127.0.0.1:{port}/hook/", "http://127.0.0.1:{port}/hook?x=1"])
def test_forwarding_to_itself_is_refused(target):
    # The receiver takes its path with or without the trailing slash and whatever the query: each spelling looped.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = listen("--secret", SECRET, "--port", str(port), "--path", "/hook", "--forward-to", target.format(port=port))
    assert result.exit_code == 2 and "is this listener: each delivery would be forwarded to itself" in result.stderr


def test_port_in_use_is_one_clear_line_exit_1():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        result = listen("--secret", SECRET, "--port", str(busy.getsockname()[1]))
    assert result.exit_code == 1 and "already in use" in result.stderr


def test_trigger_of_every_event_is_accepted_and_wrong_secret_rejected(app_dir):
    with Listener(["--secret", SECRET]) as listener:
        for event in ALL_EVENTS:
            result = trigger(listener.url, event)
            assert result.returncode == 0, (event, result.stderr)
            line = listener.next_event()
            assert line["type"] == event and line["verified"] is True and line["status"] == 204
        result = trigger(listener.url, "dataset.created", OTHER_SECRET)
        assert result.returncode == 1
        rejected = listener.next()
        assert rejected["kind"] == "rejected" and rejected["status"] == 401
        assert listener.stop() == 0
    # A ping is not counted (it says nothing about data; `hooks listen` sends itself one at start with --register).
    assert listener.stdout_raw[-1].strip() == json.dumps({"kind": "stopped", "handled": len(ALL_EVENTS) - 1})


def test_handlers_get_typed_arguments_and_json_stdout_stays_clean(app_dir):
    with Listener(["handlers:typed", "handlers:asynchronous", "--secret", SECRET], cwd=app_dir) as listener:
        assert listener.ready["handlers"] == ["handlers:typed", "handlers:asynchronous"]
        assert trigger(listener.url, "dataset.created", SECRET, "--data", '{"name": "my-ds"}').returncode == 0
        assert trigger(listener.url, "record.created").returncode == 0
        assert trigger(listener.url, "ping").returncode == 0
        events = [listener.next_event() for _ in range(3)]
        assert listener.stop() == 0
    assert [e["handlers"][0]["name"] for e in events] == ["handlers:typed", "handlers:asynchronous", "handlers:asynchronous"]
    assert handled(app_dir)[0] == {"handler": "typed", "type": "dataset.created", "cls": "Dataset", "name": "my-ds"}
    assert [h["type"] for h in handled(app_dir)[1:]] == ["record.created", "ping"]
    assert "a handler's print" in listener.stderr  # went to stderr, and every stdout line parsed as JSON


def test_failed_handler_answers_500_and_retry_runs_side_effect_once(app_dir):
    from argilla_hooks.trigger import delivery, samples

    body = samples.build_event("response.created")
    with Listener(["handlers:flaky", "--secret", SECRET], cwd=app_dir) as listener:
        first = httpx.post(listener.url, content=body, headers=delivery.sign(SECRET, None, None, body))
        assert first.status_code == 500
        assert listener.next_event()["handlers"][0]["ok"] is False
        # Argilla retries with a new webhook-id and timestamp, same body.
        second = httpx.post(listener.url, content=body, headers=delivery.sign(SECRET, None, None, body))
        third = httpx.post(listener.url, content=body, headers=delivery.sign(SECRET, None, None, body))
        assert (second.status_code, third.status_code) == (204, 200)
        listener.stop()
    assert [h["handler"] for h in handled(app_dir)] == ["flaky"]


def test_json_stdout_stays_clean_of_prints_at_import_and_a_handler_exiting_fails_only_its_delivery(app_dir):
    with Listener(["noisy:quits", "noisy:after", "--secret", SECRET], cwd=app_dir) as listener:
        assert trigger(listener.url, "dataset.created").returncode == 1  # answered 500
        event = listener.next_event()
        assert trigger(listener.url, "ping").returncode == 0  # still serving
        assert listener.stop() == 0
    assert event["status"] == 500 and [h["ok"] for h in event["handlers"]] == [False, True]
    assert event["handlers"][0]["error"] == "SystemExit: 3"
    assert "printed while the module is imported" in listener.stderr  # and every stdout line parsed as JSON


def test_ready_lists_every_event_the_handlers_take_ping_included(app_dir):
    with Listener(["noisy:after", "handlers:asynchronous", "--secret", SECRET], cwd=app_dir) as listener:
        listener.stop()
    assert listener.ready["events"] == list(ALL_EVENTS)  # noisy:after takes the 11, asynchronous asks for ping too


def test_no_verify_outranks_a_secret_in_the_environment():
    with Listener(["--no-verify"], env={"ARGILLA_WEBHOOK_SECRET": SECRET}) as listener:
        assert listener.ready["verify"] is False
        assert httpx.post(listener.url, json={"type": "ping", "version": 1, "timestamp": "2026-11-27T21:30:19Z", "data": {}}).status_code == 204
        listener.stop()


def test_exit_after_counts_only_events_that_reached_a_handler(app_dir):
    with Listener(["handlers:typed", "--secret", SECRET, "--exit-after", "1"], cwd=app_dir) as listener:
        trigger(listener.url, "ping")  # answered, but no handler wants it
        trigger(listener.url, "record.created")  # nor this one
        assert listener.proc.poll() is None
        assert trigger(listener.url, "dataset.created").returncode == 0  # refused, had either counted
        assert listener.proc.wait(timeout=30) == 0
    assert [h["type"] for h in handled(app_dir)] == ["dataset.created"]


def test_no_verify_warns_and_marks_events_unverified():
    with Listener(["--no-verify"]) as listener:
        response = httpx.post(listener.url, json={"type": "ping", "version": 1, "timestamp": "2026-11-27T21:30:19.154092Z", "data": {}})
        assert response.status_code == 204
        assert listener.next_event()["verified"] is False
        listener.stop()
    assert "warning" in listener.stderr and "--no-verify" in listener.stderr


def test_exit_after_n_events_exits_0_on_its_own():
    with Listener(["--secret", SECRET, "--exit-after", "2"]) as listener:
        trigger(listener.url, "dataset.created")
        trigger(listener.url, "dataset.updated")
        assert listener.proc.wait(timeout=30) == 0


def test_sigterm_exits_0(app_dir):
    with Listener(["--secret", SECRET]) as listener:
        assert listener.stop(signal.SIGTERM) == 0
    assert json.loads(listener.stdout_raw[-1]) == {"kind": "stopped", "handled": 0}


_started: list[subprocess.Popen] = []


@pytest.fixture(autouse=True)
def _no_process_left():
    # A test that fails between starting a `hooks` process (in _started) and stopping it must not leave it serving:
    # one failed run left a listener behind for half an hour.
    yield
    while _started:
        proc = _started.pop()
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def plain_listener(*targets: str, cwd=None) -> tuple[subprocess.Popen, str]:
    """`hooks listen` without --json, its stdout a pipe; returns it once its three banner lines are read, and its URL.
    `targets` may hold options too."""
    proc = subprocess.Popen(
        [hooks_executable(), "listen", *targets, "--secret", SECRET, "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
        env={**os.environ, "NO_COLOR": "1"}, cwd=cwd,
    )
    _started.append(proc)
    try:
        banner = proc.stdout.readline()
        assert banner.startswith("hooks listen on http://127.0.0.1:") and "verifying signatures" in banner, banner
        for _ in range(2):  # the rest of the banner: events, handlers
            proc.stdout.readline()
    except BaseException:
        proc.kill()  # a failed test must not leave a listener behind
        proc.wait()
        raise
    return proc, banner.split()[3]


def test_a_401_line_says_what_to_compare_without_showing_a_secret():
    # Issue 18, item 7: "no webhook-signature matches the secret" gave no next step.
    proc, url = plain_listener()
    assert trigger(url, "dataset.created", OTHER_SECRET).returncode == 1
    line = proc.stdout.readline()
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=30)
    assert "rejected 401" in line and "(this listener verifies with --secret)" in line
    assert f"fingerprint {fingerprint(SECRET)}" in line and "`hooks show ID` prints a webhook's fingerprint" in line
    assert SECRET not in line and OTHER_SECRET not in line


def test_plain_text_output_when_not_a_terminal():
    proc, url = plain_listener()
    assert trigger(url, "record.completed").returncode == 0
    line = proc.stdout.readline()
    proc.send_signal(signal.SIGINT)
    rest = proc.stdout.read()  # not communicate(): readline() may have buffered part of it already
    proc.wait(timeout=30)
    assert "record.completed" in line and "verified" in line and "204" in line
    assert "\x1b[" not in line + rest  # no colour codes in a pipe


def stop_plain(proc: subprocess.Popen) -> str:
    proc.send_signal(signal.SIGINT)
    rest = proc.stdout.read()
    proc.wait(timeout=30)
    return rest


def test_plain_text_is_one_line_per_delivery_whatever_the_handler_raised(app_dir):
    proc, url = plain_listener("failing:multiline", cwd=app_dir)
    assert trigger(url, "dataset.created").returncode == 1  # 500
    line = proc.stdout.readline()
    assert "failing:multiline FAILED ValueError: first line …" in line and "second line" not in line
    assert stop_plain(proc).startswith("stopped after")  # the next line already: nothing of the error in between


@pytest.mark.parametrize("targets", [(), ("failing:multiline",)], ids=["printer", "handler"])
def test_plain_verbose_text_is_one_line_per_delivery_too(app_dir, targets):
    # -v printed the headers and a 100-line body below each piped delivery line.
    proc, url = plain_listener(*targets, "-v", cwd=app_dir)
    trigger(url, "dataset.created", SECRET, "--data", '{"name": "one-line"}')
    line = proc.stdout.readline()
    assert '"webhook-signature": "v1,' in line and '"name": "one-line"' in line
    assert stop_plain(proc).startswith("stopped after")


def test_plain_text_printer_puts_the_data_on_the_deliverys_line():
    proc, url = plain_listener()
    assert trigger(url, "dataset.created", SECRET, "--data", '{"name": "one-line"}').returncode == 0
    line = proc.stdout.readline()
    assert "dataset.created" in line and '"name": "one-line"' in line
    assert stop_plain(proc).startswith("stopped after")


def test_json_verbose_puts_a_failing_handlers_traceback_on_stderr(app_dir):
    # the same target twice runs once, and reports are named by the target as typed
    with Listener(["failing:multiline", "failing:multiline", "--secret", SECRET, "-v"], cwd=app_dir) as listener:
        assert listener.ready["handlers"] == ["failing:multiline"]
        trigger(listener.url, "dataset.created")
        event = listener.next_event()
        assert event["status"] == 500 and [h["name"] for h in event["handlers"]] == ["failing:multiline"]
        listener.stop()
    assert "Traceback" in listener.stderr and "failing.py" in listener.stderr and "third line" in listener.stderr


def test_healthz_and_wrong_path_and_method():
    with Listener(["--secret", SECRET, "--path", "/argilla"]) as listener:
        base = listener.url.rsplit("/argilla", 1)[0]
        assert httpx.get(base + "/healthz").status_code == 200
        assert httpx.head(base + "/healthz").status_code == 200  # through uvicorn, which drops the body of a HEAD
        assert httpx.post(base + "/other", content=b"{}").status_code == 404
        assert httpx.get(listener.url).status_code == 405
        listener.stop()


def test_json_stdout_stays_clean_of_child_processes_and_raw_writes(app_dir):
    with Listener(["noisy:child", "--secret", SECRET], cwd=app_dir) as listener:
        assert trigger(listener.url, "dataset.created").returncode == 0
        assert listener.next_event()["status"] == 204
        assert listener.stop() == 0
    # Every stdout line parsed as JSON (Listener checks); what bypassed sys.stdout went to stderr.
    assert "printed by a child process" in listener.stderr and "written to descriptor 1" in listener.stderr


def test_reader_of_stdout_going_away_stops_the_listener_quietly():
    proc = subprocess.Popen(
        [hooks_executable(), "listen", "--secret", SECRET, "--port", "0", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
    )
    _started.append(proc)
    url = json.loads(proc.stdout.readline())["url"]
    proc.stdout.close()  # like `hooks listen --json | head -1`
    # At once, not at the next delivery's line: a script reading the ready line this way left a listener running.
    assert proc.wait(timeout=10) == 1
    assert proc.stderr.read() == ""  # no traceback, no message: the reader chose to stop reading
    assert trigger(url, "dataset.created").returncode == 1  # no longer listening


def test_a_named_pipe_opened_for_reading_too_is_not_taken_for_a_reader_gone(tmp_path):
    # `hooks listen --json 1<>fifo`: such a descriptor polls readable with the listener's own output, which stopped it.
    fifo = tmp_path / "out"
    os.mkfifo(fifo)
    out = os.open(fifo, os.O_RDWR)
    try:
        proc = subprocess.Popen(
            [hooks_executable(), "listen", "--secret", SECRET, "--port", "0", "--json"],
            stdout=out, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
        )
        _started.append(proc)
        with open(fifo, encoding="utf-8") as reader:  # our own reader, which keeps reading
            url = json.loads(reader.readline())["url"]
            assert trigger(url, "dataset.created").returncode == 0
            assert json.loads(reader.readline())["kind"] == "event"
            assert proc.poll() is None
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=30) == 0
            assert json.loads(reader.readline())["kind"] == "stopped"
    finally:
        os.close(out)


def test_ctrl_c_waits_for_in_flight_and_a_second_one_stops_now_with_exit_130(app_dir):
    started = app_dir / "out.jsonl.started"
    with Listener(["noisy:hangs", "--secret", SECRET], cwd=app_dir) as listener:
        sender = subprocess.Popen(
            [hooks_executable(), "trigger", "dataset.created", "--to", listener.url, "--secret", SECRET],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
        )
        _started.append(sender)
        _wait_for(started.exists)
        listener.proc.send_signal(signal.SIGINT)
        _wait_for(lambda: "in-flight" in listener.stderr)
        assert "waiting up to 30 s for 1 in-flight delivery" in listener.stderr
        assert listener.stop(signal.SIGINT) == 130
        sender.wait(timeout=30)
    assert "stopped before 1 in-flight delivery finished" in listener.stderr
    assert "Traceback" not in listener.stderr and "CancelledError" not in listener.stderr


def test_sigterm_while_starting_up_still_exits_through_the_clean_up(app_dir):
    proc = subprocess.Popen(
        [hooks_executable(), "listen", "slow_import:fn", "--secret", SECRET, "--port", "0", "--json"],
        cwd=app_dir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
    )
    _started.append(proc)
    _wait_for((app_dir / "out.jsonl.importing").exists)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 130  # as for Ctrl-C, not killed by the signal (-15) before any `finally` ran
    assert proc.stdout.read() == "" and "Traceback" not in proc.stderr.read()


def test_signals_deferred_holds_ctrl_c_until_the_block_ends():
    from argilla_hooks.cli.listen import signals

    reached_end = False
    with pytest.raises(KeyboardInterrupt):
        with signals.deferred():
            os.kill(os.getpid(), signal.SIGINT)
            reached_end = True  # e.g. the id of the webhook just created is stored
    assert reached_end


def _wait_for(condition, timeout=30.0):
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_exit_after_handles_exactly_n_of_many_concurrent_deliveries(app_dir):
    from argilla_hooks.trigger import delivery, samples

    with Listener(["noisy:after", "--secret", SECRET, "--exit-after", "2"], cwd=app_dir) as listener:
        bodies = [samples.build_event("dataset.created") for _ in range(8)]

        async def send_all():
            async with httpx.AsyncClient() as client:
                return await asyncio.gather(
                    *(client.post(listener.url, content=b, headers=delivery.sign(SECRET, None, None, b)) for b in bodies),
                    return_exceptions=True,
                )

        answers = asyncio.run(send_all())
        assert listener.proc.wait(timeout=30) == 0
    statuses = sorted(a.status_code if isinstance(a, httpx.Response) else "refused" for a in answers)
    assert statuses.count(204) == 2 and set(statuses) - {204} <= {503, "refused"}
    assert listener.stderr.count("the handler after it still runs") == 2
    assert json.loads(listener.stdout_raw[-1]) == {"kind": "stopped", "handled": 2}


def test_text_output_shows_control_characters_from_a_delivery_escaped():
    proc, url = plain_listener()
    assert trigger(url, "dataset.created", SECRET, "--data", '{"name": "evil\\u001b]0;PWNED\\u0007\\u001b[2J"}').returncode == 0
    line = proc.stdout.readline()
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=30)
    assert "evil\\x1b]0;PWNED\\x07\\x1b[2J" in line and "\x1b" not in line


def test_an_ascii_only_stdout_still_gets_every_line(app_dir):
    # Under LC_ALL=C without UTF-8 mode every delivery line used to raise UnicodeEncodeError (the ✓ alone did), so
    # --exit-after never counted and the listener ran on.
    env = {"LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONIOENCODING": "ascii", "LANG": None, "LC_CTYPE": None}
    with Listener(["--secret", SECRET, "--exit-after", "1"], env=env) as listener:
        assert trigger(listener.url, "dataset.created", SECRET, "--data", '{"name": "été ✓"}').returncode == 0
        assert listener.next_event()["data"]["name"] == "été ✓"
        assert listener.proc.wait(timeout=30) == 0
    assert "Traceback" not in listener.stderr


def test_a_password_in_a_forward_target_is_not_output():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]
    target = f"http://user:SECRETPW@127.0.0.1:{dead}/"
    with Listener(["--secret", SECRET, "--forward-to", target]) as listener:
        assert listener.ready["forward_to"] == [f"http://***@127.0.0.1:{dead}/"]
        assert trigger(listener.url, "dataset.created").returncode == 1  # 502: the target is down
        assert listener.next_event()["forwards"][0]["url"] == f"http://***@127.0.0.1:{dead}/"
        listener.stop()
    assert "SECRETPW" not in "".join(listener.stdout_raw) + listener.stderr


def test_deliveries_cut_by_the_end_of_the_grace_period_are_counted(monkeypatch):
    # The whole 30 s grace period is too long for a test: the same Listener, with 1 s, and a handler that never ends.
    import io
    import threading

    from argilla_hooks.cli.listen import serving
    from argilla_hooks.cli.listen.config import ListenConfig
    from argilla_hooks.cli.listen.output import Printer
    from argilla_hooks.cli.listen.session import bind
    from argilla_hooks.receiver import Handler

    async def never_ends(type):
        await asyncio.sleep(3600)

    monkeypatch.setattr(serving, "GRACE", 1)
    printer = Printer(io.StringIO(), as_json=True, verbose=False, show_data=False)
    listener = serving.Listener(ListenConfig(verify=False), [Handler(never_ends)], [], printer)
    sock = bind("127.0.0.1", 0)
    ready = threading.Event()
    server = threading.Thread(target=listener.run, args=(sock, ready.set), daemon=True)
    server.start()
    assert ready.wait(10)
    event = json.dumps({"type": "dataset.created", "timestamp": "2026-11-27T21:30:19Z", "data": {"id": "x"}})
    threading.Thread(target=lambda: httpx.post(f"http://127.0.0.1:{sock.getsockname()[1]}/", content=event, timeout=30), daemon=True).start()
    deadline = time.monotonic() + 10
    while not listener.tally.in_flight and time.monotonic() < deadline:
        time.sleep(0.02)
    listener.stop()  # as one Ctrl-C or SIGTERM does
    server.join(20)
    assert not server.is_alive() and listener.tally.cut_short == 1


def test_an_endless_request_head_is_cut_off_and_a_big_body_is_not():
    # uvicorn's httptools protocol sets no limit on headers: one connection could grow the listener without end
    with Listener(["--no-verify"]) as listener:
        port = listener.ready["port"]
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nX-Big: ")
            with pytest.raises(OSError):  # reset once the head passes the limit
                for _ in range(1024):  # 64 MiB at most
                    sock.sendall(b"a" * 65536)
        body = json.dumps({"type": "dataset.created", "timestamp": "2026-11-27T21:30:19Z",
                           "data": {"id": "x", "big": "a" * (8 * 1024 * 1024)}})
        assert httpx.post(listener.url, content=body, headers={"content-type": "application/json"}).status_code == 204
        # Its 8 MiB JSON line arrives whole (Listener fails on a line that is not JSON): watching stdout for its
        # reader going away once made the pipe non-blocking, and the line stopped at 64 KiB.
        assert len(listener.next_event()["data"]["big"]) == 8 * 1024 * 1024
        listener.stop()


@contextlib.contextmanager
def served_with_head_limits(app, monkeypatch, timeout: float, refused: Optional[list] = None):
    """`app` on a stock uvicorn Server with `hooks listen`'s head limits, its head time limit set to `timeout`, in a
    thread; what the protocol answers itself goes into `refused` as (status, reason)."""
    import threading

    import uvicorn

    from argilla_hooks.cli.listen import http_limits

    monkeypatch.setattr(http_limits, "REQUEST_TIMEOUT", timeout)
    protocol = http_limits.limited_protocol(lambda status, reason: refused.append((status, reason)) if refused is not None else None)
    server = uvicorn.Server(uvicorn.Config(app, http=protocol, lifespan="off", log_level="critical"))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(30)
        assert not thread.is_alive()


def _answers(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    sock.settimeout(20)
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


EVENT = json.dumps({"type": "dataset.created", "timestamp": "2026-11-27T21:30:19Z", "data": {"id": "x"}}).encode()


@pytest.mark.parametrize("sent", [b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{", b"POST / HTTP/1.1\r\nHost: x\r\n",
                                  b"POST / HTTP/1.1\r\nHo", b""],
                         ids=["a body that never comes", "headers that never end", "a header cut in two", "nothing at all"])
def test_a_request_that_stops_arriving_is_answered_408_and_the_listener_serves_on(sent, monkeypatch):
    # uvicorn waits for ever on such a client: its connection stayed open, and a Ctrl-C waited out the grace period.
    from argilla_hooks import create_app

    refused = []
    with served_with_head_limits(create_app(verify=False, body_timeout=None), monkeypatch, timeout=0.5, refused=refused) as port:
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(sent)
            started = time.monotonic()
            answer = _answers(sock)
        if sent:
            assert answer.startswith(b"HTTP/1.1 408 ") and answer.endswith(b"request not complete within 0.5 s")
            assert refused == [(408, "request not complete within 0.5 s")]  # `hooks listen` prints it as rejected
        else:
            assert answer == b"" and refused == []  # closed: there was no request to answer
        assert 0.4 < time.monotonic() - started < 10
        assert httpx.post(f"http://127.0.0.1:{port}/", content=EVENT).status_code == 204


def test_a_requests_time_counts_from_its_start_not_from_the_connections(monkeypatch):
    # A connection that waited before sending got its 408 early: the timer set when it opened ran on.
    from argilla_hooks import create_app

    with served_with_head_limits(create_app(verify=False, body_timeout=None), monkeypatch, timeout=1.0) as port:
        with socket.create_connection(("127.0.0.1", port)) as sock:
            time.sleep(0.7)
            sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{")
            began = time.monotonic()
            answer = _answers(sock)
        assert answer.startswith(b"HTTP/1.1 408 ") and time.monotonic() - began > 0.9


def test_a_read_holding_a_big_request_and_the_next_head_is_not_taken_for_a_huge_head(monkeypatch):
    from argilla_hooks import create_app

    event = json.dumps({"type": "dataset.created", "timestamp": "2026-11-27T21:30:19Z",
                        "data": {"id": "x", "big": "a" * 100_000}}).encode()
    first = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(event), event)
    with served_with_head_limits(create_app(verify=False, body_timeout=None), monkeypatch, timeout=0.5) as port:
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(first + b"POST / HTTP/1.1\r\nHost: x\r\n")
            answer = _answers(sock)
    assert answer.startswith(b"HTTP/1.1 204 ") and b"HTTP/1.1 408 " in answer and b"431" not in answer


@pytest.mark.parametrize(
    ("pieces", "where"),
    [([70_000], "header"), ([190_000], "header"), ([1_000, 69_000], "header"), ([70_000], "request line")],
    ids=["70 kB at once", "190 kB at once", "70 kB in two", "a 70 kB request line"],
)
def test_a_request_head_over_64_kib_is_answered_431_however_it_arrives(pieces, where, monkeypatch, caplog):
    # A request line over 64 KiB was answered 400 by the parser, unreported.
    from argilla_hooks import create_app
    from argilla_hooks.cli.listen.http_limits import MAX_HEAD

    if where == "header":
        head = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nX-Big: " % len(EVENT)
        request = head + b"a" * (sum(pieces) - len(head)) + b"\r\n\r\n" + EVENT
    else:
        request = b"POST /" + b"a" * sum(pieces) + b" HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(EVENT), EVENT)
    ran, refused = [], []

    async def app(scope, receive, send):
        ran.append(scope["path"])
        await create_app(verify=False)(scope, receive, send)

    with served_with_head_limits(app, monkeypatch, timeout=5, refused=refused) as port:
        with socket.create_connection(("127.0.0.1", port)) as sock:
            at = 0
            for size in pieces[:-1]:
                sock.sendall(request[at : at + size])
                at += size
                time.sleep(0.2)  # a read of its own
            sock.sendall(request[at:])
            answer = _answers(sock)
        # A head just under the limit, in one read, is still a delivery.
        fits = b"POST / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (MAX_HEAD - 200) + b"\r\nContent-Length: %d\r\n\r\n" % len(EVENT)
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(fits + EVENT)
            sock.settimeout(20)
            accepted = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 431 ") and answer.count(b"HTTP/1.1") == 1, answer[:300]
    assert refused == [(431, f"request head larger than {MAX_HEAD} bytes")] and ran == ["/"]  # only the head that fits
    assert accepted.startswith(b"HTTP/1.1 204 ")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]  # a traceback followed each refusal


def test_the_uvicorn_installed_is_one_the_head_limits_were_tested_on():
    # http_limits relies on uvicorn beyond its documented API: outside the range pyproject.toml allows, fail loudly.
    import re
    import sys
    from importlib.metadata import version
    from pathlib import Path

    from argilla_hooks.cli.listen import http_limits

    http_limits.check()
    tomllib = __import__("tomllib" if sys.version_info >= (3, 11) else "tomli")
    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    [spec] = [d for d in pyproject["project"]["dependencies"] if d.startswith("uvicorn")]
    low, high = re.fullmatch(r"uvicorn>=([\d.]+),<([\d.]+)", spec).groups()
    as_tuple = lambda text: tuple(int(part) for part in text.split(".")[:2])  # noqa: E731
    assert as_tuple(low) <= as_tuple(version("uvicorn")) < as_tuple(high), (version("uvicorn"), spec)
