"""`hooks listen` against the real Argilla server: registration, --webhook, forwarding, ping, the printer."""

import json
import os
import signal
import socket
import subprocess

import pytest

from tests.e2e.conftest import _create_user
from tests.listener_process import Listener, hooks_executable

HANDLERS = '''
import json, os
from argilla_hooks import on
from argilla_hooks.receiver.payloads import Dataset

@on("dataset.created")
def on_dataset(dataset, type, timestamp):
    assert isinstance(dataset, Dataset)
    with open(os.environ["HANDLER_OUT"], "a") as f:
        f.write(json.dumps({"type": type, "id": str(dataset.id), "name": dataset.name, "ts": timestamp.isoformat()}) + "\\n")

@on("ping")
def on_ping(type, data):
    with open(os.environ["HANDLER_OUT"], "a") as f:
        f.write(json.dumps({"type": type, "agent": data["agent"]}) + "\\n")
'''


@pytest.fixture
def app_dir(tmp_path):
    (tmp_path / "mod.py").write_text(HANDLERS)
    return tmp_path


def handled(env):
    with open(env["HANDLER_OUT"]) as f:
        return [json.loads(line) for line in f]


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_register_receives_dataset_created_and_cleans_up(app_dir, env, server_webhooks, create_dataset, stop_signal):
    with Listener(["mod:on_dataset", "--register", "-e", "dataset.created"], cwd=app_dir, env=env) as listener:
        [webhook] = server_webhooks()
        assert webhook["id"] == listener.ready["webhook_id"] and listener.ready["registered"] is True
        assert webhook["url"] == listener.url and webhook["events"] == ["dataset.created"]
        assert "temporary" in webhook["description"] and str(listener.proc.pid) in webhook["description"]
        dataset = create_dataset()
        line = listener.next_event(timeout=60, type="dataset.created")
        assert line["verified"] is True and line["status"] == 204
        assert line["data"]["id"] == dataset["id"] and line["handlers"][0]["ok"] is True
        assert listener.stop(stop_signal) == 0
    assert handled(env) == [{"type": "dataset.created", "id": dataset["id"], "name": dataset["name"], "ts": handled(env)[0]["ts"]}]
    assert server_webhooks() == []
    assert "deleted the temporary webhook" in listener.stderr


def test_register_defaults_to_the_handlers_events(app_dir, env, server_webhooks):
    # a secret left in the environment (here not even valid) has no say: --register verifies with its own
    env = {**env, "ARGILLA_WEBHOOK_SECRET": "garbage!"}
    with Listener(["mod:on_dataset", "--register"], cwd=app_dir, env=env) as listener:
        assert server_webhooks()[0]["events"] == ["dataset.created"]
        listener.stop()
    assert server_webhooks() == []


def test_register_uses_public_url(app_dir, env, server_webhooks):
    env = {**env, "WEBHOOK_SERVER_URL": "https://tunnel.example.com/argilla"}
    with Listener(["mod:on_dataset", "--register"], cwd=app_dir, env=env) as listener:
        assert server_webhooks()[0]["url"] == "https://tunnel.example.com/argilla"
        listener.stop()


def test_existing_webhook_secret_and_ping(app_dir, env, hooks, server_webhooks):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # localhost: the listener says 127.0.0.1, and both reach it, so no warning
    created = json.loads(hooks("create", f"http://localhost:{port}/", "-e", "dataset.created", "--json").stdout)
    with Listener(["mod:on_ping", "--webhook", created["id"][:8], "--port", str(port)], cwd=app_dir, env=env) as listener:
        assert listener.ready["webhook_id"] == created["id"] and listener.ready["registered"] is False
        assert listener.ready["events"] == ["dataset.created"]  # what the webhook sends, not what a handler would take
        started = listener.next_event(type="ping")  # the listener's own, asked for at start: it reaches the listener
        result = hooks("ping", created["id"][:8])
        assert result.returncode == 0, result.stderr
        line = listener.next_event(type="ping")
        assert line["verified"] and line["handlers"][0]["ok"] and started["handlers"][0]["ok"]
        assert listener.stop() == 0
    assert handled(env) == [{"type": "ping", "agent": "argilla-server"}] * 2
    assert "warning" not in listener.stderr
    assert [w["id"] for w in server_webhooks()] == [created["id"]]  # --webhook never deletes
    assert "not at this listener" not in listener.stderr


def test_webhook_pointing_elsewhere_warns(env, hooks):
    created = json.loads(hooks("create", "http://127.0.0.1:9/elsewhere", "-e", "dataset.created", "--json").stdout)
    with Listener(["--webhook", created["id"]], env=env) as listener:
        listener.stop()
    assert "points at http://127.0.0.1:9/elsewhere, not at this listener" in listener.stderr


def test_forward_to_resends_the_same_signed_delivery(env, server_webhooks, create_dataset, webhook_receiver):
    from standardwebhooks.webhooks import Webhook as StandardWebhook

    with Listener(["--register", "-e", "dataset.created", "--forward-to", webhook_receiver.url], env=env) as listener:
        secret = server_webhooks()[0]["secret"]
        dataset = create_dataset()
        line = listener.next_event(timeout=60, type="dataset.created")
        assert line["forwards"][0]["status"] == 204 and line["status"] == 204
        forwarded = webhook_receiver.next(timeout=10)
        if forwarded.json()["type"] == "ping":  # the listener's own ping at start, forwarded as any delivery is
            forwarded = webhook_receiver.next(timeout=10)
        listener.stop()
    # The target verifies with the same secret: same body bytes, same webhook-* headers.
    payload = StandardWebhook(secret).verify(forwarded.body, forwarded.headers)
    assert payload["data"]["id"] == dataset["id"]
    assert forwarded.headers["webhook-id"] == line["webhook_id"]


def test_no_target_printer_shows_events(env, server_webhooks, create_dataset):
    proc = subprocess.Popen(
        [hooks_executable(), "listen", "--register", "-e", "dataset.created", "--port", "0"],
        env={k: v for k, v in {**os.environ, **env, "NO_COLOR": "1"}.items() if v is not None},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
    )
    try:
        banner = [proc.stdout.readline() for _ in range(4)]
        assert banner[0].startswith("hooks listen on") and "webhook:" in banner[3]
        line = proc.stdout.readline()
        assert " ping " in line and "from argilla-server" in line  # the listener's own ping at start reached it
        dataset = create_dataset()
        line = proc.stdout.readline()
        assert "dataset.created" in line and "verified" in line
        assert f'"name": "{dataset["name"]}"' in line  # the printer shows the payload, on the delivery's line (a pipe)
    finally:
        proc.send_signal(signal.SIGINT)
        out = proc.stdout.read()  # not communicate(): readline() may have buffered part of it already
        proc.wait(timeout=30)
    assert proc.returncode == 0 and server_webhooks() == []
    assert out.startswith("stopped after"), out  # nothing of the payload spilled onto lines of its own


def test_failed_cleanup_prints_the_delete_command(app_dir, env, argilla, server_webhooks):
    with argilla.http() as owner:
        user = _create_user(owner, "owner")  # a key that stops working while the listener runs
        try:
            # The server on the command line, as a user of several servers gives it: the printed command must keep it.
            args = ["mod:on_dataset", "--register", "--api-url", argilla.api_url]
            with Listener(args, cwd=app_dir, env={**env, "ARGILLA_API_URL": None, "ARGILLA_API_KEY": user["api_key"]}) as listener:
                webhook_id = listener.ready["webhook_id"]
                owner.delete(f"/api/v1/users/{user['id']}").raise_for_status()
                assert listener.stop() == 1
        finally:
            owner.delete(f"/api/v1/users/{user['id']}")  # already gone unless the listener failed to start
    assert f"run: hooks delete {webhook_id} --api-url {argilla.api_url}\n" in listener.stderr
    assert listener.stderr.count("error:") == 1  # one failure, one line
    assert [w["id"] for w in server_webhooks()] == [webhook_id]  # really left behind, as the message says
    assert json.loads(listener.stdout_raw[-1])["kind"] == "stopped"  # the JSON stream still ends as documented


def test_cleanup_of_a_webhook_deleted_meanwhile_is_not_a_failure(app_dir, env, argilla, server_webhooks):
    with Listener(["mod:on_dataset", "--register"], cwd=app_dir, env=env) as listener:
        webhook_id = listener.ready["webhook_id"]
        with argilla.http() as owner:  # someone deletes it under our feet: the cleanup has nothing left to do
            owner.delete(f"/api/v1/webhooks/{webhook_id}").raise_for_status()
        assert listener.stop() == 0
    assert f"the temporary webhook {webhook_id} was already deleted" in listener.stderr
    assert "hooks delete" not in listener.stderr and server_webhooks() == []
