"""The payload models accept what Argilla 2.8 sends, keep what a newer server adds, and refuse wrong types."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError
from receiver_samples import NOW_ISO, dataset_data, event_body, record_data, response_data

from argilla_hooks.receiver.payloads import Dataset, Event, Ping, Record, Response, data_model, format_event_timestamp, parse_data


def test_dataset_record_and_response_payloads_validate_with_nested_models():
    response = Response.model_validate(response_data())
    assert response.status == "submitted"
    assert response.user.role == "annotator"
    assert isinstance(response.record, Record)
    assert isinstance(response.record.dataset, Dataset)
    assert response.record.dataset.questions[0].settings["type"] == "label_selection"
    assert isinstance(response.id, uuid.UUID)


def test_server_times_are_aware_utc_and_serialize_back_as_the_server_writes_them():
    dataset = Dataset.model_validate(dataset_data())
    assert dataset.inserted_at.tzinfo is timezone.utc
    dumped = dataset.model_dump(mode="json")
    assert dumped["inserted_at"] == NOW_ISO
    assert dumped["workspace"]["updated_at"] == NOW_ISO


@pytest.mark.parametrize(
    "change",
    [
        {"name": 5},
        {"id": "not-a-uuid"},
        {"status": "archived"},
        {"inserted_at": "yesterday"},
        {"distribution": {"strategy": "majority", "min_submitted": 1}},
    ],
)
def test_wrong_types_fail_validation(change):
    with pytest.raises(ValidationError):
        Dataset.model_validate({**dataset_data(), **change})


def test_a_missing_required_key_fails_validation():
    data = record_data()
    del data["dataset"]
    with pytest.raises(ValidationError):
        Record.model_validate(data)


def test_keys_a_newer_server_adds_are_kept():
    dataset = Dataset.model_validate({**dataset_data(), "new_setting": {"x": 1}})
    assert dataset.new_setting == {"x": 1}
    assert dataset.model_dump()["new_setting"] == {"x": 1}


@pytest.mark.parametrize(
    ("event_type", "model"),
    [("dataset.published", Dataset), ("record.completed", Record), ("response.deleted", Response), ("ping", Ping)],
)
def test_each_event_type_maps_to_its_data_model(event_type, model):
    assert data_model(event_type) is model
    body = json.loads(event_body(event_type))
    assert isinstance(parse_data(event_type, body["data"]), model)


def test_an_unknown_event_type_keeps_its_data_as_a_dict():
    assert data_model("project.created") is None
    assert parse_data("project.created", {"id": 1}) == {"id": 1}


def test_event_envelope_round_trips_argillas_timestamp_format():
    body = json.loads(event_body("record.created"))
    event = Event.model_validate(body)
    assert event.timestamp.tzinfo is not None
    assert event.model_dump(mode="json")["timestamp"] == body["timestamp"]
    assert isinstance(event.parsed_data(), Record)


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 11, 27, 21, 30, 19, 154092, tzinfo=timezone.utc),
        datetime(2026, 11, 27, 21, 30, 19, 1000, tzinfo=timezone.utc),  # six digits, trailing zeros kept
        datetime(2026, 11, 27, 21, 30, 19, tzinfo=timezone.utc),  # a zero fraction written out too
        datetime(2026, 11, 27, 22, 30, 19, 5, tzinfo=timezone(timedelta(hours=1))),  # in UTC
        datetime(1, 1, 1, 0, 0, 0, 1, tzinfo=timezone.utc),
        type("Timestamp", (datetime,), {})(2026, 11, 27, 21, 30, 19, 154092, tzinfo=timezone.utc),  # as pandas' (orjson refuses)
    ],
)
def test_event_timestamps_are_written_as_argilla_writes_them(moment):
    expected = moment.astimezone(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")
    assert format_event_timestamp(moment) == expected
