"""The Redis queue against the real Argilla server: two `hooks listen --queue` receivers get every event twice (two
webhooks), three `hooks work` processes share one group, one is killed with SIGKILL mid-run and restarted; and a queue
Redis stopped while deliveries arrive. Real Argilla, real Redis, the installed `hooks` as subprocesses, no mocks."""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.listener_process import Listener, hooks_executable
from tests.redis_process import RedisProcess

EVENTS, BATCH, CONCURRENCY = 300, 50, 4
HANDLERS = '''
import json, os, time

def effect(record, type):
    time.sleep(0.05)  # long enough for the SIGKILL to find entries in flight
    line = json.dumps({"id": str(record.id), "pid": os.getpid()}) + "\\n"
    with open(os.environ["EFFECTS"], "a") as f:  # the side effect: one O_APPEND write per run
        f.write(line)
'''


@pytest.fixture
def queue_redis(tmp_path: Path):
    with RedisProcess(tmp_path / "queue-redis", persistent=True) as server:
        yield server


@pytest.fixture
def env(argilla, tmp_path: Path) -> dict:
    (tmp_path / "e2e_queue_handlers.py").write_text(HANDLERS)
    return {
        "ARGILLA_API_URL": argilla.api_url, "ARGILLA_API_KEY": argilla.owner_key,
        "ARGILLA_HOOKS_CONFIG": str(tmp_path / "config.toml"), "ARGILLA_WEBHOOK_SECRET": None,
        "WEBHOOK_SERVER_URL": None, "EFFECTS": str(tmp_path / "effects.jsonl"), "NO_COLOR": "1",
    }  # fmt: skip


@pytest.fixture
def published_dataset(_owner, create_dataset) -> dict:
    """A dataset records can be added to: a text field, a question, published."""
    dataset = create_dataset()
    base = f"/api/v1/datasets/{dataset['id']}"
    _owner.post(f"{base}/fields", json={"name": "text", "title": "Text", "settings": {"type": "text"}}).raise_for_status()
    options = [{"value": "yes", "text": "Yes"}, {"value": "no", "text": "No"}]
    question = {"name": "ok", "title": "OK?", "required": True, "settings": {"type": "label_selection", "options": options}}
    _owner.post(f"{base}/questions", json=question).raise_for_status()
    _owner.put(f"{base}/publish").raise_for_status()
    return dataset


def add_records(owner: httpx.Client, dataset: dict, count: int) -> list[str]:
    """`count` records through the bulk endpoint: one `record.created` each, per subscribed webhook."""
    items = [{"fields": {"text": f"record {i}"}} for i in range(count)]
    response = owner.post(f"/api/v1/datasets/{dataset['id']}/records/bulk", json={"items": items}).raise_for_status()
    return [item["id"] for item in response.json()["items"]]


class Workers:
    """`hooks work` subprocesses of one group, their JSON lines in files."""

    def __init__(self, url: str, cwd: Path, env: dict, *args: str) -> None:
        self.url, self.cwd, self.args = url, cwd, args
        self.env = {k: v for k, v in {**os.environ, **env}.items() if v is not None}
        self.procs: list[subprocess.Popen] = []

    def start(self) -> subprocess.Popen:
        log = open(self.cwd / f"worker-{len(self.procs)}.jsonl", "w")
        err = open(self.cwd / f"worker-{len(self.procs)}.stderr", "w")
        proc = subprocess.Popen([hooks_executable(), "work", self.url, "e2e_queue_handlers:effect", "--json", *self.args],
                                cwd=self.cwd, env=self.env, stdout=log, stderr=err, stdin=subprocess.DEVNULL)  # fmt: skip
        self.procs.append(proc)
        return proc

    def wait_ready(self, index: int) -> None:
        path = self.cwd / f"worker-{index}.jsonl"
        wait_for(lambda: path.read_text().startswith('{"kind": "ready"'), 30, f"worker {index} to be ready")

    def stop_all(self) -> list[int]:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        return [proc.wait(30) for proc in self.procs]

    def stderr(self) -> str:
        return "\n".join(p.read_text() for p in sorted(self.cwd.glob("worker-*.stderr")))


def effects(env: dict) -> list[dict]:
    path = Path(env["EFFECTS"])
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def queue_stats(hooks, url: str) -> dict:
    result = hooks("queue", "stats", url, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_300_real_events_twice_over_two_receivers_and_three_workers_one_killed(
    env, tmp_path, queue_redis, published_dataset, _owner, hooks, server_webhooks
):
    receivers = [Listener(["--register", "-e", "record.created", "--queue", queue_redis.url], cwd=tmp_path, env=env) for _ in range(2)]
    assert len(server_webhooks()) == 2  # every event is delivered twice, to different receivers
    workers = Workers(queue_redis.url, tmp_path, env, "--concurrency", str(CONCURRENCY), "--claim-idle", "2")
    victim = workers.start()
    for _ in range(2):
        workers.start()
    try:
        created = []
        for _ in range(EVENTS // BATCH):
            created += add_records(_owner, published_dataset, BATCH)
            if victim.poll() is None and len(effects(env)) >= 60:
                victim.send_signal(signal.SIGKILL)  # mid-run: it holds entries, some handlers half done
                victim.wait()
                workers.start()  # and restarted
        if victim.poll() is None:
            wait_for(lambda: len(effects(env)) >= 60, 120, "the first effects")
            victim.kill()
            victim.wait()
            workers.start()
        wait_for(lambda: {e["id"] for e in effects(env)} >= set(created), 180, f"{EVENTS} handled events")
        wait_for(lambda: queue_stats(hooks, queue_redis.url)["groups"][0]["pending"] == 0, 30, "nothing pending")
    finally:
        codes = workers.stop_all()
        for receiver in receivers:
            receiver.__exit__(None)  # stops it, and reads the rest of its lines
    assert victim.returncode == -signal.SIGKILL and codes[1:] == [0] * (len(codes) - 1), workers.stderr()

    runs = collections.defaultdict(list)
    for effect in effects(env):
        runs[effect["id"]].append(effect["pid"])
    assert set(runs) == set(created)  # 0 lost
    doubled = {record_id: pids for record_id, pids in runs.items() if len(pids) > 1}
    print(f"{EVENTS} events; run twice (the killed worker had run them, not acknowledged them): {len(doubled)}")
    # At-least-once: only events the killed worker had run but not yet acknowledged may have run twice.
    assert len(doubled) <= CONCURRENCY and all(victim.pid in pids and len(pids) == 2 for pids in doubled.values()), doubled

    answered = collections.Counter()
    for receiver in receivers:
        while not receiver.lines.empty():
            line = receiver.lines.get()
            if line["kind"] == "event" and line["type"] == "record.created":  # (not each listener's own ping at start)
                answered[line["status"]] += 1
    assert answered == {202: EVENTS, 200: EVENTS}  # each event stored once, its second delivery a duplicate

    [group] = queue_stats(hooks, queue_redis.url)["groups"]
    assert group["pending"] == 0 and group["lag"] == 0 and group["dead"] == 0


def test_redis_stopped_while_deliveries_arrive_they_come_again_and_are_handled(
    env, tmp_path, queue_redis, published_dataset, _owner, hooks
):
    with Listener(["--register", "-e", "record.created", "--queue", queue_redis.url], cwd=tmp_path, env=env) as receiver:
        workers = Workers(queue_redis.url, tmp_path, env)
        workers.start()
        try:
            workers.wait_ready(0)
            assert receiver.next_event(timeout=60, type="ping")["status"] == 202  # the listener's own ping, queued
            queue_redis.stop()  # SIGTERM: a clean shutdown, the append-only file written
            created = add_records(_owner, published_dataset, 3)
            refused = [receiver.next(timeout=60) for _ in range(3)]
            assert {line["kind"] for line in refused} == {"rejected"} and {line["status"] for line in refused} == {503}
            assert all("could not queue the delivery" in line["reason"] for line in refused)
            queue_redis.start()  # Argilla retries 10 s later
            wait_for(lambda: {e["id"] for e in effects(env)} >= set(created), 90, "the retried deliveries")
        finally:
            assert workers.stop_all() == [0], workers.stderr()
    assert sorted(e["id"] for e in effects(env)) == sorted(created)
    said = [json.loads(line) for line in (tmp_path / "worker-0.jsonl").read_text().splitlines()]
    redis_lines = [line for line in said if line["kind"] == "redis"]  # the worker said Redis was gone, and back
    assert [line["ok"] for line in redis_lines][-2:] == [False, True] and "Redis at redis://127.0.0.1" in redis_lines[-2]["error"]
