"""`hooks listen --register` against the real Argilla server, stopped by the signals a terminal or a system sends:
SIGHUP and SIGQUIT clean up as SIGTERM does; after SIGKILL, the next `--register` on the URL reuses the webhook left
behind, and deliveries to it are verified (issue 19)."""

from __future__ import annotations

import signal

import pytest

from tests.e2e.local_server import free_port
from tests.listener_process import Listener


@pytest.fixture
def env(argilla, tmp_path):
    return {"ARGILLA_API_URL": argilla.api_url, "ARGILLA_API_KEY": argilla.owner_key, "ARGILLA_WEBHOOK_SECRET": None,
            "WEBHOOK_SERVER_URL": None, "ARGILLA_HOOKS_CONFIG": str(tmp_path / "config.toml")}


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGQUIT], ids=lambda s: s.name)
def test_sighup_and_sigquit_delete_the_session_webhook(sig, env, server_webhooks):
    with Listener(["--register", "-e", "dataset.created"], env=env) as listener:
        assert [w["id"] for w in server_webhooks()] == [listener.ready["webhook_id"]]
        assert listener.stop(sig) == 0
    assert server_webhooks() == []
    assert "deleted the temporary webhook" in listener.stderr


def test_after_sigkill_the_next_register_reuses_the_webhook_left_behind(env, server_webhooks, create_dataset):
    port = str(free_port())
    with Listener(["--register", "-e", "dataset.created", "--port", port], env=env) as killed:
        [left] = server_webhooks()
        killed.proc.send_signal(signal.SIGKILL)
        assert killed.proc.wait(30) == -signal.SIGKILL
    assert [w["id"] for w in server_webhooks()] == [left["id"]]  # nothing could delete it
    with Listener(["--register", "-e", "dataset.created", "--port", port], env=env) as listener:
        [reused] = server_webhooks()
        assert reused["id"] == left["id"] == listener.ready["webhook_id"] and reused["secret"] == left["secret"]
        assert f"pid {listener.proc.pid}" in reused["description"]
        assert f"reusing webhook {left['id'][:8]}, left for this URL by hooks listen pid {killed.proc.pid}" in listener.stderr
        dataset = create_dataset()
        line = listener.next_event(timeout=60, type="dataset.created")  # after the listener's own ping
        assert line["type"] == "dataset.created" and line["verified"] and line["data"]["id"] == dataset["id"]
        assert listener.stop(signal.SIGTERM) == 0
    assert server_webhooks() == []
