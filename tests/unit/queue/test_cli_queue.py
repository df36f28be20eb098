"""The queue from the command line: `hooks listen --queue`, `hooks work`, `hooks queue stats | dead | redrive`; the
redis extra missing, Redis unreachable, its eviction policy and persistence, a clean stop on signals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from argilla_hooks.queue.connection import _version_check as version_check  # noqa: PLC2701 - our own module
from tests.listener_process import Listener, hooks_executable
from tests.unit.hooks_cli import hooks
from tests.unit.queue.conftest import KEYS
from tests.unit.receiver.receiver_samples import new_secret

SECRET = new_secret()
HANDLERS = '''
import json, os, time
from argilla_hooks import on

def record(**fields):
    with open(os.environ["HANDLER_OUT"], "a") as f:
        f.write(json.dumps(fields) + "\\n")

@on("dataset.created")
def notify(dataset, type):
    print("a handler's print must not reach stdout in --json mode")
    record(handler="notify", type=type, name=dataset.name)

def broken(type):
    raise ValueError("broken on " + type)

async def slow(data):
    import asyncio
    record(handler="slow", started=data["id"])
    await asyncio.sleep(float(os.environ.get("SLOW", "1")))
    record(handler="slow", finished=data["id"])

def stuck(data):
    record(handler="stuck", started=data["id"])
    time.sleep(60)
'''


@pytest.fixture
def app_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "qhandlers.py").write_text(HANDLERS)
    monkeypatch.setenv("HANDLER_OUT", str(tmp_path / "out.jsonl"))
    monkeypatch.setenv("ARGILLA_WEBHOOK_SECRET", SECRET)
    return tmp_path


def handled(app_dir: Path) -> list[dict]:
    out = app_dir / "out.jsonl"
    return [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []


def trigger(url: str, event: str = "dataset.created") -> None:
    result = hooks("trigger", event, "--to", url, "--secret", SECRET)
    assert result.exit_code == 0, result.output


def test_listen_queue_then_work_then_stats(redis_url, app_dir):
    with Listener(["--queue", redis_url], cwd=app_dir) as listener:
        assert listener.ready["queue"] == redis_url and listener.ready["handlers"] == []
        trigger(listener.url)
        trigger(listener.url, "record.created")
        lines = [listener.next_event() for _ in range(2)]
        assert [line["status"] for line in lines] == [202, 202] and all(line["queued"] for line in lines)
    stats = json.loads(hooks("queue", "stats", redis_url, "--json").stdout)
    assert stats["length"] == 2 and stats["groups"] == []

    result = hooks("work", redis_url, "qhandlers:notify", "--app-dir", str(app_dir), "--drain", "--json")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["kind"] for line in lines] == ["ready", "entry", "entry", "stopped"]
    assert lines[0]["group"] == "workers" and lines[0]["handlers"] == ["qhandlers:notify"]
    assert sorted(line["type"] for line in lines[1:3]) == ["dataset.created", "record.created"]
    assert {line["outcome"] for line in lines[1:3]} == {"done"}  # record.created: no handler wants it, acknowledged
    assert lines[-1] == {"kind": "stopped", "done": 2, "retries": 0, "dead": 0, "given_back": 0, "lost": 0}
    assert [h["name"] for h in handled(app_dir)] == ["customer-reviews"] or handled(app_dir)[0]["handler"] == "notify"

    stats = json.loads(hooks("queue", "stats", redis_url, "--json").stdout)
    [group] = stats["groups"]
    assert group["name"] == "workers" and group["pending"] == 0 and group["lag"] == 0 and group["dead"] == 0
    text = hooks("queue", "stats", redis_url).stdout
    assert "group workers: 0 pending, 0 not read yet, 0 dead letters" in text
    assert "no consumer group nogroup (without --group: all of them)" in hooks("queue", "stats", redis_url, "-g", "nogroup").stdout


def test_dead_letters_listed_and_redriven(redis_url, app_dir, client=None):
    with Listener(["--queue", redis_url], cwd=app_dir) as listener:
        trigger(listener.url, "response.created")
        listener.next_event()
    result = hooks("work", redis_url, "qhandlers:broken", "--app-dir", str(app_dir), "--drain", "--max-attempts", "2", "--retry-delay", "0")
    assert result.exit_code == 0, result.output
    assert "retry  response.created" in result.stdout and "dead  response.created" in result.stdout
    assert "qhandlers:broken: ValueError: broken on response.created" in result.stdout
    [dead] = json.loads(hooks("queue", "dead", redis_url, "--json").stdout)
    assert dead["attempts"] == 2 and dead["type"] == "response.created" and dead["group"] == "workers"
    assert dead["id"] in hooks("queue", "dead", redis_url).stdout

    assert hooks("queue", "redrive", redis_url).exit_code == 2  # ids or --all
    missing = hooks("queue", "redrive", redis_url, "1-1")
    assert missing.exit_code == 4 and "no dead letter 1-1" in missing.stderr
    redriven = hooks("queue", "redrive", redis_url, dead["id"], "--json")
    assert redriven.exit_code == 0 and json.loads(redriven.stdout)[0]["dead_id"] == dead["id"]
    assert json.loads(hooks("queue", "dead", redis_url, "--json").stdout) == []
    stats = json.loads(hooks("queue", "stats", redis_url, "--json").stdout)
    assert stats["groups"][0]["lag"] == 1  # back on the stream, for the workers


def test_usage_errors(redis_url, app_dir):
    result = hooks("listen", "qhandlers:notify", "--queue", redis_url)
    assert result.exit_code == 2 and "with --queue, handlers run in `hooks work" in result.stderr
    result = hooks("listen", "--queue", "http://127.0.0.1:6379/0")
    assert result.exit_code == 2 and "--queue" in result.stderr and "redis://" in result.stderr
    result = hooks("work", "redis://127.0.0.1:6379/x", "qhandlers:notify")
    assert result.exit_code == 2 and "database number" in result.stderr
    result = hooks("work", redis_url, "qhandlers:notify", "--group", "a b")
    assert result.exit_code == 2 and "--group" in result.stderr
    result = hooks("work", redis_url, "qhandlers:nope", "--app-dir", str(app_dir))
    assert result.exit_code == 2 and "has no attribute 'nope'" in result.stderr
    result = hooks("queue", "redrive", redis_url)
    assert result.exit_code == 2 and result.stderr == "error: give dead letter ids (see `hooks queue dead`) or --all\n"
    assert "not both" in hooks("queue", "redrive", redis_url, "1-1", "--all").stderr
    for malformed in ("nonsense", "1796634284484", "1-1-1"):  # Redis's own error (exit 1), or a bare time read as a range
        result = hooks("queue", "redrive", redis_url, "1-1", malformed)
        assert result.exit_code == 2 and result.stderr == (
            f"error: {malformed!r} is not a dead letter id: they look like 1796634284484-0 (see `hooks queue dead`)\n"
        )


@pytest.mark.parametrize("command", [["work", "{url}", "qhandlers:notify"], ["queue", "stats", "{url}"], ["listen", "--queue", "{url}"]])
def test_an_unreachable_redis_is_one_line_and_exit_6(app_dir, command):
    url = "redis://127.0.0.1:1/0"
    result = hooks(*[part.format(url=url) for part in command], "--app-dir", str(app_dir)) if command[0] == "work" else hooks(*[part.format(url=url) for part in command])
    assert result.exit_code == 6, result.output
    assert result.stderr.startswith("error: Redis at redis://127.0.0.1:1/0:") and result.stderr.count("\n") == 1


def test_without_the_redis_extra_the_commands_say_what_to_install(tmp_path):
    probe = (
        "import sys; sys.modules['redis'] = None\n"  # as if redis-py were not installed
        "from argilla_hooks.cli.app import main\nmain(sys.argv[1:])\n"
    )
    for args in (["work", "redis://127.0.0.1:6379/0", "x:y"], ["queue", "stats", "redis://127.0.0.1:6379/0"], ["listen", "--queue", "redis://127.0.0.1:6379/0", "-s", SECRET]):
        result = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, cwd=tmp_path)
        assert result.returncode == 2, result.stderr
        assert result.stderr.strip().endswith("pip install 'argilla-hooks[queue]'") and result.stderr.count("\n") == 1


def test_help_imports_no_redis():
    probe = "import sys\nfrom argilla_hooks.cli.app import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\nprint('REDIS' if 'redis' in sys.modules else 'NO REDIS')"
    for args in (["--help"], ["work", "--help"], ["queue", "stats", "--help"], ["listen", "--help"]):
        result = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True)
        assert result.stdout.strip().endswith("NO REDIS"), args


def test_eviction_policy_and_persistence_are_checked(redis_url, app_dir):
    """Pitfall: an eviction policy other than noeviction drops de-duplication keys silently; a Redis without
    persistence loses the group when it restarts. Both are said at start (and by `hooks queue stats`)."""
    with redis.Redis.from_url(redis_url) as client:
        client.config_set("maxmemory-policy", "allkeys-lru")
    result = hooks("work", redis_url, "qhandlers:notify", "--app-dir", str(app_dir), "--drain")
    assert result.exit_code == 0
    assert "maxmemory-policy is allkeys-lru" in result.stderr and "set maxmemory-policy noeviction" in result.stderr
    assert "persistence is off" in result.stderr
    stats = json.loads(hooks("queue", "stats", redis_url, "--json").stdout)
    assert any("allkeys-lru" in warning for warning in stats["warnings"])


def test_a_redis_too_old_is_refused():
    assert version_check("6.0.16").level == "fail" and "6.2 or newer" in version_check("6.0.16").message
    assert version_check("6.2.0").level == "pass" and version_check("7.0.15").level == "pass"


def work_process(redis_url: str, app_dir: Path, *args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [hooks_executable(), "work", redis_url, *args, "--app-dir", str(app_dir), "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "NO_COLOR": "1", **(env or {})},
    )  # fmt: skip


def wait_for(condition, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def queue_events(redis_url: str, app_dir: Path, count: int) -> None:
    with Listener(["--queue", redis_url], cwd=app_dir) as listener:
        for _ in range(count):
            trigger(listener.url)
            listener.next_event()


def test_sigterm_lets_running_handlers_finish(redis_url, app_dir):
    queue_events(redis_url, app_dir, 1)
    proc = work_process(redis_url, app_dir, "qhandlers:slow", env={"SLOW": "1"})
    wait_for(lambda: any("started" in h for h in handled(app_dir)))
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    assert "stopping: waiting up to 30 s for 1 running entry" in err
    assert [h.get("finished") is not None for h in handled(app_dir)] == [False, True]
    assert json.loads(out.splitlines()[-1])["done"] == 1


def test_a_second_signal_gives_running_entries_back_and_exits_130(redis_url, app_dir):
    queue_events(redis_url, app_dir, 1)
    proc = work_process(redis_url, app_dir, "qhandlers:slow", env={"SLOW": "60"})
    wait_for(lambda: any("started" in h for h in handled(app_dir)))
    proc.send_signal(signal.SIGINT)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=15)
    assert proc.returncode == 130, err
    assert "stopped before 1 running entry finished; given back to the group" in err
    with redis.Redis.from_url(redis_url) as client:
        [pending] = client.xpending_range(KEYS.stream, "workers", "-", "+", 10)
        assert pending["time_since_delivered"] > 10**9  # idle "for a year": any worker takes it at once


def test_a_handler_stuck_in_a_thread_does_not_keep_the_worker_from_exiting(redis_url, app_dir):
    queue_events(redis_url, app_dir, 1)
    proc = work_process(redis_url, app_dir, "qhandlers:stuck", "--grace", "0.5")
    wait_for(lambda: any("started" in h for h in handled(app_dir)))
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=15)
    assert proc.returncode == 130 and time.monotonic() - started < 5, err
    assert "given back to the group" in err
    assert json.loads(out.splitlines()[-1])["kind"] == "stopped"
