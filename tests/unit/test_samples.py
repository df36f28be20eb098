"""`hooks trigger`: sample bodies shaped like Argilla 2.8's, `--data` overrides, Standard Webhooks signing, sending."""

from __future__ import annotations

import base64
import json
import re
import time

import httpx
import pytest
from standardwebhooks.webhooks import Webhook as StandardWebhook
from standardwebhooks.webhooks import WebhookVerificationError

from argilla_hooks.events import ALL_EVENTS
from argilla_hooks.payloads import Event
from argilla_hooks.samples import (
    DeliveryError,
    SampleError,
    build_event,
    deep_merge,
    parse_overrides,
    sample_event,
    send,
    sign,
)

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


def test_sample_states_follow_the_event():
    assert sample_event("dataset.created")["data"]["status"] == "draft"
    assert sample_event("dataset.created")["data"]["questions"] == []
    assert sample_event("record.created")["data"]["status"] == "pending"
    assert sample_event("record.completed")["data"]["status"] == "completed"


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
