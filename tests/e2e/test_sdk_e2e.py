"""Argilla SDK code under `hooks listen`, against the real server, beside the SDK's own server (`uvicorn
module:server`, as the Argilla guide runs it): the same module, the same events, the same arguments."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from argilla_hooks.receiver import sign
from tests.e2e.local_server import free_port
from tests.listener_process import Listener, hooks_executable

pytest.importorskip("argilla", reason="the SDK comes with the test extra (argilla-hooks[sdk])")

# Written as the Argilla guide ("Use Argilla webhooks") writes a listener: the decorator and its types, a client made
# at import, and the SDK's server for uvicorn. Each listener notes what it was given, as JSON lines in $NOTES.
GUIDE = '''
import json
import os
from datetime import datetime

import argilla as rg
from argilla import webhook_listener

client = rg.Argilla(api_url=os.environ["ARGILLA_API_URL"], api_key=os.environ["ARGILLA_API_KEY"])


def note(**given):
    seen = {"types": {name: f"{type(value).__module__}.{type(value).__qualname__}" for name, value in given.items()}}
    seen["type"], seen["timestamp"] = repr(given["type"]), given["timestamp"].isoformat()
    if "dataset" in given:
        seen["dataset"] = given["dataset"].serialize()
    if "record" in given:
        seen["record"], seen["record.dataset"] = given["record"].to_dict(), given["record"].dataset.serialize()
    if "response" in given:
        response = given["response"]
        seen["response"] = {"user_id": str(response.user_id), "status": repr(response.status), "as_dict": response.to_dict(),
                            "record": response.record.to_dict()}
    with open(os.environ["NOTES"], "a") as notes:
        notes.write(json.dumps(seen, default=str) + "\\n")


@webhook_listener(events="dataset.created")
async def on_dataset(dataset: rg.Dataset, type: str, timestamp: datetime):
    note(dataset=dataset, type=type, timestamp=timestamp)


@webhook_listener(events=["record.created"])
async def on_record(record: rg.Record, type: str, timestamp: datetime):
    note(record=record, type=type, timestamp=timestamp)


@rg.webhook_listener(events=["response.created"])
async def on_response(response: rg.UserResponse, type: str, timestamp: datetime):
    note(response=response, type=type, timestamp=timestamp)


server = rg.get_webhook_server()
'''
FUNCTIONS = ("on_dataset", "on_record", "on_response")


@pytest.fixture
def guide(tmp_path) -> Path:
    (tmp_path / "guide.py").write_text(GUIDE)
    return tmp_path


def env_for(argilla, tmp_path: Path, name: str, port: int) -> dict[str, str | None]:
    return {
        "ARGILLA_API_URL": argilla.api_url, "ARGILLA_API_KEY": argilla.owner_key, "WEBHOOK_SERVER_URL": f"http://127.0.0.1:{port}",
        "NOTES": str(tmp_path / f"{name}.jsonl"), "ARGILLA_HOOKS_CONFIG": str(tmp_path / "config.toml"), "ARGILLA_WEBHOOK_SECRET": None,
    }  # fmt: skip


@contextmanager
def sdk_server(cwd: Path, env: dict[str, str | None], port: int) -> Iterator[None]:
    """`uvicorn guide:server` on `port`, as the guide runs it; stopped by its pid."""
    merged = {k: v for k, v in {**os.environ, **env}.items() if v is not None}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "guide:server", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        cwd=cwd, env=merged, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/docs", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, f"the SDK's server did not start: {proc.stderr.read() if proc.stderr else ''}"
            time.sleep(0.2)
        yield
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def notes(env: dict[str, str | None]) -> list[dict]:
    path = Path(str(env["NOTES"]))
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def wait_for_notes(count: int, *envs: dict[str, str | None], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while any(len(notes(env)) < count for env in envs):
        assert time.monotonic() < deadline, [notes(env) for env in envs]
        time.sleep(0.1)


def webhooks_for(server_webhooks, port: int) -> dict[str, int]:
    """How many webhooks on the server point at each function on this port."""
    urls = [hook["url"] for hook in server_webhooks()]
    return {fn: urls.count(f"http://127.0.0.1:{port}/{fn}") for fn in FUNCTIONS}


def make_events(owner: httpx.Client, dataset: dict, *envs: dict[str, str | None]) -> str:
    """record.created then response.created for `dataset` (its dataset.created already noted), each noted by every
    listener before the next is made, so that each reads the server in the same state. Returns the record's id."""
    base = f"/api/v1/datasets/{dataset['id']}"
    owner.post(f"{base}/fields", json={"name": "text", "title": "Text", "settings": {"type": "text"}}).raise_for_status()
    question = {"name": "label", "title": "Label", "required": True,
                "settings": {"type": "label_selection", "options": [{"value": "pos", "text": "pos"}, {"value": "neg", "text": "neg"}]}}  # fmt: skip
    owner.post(f"{base}/questions", json=question).raise_for_status()
    owner.put(f"{base}/publish").raise_for_status()
    # The bulk endpoint, which the SDK's `dataset.records.log(...)` uses: one record.created per record.
    items = owner.post(f"{base}/records/bulk", json={"items": [{"external_id": "r0", "fields": {"text": "great product"}}]})
    record_id = items.raise_for_status().json()["items"][0]["id"]
    wait_for_notes(2, *envs)
    response = {"values": {"label": {"value": "pos"}}, "status": "submitted"}
    owner.post(f"/api/v1/records/{record_id}/responses", json=response).raise_for_status()
    wait_for_notes(3, *envs)
    return record_id


def test_a_guide_module_runs_under_hooks_listen_with_exactly_what_the_sdks_server_passes(argilla, guide, create_dataset, server_webhooks):
    sdk_port, hooks_port = free_port(), free_port()
    sdk_env, hooks_env = env_for(argilla, guide, "sdk", sdk_port), env_for(argilla, guide, "hooks", hooks_port)
    targets = [f"guide:{fn}" for fn in FUNCTIONS]
    with sdk_server(guide, sdk_env, sdk_port), Listener([*targets, "--port", str(hooks_port)], cwd=guide, env=hooks_env) as listener:
        served = listener.ready["sdk_listeners"]
        assert [(s["handler"], s["url"]) for s in served] == [(f"guide:{fn}", f"http://127.0.0.1:{hooks_port}/{fn}") for fn in FUNCTIONS]
        assert webhooks_for(server_webhooks, hooks_port) == dict.fromkeys(FUNCTIONS, 1)
        dataset = create_dataset()
        wait_for_notes(1, sdk_env, hooks_env)
        with argilla.http() as owner:
            record_id = make_events(owner, dataset, sdk_env, hooks_env)
        events = [listener.next_event(timeout=30) for _ in range(3)]
        assert listener.stop() == 0

    # The same arguments, type for type and value for value, from the SDK's own server and from `hooks listen`.
    assert notes(hooks_env) == notes(sdk_env)
    on_dataset, on_record, on_response = notes(hooks_env)
    assert on_dataset["type"] == "<EventType.dataset_created: 'dataset.created'>" and on_dataset["dataset"]["id"] == dataset["id"]
    assert on_dataset["types"] == {"dataset": "argilla.datasets._resource.Dataset", "type": "argilla._models._webhook.EventType",
                                   "timestamp": "datetime.datetime"}  # fmt: skip
    assert on_record["record"]["id"] == "r0" and on_record["record"]["_server_id"] == record_id  # the SDK's record id
    assert on_record["types"]["record"] == "argilla.records._resource.Record"
    assert on_response["types"]["response"] == "argilla.responses.UserResponse"
    assert on_response["response"]["record"]["id"] == "r0" and on_response["response"]["status"] == "<ResponseStatus.submitted: 'submitted'>"
    assert [(e["type"], e["status"], e["verified"], e["handlers"][0]["name"]) for e in events] == [
        ("dataset.created", 204, True, "guide:on_dataset"), ("record.created", 204, True, "guide:on_record"),
        ("response.created", 204, True, "guide:on_response"),
    ]  # fmt: skip
    # Nothing registered twice: the decorator's webhook, reused; and again when the module is served whole.
    assert webhooks_for(server_webhooks, hooks_port) == dict.fromkeys(FUNCTIONS, 1)
    with Listener(["guide", "--port", str(hooks_port)], cwd=guide, env=hooks_env) as listener:
        assert [s["handler"] for s in listener.ready["sdk_listeners"]] == targets
        assert listener.stop() == 0
    assert webhooks_for(server_webhooks, hooks_port) == dict.fromkeys(FUNCTIONS, 1)
    # The SDK warns of each webhook its decorator reused, showing it whole: not its secret, under hooks listen.
    assert not [hook for hook in server_webhooks() if hook["secret"] in listener.stderr]


@contextmanager
def on_dataset_listener(argilla, guide: Path, server_webhooks) -> Iterator[tuple[Listener, dict[str, str | None], str, dict]]:
    """`hooks listen guide:on_dataset`: the listener, its environment, its SDK listener's URL and that webhook."""
    port = free_port()
    env = env_for(argilla, guide, "hooks", port)
    with Listener(["guide:on_dataset", "--port", str(port)], cwd=guide, env=env) as listener:
        url = listener.ready["sdk_listeners"][0]["url"]
        [webhook] = [hook for hook in server_webhooks() if hook["url"] == url]
        yield listener, env, url, webhook


def test_an_sdk_listener_under_hooks_listen_refuses_forgeries_and_runs_once_per_event(argilla, guide, create_dataset, server_webhooks):
    with on_dataset_listener(argilla, guide, server_webhooks) as (listener, env, url, webhook):
        create_dataset()
        event = listener.next_event(timeout=60)
        assert event["status"] == 204 and event["duplicate"] is False and len(notes(env)) == 1
        body = json.dumps({"type": event["type"], "version": 1, "timestamp": event["timestamp"], "data": event["data"]}).encode()
        ts = int(time.time())
        # Forged: signed with another secret, or not at all. 401 (the SDK's server answers 500), never run.
        forged = {"webhook-id": "msg_forged", "webhook-timestamp": str(ts), "webhook-signature": "v1,bm90IGl0"}
        assert httpx.post(url, content=body, headers=forged).status_code == 401
        assert httpx.post(url, content=body).status_code == 401
        # Argilla's retry of that event: the same body, a new webhook-id, signed with the webhook's secret.
        retry = {"webhook-id": "msg_retry", "webhook-timestamp": str(ts), "webhook-signature": sign(webhook["secret"], "msg_retry", ts, body)}
        answer = httpx.post(url, content=body, headers=retry)
        assert answer.status_code == 200 and answer.json() == {"ok": True, "duplicate": True}
        rejected = [listener.next(timeout=10) for _ in range(2)]
        assert [line["kind"] for line in rejected] == ["rejected", "rejected"] and {line["status"] for line in rejected} == {401}
        duplicate = listener.next_event(timeout=10)
        assert duplicate["duplicate"] is True and duplicate["status"] == 200 and duplicate["handlers"] == []
        assert listener.stop() == 0
    assert len(notes(env)) == 1


def test_an_sdk_listeners_deliveries_replay_to_it_and_its_401s_name_its_webhook(hooks, argilla, guide, create_dataset, server_webhooks):
    # They were journaled as the plain handlers' (at /, no webhook): replay had no secret, and went to the wrong path.
    with on_dataset_listener(argilla, guide, server_webhooks) as (listener, env, url, webhook):
        port = httpx.URL(url).port
        create_dataset()
        assert listener.next_event(timeout=60)["type"] == "dataset.created"
        [entry] = json.loads(hooks("deliveries", "list", "--json").stdout)
        assert entry["type"] == "dataset.created" and entry["listener"] == {"url": url, "webhook_id": webhook["id"]}
        replayed = hooks("deliveries", "replay", entry["id"][:8])
        assert replayed.returncode == 0, replayed.stderr
        again = listener.next_event(timeout=30)
        assert again["replay"] is True and again["status"] == 204 and len(notes(env)) == 2
        assert listener.stop() == 0
    # A wrong secret's 401 names where the right one comes from: the listener's webhook, not --secret.
    merged = {k: v for k, v in {**os.environ, **env, "NO_COLOR": "1"}.items() if v is not None}
    plain = subprocess.Popen([hooks_executable(), "listen", "guide:on_dataset", "--port", str(port), "--no-journal"], cwd=guide, env=merged,
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        body, ts = b'{"type": "ping", "timestamp": "2026-12-07T10:00:00.000000Z", "data": {}}', int(time.time())
        forged = {"webhook-id": "msg_forged", "webhook-timestamp": str(ts), "webhook-signature": sign("b3RoZXI=", "msg_forged", ts, body)}
        deadline = time.monotonic() + 30
        while True:
            try:
                assert httpx.post(url, content=body, headers=forged).status_code == 401
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and plain.poll() is None, plain.stderr.read() if plain.stderr else ""
                time.sleep(0.1)
    finally:
        plain.send_signal(signal.SIGINT)
        out, err = plain.communicate(timeout=30)
    assert f"(this listener verifies with the secret of webhook {webhook['id'][:8]}, which its @rg.webhook_listener registered)" in out, out + err


TYPED = '''
import json
import os

import argilla as rg
from argilla._models import EventType

from argilla_hooks import on


def note(**given):
    seen = {name: f"{type(value).__module__}.{type(value).__qualname__}" for name, value in given.items()}
    seen["id"] = str(given["dataset"].id)
    with open(os.environ["NOTES"], "a") as notes:
        notes.write(json.dumps(seen) + "\\n")


@on("dataset.created")
def typed(dataset: rg.Dataset, type: EventType, timestamp):
    assert dataset.name and type is EventType.dataset_created
    note(dataset=dataset, type=type, timestamp=timestamp)


@on("dataset.created")
async def plain(dataset, type):
    note(dataset=dataset, type=type)
'''


def test_plain_handlers_annotated_with_sdk_types_get_the_sdks_objects_beside_untyped_ones(argilla, tmp_path, create_dataset, server_webhooks):
    (tmp_path / "typed.py").write_text(TYPED)
    env = {**env_for(argilla, tmp_path, "hooks", 0), "WEBHOOK_SERVER_URL": None}  # --register points at the listen URL
    with Listener(["typed:typed", "typed:plain", "--register"], cwd=tmp_path, env=env) as listener:
        assert listener.ready["sdk_listeners"] == [] and len(server_webhooks()) == 1  # --register as for any handler
        dataset = create_dataset()
        event = listener.next_event(timeout=60, type="dataset.created")  # after the listener's own ping
        assert event["status"] == 204 and [h["ok"] for h in event["handlers"]] == [True, True], event
        assert listener.stop() == 0
    assert notes(env) == [
        {"dataset": "argilla.datasets._resource.Dataset", "type": "argilla._models._webhook.EventType", "timestamp": "datetime.datetime", "id": dataset["id"]},
        {"dataset": "argilla_hooks.receiver.payloads.Dataset", "type": "builtins.str", "id": dataset["id"]},
    ]
    assert server_webhooks() == []
