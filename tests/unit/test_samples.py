"""`hooks trigger`: sample bodies shaped like Argilla 2.8's, `--data` overrides, Standard Webhooks signing, sending."""

from __future__ import annotations

import base64
import json
import re
import time
from datetime import datetime

import httpx
import pytest
from standardwebhooks.webhooks import Webhook as StandardWebhook
from standardwebhooks.webhooks import WebhookVerificationError

from argilla_hooks.events import ALL_EVENTS, SUBSCRIBABLE
from argilla_hooks.text import DuplicateKeyError, loads_strict
from argilla_hooks.receiver.payloads import Dataset, Event
from argilla_hooks.trigger.delivery import DeliveryError, send, sign
from argilla_hooks.trigger.samples import SampleError, build_event, deep_merge, parse_overrides, sample_event

# Like Argilla's: 64 random bytes, base64, no prefix.
SECRET = base64.b64encode(bytes(range(64))).decode()
SERVER_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?$")  # naive UTC, no Z
EVENT_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")

DATASET_KEYS = [
    "id", "name", "guidelines", "allow_extra_metadata", "status", "distribution", "workspace", "questions",
    "fields", "metadata_properties", "vectors_settings", "last_activity_at", "inserted_at", "updated_at",
]
RECORD_KEYS = ["id", "status", "fields", "metadata", "external_id", "dataset", "inserted_at", "updated_at"]
RESPONSE_KEYS = ["id", "values", "status", "record", "user", "inserted_at", "updated_at"]
USER_KEYS = ["id", "first_name", "last_name", "username", "role", "inserted_at", "updated_at"]


@pytest.mark.parametrize("event_type", ALL_EVENTS)
def test_every_event_sample_validates_and_its_signature_verifies(event_type):
    body = build_event(event_type)
    event = Event.model_validate_json(body)
    assert event.type == event_type and event.version == 1
    event.parsed_data()
    headers = sign(SECRET, None, None, body)
    assert StandardWebhook(SECRET).verify(body, headers) == json.loads(body)


def test_envelope_matches_argillas_build_payload():
    body = json.loads(build_event("dataset.created"))
    assert list(body) == ["type", "version", "timestamp", "data"]
    assert EVENT_TIME.match(body["timestamp"])


def test_body_is_encoded_like_json_dumps_on_the_server():
    body = build_event("record.created", {"fields": {"text": "héllo"}})
    assert body == json.dumps(json.loads(body)).encode()
    assert b"\\u00e9" in body


def test_ping_data_is_the_servers():
    assert sample_event("ping")["data"] == {"agent": "argilla-server", "version": "2.8.0"}


def test_dataset_record_and_response_have_the_servers_keys_in_order():
    dataset = sample_event("dataset.published")["data"]
    assert list(dataset) == DATASET_KEYS and dataset["status"] == "ready"
    assert list(dataset["workspace"]) == ["id", "name", "inserted_at", "updated_at"]
    assert dataset["distribution"] == {"strategy": "overlap", "min_submitted": 1}
    record = sample_event("record.created")["data"]
    assert list(record) == RECORD_KEYS and list(record["dataset"]) == DATASET_KEYS
    response = sample_event("response.updated")["data"]
    assert list(response) == RESPONSE_KEYS and list(response["user"]) == USER_KEYS
    assert list(response["record"]) == RECORD_KEYS
    for time_value in (dataset["inserted_at"], dataset["last_activity_at"], record["updated_at"], response["user"]["inserted_at"]):
        assert SERVER_TIME.match(time_value)


@pytest.mark.parametrize("event_type", SUBSCRIBABLE)
def test_sample_times_come_before_the_event_and_what_exists_already_is_older(event_type):
    # As in real deliveries: Argilla commits a change, then sends its event. The samples' times all came after the
    # event's timestamp, and the workspace and user were as new as the record.
    event = sample_event(event_type)
    sent = datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00")).replace(tzinfo=None)
    times = {path: datetime.fromisoformat(value) for path, value in _times(event["data"], "data")}
    assert times and all(t < sent for t in times.values()), times
    owned = {path: t for path, t in times.items() if ".workspace." in path or ".user." in path}
    assert owned and all(t < times["data.updated_at"] for t in owned.values())


def _times(value, path):
    if isinstance(value, dict):
        for key, item in value.items():
            if key.endswith("_at") and isinstance(item, str):
                yield f"{path}.{key}", item
            else:
                yield from _times(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _times(item, f"{path}[{i}]")


@pytest.mark.parametrize("event_type", SUBSCRIBABLE)
def test_what_the_event_is_about_was_made_now_if_created_else_earlier_and_changed_now(event_type):
    # As real deliveries show (record.updated: inserted 37.220373, updated 37.290022); the samples of updates had
    # both times equal
    data = sample_event(event_type)["data"]
    if event_type.endswith(".created"):
        assert data["inserted_at"] == data["updated_at"]
    else:
        assert data["inserted_at"] < data["updated_at"]


def test_sample_states_follow_the_event():
    assert sample_event("dataset.created")["data"]["status"] == "draft"
    assert sample_event("dataset.created")["data"]["questions"] == []
    assert sample_event("record.created")["data"]["status"] == "pending"
    assert sample_event("record.completed")["data"]["status"] == "completed"
    # the record of a new response is loaded before the response counts; of one updated or deleted, it completed it
    assert sample_event("response.created")["data"]["record"]["status"] == "pending"
    assert sample_event("response.updated")["data"]["record"]["status"] == "completed"
    assert sample_event("response.deleted")["data"]["record"]["status"] == "completed"


def test_samples_have_fresh_ids():
    first, second = sample_event("response.created")["data"], sample_event("response.created")["data"]
    assert first["id"] != second["id"] and first["record"]["dataset"]["id"] != second["record"]["dataset"]["id"]


@pytest.mark.parametrize("bad", ["dataset.create", "user.*", "dataset.*"])
def test_unknown_or_pattern_event_types_are_refused(bad):
    with pytest.raises(SampleError) as info:
        sample_event(bad)
    assert info.value.path == "type"


# --- --data overrides --------------------------------------------------------------------------


def test_deep_merge_merges_objects_and_replaces_the_rest():
    base = {"a": {"b": 1, "c": [1, 2]}, "d": 1}
    merged = deep_merge(base, {"a": {"c": [3], "e": None}, "d": {"x": 1}})
    assert merged == {"a": {"b": 1, "c": [3], "e": None}, "d": {"x": 1}}
    assert base == {"a": {"b": 1, "c": [1, 2]}, "d": 1}  # not modified


def test_overrides_are_merged_into_data():
    body = json.loads(build_event("record.completed", {"dataset": {"name": "my-dataset"}, "metadata": {"k": 2}}))
    assert body["data"]["dataset"]["name"] == "my-dataset"
    assert body["data"]["dataset"]["workspace"]["name"] == "argilla"  # untouched siblings stay
    assert body["data"]["metadata"] == {"source": "reviews", "k": 2}


@pytest.mark.parametrize(
    "event_type, overrides, path",
    [
        ("record.created", {"dataset": {"name": 5}}, "data.dataset.name"),
        ("response.created", {"record": {"dataset": {"status": "done"}}}, "data.record.dataset.status"),
        ("dataset.updated", {"id": "not-a-uuid"}, "data.id"),
        ("dataset.updated", {"questions": [{"name": "q"}]}, "data.questions[0].id"),
        ("response.deleted", {"user": {"role": "boss"}}, "data.user.role"),
        ("ping", {"version": 2}, "data.version"),
        # values a lax check would convert, and then send as given: Argilla would never write them so
        ("dataset.created", {"allow_extra_metadata": "true"}, "data.allow_extra_metadata"),
        ("dataset.created", {"distribution": {"min_submitted": "3"}}, "data.distribution.min_submitted"),
        ("dataset.created", {"distribution": {"min_submitted": 1.0}}, "data.distribution.min_submitted"),
        ("dataset.created", {"inserted_at": 0}, "data.inserted_at"),
        ("record.updated", {"updated_at": "2020-01-01"}, "data.updated_at"),
    ],
)
def test_an_override_that_does_not_fit_the_model_is_refused_with_its_path(event_type, overrides, path):
    with pytest.raises(SampleError) as info:
        build_event(event_type, overrides)
    assert info.value.path == path and str(info.value).startswith(f"{path}: ")


def test_a_misspelt_override_key_is_refused_with_a_suggestion():
    with pytest.raises(SampleError) as info:
        build_event("record.created", {"dataset": {"workspace": {"nam": "x"}}})
    assert str(info.value) == "data.dataset.workspace.nam: not a key of this payload (did you mean 'name'?)"


def test_free_form_objects_take_any_key():
    body = json.loads(build_event("response.created", {"values": {"rating": {"value": 4}}, "record": {"fields": {"x": 1}}}))
    assert body["data"]["values"]["rating"] == {"value": 4}


def test_parse_overrides_from_json_or_file(tmp_path):
    assert parse_overrides('{"name": "x"}') == {"name": "x"}
    path = tmp_path / "data.json"
    path.write_text('{"status": "completed"}')
    assert parse_overrides(f"@{path}") == {"status": "completed"}
    for bad in ("[1]", "{", f"@{tmp_path / 'missing.json'}"):
        assert pytest.raises(SampleError, parse_overrides, bad).value.path == "--data"


# Times and ids in another form than Argilla's: pydantic reads them all, and they used to be sent as written.
@pytest.mark.parametrize(
    "overrides, path, expected",
    [
        ({"inserted_at": "2024-01-01T00:00:00Z"}, "data.inserted_at", "2024-01-01T00:00:00"),
        ({"updated_at": "2024-01-01T00:00:00+02:00"}, "data.updated_at", "2023-12-31T22:00:00"),
        ({"last_activity_at": "2024-01-01 00:00"}, "data.last_activity_at", "2024-01-01T00:00:00"),
        ({"inserted_at": "2024-01-01T00:00:00.000000"}, "data.inserted_at", "2024-01-01T00:00:00"),
        ({"inserted_at": "2024-01-01T00:00:00.5"}, "data.inserted_at", "2024-01-01T00:00:00.500000"),
        ({"workspace": {"inserted_at": "2024-01-01t00:00:00"}}, "data.workspace.inserted_at", "2024-01-01T00:00:00"),
    ],
)
def test_a_time_not_written_as_argilla_writes_it_is_refused_with_the_form_expected(overrides, path, expected):
    with pytest.raises(SampleError) as info:
        build_event("dataset.published", overrides)
    assert info.value.path == path
    assert str(info.value) == (
        f"{path}: Argilla writes times in data as naive UTC, YYYY-MM-DDTHH:MM:SS[.ffffff] without Z or offset: "
        f'"{expected}"'
    )


CANONICAL_UUID = "6ba7b810-9dad-11d1-80b4-00c04fd430c8"


@pytest.mark.parametrize(
    "written",
    [CANONICAL_UUID.upper(), CANONICAL_UUID.replace("-", ""), f"{{{CANONICAL_UUID}}}", f"urn:uuid:{CANONICAL_UUID}"],
)
@pytest.mark.parametrize(
    "event_type, where",
    [("dataset.created", ("id",)), ("record.created", ("dataset", "workspace", "id")), ("response.created", ("user", "id"))],
)
def test_a_uuid_not_written_as_argilla_writes_it_is_refused_with_the_form_expected(written, event_type, where):
    overrides = written
    for key in reversed(where):
        overrides = {key: overrides}
    path = "data." + ".".join(where)
    with pytest.raises(SampleError) as info:
        build_event(event_type, overrides)
    assert info.value.path == path
    assert str(info.value) == f'{path}: Argilla writes UUIDs in lower case with hyphens: "{CANONICAL_UUID}"'


def test_ids_and_times_in_lists_are_checked_too():
    question = sample_event("dataset.published")["data"]["questions"][0]
    with pytest.raises(SampleError) as info:
        build_event("dataset.published", {"questions": [{**question, "id": question["id"].upper()}]})
    assert info.value.path == "data.questions[0].id"


def test_every_bad_form_is_reported_at_once():
    with pytest.raises(SampleError) as info:
        build_event("dataset.created", {"id": CANONICAL_UUID.upper(), "updated_at": "2024-01-01T00:00:00Z"})
    assert [path for path, _ in info.value.problems] == ["data.id", "data.updated_at"]


def test_ids_and_times_as_argilla_writes_them_are_sent_as_given():
    overrides = {
        "id": CANONICAL_UUID,
        "inserted_at": "2024-01-01T00:00:00",
        "updated_at": "2024-01-01T00:00:00.123456",
        "workspace": {"id": CANONICAL_UUID},
    }
    data = json.loads(build_event("dataset.updated", overrides))["data"]
    assert {key: data[key] for key in ("id", "inserted_at", "updated_at")} == {
        key: overrides[key] for key in ("id", "inserted_at", "updated_at")
    }
    assert data["workspace"]["id"] == CANONICAL_UUID


def test_the_payload_models_still_read_other_forms_for_listen_handlers():
    # The check is trigger's own: a handler must never be refused a delivery over the form of a time or id.
    data = {**sample_event("dataset.created")["data"], "id": CANONICAL_UUID.upper(), "inserted_at": "2024-01-01T00:00:00Z"}
    dataset = Dataset.model_validate(data)
    assert str(dataset.id) == CANONICAL_UUID and dataset.inserted_at.isoformat() == "2024-01-01T00:00:00+00:00"


@pytest.mark.parametrize("written", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_a_time_with_no_utc_equivalent_is_refused_not_a_crash(written):
    with pytest.raises(SampleError) as info:
        build_event("dataset.created", {"inserted_at": written})
    assert info.value.path == "data.inserted_at" and "no UTC equivalent" in str(info.value)


def test_strict_json_refuses_a_repeated_key_in_any_object():
    assert loads_strict('{"a": {"b": 1}, "c": [{"b": 2}, {"b": 3}]}') == {"a": {"b": 1}, "c": [{"b": 2}, {"b": 3}]}
    for text, key in [('{"name": "x", "name": "y"}', "name"), ('{"a": [{"k": 1, "k": 1}]}', "k"), ('{"": 1, "": 2}', "")]:
        with pytest.raises(DuplicateKeyError) as info:
            loads_strict(text)
        assert isinstance(info.value, ValueError) and info.value.key == key
        assert str(info.value) == f"key {json.dumps(key)} appears twice"
    assert str(pytest.raises(ValueError, loads_strict, '{"café": 1, "café": 2}').value) == 'key "café" appears twice'
    assert str(pytest.raises(ValueError, loads_strict, '{"\\ud800": 1, "\\ud800": 2}').value) == 'key "\\ud800" appears twice'
    with pytest.raises(json.JSONDecodeError):
        loads_strict("{")


def test_a_key_repeated_in_data_is_refused_not_merged(tmp_path):
    with pytest.raises(SampleError) as info:
        parse_overrides('{"name": "x", "name": "y"}')
    assert str(info.value) == '--data: invalid JSON: key "name" appears twice in one object'
    path = tmp_path / "data.json"
    path.write_text('{"dataset": {"workspace": {"name": "a"}, "workspace": {"id": "b"}}}')
    assert str(pytest.raises(SampleError, parse_overrides, f"@{path}").value).endswith('key "workspace" appears twice in one object')


def test_a_byte_order_mark_at_the_start_of_a_data_file_is_dropped(tmp_path):
    path = tmp_path / "data.json"
    path.write_bytes(b'\xef\xbb\xbf{"name": "from-notepad"}')
    assert parse_overrides(f"@{path}") == {"name": "from-notepad"}
    path.write_bytes(b'\xef\xbb\xbf\xef\xbb\xbf{"name": "x"}')  # only one: a second is no byte order mark
    assert "invalid JSON" in str(pytest.raises(SampleError, parse_overrides, f"@{path}").value)


def test_data_at_sign_with_no_file_name_is_a_usage_error():
    with pytest.raises(SampleError) as info:
        parse_overrides("@")
    assert str(info.value) == '--data: "@" needs a file name after it, as in --data @data.json'


@pytest.mark.parametrize(
    "text, path, escape",
    [
        ('{"name": "\\ud800"}', "data.name", "\\ud800"),
        ('{"fields": {"text": ["ok", "a\\udfffb"]}}', "data.fields.text[1]", "\\udfff"),
        ('{"metadata": {"\\udc00x": 1}}', "data.metadata.\\udc00x", "\\udc00"),
    ],
)
def test_a_lone_surrogate_escape_is_refused_with_its_path(text, path, escape):
    with pytest.raises(SampleError) as info:
        build_event("record.created", parse_overrides(text))
    assert info.value.path == path
    assert f"lone surrogate escape ({escape})" in str(info.value) and "Invalid JSON" not in str(info.value)
    str(info.value).encode("utf-8")  # printable: the escape is shown, not the surrogate itself


def test_a_surrogate_pair_is_one_character_and_is_sent():
    body = build_event("record.created", parse_overrides('{"fields": {"text": "smile \\ud83d\\ude00"}}'))
    assert json.loads(body)["data"]["fields"]["text"] == "smile \U0001F600"


@pytest.mark.parametrize(
    "text, path, shown",
    [
        ('{"metadata": {"k": NaN}}', "data.metadata.k", "NaN"),
        ('{"metadata": {"k": [Infinity]}}', "data.metadata.k[0]", "Infinity"),
        ('{"metadata": {"k": -1e400}}', "data.metadata.k", "-Infinity"),
    ],
)
def test_numbers_json_cannot_carry_are_refused_not_sent(text, path, shown):
    with pytest.raises(SampleError) as info:
        build_event("record.created", parse_overrides(text))
    assert info.value.path == path and str(info.value).startswith(f"{path}: {shown} ")


def test_overrides_nested_too_deeply_are_refused_not_a_crash():
    nested = '{"metadata": {"k": ' + "[" * 500 + "]" * 500 + "}}"
    with pytest.raises(SampleError) as info:
        build_event("record.created", parse_overrides(nested))
    assert str(info.value) == "data.metadata: nested more than 100 levels deep"
    nested = '{"metadata": ' + "[" * 100_000 + "]" * 100_000 + "}"
    assert pytest.raises(SampleError, parse_overrides, nested).value.path == "--data"


# --- signing -----------------------------------------------------------------------------------


def test_signature_headers_have_argillas_shape():
    headers = sign(SECRET, "msg_abc", 1700000000, b"{}")
    assert headers["webhook-id"] == "msg_abc" and headers["webhook-timestamp"] == "1700000000"
    assert headers["webhook-signature"].startswith("v1,") and headers["content-type"] == "application/json"
    fresh = sign(SECRET, None, None, b"{}")
    assert re.match(r"^msg_[A-Za-z0-9_-]{22}$", fresh["webhook-id"])
    assert abs(int(fresh["webhook-timestamp"]) - time.time()) < 5


def test_secret_with_or_without_whsec_prefix_signs_the_same():
    assert sign(SECRET, "msg_a", 1, b"x") == sign(f"whsec_{SECRET}", "msg_a", 1, b"x")
    body = build_event("ping")
    StandardWebhook(f"whsec_{SECRET}").verify(body, sign(f"whsec_{SECRET}", None, None, body))


def test_a_wrong_secret_does_not_verify():
    body = build_event("record.created")
    other = base64.b64encode(b"another secret").decode()
    with pytest.raises(WebhookVerificationError):
        StandardWebhook(other).verify(body, sign(SECRET, None, None, body))


def test_a_malformed_secret_is_refused():
    with pytest.raises(SampleError) as info:
        sign("not base64!", None, None, b"{}")
    assert info.value.path == "secret"


# --- sending -----------------------------------------------------------------------------------


def test_send_posts_the_raw_body_with_the_headers(monkeypatch):
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["body"], seen["headers"] = request.content, request.headers
        return httpx.Response(202, text="queued")

    transport = httpx.MockTransport(handler)
    monkeypatch.setattr(httpx, "post", lambda url, **kw: httpx.Client(transport=transport).post(url, **kw))
    body = build_event("ping")
    headers = sign(SECRET, None, None, body)
    assert send("http://127.0.0.1:8000/", body, headers) == (202, "queued")
    assert seen["body"] == body and seen["headers"]["webhook-signature"] == headers["webhook-signature"]
    StandardWebhook(SECRET).verify(seen["body"], dict(seen["headers"]))


def test_send_to_nothing_listening_raises_delivery_error():
    with pytest.raises(DeliveryError) as info:
        send("http://127.0.0.1:9/", b"{}", {}, timeout=2)
    assert "127.0.0.1:9" in str(info.value)
