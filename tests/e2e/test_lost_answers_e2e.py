"""Against the real Argilla server, through a proxy that loses Argilla's answer after Argilla has done the change:
`create`, `create --disabled`, `update`, `disable`, `delete` and `apply` read the webhooks back and report what the
server holds (issue 19)."""

from __future__ import annotations

import json

import pytest

from tests.e2e.fault_proxy import FaultProxy

HOOK = "http://127.0.0.1:9/hook"
ONE_WEBHOOK = r"/api/v1/webhooks/[0-9a-f-]{36}"


@pytest.fixture
def proxy(argilla):
    with FaultProxy(argilla.api_url) as running:
        yield running


def test_create_reports_the_webhook_argilla_made_though_its_answer_was_lost(hooks, proxy, server_webhooks):
    proxy.lose("POST", "/api/v1/webhooks")
    result = hooks("create", HOOK, "-e", "dataset.created", "-d", "lost answer", "--json", env={"ARGILLA_API_URL": proxy.url})
    assert proxy.lost == ["POST /api/v1/webhooks"]
    assert result.returncode == 0, result.stderr
    [made] = server_webhooks()  # one: not a second one made by a retry
    assert json.loads(result.stdout)["id"] == made["id"] and json.loads(result.stdout)["secret"] == made["secret"]
    assert "was lost" in result.stderr and "read back, the webhook was made" in result.stderr


def test_create_disabled_reports_the_state_argilla_has_after_a_lost_patch(hooks, proxy, server_webhooks):
    proxy.lose("PATCH", ONE_WEBHOOK)
    result = hooks("create", HOOK, "-e", "*", "--disabled", "--json", env={"ARGILLA_API_URL": proxy.url})
    assert proxy.lost and proxy.lost[0].startswith("PATCH ")
    assert result.returncode == 0, result.stderr
    [made] = server_webhooks()
    assert made["enabled"] is False and json.loads(result.stdout)["enabled"] is False


def test_update_disable_and_delete_report_changes_argilla_made_though_their_answers_were_lost(hooks, proxy, server_webhooks):
    made = json.loads(hooks("create", HOOK, "-e", "dataset.created", "--json").stdout)
    via_proxy = {"ARGILLA_API_URL": proxy.url}
    for args, method, done in (
        (["update", made["id"][:8], "--add-event", "record.created"], "PATCH", "the change was made"),
        (["disable", made["id"][:8]], "PATCH", "the webhook is disabled"),
    ):
        proxy.lose(method, ONE_WEBHOOK)
        result = hooks(*args, "--json", env=via_proxy)
        assert result.returncode == 0 and f"read back, {done}" in result.stderr, result.stderr
    assert len(proxy.lost) == 2, proxy.lost
    [after] = server_webhooks()
    assert after["events"] == ["dataset.created", "record.created"] and after["enabled"] is False
    proxy.lose("DELETE", ONE_WEBHOOK)
    result = hooks("delete", made["id"][:8], env=via_proxy)
    assert len(proxy.lost) == 3 and result.returncode == 0, result.stderr
    assert "read back, the webhook is deleted" in result.stderr and server_webhooks() == []


def test_apply_counts_steps_whose_answers_were_lost_as_applied(hooks, proxy, server_webhooks, tmp_path):
    old = json.loads(hooks("create", "http://127.0.0.1:9/old", "-e", "dataset.created", "--json").stdout)
    json.loads(hooks("create", "http://127.0.0.1:9/kept", "-e", "dataset.created", "--json").stdout)
    file = tmp_path / "webhooks.toml"
    file.write_text(
        '[[webhooks]]\nurl = "http://127.0.0.1:9/kept"\nevents = ["record.created"]\n'
        '[[webhooks]]\nurl = "http://127.0.0.1:9/new"\nevents = ["dataset.created"]\nenabled = false\n'
    )
    for method, path in (("DELETE", ONE_WEBHOOK), ("PATCH", ONE_WEBHOOK), ("POST", "/api/v1/webhooks"), ("PATCH", ONE_WEBHOOK)):
        proxy.lose(method, path)
    result = hooks("apply", "-f", file, "--prune", "--yes", "--json", env={"ARGILLA_API_URL": proxy.url})
    assert len(proxy.lost) == 4, proxy.lost
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)["result"]
    assert [len(outcome[k]) for k in ("done", "failed", "unknown", "not_attempted")] == [3, 0, 0, 0]
    assert all("its answer was lost" in o["note"] for o in outcome["done"])
    after = {w["url"]: w for w in server_webhooks()}
    assert set(after) == {"http://127.0.0.1:9/kept", "http://127.0.0.1:9/new"} and old["id"] not in {w["id"] for w in after.values()}
    assert after["http://127.0.0.1:9/kept"]["events"] == ["record.created"] and after["http://127.0.0.1:9/new"]["enabled"] is False
