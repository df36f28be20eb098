"""`hooks export` and `hooks apply` through main(), in-process, against a fake Argilla (respx)."""

import json
import sys

import pytest

from argilla_hooks.cli import output
from argilla_hooks.events import SUBSCRIBABLE
from tests.unit.hooks_cli import hooks

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


WANTED = """\
[[webhooks]]
url = "http://a.test/hook"
events = ["dataset.*"]
description = "datasets"

[[webhooks]]
url = "http://b.test/"
events = ["record.created"]
enabled = false
"""




def mutations(fake):
    return [(r.method, r.url.path) for r in fake.requests if r.method != "GET"]


@pytest.fixture
def wanted(tmp_path):
    path = tmp_path / "webhooks.toml"
    path.write_text(WANTED)
    return path


# --- export ------------------------------------------------------------------------------------


def test_export_prints_toml_without_ids_secrets_or_timestamps(fake_argilla):
    hook = fake_argilla.add(url="http://a.test/", events=["dataset.created"], description="bot")
    fake_argilla.add(url="http://b.test/", events=["record.created"], enabled=False)
    result = hooks("export")
    assert result.exit_code == 0, result.stderr
    assert tomllib.loads(result.stdout) == {
        "webhooks": [
            {"url": "http://a.test/", "events": ["dataset.created"], "enabled": True, "description": "bot"},
            {"url": "http://b.test/", "events": ["record.created"], "enabled": False},
        ]
    }
    for secret_or_id in (hook["id"], hook["secret"], "inserted_at"):
        assert secret_or_id not in result.stdout


def test_export_format_json_on_stdout(fake_argilla):
    fake_argilla.add(url="http://a.test/")
    result = hooks("export", "--format", "json")
    assert json.loads(result.stdout)["webhooks"][0]["url"] == "http://a.test/"


@pytest.mark.parametrize(("name", "args", "loads"), [
    ("out.json", [], json.loads),
    ("out.toml", [], tomllib.loads),
    ("out.conf", ["--format", "toml"], tomllib.loads),
    ("out.conf", ["--format", "json"], json.loads),
])
def test_export_to_a_file_takes_the_format_from_the_extension(fake_argilla, tmp_path, name, args, loads):
    fake_argilla.add(url="http://a.test/")
    path = tmp_path / name
    result = hooks("export", "-o", str(path), *args)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "" and f"exported 1 webhook to {path}" in result.stderr
    assert loads(path.read_text())["webhooks"][0]["url"] == "http://a.test/"


def test_export_replaces_the_file_atomically_and_keeps_its_mode(fake_argilla, tmp_path):
    fake_argilla.add(url="http://a.test/")
    path = tmp_path / "webhooks.toml"
    path.write_text("old")
    path.chmod(0o640)
    assert hooks("export", "-o", str(path)).exit_code == 0
    assert "http://a.test/" in path.read_text()
    assert path.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["webhooks.toml"]  # no temporary file left behind


def test_export_format_clashing_with_the_extension_is_refused_before_any_request(fake_argilla, tmp_path):
    result = hooks("export", "-o", str(tmp_path / "w.toml"), "--format", "json")
    assert result.exit_code == 2 and "does not match the .toml extension" in result.stderr
    assert fake_argilla.requests == []


@pytest.mark.parametrize("name", ["w.yaml", "webhooks", "w.conf"])
def test_export_to_a_file_of_unknown_format_needs_format(fake_argilla, tmp_path, name):
    # Issue 18, item 5: `-o w.yaml` silently wrote TOML.
    result = hooks("export", "-o", str(tmp_path / name))
    assert result.exit_code == 2 and "name it .toml or .json, or give --format" in result.stderr
    assert fake_argilla.requests == [] and not (tmp_path / name).exists()


def test_export_to_a_missing_directory_fails_cleanly(fake_argilla, tmp_path):
    result = hooks("export", "-o", str(tmp_path / "nope" / "w.toml"))
    assert result.exit_code == 1
    assert result.stderr.startswith("error: cannot write") and len(result.stderr.splitlines()) == 1


def test_export_warns_about_identical_webhooks_that_apply_would_refuse(fake_argilla):
    first = fake_argilla.add(url="http://a.test/", events=["dataset.created"])
    second = fake_argilla.add(url="http://a.test/", events=["dataset.created"])
    result = hooks("export")
    assert result.exit_code == 0 and result.stdout.count("[[webhooks]]") == 2
    assert result.stderr == (
        f"warning: webhooks {first['id'][:8]} and {second['id'][:8]} are identical (http://a.test/); `hooks apply` "
        f"refuses duplicate entries: delete one (`hooks delete {second['id'][:8]}`) or give them different descriptions\n"
    )


def test_exported_file_applies_as_a_no_op(fake_argilla, tmp_path):
    fake_argilla.add(url="http://a.test/", events=["dataset.created"], description="bot")
    fake_argilla.add(url="http://b.test/", events=list(SUBSCRIBABLE), enabled=False)
    path = tmp_path / "w.json"
    hooks("export", "-o", str(path))
    result = hooks("apply", "-f", str(path))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"no changes: the server matches {path}\n"
    assert mutations(fake_argilla) == []


def test_exported_urls_the_server_holds_but_our_check_refuses_apply_as_a_no_op(fake_argilla, tmp_path):
    # what Argilla 2.8 stored for POSTed http://a\u200db.com/ and for a 1,028-character URL of `ü`s
    fake_argilla.add(url="http://xn--ab-m1t.com/")
    fake_argilla.add(url="http://h/" + "%C3%BC" * 1019, description="long")
    path = tmp_path / "w.toml"
    assert hooks("export", "-o", str(path)).exit_code == 0
    result = hooks("apply", "-f", str(path), "--prune", "--yes")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"no changes: the server matches {path}\n"
    assert mutations(fake_argilla) == []


def test_a_url_argilla_would_refuse_is_refused_before_any_change_with_a_short_message(fake_argilla, tmp_path):
    fake_argilla.add(url="http://gone.test/")
    url = "http://h/" + "%C3%BC" * 1019
    path = tmp_path / "w.toml"
    path.write_text(f'[[webhooks]]\nurl = "http://new.test/"\nevents = ["*"]\n\n[[webhooks]]\nurl = "{url}"\nevents = ["*"]\n')
    result = hooks("apply", "-f", str(path), "--prune", "--yes")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"error: {path}: entry 2 (url {url[:100]}... (6123 characters)): url: URL is longer than 2083 characters; "
        "nothing was changed",
    ]
    assert mutations(fake_argilla) == [] and result.stdout == ""


def test_a_byte_order_mark_on_stdin_is_ignored(fake_argilla):
    for text in ("\ufeff" + WANTED, "\ufeff" + json.dumps({"webhooks": [{"url": "http://c.test/", "events": ["*"]}]})):
        result = hooks("apply", "-f", "-", "--dry-run", input=text)
        assert result.exit_code == 0, result.stderr
        assert result.stdout.startswith("+ ")


def test_a_file_with_many_problems_prints_20_and_counts_the_rest(fake_argilla, tmp_path):
    path = tmp_path / "w.json"
    entries = [{"url": "ftp://h/", "events": ["bad"], "enable": True} for _ in range(10)]
    path.write_text(json.dumps({"webhooks": entries}))
    result = hooks("apply", "-f", str(path))
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 22
    assert lines[-2:] == [f"error: {path}: ... and 10 more problems", f"error: {path}: 30 problems; nothing was changed"]
    assert fake_argilla.requests == []


def test_a_huge_file_prints_one_problem(fake_argilla, tmp_path):
    path = tmp_path / "w.json"
    path.write_text(json.dumps({"webhooks": [{"url": "nope"}] * 200_000}))
    result = hooks("apply", "-f", str(path))
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"error: {path}: 200000 webhooks declared; Argilla allows at most 10 per server "
        "(the entries were not checked: remove some first); nothing was changed",
    ]


# --- apply: plan and result --------------------------------------------------------------------


def test_apply_prints_the_plan_then_what_it_did_and_a_second_apply_changes_nothing(fake_argilla, wanted):
    fake_argilla.add(url="http://a.test/hook", events=["dataset.created"], description="datasets")
    result = hooks("apply", "-f", str(wanted))
    assert result.exit_code == 0, result.stderr
    short = fake_argilla.webhooks[0]["id"][:8]
    created = fake_argilla.webhooks[1]
    assert result.stdout.splitlines() == [
        # Issue 18, item 6: what changes, not both lists in full
        f'~ http://a.test/hook "datasets" (id {short}): events: +dataset.updated +dataset.deleted +dataset.published',
        "+ http://b.test/ [record.created] (disabled)",
        f"updated http://a.test/hook (id {short})",
        f"created http://b.test/ (id {created['id'][:8]})",
    ]
    assert "applied: 1 created, 1 updated, 0 deleted" in result.stderr
    assert created["secret"] not in result.stdout + result.stderr
    assert created["enabled"] is False and created["events"] == ["record.created"]

    again = hooks("apply", "-f", str(wanted))
    assert again.exit_code == 0
    assert again.stdout == f"no changes: the server matches {wanted}\n"
    assert len(mutations(fake_argilla)) == 3  # PATCH, POST, PATCH(enabled) from the first apply only


def test_apply_show_secrets_prints_the_new_secrets(fake_argilla, wanted):
    result = hooks("apply", "-f", str(wanted), "--show-secrets")
    assert result.exit_code == 0, result.stderr
    for hook in fake_argilla.webhooks:
        assert f"secret {hook['secret']}" in result.stdout


def test_apply_dry_run_only_plans(fake_argilla, wanted):
    result = hooks("apply", "-f", str(wanted), "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        '+ http://a.test/hook "datasets" [dataset.created, dataset.updated, dataset.deleted, dataset.published]',
        "+ http://b.test/ [record.created] (disabled)",
    ]
    assert "dry run: nothing was changed" in result.stderr
    assert mutations(fake_argilla) == [] and fake_argilla.webhooks == []


def test_apply_keeps_webhooks_not_in_the_file_and_says_so_on_stderr(fake_argilla, wanted):
    other = fake_argilla.add(url="http://other.test/")
    result = hooks("apply", "-f", str(wanted))
    assert result.exit_code == 0, result.stderr
    assert "kept 1 webhook not in" in result.stderr and f"http://other.test/ (id {other['id'][:8]})" in result.stderr
    assert "other.test" not in result.stdout
    assert other in fake_argilla.webhooks


def test_apply_reads_stdin(fake_argilla):
    result = hooks("apply", "-f", "-", input=WANTED)
    assert result.exit_code == 0, result.stderr
    assert len(fake_argilla.webhooks) == 2
    as_json = json.dumps({"webhooks": [{"url": "http://c.test/", "events": ["*"]}]})
    result = hooks("apply", "-f", "-", "--dry-run", input=as_json)
    assert result.exit_code == 0 and result.stdout.startswith("+ http://c.test/ [dataset.created,")


def test_apply_json_is_one_document_with_plan_and_result(fake_argilla, wanted):
    result = hooks("apply", "-f", str(wanted), "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert list(data) == ["plan", "result"]
    assert data["plan"]["summary"]["create"] == 2 and data["result"]["ok"] is True
    assert [o["status"] for o in data["result"]["done"]] == ["done", "done"]
    assert "secret" not in data["result"]["done"][0]["webhook"]
    shown = json.loads(hooks("apply", "-f", str(wanted), "--json", "--dry-run").stdout)
    assert shown["plan"]["empty"] is True and shown["result"] is None


def test_apply_json_show_secrets(fake_argilla, wanted):
    data = json.loads(hooks("apply", "-f", str(wanted), "--json", "--show-secrets").stdout)
    assert {o["webhook"]["secret"] for o in data["result"]["done"]} == {h["secret"] for h in fake_argilla.webhooks}


def test_apply_json_show_secrets_shows_only_the_created_webhooks_secrets(fake_argilla, wanted):
    updated = fake_argilla.add(url="http://a.test/hook", events=["record.created"])
    data = json.loads(hooks("apply", "-f", str(wanted), "--json", "--show-secrets").stdout)
    webhooks = {o["action"]: o["webhook"] for o in data["result"]["done"]}
    assert "secret" not in webhooks["update"] and updated["secret"] not in json.dumps(data)
    assert webhooks["create"]["secret"] == fake_argilla.webhooks[1]["secret"]


# --- apply --exit-code ----------------------------------------------------------------------


def test_dry_run_exit_code_is_1_when_changes_are_pending_and_0_when_the_server_matches(fake_argilla, wanted):
    pending = hooks("apply", "-f", str(wanted), "--dry-run", "--exit-code")
    assert pending.exit_code == 1 and pending.stdout.startswith("+ ")
    assert "error" not in pending.stderr
    assert hooks("apply", "-f", str(wanted)).exit_code == 0
    assert hooks("apply", "-f", str(wanted), "--dry-run", "--exit-code").exit_code == 0


def test_exit_code_without_dry_run_is_1_when_changes_were_made(fake_argilla, wanted):
    assert hooks("apply", "-f", str(wanted), "--exit-code").exit_code == 1
    assert len(fake_argilla.webhooks) == 2
    assert hooks("apply", "-f", str(wanted), "--exit-code").exit_code == 0


# --- apply: bad input changes nothing --------------------------------------------------------


def test_invalid_file_lists_every_problem_and_sends_nothing(fake_argilla, tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(
        '[[webhooks]]\nurl = "ftp://x"\nevents = ["dataset.create"]\n\n'
        '[[webhooks]]\nurl = "http://ok.test/"\nevents = ["ping"]\nenabld = false\n'
    )
    result = hooks("apply", "-f", str(path), "--prune", "--yes")
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 5
    assert "entry 1 (url ftp://x): url:" in lines[0]
    assert "did you mean 'dataset.created'" in lines[1]
    assert "entry 2 (url http://ok.test/): enabld: unknown key (did you mean 'enabled'?)" in lines[2]
    assert "'ping' cannot be subscribed to" in lines[3]
    assert lines[4] == f"error: {path}: 4 problems; nothing was changed"
    assert fake_argilla.requests == [] and result.stdout == ""


@pytest.mark.parametrize(("text", "message"), [
    ("", "no 'webhooks' list"),
    ("webhooks = [", "invalid TOML"),
])
def test_empty_or_broken_file_is_refused(fake_argilla, tmp_path, text, message):
    path = tmp_path / "w.toml"
    path.write_text(text)
    result = hooks("apply", "-f", str(path), "--prune", "--yes")
    assert result.exit_code == 2 and message in result.stderr
    assert fake_argilla.requests == []


def test_missing_file_is_refused(fake_argilla, tmp_path):
    result = hooks("apply", "-f", str(tmp_path / "nope.toml"))
    assert result.exit_code == 2 and "cannot read the file" in result.stderr
    assert len(result.stderr.splitlines()) == 1  # issue 18, item 11: one problem, one line
    assert fake_argilla.requests == []


def test_a_plan_over_the_webhook_limit_is_refused_after_listing_only(fake_argilla, wanted):
    for i in range(9):
        fake_argilla.add(url=f"http://old.test/{i}")
    result = hooks("apply", "-f", str(wanted))
    assert result.exit_code == 2 and "would hold 11 webhooks" in result.stderr
    assert "nothing was changed" in result.stderr
    assert mutations(fake_argilla) == []


# --- apply --prune -----------------------------------------------------------------------------


def test_prune_without_yes_off_a_terminal_changes_nothing_and_exits_2(fake_argilla, wanted):
    gone = fake_argilla.add(url="http://gone.test/")
    result = hooks("apply", "-f", str(wanted), "--prune")
    assert result.exit_code == 2
    assert "--prune would delete 1 webhook not in" in result.stderr and "--yes" in result.stderr
    assert f"- http://gone.test/ (id {gone['id'][:8]})" in result.stdout  # the plan shows what it would delete
    assert mutations(fake_argilla) == [] and fake_argilla.webhooks == [gone]


def test_prune_with_stdin_as_the_file_needs_yes(fake_argilla, monkeypatch):
    monkeypatch.setattr(output, "stdin_is_terminal", lambda: True)
    fake_argilla.add(url="http://gone.test/")
    result = hooks("apply", "-f", "-", "--prune", input="webhooks = []\n")
    assert result.exit_code == 2 and mutations(fake_argilla) == []
    assert "add --yes to confirm when the file comes from stdin" in result.stderr  # not "when not on a terminal"


def test_prune_with_yes_deletes_first(fake_argilla, wanted):
    fake_argilla.add(url="http://gone.test/")
    result = hooks("apply", "-f", str(wanted), "--prune", "--yes")
    assert result.exit_code == 0, result.stderr
    assert mutations(fake_argilla)[0][0] == "DELETE"
    assert "deleted http://gone.test/" in result.stdout
    assert sorted(h["url"] for h in fake_argilla.webhooks) == ["http://a.test/hook", "http://b.test/"]


def test_prune_on_a_terminal_asks_on_stderr(fake_argilla, wanted, monkeypatch):
    monkeypatch.setattr(output, "stdin_is_terminal", lambda: True)
    fake_argilla.add(url="http://gone.test/")
    declined = hooks("apply", "-f", str(wanted), "--prune", input="n\n")
    assert declined.exit_code == 1 and "deleting 1 webhook not in" in declined.stderr
    assert "nothing was changed" in declined.stderr and mutations(fake_argilla) == []
    accepted = hooks("apply", "-f", str(wanted), "--prune", input="y\n")
    assert accepted.exit_code == 0, accepted.stderr
    assert len(fake_argilla.webhooks) == 2


def test_prune_with_nothing_to_delete_does_not_ask(fake_argilla, wanted):
    assert hooks("apply", "-f", str(wanted), "--prune").exit_code == 0


def test_prune_dry_run_does_not_ask(fake_argilla, wanted):
    fake_argilla.add(url="http://gone.test/")
    result = hooks("apply", "-f", str(wanted), "--prune", "--dry-run", "--exit-code")
    assert result.exit_code == 1 and result.stdout.splitlines()[0].startswith("- http://gone.test/")


# --- apply: a server failing half-way ------------------------------------------------------------


@pytest.mark.parametrize(("status", "exit_code", "message"), [
    (500, 1, "Argilla server error (500): boom"),
    (422, 5, "Argilla refused the request: boom"),
])
def test_failure_half_way_reports_what_was_applied_and_exits_with_its_code(
    fake_argilla, tmp_path, status, exit_code, message
):
    gone = fake_argilla.add(url="http://gone.test/")
    fake_argilla.fail_on = {"POST": 2}
    fake_argilla.fail_status = status
    path = tmp_path / "w.toml"
    path.write_text("".join(f'[[webhooks]]\nurl = "http://new.test/{i}"\nevents = ["*"]\n' for i in range(3)))
    result = hooks("apply", "-f", str(path), "--prune", "--yes")
    assert result.exit_code == exit_code
    assert result.stdout.splitlines()[-2:] == [
        f"deleted http://gone.test/ (id {gone['id'][:8]})",
        f"created http://new.test/0 (id {fake_argilla.webhooks[0]['id'][:8]})",
    ]
    errors = result.stderr.splitlines()
    assert errors[0] == f"error: failed: + http://new.test/1 [{', '.join(SUBSCRIBABLE)}]: {message}"
    assert errors[1].startswith("not attempted: + http://new.test/2 ")
    assert errors[2] == (
        "error: apply stopped: 2 of 4 changes applied, 1 failed, 1 not attempted; "
        f"fix the cause and run `hooks apply -f {path} --prune --yes` again to finish"  # the hint must work
    )
    assert [h["url"] for h in fake_argilla.webhooks] == ["http://new.test/0"]


@pytest.mark.parametrize("args, rerun", [
    (["-f", "{path}"], "`hooks apply -f {path}`"),
    (["-f", "-"], "the same `hooks apply -f -`"),  # the file came on stdin: there is no path to name
    # what chose the server on the line is kept (else the hint goes elsewhere); the key itself is never printed
    (["-f", "{path}", "--api-url", "http://argilla.test", "--api-key", "owner.key"],
     "`hooks apply -f {path} --api-url http://argilla.test` with the same --api-key"),
    (["-f", "-", "--prune", "-y", "--profile", "my staging"], "the same `hooks apply -f - --prune --yes --profile 'my staging'`"),
])
def test_failure_hint_repeats_the_command_that_finishes_the_job(fake_argilla, wanted, args, rerun, tmp_path):
    (tmp_path / "config.toml").write_text('[profiles."my staging"]\napi_url = "http://argilla.test"\napi_key = "owner.key"\n')
    fake_argilla.fail_on = {"POST": 1}
    args = [a.format(path=wanted) for a in args]
    result = hooks("apply", *args, input=wanted.read_text() if "-" in args else None)
    assert result.exit_code == 1, result.stderr
    assert result.stderr.splitlines()[-1].endswith(f"run {rerun.format(path=wanted)} again to finish")
    assert "owner.key" not in result.stderr


def test_failure_half_way_in_json_still_prints_the_document(fake_argilla, wanted):
    fake_argilla.fail_on = {"POST": 2}
    result = hooks("apply", "-f", str(wanted), "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)["result"]
    assert data["ok"] is False
    assert [len(data[k]) for k in ("done", "failed", "not_attempted")] == [1, 1, 0]
    assert data["failed"][0]["error"]["message"] == "Argilla server error (500): boom"
    # every outcome has every key, so `o["webhook"]` or `o["note"]` never fails in a script
    keys = {"action", "id", "entry", "url", "events", "enabled", "description", "changes", "status", "webhook", "error", "note"}
    assert all(set(o) == keys for o in data["done"] + data["failed"])
    assert data["done"][0]["error"] is None and data["failed"][0]["webhook"] is None


# --- apply: Ctrl-C half-way ----------------------------------------------------------------------------------------


def interrupt_on_call(monkeypatch, method: str, number: int) -> None:
    """Ctrl-C while the `number`th call of ArgillaClient.`method` waits for Argilla."""
    from argilla_hooks.client import ArgillaClient

    real, calls = getattr(ArgillaClient, method), []

    def call(self, *args):
        calls.append(args)
        if len(calls) == number:
            raise KeyboardInterrupt
        return real(self, *args)

    monkeypatch.setattr(ArgillaClient, method, call)


def test_ctrl_c_half_way_reports_what_was_applied_and_exits_130(fake_argilla, tmp_path, monkeypatch):
    gone = fake_argilla.add(url="http://gone.test/")
    interrupt_on_call(monkeypatch, "create", 2)
    path = tmp_path / "w.toml"
    path.write_text("".join(f'[[webhooks]]\nurl = "http://new.test/{i}"\nevents = ["*"]\n' for i in range(3)))
    result = hooks("apply", "-f", str(path), "--prune", "--yes")
    assert result.exit_code == 130
    assert result.stdout.splitlines()[-2:] == [
        f"deleted http://gone.test/ (id {gone['id'][:8]})",
        f"created http://new.test/0 (id {fake_argilla.webhooks[0]['id'][:8]})",
    ]
    errors = result.stderr.splitlines()
    assert errors[0] == f"error: interrupted: + http://new.test/1 [{', '.join(SUBSCRIBABLE)}]: Argilla may or may not have made this change"
    assert errors[1].startswith("not attempted: + http://new.test/2 ")
    assert errors[2] == (
        "error: apply stopped: 2 of 4 changes applied, 1 interrupted, 1 not attempted; "
        f"run `hooks apply -f {path} --prune --yes` again to finish"
    )


def test_ctrl_c_while_disabling_a_new_webhook_says_it_may_still_be_enabled(fake_argilla, tmp_path, monkeypatch):
    interrupt_on_call(monkeypatch, "update", 1)
    path = tmp_path / "w.toml"
    path.write_text('[[webhooks]]\nurl = "http://new.test/"\nevents = ["*"]\nenabled = false\n')
    result = hooks("apply", "-f", str(path), "--json")
    assert result.exit_code == 130
    [failed] = json.loads(result.stdout)["result"]["failed"]
    assert failed["error"]["type"] == "KeyboardInterrupt"
    assert f"warning: created as {fake_argilla.webhooks[0]['id']}, but it may still be enabled: disabling it was interrupted" in result.stderr
