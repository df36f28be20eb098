"""`hooks listen`'s journal and `hooks deliveries` (list, show, replay, export), against real `hooks listen` processes
and `hooks trigger` deliveries; no Argilla server."""

from __future__ import annotations

import base64
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import httpx
import pytest

from argilla_hooks.receiver.verify import fingerprint
from argilla_hooks.trigger import delivery, samples
from tests.listener_process import Listener, hooks_executable
from tests.unit.hooks_cli import hooks

SECRET = base64.b64encode(b"k" * 64).decode()
OTHER_SECRET = base64.b64encode(b"o" * 64).decode()

HANDLERS = '''
import os
from argilla_hooks import on

@on("dataset.created")
def fragile(dataset):
    if os.path.exists(os.environ["BREAK_MARKER"]):
        raise RuntimeError(f"cannot handle {dataset.name}")
    with open(os.environ["HANDLED"], "a") as f:
        f.write(dataset.name + "\\n")
'''


@pytest.fixture
def app_dir(tmp_path, monkeypatch):
    (tmp_path / "handlers.py").write_text(HANDLERS)
    monkeypatch.setenv("BREAK_MARKER", str(tmp_path / "broken"))
    monkeypatch.setenv("HANDLED", str(tmp_path / "handled.txt"))
    monkeypatch.setenv("ARGILLA_HOOKS_JOURNAL", str(tmp_path / "journal.sqlite3"))
    monkeypatch.delenv("ARGILLA_WEBHOOK_SECRET", raising=False)
    return tmp_path


def handled(app_dir):
    path = app_dir / "handled.txt"
    return path.read_text().split() if path.exists() else []


def trigger(url, event="dataset.created", secret=SECRET, *extra):
    return subprocess.run([hooks_executable(), "trigger", event, "--to", url, "--secret", secret, *extra],
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)  # fmt: skip


def listed(*args):
    result = hooks("deliveries", "list", "--json", *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_a_failed_delivery_is_listed_with_its_error_then_replayed_after_the_fix(app_dir):
    (app_dir / "broken").touch()
    with Listener(["handlers:fragile", "--secret", SECRET], cwd=app_dir) as listener:
        assert trigger(listener.url, "dataset.created", SECRET, "--data", '{"name": "ds-1"}').returncode == 1
        [entry] = listed()
        assert (entry["status"], entry["verdict"], entry["type"]) == (500, "failed", "dataset.created")
        assert entry["error"] == "RuntimeError: cannot handle ds-1" and entry["handlers"][0]["name"] == "handlers:fragile"
        assert entry["listener"]["url"] == listener.url
        (app_dir / "broken").unlink()  # the fix
        replayed = hooks("deliveries", "replay", "--last", env={"ARGILLA_WEBHOOK_SECRET": SECRET})
        assert replayed.exit_code == 0, replayed.stderr
        assert f"answered 204 to the replay of dataset.created {entry['id'][:8]}" in replayed.stderr
        line = listener.next_event()
        assert line["status"] == 500 and listener.next_event()["replay"] is True
        listener.stop()
    assert handled(app_dir) == ["ds-1"]
    newest = listed()[0]
    assert newest["replay"] is True and newest["status"] == 204 and newest["webhook_id"].startswith("replay_")


def test_list_filters_and_the_text_table(app_dir):
    with Listener(["--secret", SECRET], cwd=app_dir) as listener:
        for event in ("dataset.created", "record.created", "record.completed"):
            assert trigger(listener.url, event).returncode == 0
        assert trigger(listener.url, "dataset.created", OTHER_SECRET).returncode == 1
        listener.stop()
    assert [e["type"] for e in listed()] == ["dataset.created", "record.completed", "record.created", "dataset.created"]
    assert [e["type"] for e in listed("--type", "record.*")] == ["record.completed", "record.created"]
    assert [e["status"] for e in listed("--status", "4xx")] == [401] == [e["status"] for e in listed("--rejected")]
    assert [e["cause"] for e in listed("--status", "401")] == ["wrong-secret"]
    assert len(listed("-n", "2")) == 2
    piped = [line.split("\t") for line in hooks("deliveries", "list").stdout.splitlines()]  # tab-separated, as `list`
    assert piped[0] == ["ID", "RECEIVED", "STATUS", "TYPE", "RESOURCE", "OUTCOME"] and {len(row) for row in piped} == {6}
    assert piped[1][2] == "401" and f"fingerprint {fingerprint(SECRET)}" in piped[1][5] and piped[2][5] == "handled"


def test_show_prints_the_delivery_its_headers_and_its_body_as_received(app_dir):
    with Listener(["--secret", SECRET], cwd=app_dir) as listener:
        assert trigger(listener.url, "record.completed").returncode == 0
        webhook_id = listener.next_event()["webhook_id"]
        listener.stop()
    short = listed()[0]["id"][:6]
    text = hooks("deliveries", "show", short, "--headers").stdout
    assert "status:" in text and "204 (handled)" in text and f"webhook-id: {webhook_id}" in text
    assert f"webhook-signature:" in text and "x-argilla" not in text
    body = hooks("deliveries", "show", short, "--body").stdout
    assert json.loads(body)["type"] == "record.completed"
    shown = json.loads(hooks("deliveries", "show", short, "--json").stdout)
    assert shown["body"] == body and shown["headers"]["webhook-id"] == webhook_id


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["show", "ffffffffff"], 4, "no delivery with id 'ffffffffff'"),
        (["show", "not-hex"], 4, "ids are hexadecimal"),
        (["list", "--status", "5x"], 2, "--status '5x' is not a status"),
        (["export", "0", "--as", "yaml"], 2, "--as 'yaml' is not one of curl, http, pytest"),
        (["replay"], 2, "give a delivery ID or --last"),
    ],
)
def test_bad_input_is_one_line_and_its_exit_code(app_dir, args, code, message):
    with Listener(["--secret", SECRET], cwd=app_dir) as listener:
        assert trigger(listener.url).returncode == 0
        listener.stop()
    result = hooks("deliveries", *args)
    assert result.exit_code == code and message in result.stderr and len(result.stderr.splitlines()) == 1, result.stderr


def test_no_journal_yet_is_exit_4_and_says_who_writes_one(tmp_path):
    result = hooks("deliveries", "list", "--journal", str(tmp_path / "none.sqlite3"))
    assert result.exit_code == 4 and "`hooks listen` writes one" in result.stderr


def test_replay_without_a_secret_says_where_to_get_one_and_a_wrong_one_is_warned_of(app_dir):
    with Listener(["--secret", SECRET], cwd=app_dir) as listener:
        assert trigger(listener.url).returncode == 0
        listener.next_event()
        result = hooks("deliveries", "replay", "--last")
        assert result.exit_code == 2 and "no secret to sign with: pass --secret, set ARGILLA_WEBHOOK_SECRET" in result.stderr
        result = hooks("deliveries", "replay", "--last", "--secret", OTHER_SECRET)
        assert result.exit_code == 1
        assert f"(fingerprint {fingerprint(OTHER_SECRET)}), but the listener that received" in result.stderr
        assert f"verifies with {fingerprint(SECRET)}: it will answer 401" in result.stderr
        listener.stop()


def test_replay_to_a_listener_that_is_gone_says_so(app_dir):
    with Listener(["--secret", SECRET], cwd=app_dir) as listener:
        assert trigger(listener.url).returncode == 0
        listener.stop()
    result = hooks("deliveries", "replay", "--last", "--secret", SECRET)
    assert result.exit_code == 1 and "is the receiver running?" in result.stderr


def test_replay_run_calls_the_handlers_here_without_a_server_or_secret(app_dir):
    (app_dir / "broken").touch()
    with Listener(["handlers:fragile", "--secret", SECRET], cwd=app_dir) as listener:
        trigger(listener.url, "dataset.created", SECRET, "--data", '{"name": "ds-2"}')
        listener.stop()
    args = ["deliveries", "replay", "--last", "--run", "handlers:fragile", "--app-dir", str(app_dir)]
    failed = subprocess.run([hooks_executable(), *args], capture_output=True, text=True, timeout=60, cwd=app_dir)
    assert failed.returncode == 1 and "Traceback" in failed.stderr and "RuntimeError: cannot handle ds-2" in failed.stderr
    (app_dir / "broken").unlink()
    ok = subprocess.run([hooks_executable(), *args], capture_output=True, text=True, timeout=60, cwd=app_dir)
    assert ok.returncode == 0, ok.stderr
    assert "handlers:fragile ran on dataset.created" in ok.stderr and handled(app_dir) == ["ds-2"]


def test_exported_curl_is_accepted_by_a_listener_with_the_same_secret(app_dir):
    with Listener(["handlers:fragile", "--secret", SECRET], cwd=app_dir) as listener:
        assert trigger(listener.url, "dataset.created", SECRET, "--data", '{"name": "ds-3"}').returncode == 0
        listener.next_event()
        entry_id = listed()[0]["id"]
        exported = hooks("deliveries", "export", entry_id, "--as", "curl", "--secret", SECRET)
        assert exported.exit_code == 0, exported.stderr
        assert exported.stdout.startswith(f"curl -sS -X POST {listener.url}")
        sent = subprocess.run(["bash", "-c", exported.stdout.rstrip() + " -w '%{http_code}'"], capture_output=True, text=True, timeout=60)
        assert sent.stdout.endswith("204"), sent
        assert listener.next_event()["replay"] is True
        http = hooks("deliveries", "export", entry_id[:8], "--as", "http", "--secret", SECRET).stdout
        assert http.startswith(f"POST {listener.url} HTTP/1.1\nContent-Type".replace("Content-Type", "content-type"))
        listener.stop()
    assert handled(app_dir) == ["ds-3", "ds-3"]


def test_exported_pytest_calls_the_handler_with_that_payload(app_dir):
    with Listener(["handlers:fragile", "--secret", SECRET], cwd=app_dir) as listener:
        assert trigger(listener.url, "dataset.created", SECRET, "--data", '{"name": "ds-4"}').returncode == 0
        listener.stop()
    written = hooks("deliveries", "export", listed()[0]["id"], "--as", "pytest")
    assert written.exit_code == 0, written.stderr
    (app_dir / "test_exported.py").write_text(written.stdout)
    run = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_exported.py"]
    env = {**os.environ, "PYTHONPATH": str(app_dir)}
    assert subprocess.run(run, cwd=app_dir, capture_output=True, text=True, env=env, timeout=120).returncode == 0
    (app_dir / "broken").touch()
    failing = subprocess.run(run, cwd=app_dir, capture_output=True, text=True, env=env, timeout=120)
    assert failing.returncode == 1 and "RuntimeError: cannot handle ds-4" in failing.stdout
    assert handled(app_dir) == ["ds-4", "ds-4"]


def test_a_delivery_answered_2xx_is_in_the_journal_even_when_the_listener_is_killed_right_after(app_dir):
    for attempt in range(5):
        with Listener(["--secret", SECRET], cwd=app_dir) as listener:
            body = samples.build_event("record.created")
            answer = httpx.post(listener.url, content=body, headers=delivery.sign(SECRET, None, None, body))
            listener.proc.send_signal(signal.SIGKILL)  # the moment the 2xx is read: no shutdown, no flush, no checkpoint
            assert answer.status_code == 204
            listener.proc.wait(10)
        with sqlite3.connect(app_dir / "journal.sqlite3") as db:
            bodies = [row[0] for row in db.execute("SELECT body FROM deliveries")]
        assert body in bodies and len(bodies) == attempt + 1
    # and the journal's writer process ended with its listener
    deadline = time.monotonic() + 10
    while writers(app_dir / "journal.sqlite3"):
        assert time.monotonic() < deadline, "a journal writer outlived its listener"
        time.sleep(0.1)


def writers(journal) -> list[str]:
    """The pids of the journal writer processes of `journal`."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            command = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
        except OSError:
            continue
        if b"argilla_hooks.journal_file" in command and str(journal).encode() in command:
            found.append(pid)
    return found


def test_no_journal_records_nothing_and_a_bad_path_is_one_line(app_dir, tmp_path):
    with Listener(["--secret", SECRET, "--no-journal"], cwd=app_dir) as listener:
        assert trigger(listener.url).returncode == 0
        listener.stop()
    assert not (app_dir / "journal.sqlite3").exists()
    (tmp_path / "a-directory").mkdir()
    result = hooks("listen", "--secret", SECRET, "--journal", str(tmp_path / "a-directory"), "--port", "0")
    assert result.exit_code == 1 and "cannot open the journal" in result.stderr and len(result.stderr.splitlines()) == 1
    assert hooks("listen", "--secret", SECRET, "--journal", "x", "--no-journal").exit_code == 2
    # Read: a directory is no journal, not a missing one ("no journal at ...", exit 4, as if nothing had been written).
    result = hooks("deliveries", "list", "--journal", str(tmp_path / "a-directory"))
    assert result.exit_code == 1 and result.stderr == f"error: {tmp_path / 'a-directory'} is not a journal: it is not a file (--journal PATH chooses another file)\n"


def test_two_listeners_share_one_journal(app_dir):
    with Listener(["--secret", SECRET], cwd=app_dir) as first, Listener(["--secret", SECRET], cwd=app_dir) as second:
        for i in range(10):
            assert trigger((first, second)[i % 2].url, "record.created").returncode == 0
        first.stop()
        second.stop()
    urls = [e["listener"]["url"] for e in listed("-n", "100")]
    assert len(urls) == 10 and set(urls) == {first.url, second.url}


def test_journal_keep_bounds_the_journal(app_dir):
    with Listener(["--secret", SECRET, "--journal-keep", "3"], cwd=app_dir) as listener:
        for _ in range(6):
            assert trigger(listener.url, "record.created").returncode == 0
        listener.stop()
    assert len(listed("-n", "100")) == 3


def test_hooks_show_prints_the_fingerprint_a_401_names(fake_argilla):
    webhook = fake_argilla.add()
    result = hooks("show", webhook["id"][:8])
    assert f"fingerprint: {fingerprint(webhook['secret'])}" in result.stdout and webhook["secret"] not in result.stdout
    time.sleep(0)


def test_delivery_ids_complete_from_the_journal(app_dir):
    from argilla_hooks.cli.completion import delivery_ids

    with Listener(["--secret", SECRET], cwd=app_dir) as listener:
        assert trigger(listener.url, "record.created").returncode == 0
        listener.stop()
    [entry] = listed()
    ctx = type("Context", (), {"params": {"journal": os.environ["ARGILLA_HOOKS_JOURNAL"]}})()  # (click puts an envvar there)
    assert delivery_ids(ctx, entry["id"][:2]) == [(entry["id"][:8], "204 record.created")]
    assert delivery_ids(ctx, "zz") == []
    ctx.params["journal"] = str(app_dir / "none.sqlite3")
    assert delivery_ids(ctx, "") == []
