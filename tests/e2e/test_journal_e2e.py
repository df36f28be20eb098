"""Issue 15 against the real Argilla server: the journal, --reload and replay on a real event, the curl export, the
reachability check, 401 causes that need the server, and `hooks doctor`."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time

from tests.e2e.local_server import free_port
from tests.listener_process import Listener

FAILING = '''
import os
from argilla_hooks import on

@on("dataset.created")
def on_dataset(dataset):
    raise RuntimeError(f"cannot handle {dataset.name} yet")
'''
FIXED = '''
import os
from argilla_hooks import on

@on("dataset.created")
def on_dataset(dataset):
    with open(os.environ["HANDLER_OUT"], "a") as f:
        f.write(dataset.name + "\\n")
'''


def wait_for(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_a_handler_failing_on_a_real_event_is_fixed_under_reload_and_replayed(tmp_path, env, hooks, create_dataset):
    (tmp_path / "mod.py").write_text(FAILING)
    with Listener(["mod:on_dataset", "--register", "-e", "dataset.created", "--reload"], cwd=tmp_path, env=env) as listener:
        dataset = create_dataset()
        failed = listener.next_event(timeout=60, type="dataset.created")
        assert failed["status"] == 500 and failed["handlers"][0]["error"] == f"RuntimeError: cannot handle {dataset['name']} yet"

        listed = hooks("deliveries", "list", "--json", "--type", "dataset.*", env=env)
        assert listed.returncode == 0, listed.stderr
        entry = json.loads(listed.stdout)[0]
        assert (entry["status"], entry["verdict"], entry["resource_id"]) == (500, "failed", dataset["id"])
        assert entry["error"] == f"RuntimeError: cannot handle {dataset['name']} yet"
        assert entry["listener"]["webhook_id"] == listener.ready["webhook_id"]

        (tmp_path / "mod.py").write_text(FIXED)
        wait_for(lambda: "reloaded mod:on_dataset" in listener.stderr)
        # No secret given: the replay is signed with the secret of the webhook the listener registered.
        replayed = hooks("deliveries", "replay", "--last", env=env)
        assert replayed.returncode == 0, replayed.stderr
        line = listener.next_event(timeout=30, type="dataset.created")
        while not line["replay"]:  # (Argilla's own retry, 10 s after the failure, may come first)
            line = listener.next_event(timeout=30, type="dataset.created")
        assert line["status"] == 204 and line["handlers"][0]["ok"] is True and line["data"]["id"] == dataset["id"]

        exported = hooks("deliveries", "export", entry["id"][:8], "--as", "curl", env=env)
        assert exported.returncode == 0, exported.stderr
        sent = subprocess.run(["bash", "-c", exported.stdout.rstrip() + " -o /dev/null -w '%{http_code}'"],
                              capture_output=True, text=True, timeout=60)  # fmt: skip
        assert sent.stdout == "204", sent
        assert listener.stop() == 0
    assert dataset["name"] in open(env["HANDLER_OUT"]).read().split()


def test_a_real_delivery_answered_is_journaled_even_when_the_listener_is_killed_right_after(env, create_dataset):
    with Listener(["--register", "-e", "dataset.created"], env=env) as listener:
        dataset = create_dataset()
        listener.next_event(timeout=60, type="dataset.created")  # printed after the 2xx was sent
        listener.proc.send_signal(signal.SIGKILL)
        listener.proc.wait(10)
    with sqlite3.connect(env["ARGILLA_HOOKS_JOURNAL"]) as db:
        found = db.execute("SELECT status FROM deliveries WHERE resource_id = ?", (dataset["id"],)).fetchall()
    assert found == [(204,)]


def test_register_with_an_unreachable_public_url_warns_within_10_s(env, server_webhooks):
    public_url = f"http://127.0.0.1:{free_port()}/"  # nothing listens there: Argilla cannot deliver
    with Listener(["--register", "-e", "dataset.created", "--public-url", public_url], env=env) as listener:
        ready_at = time.monotonic()
        wait_for(lambda: "warning:" in listener.stderr, timeout=10)
        assert time.monotonic() - ready_at < 10
        assert listener.stop() == 0
    assert f"cannot reach {public_url}" in listener.stderr and f"this listener is on port {listener.ready['port']}" in listener.stderr
    assert "host.docker.internal" in listener.stderr and server_webhooks() == []


def test_require_reachable_exits_1_and_still_deletes_its_webhook(env, server_webhooks):
    args = ["--register", "-e", "dataset.created", "--public-url", f"http://127.0.0.1:{free_port()}/", "--require-reachable"]
    with Listener(args, env=env) as listener:
        assert listener.proc.wait(timeout=20) == 1
    assert "stopped: Argilla cannot reach this listener" in listener.stderr
    assert "deleted the temporary webhook" in listener.stderr and server_webhooks() == []


def test_register_with_a_reachable_url_does_not_warn(env):
    with Listener(["--register", "-e", "dataset.created", "--require-reachable"], env=env) as listener:
        ping = listener.next_event(type="ping")
        time.sleep(1)
        assert listener.proc.poll() is None and listener.stop() == 0
    assert ping["status"] == 204 and "warning" not in listener.stderr


def test_a_401_names_the_webhook_whose_secret_signed_it(env, hooks):
    port = free_port()
    ours = json.loads(hooks("create", f"http://127.0.0.1:{port}/", "-e", "dataset.created", "--json").stdout)
    theirs = json.loads(hooks("create", "http://127.0.0.1:9/other", "-e", "record.created", "--json").stdout)
    with Listener(["--webhook", ours["id"], "--port", str(port)], env=env) as listener:
        sent = hooks("trigger", "dataset.created", "--webhook", theirs["id"], "--to", listener.url)
        assert sent.returncode == 1
        rejected = listener.next()
        while rejected["kind"] != "rejected":
            rejected = listener.next()
        listener.stop()
    assert rejected["status"] == 401 and rejected["cause"] == "other-webhook-secret"
    assert f"signed with the secret of webhook {theirs['id'][:8]}, not with the one this listener verifies with" in rejected["reason"]
    shown = hooks("show", ours["id"][:8]).stdout
    fingerprint = [line.split()[1] for line in shown.splitlines() if line.startswith("fingerprint:")][0]
    assert f"(fingerprint {fingerprint})" in rejected["reason"]


def test_doctor_reports_each_check_against_the_real_server(hooks, argilla):
    hooks("create", "https://hooks.example.com/a", "-e", "dataset.created")
    hooks("create", "https://hooks.example.com/a", "-e", "dataset.created", "--disabled")
    hooks("create", "https://hooks.example.com/a", "-e", "dataset.created,record.created")
    result = hooks("doctor", "--json")
    report = json.loads(result.stdout)
    checks = {check["name"]: check for check in report["checks"]}
    assert list(checks) == ["server", "key", "clock", "webhooks", "disabled", "urls", "duplicates", "left-behind", "journal"]
    assert checks["server"] == {"name": "server", "status": "pass", "message": f"Argilla 2.8.0 at {argilla.api_url}", "fix": None}
    assert checks["key"]["status"] == "pass" and "(owner)" in checks["key"]["message"]
    assert checks["clock"]["status"] == "pass"  # the same machine's clock, through Argilla's Date header
    assert checks["webhooks"]["message"] == "3 of Argilla's limit of 10"
    assert checks["disabled"]["status"] == "warn" and checks["duplicates"]["status"] == "warn"
    assert checks["urls"]["status"] == "pass" and checks["journal"]["status"] == "pass"
    assert checks["left-behind"]["status"] == "pass"
    assert result.returncode == 0 and report["ok"] is True
    annotator = hooks("doctor", "--json", env={"ARGILLA_API_KEY": argilla.annotator_key})
    assert annotator.returncode == 1 and json.loads(annotator.stdout)["checks"][1]["status"] == "fail"
