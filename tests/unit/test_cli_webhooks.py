"""The webhook commands through main(), in-process, against a fake Argilla (respx)."""

import json

import pytest

from tests.unit.fake_argilla import ANNOTATOR_KEY
from tests.unit.hooks_cli import hooks





def test_create_prints_webhook_with_secret_as_json(fake_argilla):
    result = hooks("create", "http://127.0.0.1:8000/", "-e", "dataset.*,record.created", "-d", "bot", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["events"] == ["dataset.created", "dataset.updated", "dataset.deleted", "dataset.published", "record.created"]
    assert data["secret"] == fake_argilla.webhooks[0]["secret"]
    assert list(data) == ["id", "url", "secret", "events", "enabled", "description", "inserted_at", "updated_at"]


def test_create_disabled_patches_after_create(fake_argilla):
    result = hooks("create", "http://127.0.0.1:8000/", "-e", "*", "--disabled", "--json")
    assert result.exit_code == 0, result.stderr
    assert fake_argilla.webhooks[0]["enabled"] is False
    assert len(fake_argilla.webhooks[0]["events"]) == 11


def test_create_disabled_undoes_the_create_when_disabling_fails(fake_argilla):
    fake_argilla.fail_on = {"PATCH": 1}
    result = hooks("create", "http://127.0.0.1:8000/", "-e", "*", "--disabled")
    assert result.exit_code == 1 and result.stderr.count("\n") == 1 and "boom" in result.stderr
    assert fake_argilla.webhooks == [] and result.stdout == ""


def test_create_disabled_names_what_is_left_when_the_undo_fails_too(fake_argilla):
    # The webhook is enabled, the opposite of what was asked: the error said only "boom", the one of the delete
    fake_argilla.fail_on = {"PATCH": 1, "DELETE": 1}
    result = hooks("create", "http://127.0.0.1:8000/", "-e", "*", "--disabled")
    [left] = fake_argilla.webhooks
    assert result.exit_code == 1 and result.stderr.count("\n") == 1 and left["enabled"] is True
    assert f"created webhook {left['id']} for http://127.0.0.1:8000/, but it is ENABLED" in result.stderr
    assert f"run `hooks delete {left['id']}`" in result.stderr and left["secret"] not in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ftp://example.com", "-e", "dataset.created"], "not an http(s) URL"),
        (["http://", "-e", "dataset.created"], "has no host"),
        (["http://127.0.0.1:8000/", "-e", "dataset.create"], "did you mean 'dataset.created'"),
        (["http://127.0.0.1:8000/", "-e", "ping"], "cannot be subscribed"),
        (["http://127.0.0.1:8000/", "-e", "nothing.*"], "matches no event"),
        (["http://127.0.0.1:8000/"], "at least one event"),
        (["http://127.0.0.1:8000/", "-e", ""], "at least one event"),
        (["http://127.0.0.1:8000/", "-e", ","], "at least one event"),
        (["http:///hook", "-e", "dataset.created"], "has no host"),
        (["http://127.0.0.1:8000/", "-e", "dataset.created", "-d", "x" * 1001], "1 to 1000 characters"),
        # a byte that is not UTF-8 on the command line (Python's lone surrogate): was "unexpected UnicodeEncodeError"
        (["http://127.0.0.1:8000/", "-e", "dataset.created", "-d", "bad\udcffbyte"], "description: is not UTF-8 text"),
    ],
)
def test_create_rejects_bad_input_before_any_request(fake_argilla, args, message):
    result = hooks("create", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert fake_argilla.requests == [] and result.stdout == ""


def test_list_json_hides_secrets_unless_asked(fake_argilla):
    fake_argilla.add()
    listed = json.loads(hooks("list", "--json").stdout)
    assert "secret" not in listed[0]
    listed = json.loads(hooks("list", "--json", "--show-secrets").stdout)
    assert listed[0]["secret"] == fake_argilla.webhooks[0]["secret"]


def test_list_filters_by_event_glob_and_state(fake_argilla):
    fake_argilla.add(url="http://a.test/", events=["record.created"])
    fake_argilla.add(url="http://b.test/", events=["dataset.created"], enabled=False)
    assert [w["url"] for w in json.loads(hooks("list", "--json", "--event", "record.*").stdout)] == ["http://a.test/"]
    assert [w["url"] for w in json.loads(hooks("list", "--json", "--disabled").stdout)] == ["http://b.test/"]
    assert [w["url"] for w in json.loads(hooks("list", "--json", "--enabled").stdout)] == ["http://a.test/"]


@pytest.mark.parametrize("args", [["list", "--event", ""], ["update", "abc", "--add-event", ""], ["update", "abc", "--remove-event", ","]])
def test_an_empty_event_is_an_error_not_everything(fake_argilla, args):
    # `-e "$EVENT"` with the variable unset must not list every webhook, nor say that nothing was asked
    result = hooks(*args)
    assert result.exit_code == 2 and "at least one event is required" in result.stderr
    assert fake_argilla.requests == []
    # removing '*' would leave no event, which is refused too: not a hint to give
    assert ("'*' for all" in result.stderr) is ("--remove-event" not in args)


def test_list_enabled_and_disabled_together_is_a_usage_error(fake_argilla):
    result = hooks("list", "--enabled", "--disabled", "--json")
    assert result.exit_code == 2 and "give either --enabled or --disabled, not both" in result.stderr
    assert result.stdout == "" and fake_argilla.requests == []


def test_list_plain_text_when_not_a_terminal(fake_argilla):
    hook = fake_argilla.add(events=["dataset.created", "dataset.updated", "dataset.deleted", "dataset.published"])
    lines = hooks("list").stdout.splitlines()
    assert lines[0].split("\t")[:3] == ["ID", "URL", "EVENTS"]
    assert lines[1].split("\t")[:3] == [hook["id"][:8], hook["url"], "dataset.*"]
    assert hook["secret"] not in hooks("list").stdout


def test_show_by_prefix_hides_secret_unless_asked(fake_argilla):
    hook = fake_argilla.add()
    shown = hooks("show", hook["id"][:6], "--json")
    assert json.loads(shown.stdout)["id"] == hook["id"] and hook["secret"] not in shown.stdout
    assert json.loads(hooks("show", hook["id"][:6], "--json", "--show-secret").stdout)["secret"] == hook["secret"]


def test_ambiguous_prefix_is_usage_error_listing_candidates(fake_argilla):
    a = fake_argilla.add(id="abcd0001-0000-4000-8000-000000000000")
    b = fake_argilla.add(id="abcd0002-0000-4000-8000-000000000000")
    result = hooks("show", "abcd")
    assert result.exit_code == 2
    assert a["id"] in result.stderr and b["id"] in result.stderr


def test_unknown_id_exits_4(fake_argilla):
    assert hooks("show", "ffff").exit_code == 4
    assert hooks("delete", "0b5d8c1e-0000-4000-8000-000000000000").exit_code == 4


def test_update_sends_only_what_was_asked(fake_argilla):
    hook = fake_argilla.add(events=["dataset.created"], description="keep")
    result = hooks("update", hook["id"][:8], "--add-event", "record.completed", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(fake_argilla.requests[-1].content) == {"events": ["dataset.created", "record.completed"]}
    assert fake_argilla.webhooks[0]["description"] == "keep"


def test_update_remove_event_and_clear_description(fake_argilla):
    hook = fake_argilla.add(events=["dataset.created", "record.created"], description="x")
    assert hooks("update", hook["id"], "--remove-event", "record.*", "--clear-description").exit_code == 0
    assert json.loads(fake_argilla.requests[-1].content) == {"events": ["dataset.created"], "description": None}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "nothing to change"),
        (["--url", "nope"], "not an http(s) URL"),
        (["-e", "dataset.create"], "did you mean"),
        (["-d", "x", "--clear-description"], "not both"),
        (["--enable", "--disable"], "give either --enable or --disable, not both"),  # not "the last one wins"
        (["-d", "x" * 1001], "1 to 1000"),
    ],
)
def test_update_rejects_bad_input_before_any_request(fake_argilla, args, message):
    hook = fake_argilla.add()
    result = hooks("update", hook["id"], *args)
    assert result.exit_code == 2 and message in result.stderr
    assert fake_argilla.requests == []


@pytest.mark.parametrize("args", [["--add-event", "dataset.created"], ["--remove-event", "record.*"], ["--enable"],
                                  ["-d", "same", "--url", "http://127.0.0.1:8000/"], ["--url", "HTTP://127.0.0.1:8000"],
                                  ["--add-event", "dataset.*", "--remove-event", "dataset.updated,dataset.deleted,dataset.published"]])
def test_update_that_would_change_nothing_sends_nothing_and_says_so(fake_argilla, args):
    hook = fake_argilla.add(events=["dataset.created"], description="same")
    result = hooks("update", hook["id"][:8], *args)
    assert result.exit_code == 0 and "already is as asked; nothing changed" in result.stderr
    assert [r.method for r in fake_argilla.requests] == ["GET"]
    assert json.loads(hooks("update", hook["id"][:8], *args, "--json").stdout)["id"] == hook["id"]


def test_update_removing_every_event_is_refused(fake_argilla):
    hook = fake_argilla.add(events=["dataset.created"])
    result = hooks("update", hook["id"], "--remove-event", "dataset.created")
    assert result.exit_code == 2 and "no events" in result.stderr
    assert fake_argilla.webhooks[0]["events"] == ["dataset.created"]


def test_enable_and_disable(fake_argilla):
    a, b = fake_argilla.add(), fake_argilla.add()
    assert hooks("disable", a["id"][:8], b["id"][:8]).exit_code == 0
    assert [w["enabled"] for w in fake_argilla.webhooks] == [False, False]
    assert hooks("enable", a["id"][:8]).exit_code == 0
    assert [w["enabled"] for w in fake_argilla.webhooks] == [True, False]


@pytest.mark.parametrize("command", ["enable", "disable"])
def test_enable_or_disable_of_what_already_is_so_is_noted_and_sends_nothing(fake_argilla, command):
    # Issue 18, item 13: said nothing about it.
    hook, other = fake_argilla.add(enabled=command == "enable"), fake_argilla.add(enabled=command != "enable")
    result = hooks(command, hook["id"][:8], other["id"][:8])
    assert result.exit_code == 0 and f"webhook {hook['id'][:8]} is already {command}d" in result.stderr
    patched = [r for r in fake_argilla.requests if r.method == "PATCH"]
    assert [r.url.path.rsplit("/", 1)[1] for r in patched] == [other["id"]]  # only the one that needed it
    as_json = json.loads(hooks(command, hook["id"][:8], "--json").stdout)
    assert [w["id"] for w in as_json] == [hook["id"]] and len([r for r in fake_argilla.requests if r.method == "PATCH"]) == 1


def test_ping_of_a_disabled_webhook_says_it_is_disabled(fake_argilla):
    # Issue 18, item 2: a check mark alone, for a webhook Argilla will not deliver events to.
    hook = fake_argilla.add(url="http://127.0.0.1:9/", enabled=False)
    result = hooks("ping", hook["id"][:8])
    assert result.exit_code == 0 and "does not say what the receiver answered" in result.stderr
    assert f"webhook {hook['id'][:8]} is disabled" in result.stderr and "hooks enable" in result.stderr


@pytest.mark.parametrize("command", ["delete", "enable", "disable"])
@pytest.mark.parametrize("typo", ["ffffffff", "ffffffff-ffff-4fff-8fff-ffffffffffff"])
def test_every_id_is_checked_before_anything_changes(fake_argilla, command, typo):
    hook = fake_argilla.add(enabled=command != "enable")  # so that the command would change it
    before = [dict(h) for h in fake_argilla.webhooks]
    result = hooks(command, hook["id"][:8], typo)
    assert result.exit_code == 4 and f"no webhook with id '{typo}'" in result.stderr
    assert fake_argilla.webhooks == before


def test_delete_named_ids_json(fake_argilla):
    a, b = fake_argilla.add(), fake_argilla.add()
    result = hooks("delete", a["id"][:8], b["id"], "--json")
    assert result.exit_code == 0
    assert [w["id"] for w in json.loads(result.stdout)] == [a["id"], b["id"]]
    assert fake_argilla.webhooks == []


def test_delete_all_refuses_without_yes_when_not_a_terminal(fake_argilla):
    fake_argilla.add()
    result = hooks("delete", "--all")
    assert result.exit_code == 2 and "--yes" in result.stderr
    assert len(fake_argilla.webhooks) == 1
    assert hooks("delete", "--all", "--yes").exit_code == 0
    assert fake_argilla.webhooks == []


@pytest.mark.parametrize("args", [[], ["abc", "--all"]])
def test_delete_needs_ids_or_all(fake_argilla, args):
    assert hooks("delete", *args).exit_code == 2


def test_ping_success_and_failure(fake_argilla):
    hook = fake_argilla.add(url="http://127.0.0.1:9/")
    result = hooks("ping", hook["id"][:8])
    assert result.exit_code == 0 and result.stdout == ""
    assert "delivered a ping to http://127.0.0.1:9/ (it does not say what the receiver answered)" in result.stderr
    fake_argilla.ping_error = "[Errno 111] Connection refused"
    result = hooks("ping", hook["id"][:8])
    assert result.exit_code == 1
    assert "could not deliver the ping to http://127.0.0.1:9/: Connection refused (ConnectError)" in result.stderr


def test_server_limit_exits_5_with_reason(fake_argilla):
    for _ in range(10):
        fake_argilla.add()
    result = hooks("create", "http://127.0.0.1:8000/", "-e", "dataset.created")
    assert result.exit_code == 5 and "more than 10 webhooks" in result.stderr


def test_wrong_key_and_non_owner_exit_3(fake_argilla):
    result = hooks("list", "--api-key", "wrong")
    assert result.exit_code == 3 and "API key was rejected by http://argilla.test" in result.stderr
    assert "wrong" not in result.stderr
    result = hooks("list", "--api-key", ANNOTATOR_KEY)
    assert result.exit_code == 3 and "only owners can manage webhooks" in result.stderr


def test_missing_api_key_is_usage_error(fake_argilla, monkeypatch):
    monkeypatch.delenv("ARGILLA_API_KEY")
    result = hooks("list")
    assert result.exit_code == 2 and "ARGILLA_API_KEY" in result.stderr and "hooks login" in result.stderr
    assert fake_argilla.requests == []


def test_events_catalogue_json(fake_argilla):
    events = json.loads(hooks("events", "--json").stdout)
    assert len(events) == 12 and events[0] == {"name": "dataset.created", "description": events[0]["description"], "subscribable": True}


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["show"], "error: Missing argument 'ID'. (see `hooks show --help`)"),
        (["list", "--bogus"], "error: No such option: --bogus (see `hooks list --help`)"),
        (["lst"], "error: No such command 'lst'. Did you mean 'list', 'listen'? (see `hooks --help`)"),
        (["--bogus"], "error: No such option: --bogus (see `hooks --help`)"),
        (["listen", "--port", "99999"], "error: Invalid value for '--port' / '-p': Input should be less than or equal to 65535"),
        (["export", "--format", "yaml"], "error: Invalid value for '--format': 'yaml' is not one of 'toml', 'json'."),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(fake_argilla, args, line):
    result = hooks(*args)
    assert result.exit_code == 2 and result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith(line)
    assert fake_argilla.requests == []


@pytest.mark.parametrize(("command", "method", "done_word"), [("delete", "DELETE", "deleted"), ("disable", "PATCH", "disabled")])
def test_a_failure_part_way_says_what_was_done_and_what_was_not(fake_argilla, command, method, done_word):
    a, b, c = (fake_argilla.add() for _ in range(3))
    fake_argilla.fail_on = {method: 2}
    text = hooks(command, a["id"], b["id"], c["id"])
    assert text.exit_code == 1
    assert text.stderr.splitlines() == [
        f"✓ {done_word} webhook {a['id'][:8]} ({a['url']})",
        f"error: {b['id'][:8]}: Argilla server error (500): boom (1 of 3 {done_word} before it; not attempted: {c['id'][:8]})",
    ]
    fake_argilla.requests.clear()  # the failure counts from here again: the second change of the next run fails
    d, e = fake_argilla.add(), fake_argilla.add()
    as_json = hooks(command, d["id"], e["id"], c["id"], "--json")
    assert as_json.exit_code == 1 and [w["id"] for w in json.loads(as_json.stdout)] == [d["id"]]  # what was done
    assert f"error: {e['id'][:8]}: " in as_json.stderr and f"not attempted: {c['id'][:8]}" in as_json.stderr
