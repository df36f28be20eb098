"""When a change reached Argilla but its answer was lost, commands read the webhooks back before reporting (issue 19,
item 3): `create`, `create --disabled`, `update`, `enable`, `disable`, `delete` and `apply` say what the server holds,
not that the change failed."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from argilla_hooks.client import ArgillaClient, recovery
from argilla_hooks.client.models import WebhookCreate, WebhookUpdate
from tests.unit.fake_argilla import API, OWNER_KEY
from tests.unit.hooks_cli import hooks

URL = "http://127.0.0.1:8000/"


# --- create ------------------------------------------------------------------------------------------------------


def test_create_whose_answer_was_lost_reports_the_webhook_it_made(fake_argilla):
    # It said "connection reset" (exit 6) though the webhook existed; running it again made a second one.
    fake_argilla.lose_answer = {"POST": 1}
    result = hooks("create", URL, "-e", "dataset.created", "-d", "bot", "--json")
    [made] = fake_argilla.webhooks
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["id"] == made["id"] and json.loads(result.stdout)["secret"] == made["secret"]
    assert result.stderr == (
        "warning: the answer to POST /api/v1/webhooks was lost (Server disconnected without sending a response.), "
        "but read back, the webhook was made\n"
    )


def test_create_whose_request_was_lost_before_it_was_done_says_it_was_not_made(fake_argilla):
    fake_argilla.drop_request = {"POST": 1}
    result = hooks("create", URL, "-e", "dataset.created")
    assert result.exit_code == 6 and result.stderr.count("\n") == 1, result.stderr
    assert "the webhooks read back do not hold the change: it was not made" in result.stderr
    assert fake_argilla.webhooks == []


def test_create_that_cannot_be_read_back_says_the_webhook_may_exist(fake_argilla):
    fake_argilla.lose_answer, fake_argilla.down_after_loss = {"POST": 1}, True
    result = hooks("create", URL, "-e", "dataset.created")
    assert result.exit_code == 6 and result.stderr.count("\n") == 1, result.stderr
    assert "reading the webhooks back failed too: cannot reach Argilla" in result.stderr
    assert "Argilla may or may not have made the change; list the webhooks before sending it again" in result.stderr


def test_create_disabled_whose_patch_answer_was_lost_reports_it_disabled(fake_argilla):
    # It said the webhook was ENABLED (and deleted it) though the disabling PATCH had been applied.
    fake_argilla.lose_answer = {"PATCH": 1}
    result = hooks("create", URL, "-e", "*", "--disabled", "--json")
    [made] = fake_argilla.webhooks
    assert result.exit_code == 0, result.stderr
    assert made["enabled"] is False and json.loads(result.stdout)["enabled"] is False
    assert "but read back, the webhook is disabled" in result.stderr


def test_create_disabled_whose_patch_was_not_done_is_undone(fake_argilla):
    fake_argilla.drop_request = {"PATCH": 1}
    result = hooks("create", URL, "-e", "*", "--disabled")
    assert result.exit_code == 6 and "it was not made" in result.stderr, result.stderr
    assert fake_argilla.webhooks == [] and result.stdout == ""


def test_create_disabled_that_cannot_be_read_back_says_it_may_be_enabled(fake_argilla):
    fake_argilla.lose_answer, fake_argilla.down_after_loss = {"PATCH": 1}, True
    result = hooks("create", URL, "-e", "*", "--disabled")
    [made] = fake_argilla.webhooks
    assert result.exit_code == 6 and result.stderr.count("\n") == 1, result.stderr
    assert f"created webhook {made['id']} for {URL}, but it may still be ENABLED" in result.stderr
    assert f"see `hooks show {made['id'][:8]}`" in result.stderr and made["secret"] not in result.stderr


# --- update, enable, disable, delete -----------------------------------------------------------------------------

LOST = "warning: the answer to {method} /api/v1/webhooks/{id} was lost (Server disconnected without sending a response.), but read back, {done}\n"


def test_update_whose_answer_was_lost_reports_the_webhook_as_changed(fake_argilla):
    # It said "connection reset" (exit 6) though the change was made; scripts then sent it again or gave up.
    hook = fake_argilla.add(url=URL, events=["dataset.created"])
    fake_argilla.lose_answer = {"PATCH": 1}
    result = hooks("update", hook["id"][:8], "--add-event", "record.created", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["events"] == ["dataset.created", "record.created"] == fake_argilla.webhooks[0]["events"]
    assert result.stderr == LOST.format(method="PATCH", id=hook["id"], done="the change was made")


@pytest.mark.parametrize(("command", "enabled"), [("disable", True), ("enable", False)])
def test_enable_and_disable_whose_answers_were_lost_report_the_state_read_back(fake_argilla, command, enabled):
    first, second = fake_argilla.add(url=URL, enabled=enabled), fake_argilla.add(url=URL + "2", enabled=enabled)
    fake_argilla.lose_answer = {"PATCH": 1}
    result = hooks(command, first["id"][:8], second["id"][:8], "--json")
    assert result.exit_code == 0, result.stderr
    assert [w["enabled"] for w in json.loads(result.stdout)] == [not enabled] * 2 == [w["enabled"] for w in fake_argilla.webhooks]
    assert result.stderr == LOST.format(method="PATCH", id=first["id"], done=f"the webhook is {command}d")


def test_delete_whose_answer_was_lost_reports_it_deleted_and_goes_on(fake_argilla):
    # A second run said "not found" (exit 4) for the webhook the first had deleted.
    first, second = fake_argilla.add(url=URL), fake_argilla.add(url=URL + "2")
    fake_argilla.lose_answer = {"DELETE": 1}
    result = hooks("delete", first["id"][:8], second["id"][:8])
    assert result.exit_code == 0 and fake_argilla.webhooks == [], result.output
    assert result.stderr == LOST.format(method="DELETE", id=first["id"], done="the webhook is deleted") + (
        f"✓ deleted webhook {first['id'][:8]} ({URL})\n✓ deleted webhook {second['id'][:8]} ({URL}2)\n"
    )


@pytest.mark.parametrize(
    ("args", "method"), [(["update", "{id}", "-d", "new"], "PATCH"), (["disable", "{id}"], "PATCH"), (["delete", "{id}"], "DELETE")]
)
def test_a_change_whose_request_was_lost_before_it_was_done_says_it_was_not_made(fake_argilla, args, method):
    hook = fake_argilla.add(url=URL)
    fake_argilla.drop_request = {method: 1}
    result = hooks(*[a.format(id=hook["id"][:8]) for a in args])
    assert result.exit_code == 6 and result.stderr.count("\n") == 1, result.stderr
    assert "the webhooks read back do not hold the change: it was not made" in result.stderr
    assert fake_argilla.webhooks == [hook]


def test_a_change_that_cannot_be_read_back_says_so_and_names_those_not_attempted(fake_argilla):
    first, second = fake_argilla.add(url=URL), fake_argilla.add(url=URL + "2")
    fake_argilla.lose_answer, fake_argilla.down_after_loss = {"DELETE": 1}, True
    result = hooks("delete", first["id"][:8], second["id"][:8])
    assert result.exit_code == 6 and result.stderr.count("\n") == 1, result.stderr
    assert "Argilla may or may not have made the change; list the webhooks before sending it again" in result.stderr
    assert f"(0 of 2 deleted before it; not attempted: {second['id'][:8]})" in result.stderr


# --- apply -------------------------------------------------------------------------------------------------------


def write_file(tmp_path, *entries: str) -> str:
    path = tmp_path / "webhooks.toml"
    path.write_text("".join(f"[[webhooks]]\n{entry}\n" for entry in entries))
    return str(path)


def test_apply_counts_a_step_whose_answer_was_lost_as_applied_and_goes_on(fake_argilla, tmp_path):
    # The interrupted step was listed as failed and "N of M applied" was short.
    old = fake_argilla.add(url="http://old/", events=["dataset.created"])
    kept = fake_argilla.add(url="http://kept/", events=["dataset.created"])
    file = write_file(
        tmp_path,
        'url = "http://kept/"\nevents = ["record.created"]',
        'url = "http://new/1"\nevents = ["dataset.created"]\nenabled = false',
        'url = "http://new/2"\nevents = ["dataset.created"]',
    )
    fake_argilla.lose_answer = {"DELETE": 1, "PATCH": 1, "POST": 1}
    result = hooks("apply", "-f", file, "--prune", "--yes")
    assert result.exit_code == 0, result.output
    assert sorted(w["url"] for w in fake_argilla.webhooks) == ["http://kept/", "http://new/1", "http://new/2"]
    assert [w["events"] for w in fake_argilla.webhooks if w["id"] == kept["id"]] == [["record.created"]]
    assert all(w["id"] != old["id"] for w in fake_argilla.webhooks)
    assert result.stdout.count("its answer was lost (Server disconnected without sending a response.); read back, it is done") == 3
    assert "applied: 2 created, 1 updated, 1 deleted" in result.stderr


def test_apply_says_unknown_when_a_lost_step_cannot_be_read_back(fake_argilla, tmp_path):
    file = write_file(tmp_path, 'url = "http://new/1"\nevents = ["dataset.created"]', 'url = "http://new/2"\nevents = ["dataset.created"]')
    fake_argilla.lose_answer, fake_argilla.down_after_loss = {"POST": 1}, True
    result = hooks("apply", "-f", file, "--json")
    assert result.exit_code == 6, result.output
    outcome = json.loads(result.stdout)["result"]
    assert [len(outcome[k]) for k in ("done", "failed", "unknown", "not_attempted")] == [0, 0, 1, 1]
    assert outcome["unknown"][0]["error"]["type"] == "OutcomeUnknown"
    assert "apply stopped: 0 of 2 changes applied, 1 unknown, 1 not attempted" in result.stderr


def test_apply_reports_a_lost_step_not_done_as_failed(fake_argilla, tmp_path):
    file = write_file(tmp_path, 'url = "http://new/1"\nevents = ["dataset.created"]')
    fake_argilla.drop_request = {"POST": 1}
    result = hooks("apply", "-f", file)
    assert result.exit_code == 6 and "apply stopped: 0 of 1 changes applied, 1 failed" in result.stderr
    assert fake_argilla.webhooks == []


# --- reading back ------------------------------------------------------------------------------------------------


@pytest.fixture
def client(fake_argilla):
    with ArgillaClient(API, OWNER_KEY) as made:
        yield made


def test_a_create_is_read_back_by_url_as_stored_events_description_and_time(fake_argilla, client):
    body = WebhookCreate(url="HTTP://127.0.0.1:8000", events=["record.created", "dataset.created"], description="x")
    sent_at = recovery.now()
    older = fake_argilla.add(url=URL, events=["dataset.created", "record.created"], description="x")
    assert recovery.created(client, body, sent_at, known={older_id := __import__("uuid").UUID(older["id"])}).applied is False
    assert recovery.created(client, body, sent_at).webhook.id == older_id  # same URL once normalized, events as a set
    fake_argilla.add(url=URL, events=["dataset.created", "record.created"], description="x")
    both = recovery.created(client, body, sent_at)
    assert both.applied is None and both.unknown.startswith("2 webhooks made in the last minute fit it")
    assert recovery.created(client, body, sent_at + timedelta(minutes=2)).applied is False  # made too long before


def test_an_update_and_a_delete_are_read_back_by_id(fake_argilla, client):
    hook = fake_argilla.add(url=URL, events=["dataset.created"])
    hook_id = __import__("uuid").UUID(hook["id"])
    assert recovery.updated(client, hook_id, WebhookUpdate(enabled=True, events=["dataset.created"])).applied is True
    assert recovery.updated(client, hook_id, WebhookUpdate(description=None)).applied is True
    assert recovery.updated(client, hook_id, WebhookUpdate(url="http://elsewhere/")).applied is False
    assert recovery.deleted(client, hook_id).applied is False
    fake_argilla.webhooks.clear()
    assert recovery.deleted(client, hook_id).applied is True and recovery.updated(client, hook_id, WebhookUpdate(enabled=False)).applied is False
