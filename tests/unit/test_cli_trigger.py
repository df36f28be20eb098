"""`hooks trigger` through main(), in-process, against a receiver in a thread that verifies with `standardwebhooks`."""

import base64
import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import respx
from standardwebhooks.webhooks import Webhook as StandardWebhook

from argilla_hooks.events import ALL_EVENTS
from tests.unit.fake_argilla import FakeArgilla
from tests.unit.hooks_cli import hooks

SECRET = base64.b64encode(secrets.token_bytes(64)).decode()  # like Argilla's
WRONG_SECRET = base64.b64encode(secrets.token_bytes(64)).decode()




class Receiver:
    """Answers 200 with what it verified, 401 when the signature is wrong, or `status_override`."""

    def __init__(self, secret: str):
        self.verifier = StandardWebhook(secret)
        self.received: list[dict] = []
        self.status_override: int | None = None
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                try:
                    event = receiver.verifier.verify(body, {k.lower(): v for k, v in self.headers.items()})
                except Exception as exc:  # standardwebhooks raises several types on bad input
                    status, answer = 401, f"bad signature: {type(exc).__name__}"
                else:
                    receiver.received.append(event)
                    status, answer = 200, json.dumps({"ok": True, "type": event["type"]})
                status = receiver.status_override or status
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.end_headers()
                self.wfile.write(answer.encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(monkeypatch):
    monkeypatch.setenv("ARGILLA_API_URL", "http://127.0.0.1:9")  # no Argilla server at all
    monkeypatch.delenv("ARGILLA_WEBHOOK_SECRET", raising=False)
    found = Receiver(SECRET)
    yield found
    found.close()


@pytest.mark.parametrize("event_type", ALL_EVENTS)
def test_every_event_is_accepted_with_the_right_secret(receiver, event_type):
    result = hooks("trigger", event_type, "--to", receiver.url, "--secret", SECRET)
    assert result.exit_code == 0, result.stderr
    [event] = receiver.received
    assert event["type"] == event_type and event["version"] == 1
    assert json.loads(result.stdout) == {"ok": True, "type": event_type}
    assert f"{receiver.url} answered 200 OK to {event_type} (msg_" in result.stderr


def test_a_wrong_secret_is_rejected_by_the_receiver_and_exits_1(receiver):
    result = hooks("trigger", "ping", "--to", receiver.url, "--secret", WRONG_SECRET)
    assert result.exit_code == 1
    assert receiver.received == []
    assert result.stdout.startswith("bad signature")
    assert result.stderr.startswith(f"error: {receiver.url} answered 401 Unauthorized to ping")


def test_a_non_2xx_answer_exits_1(receiver):
    receiver.status_override = 500
    result = hooks("trigger", "ping", "--to", receiver.url, "--secret", SECRET)
    assert result.exit_code == 1 and "answered 500 Internal Server Error" in result.stderr


def test_json_prints_status_body_delivery_id_type_and_url(receiver):
    result = hooks("trigger", "record.completed", "--to", receiver.url, "--secret", SECRET, "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert list(data) == ["status", "body", "webhook_id", "type", "url", "error"]
    assert data["error"] is None and data["status"] == 200 and json.loads(data["body"])["type"] == "record.completed"
    assert data["webhook_id"].startswith("msg_") and data["url"] == receiver.url


def test_secret_from_the_environment_and_with_a_whsec_prefix(receiver):
    result = hooks("trigger", "ping", "--to", receiver.url, env={"ARGILLA_WEBHOOK_SECRET": f"whsec_{SECRET}"})
    assert result.exit_code == 0, result.stderr


def test_data_overrides_are_merged_into_the_sample(receiver, tmp_path):
    result = hooks("trigger", "dataset.created", "--to", receiver.url, "--secret", SECRET, "--data", '{"name": "mine"}')
    assert result.exit_code == 0, result.stderr
    overrides = tmp_path / "data.json"
    overrides.write_text('{"dataset": {"name": "from-file"}}')
    result = hooks("trigger", "record.created", "--to", receiver.url, "--secret", SECRET, "--data", f"@{overrides}")
    assert result.exit_code == 0, result.stderr
    assert [e["data"].get("name") or e["data"]["dataset"]["name"] for e in receiver.received] == ["mine", "from-file"]


def test_a_data_file_with_a_byte_order_mark_is_read(receiver, tmp_path):
    overrides = tmp_path / "data.json"
    overrides.write_bytes(b'\xef\xbb\xbf{"name": "from-notepad"}')
    result = hooks("trigger", "dataset.created", "--to", receiver.url, "--secret", SECRET, "--data", f"@{overrides}")
    assert result.exit_code == 0, result.stderr
    assert receiver.received[0]["data"]["name"] == "from-notepad"


def test_canonical_ids_and_times_in_data_are_sent_as_given(receiver):
    overrides = {"id": "6ba7b810-9dad-11d1-80b4-00c04fd430c8", "inserted_at": "2024-01-01T00:00:00.123456"}
    result = hooks("trigger", "dataset.created", "--to", receiver.url, "--secret", SECRET, "--data", json.dumps(overrides))
    assert result.exit_code == 0, result.stderr
    assert {key: receiver.received[0]["data"][key] for key in overrides} == overrides


def test_webhook_id_signs_with_that_webhooks_secret_even_when_the_env_var_is_set(receiver):
    with respx.mock(assert_all_called=False) as router:
        router.route(host="127.0.0.1").pass_through()
        fake = FakeArgilla(router)
        hook = fake.add()
        hook["secret"] = SECRET
        env = {"ARGILLA_API_URL": "http://argilla.test", "ARGILLA_WEBHOOK_SECRET": WRONG_SECRET}
        result = hooks("trigger", "ping", "--to", receiver.url, "--webhook", hook["id"][:6], env=env)
    assert result.exit_code == 0, result.stderr
    assert len(receiver.received) == 1


def test_an_unknown_webhook_id_exits_4_and_sends_nothing(receiver):
    with respx.mock(assert_all_called=False) as router:
        router.route(host="127.0.0.1").pass_through()
        FakeArgilla(router)
        result = hooks("trigger", "ping", "--to", receiver.url, "--webhook", "abc", env={"ARGILLA_API_URL": "http://argilla.test"})
    assert result.exit_code == 4 and "no webhook with id 'abc'" in result.stderr
    assert receiver.received == []


@pytest.mark.parametrize(("args", "message"), [
    (["ping"], "no secret to sign with: pass --secret, set ARGILLA_WEBHOOK_SECRET, or pass --webhook ID"),
    (["ping", "--secret", SECRET, "--webhook", "3f2a"], "give --secret or --webhook, not both"),
    (["ping", "--secret", "not base64!"], "--secret: not a base64 webhook secret"),
    (["dataset.create", "--secret", SECRET], "type: unknown event 'dataset.create' (did you mean 'dataset.created'?)"),
    (["dataset.*", "--secret", SECRET], "type: 'dataset.*' matches 4 events; trigger sends one"),
    (["*", "--secret", SECRET], "trigger sends one"),
    (["", "--secret", SECRET], "type: no event given: name one (see `hooks events`)"),
    (["ping", "--secret", SECRET, "--data", "{nope"], "--data: invalid JSON at line 1, column 2"),
    (["ping", "--secret", SECRET, "--data", "[1]"], "--data: expected a JSON object"),
    (["ping", "--secret", SECRET, "--data", "@/nonexistent.json"], "--data: cannot read /nonexistent.json"),
    (["dataset.created", "--secret", SECRET, "--data", '{"name": 5}'], "data.name: Input should be a valid string"),
    (["record.created", "--secret", SECRET, "--data", '{"dataset": {"id": "x"}}'], "data.dataset.id: Input should be a valid UUID"),
    (["dataset.created", "--secret", SECRET, "--data", '{"nmae": "x"}'], "data.nmae: not a key of this payload (did you mean 'name'?)"),
    (["ping", "--secret", SECRET, "--to", "ftp://x"], "--to: 'ftp://x' is not an http(s) URL"),
    # ids and times only in the form Argilla writes them
    (["dataset.created", "--secret", SECRET, "--data", '{"inserted_at": "2024-01-01T00:00:00Z"}'],
     'data.inserted_at: Argilla writes times in data as naive UTC, YYYY-MM-DDTHH:MM:SS[.ffffff] without Z or offset: '
     '"2024-01-01T00:00:00"'),
    (["record.created", "--secret", SECRET, "--data", '{"dataset": {"id": "6BA7B810-9DAD-11D1-80B4-00C04FD430C8"}}'],
     'data.dataset.id: Argilla writes UUIDs in lower case with hyphens: "6ba7b810-9dad-11d1-80b4-00c04fd430c8"'),
    (["dataset.created", "--secret", SECRET, "--data", '{"name": "x", "name": "y"}'],
     '--data: invalid JSON: key "name" appears twice in one object'),
    (["dataset.created", "--secret", SECRET, "--data", '{"name": "\\ud800"}'],
     "data.name: holds a lone surrogate escape (\\ud800), half of a UTF-16 pair and no character"),
    (["ping", "--secret", SECRET, "--data", "@"], '--data: "@" needs a file name after it, as in --data @data.json'),
])
def test_bad_input_exits_2_with_the_bad_field_and_sends_nothing(receiver, args, message):
    if "--to" not in args:
        args = [*args, "--to", receiver.url]
    result = hooks("trigger", *args)
    assert result.exit_code == 2, result.stderr
    assert message in result.stderr and len(result.stderr.splitlines()) == 1
    assert result.stdout == "" and receiver.received == []


def test_an_unreachable_receiver_is_one_line_and_exit_1(receiver):
    receiver.close()
    result = hooks("trigger", "ping", "--to", receiver.url, "--secret", SECRET)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: could not reach {receiver.url}") and len(result.stderr.splitlines()) == 1


def test_json_still_prints_a_document_when_nothing_answers(receiver):
    receiver.close()
    result = hooks("trigger", "ping", "--to", receiver.url, "--secret", SECRET, "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)  # so that `... --json | jq .status` reads null, not nothing
    assert data["status"] is None and data["body"] is None and data["error"].startswith(f"could not reach {receiver.url}")
    assert result.stderr.startswith("error: could not reach") and len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize("to", ["http://user:hunter2@127.0.0.1:9/", "ftp://user:hunter2@x/"])
def test_a_receiver_url_with_a_password_is_not_repeated_in_messages(to):
    result = hooks("trigger", "ping", "--secret", SECRET, "--to", to)
    assert result.exit_code in (1, 2) and "hunter2" not in result.stderr and "***@" in result.stderr


def test_every_bad_field_of_data_is_reported_at_once():
    # Issue 18, item 3: only `data.values` was reported; `data.foo` appeared once that was fixed.
    result = hooks("trigger", "response.created", "--secret", SECRET, "--data", '{"foo": 1, "values": 3, "record": {"bar": 2}}')
    assert result.exit_code == 2
    for field in ("data.foo: not a key of this payload", "data.record.bar: not a key of this payload", "data.values:"):
        assert field in result.stderr, result.stderr


def test_trigger_with_a_webhook_sends_to_that_webhooks_url_and_says_so(receiver):
    # Issue 18, item 1: it signed with the webhook's secret but sent to http://127.0.0.1:8000/.
    with respx.mock(assert_all_called=False) as router:
        router.route(host="127.0.0.1").pass_through()
        hook = FakeArgilla(router).add(url=receiver.url)
        hook["secret"] = SECRET
        result = hooks("trigger", "dataset.created", "--webhook", hook["id"][:8], env={"ARGILLA_API_URL": "http://argilla.test"})
    assert result.exit_code == 0 and len(receiver.received) == 1
    assert f"{receiver.url} answered 2" in result.stderr  # always says where it went
