"""The installed `hooks` against a real Argilla server; the server's state is checked after each command."""

import json
import os
import signal
import socket
import stat
import subprocess
import time

import pytest

URL = "http://127.0.0.1:8000/"


def create(hooks, *args):
    result = hooks("create", *args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_create_list_show_update_delete_roundtrip(hooks, server_webhooks):
    created = create(hooks, URL, "-e", "dataset.*", "-e", "record.completed", "-d", "first")
    [on_server] = server_webhooks()
    assert created["id"] == on_server["id"] and created["secret"] == on_server["secret"]
    assert on_server["events"] == ["dataset.created", "dataset.updated", "dataset.deleted", "dataset.published", "record.completed"]
    assert on_server["description"] == "first"

    listed = hooks("list", "--json")
    assert listed.returncode == 0 and [w["id"] for w in json.loads(listed.stdout)] == [created["id"]]
    assert on_server["secret"] not in listed.stdout + listed.stderr

    shown = hooks("show", created["id"][:8], "--json")
    assert json.loads(shown.stdout)["url"] == URL and "secret" not in json.loads(shown.stdout)
    assert json.loads(hooks("show", created["id"][:8], "--json", "--show-secret").stdout)["secret"] == on_server["secret"]

    assert hooks("update", created["id"][:8], "--remove-event", "dataset.*", "--add-event", "response.created").returncode == 0
    [on_server] = server_webhooks()
    assert on_server["events"] == ["record.completed", "response.created"] and on_server["description"] == "first"

    assert hooks("update", created["id"][:8], "--url", "http://127.0.0.1:8001", "--clear-description").returncode == 0
    [on_server] = server_webhooks()
    assert on_server["url"] == "http://127.0.0.1:8001/" and on_server["description"] is None

    deleted = hooks("delete", created["id"][:8], "--json")
    assert deleted.returncode == 0 and json.loads(deleted.stdout)[0]["id"] == created["id"]
    assert server_webhooks() == []


def test_create_disabled_and_enable_disable(hooks, server_webhooks):
    created = create(hooks, URL, "-e", "*", "--disabled")
    [on_server] = server_webhooks()
    assert on_server["enabled"] is False and len(on_server["events"]) == 11 and created["enabled"] is False
    assert hooks("enable", created["id"][:8]).returncode == 0
    assert server_webhooks()[0]["enabled"] is True
    assert hooks("disable", created["id"]).returncode == 0
    assert server_webhooks()[0]["enabled"] is False
    assert [w["id"] for w in json.loads(hooks("list", "--json", "--disabled").stdout)] == [created["id"]]
    assert json.loads(hooks("list", "--json", "--enabled").stdout) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ftp://example.com/", "-e", "dataset.created"], "not an http(s) URL"),
        (["http://", "-e", "dataset.created"], "has no host"),
        ([URL, "-e", "dataset.create"], "did you mean 'dataset.created'"),
        ([URL], "at least one event"),
        ([URL, "-e", ""], "at least one event"),
        ([URL, "-e", ","], "at least one event"),
        (["http:///hook", "-e", "dataset.created"], "has no host"),
        ([URL, "-e", "dataset.created", "-d", "x" * 1001], "1 to 1000 characters"),
    ],
)
def test_bad_create_input_exits_2_and_creates_nothing(hooks, server_webhooks, args, message):
    result = hooks("create", *args)
    assert result.returncode == 2 and message in result.stderr and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert server_webhooks() == []


def test_update_with_nothing_to_change_exits_2(hooks, server_webhooks):
    created = create(hooks, URL, "-e", "dataset.created")
    result = hooks("update", created["id"])
    assert result.returncode == 2 and "nothing to change" in result.stderr
    assert server_webhooks()[0]["updated_at"] == created["updated_at"]


def test_ambiguous_prefix_and_unknown_id(hooks, server_webhooks):
    # Ids are random: create (and replace) webhooks until two share a first character.
    by_first: dict[str, list[str]] = {}
    for i in range(60):
        if len(server_webhooks()) == 10:
            victim = next(ids for ids in by_first.values() if ids)
            assert hooks("delete", victim.pop()).returncode == 0
        made = create(hooks, f"http://127.0.0.1:{9000 + i}/", "-e", "dataset.created")["id"]
        by_first.setdefault(made[0], []).append(made)
        if len(by_first[made[0]]) == 2:
            break
    prefix, pair = made[0], by_first[made[0]]
    before = server_webhooks()
    result = hooks("delete", prefix)
    assert result.returncode == 2 and "ambiguous" in result.stderr
    assert all(full in result.stderr for full in pair)
    assert server_webhooks() == before

    assert hooks("show", "ffffffff-ffff-4fff-8fff-ffffffffffff").returncode == 4
    result = hooks("delete", pair[0][:8], "0000000z")
    assert result.returncode == 4 and server_webhooks() == before  # one bad id deletes nothing
    # a well-formed full id that is not on the server is a typo too: checked before anything changes
    typo = pair[0][:-1] + ("0" if pair[0][-1] != "0" else "1")
    for command in ("delete", "disable", "enable"):
        result = hooks(command, pair[1][:8], typo, "--json")
        assert result.returncode == 4 and f"no webhook with id '{typo}'" in result.stderr, (command, result.stderr)
        assert result.stdout == "" and server_webhooks() == before
    # the other ways of writing a UUID name the same webhook everywhere
    for spelling in (pair[0].replace("-", ""), "{" + pair[0].upper() + "}", f"urn:uuid:{pair[0]}"):
        assert json.loads(hooks("show", spelling, "--json").stdout)["id"] == pair[0]


def test_delete_all_needs_yes_without_terminal(hooks, server_webhooks):
    create(hooks, URL, "-e", "dataset.created")
    create(hooks, URL, "-e", "record.created")
    result = hooks("delete", "--all")
    assert result.returncode == 2 and "--yes" in result.stderr and len(server_webhooks()) == 2
    assert hooks("delete", "--all", "--yes").returncode == 0
    assert server_webhooks() == []


def test_eleventh_webhook_is_rejected_with_server_reason(hooks, server_webhooks):
    for i in range(10):
        create(hooks, f"http://127.0.0.1:{9000 + i}/", "-e", "dataset.created")
    result = hooks("create", URL, "-e", "dataset.created")
    # the server's own words (Argilla 2.8: "You can't create more than 10 webhooks. Please delete some of them first")
    assert result.returncode == 5 and "more than 10 webhooks" in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1 and result.stdout == ""
    assert len(server_webhooks()) == 10


def test_wrong_key_exits_3_without_printing_it(hooks, argilla, server_webhooks):
    result = hooks("create", URL, "-e", "dataset.created", env={"ARGILLA_API_KEY": "not-a-real-key-123"})
    assert result.returncode == 3 and f"the API key was rejected by {argilla.api_url}" in result.stderr
    assert "not-a-real-key-123" not in result.stdout + result.stderr
    assert server_webhooks() == []


@pytest.mark.parametrize("role", ["annotator", "admin"])
def test_non_owner_key_exits_3(hooks, argilla, server_webhooks, role):
    key = argilla.annotator_key if role == "annotator" else argilla.admin_key
    result = hooks("create", URL, "-e", "dataset.created", env={"ARGILLA_API_KEY": key})
    assert result.returncode == 3 and "only owners can manage webhooks" in result.stderr
    assert key not in result.stdout + result.stderr
    assert server_webhooks() == []
    # Argilla answers 404 before 403 for an unknown id; the id is looked up first, so the answer is still "not an owner"
    for args in (["delete"], ["update", "--disable"], ["ping"]):
        result = hooks(*args[:1], "00000000-0000-4000-8000-000000000000", *args[1:], env={"ARGILLA_API_KEY": key})
        assert result.returncode == 3 and "only owners can manage webhooks" in result.stderr, (args, result.stderr)


def test_no_api_key_and_malformed_api_url_exit_2(hooks):
    result = hooks("list", env={"ARGILLA_API_KEY": None})
    assert result.returncode == 2 and "ARGILLA_API_KEY" in result.stderr
    result = hooks("list", "--api-url", "not a url")
    assert result.returncode == 2 and "malformed API URL" in result.stderr


def test_server_down_exits_6_within_10_seconds(hooks):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    started = time.monotonic()
    result = hooks("list", "--api-url", f"http://127.0.0.1:{port}")
    assert result.returncode == 6 and "cannot reach Argilla" in result.stderr
    assert time.monotonic() - started < 10


def test_unresponsive_server_exits_6_within_10_seconds(hooks):
    # A socket that accepts nothing: the TCP handshake completes into the backlog but no answer comes.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(0)
        started = time.monotonic()
        result = hooks("list", "--api-url", f"http://127.0.0.1:{sock.getsockname()[1]}", timeout=40)
    assert result.returncode == 6, result.stderr
    assert time.monotonic() - started < 10


@pytest.mark.parametrize(("suffix", "shown"), [("/api/v1", "/api/v1"), ("/favicon.ico", "/***")])  # Argilla's 404, its UI
def test_an_api_url_that_is_not_argillas_api_exits_6_and_says_what_to_give(hooks, argilla, suffix, shown):
    # A path other than /api/v1 is not shown: it may be a key pasted into the URL.
    result = hooks("list", "--json", "--api-url", argilla.api_url + suffix)
    assert result.returncode == 6 and result.stdout == ""
    assert result.stderr.startswith(f"error: no Argilla API at {argilla.api_url}{shown} (GET /api/v1/webhooks answered ")
    assert "without /api/v1" in result.stderr and len(result.stderr.splitlines()) == 1


def test_ping_delivers_to_a_listener(hooks, webhook_receiver):
    created = create(hooks, webhook_receiver.url, "-e", "dataset.created")
    result = hooks("ping", created["id"][:8])
    assert result.returncode == 0, result.stderr
    delivery = webhook_receiver.next(timeout=10)
    assert delivery.json()["type"] == "ping" and delivery.headers["webhook-signature"].startswith("v1,")


def test_ping_to_unreachable_url_exits_1_in_plain_words(hooks):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    created = create(hooks, f"http://127.0.0.1:{port}/", "-e", "dataset.created")
    result = hooks("ping", created["id"])
    assert result.returncode == 1
    assert f"could not deliver the ping to http://127.0.0.1:{port}/" in result.stderr
    assert "Traceback" not in result.stderr


def test_login_whoami_logout(hooks, argilla):
    result = hooks("login", "--profile", "e2e", "--api-url", argilla.api_url, env={"ARGILLA_API_URL": None})
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(os.stat(hooks.config_path).st_mode) == 0o600
    assert argilla.owner_key not in result.stdout + result.stderr
    env = {"ARGILLA_API_URL": None, "ARGILLA_API_KEY": None, "ARGILLA_HOOKS_PROFILE": "e2e"}
    who = hooks("whoami", "--json", env=env)
    assert who.returncode == 0, who.stderr
    data = json.loads(who.stdout)
    assert data["role"] == "owner" and data["api_url"] == argilla.api_url and data["server_version"] == "2.8.0"
    assert hooks("list", "--json", env=env).returncode == 0
    assert hooks("logout", "--profile", "e2e").returncode == 0
    assert hooks("list", env=env).returncode == 2  # the profile is gone


def test_login_with_annotator_warns(hooks, argilla):
    result = hooks("login", "--api-key", argilla.annotator_key)
    assert result.returncode == 0 and "only owners can manage webhooks" in result.stderr


def test_interrupt_exits_130(hooks, argilla):
    # A listener that never answers keeps `hooks ping` waiting, so SIGINT lands mid-request.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(5)
        created = create(hooks, f"http://127.0.0.1:{sock.getsockname()[1]}/", "-e", "dataset.created")
        proc = subprocess.Popen([hooks.executable, "ping", created["id"]], env={k: v for k, v in hooks.env.items() if v is not None},
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
        time.sleep(2)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and "Traceback" not in err, err
