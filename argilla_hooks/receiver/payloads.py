"""Typed shapes of what Argilla 2.8 sends in a webhook body: the event envelope and its dataset/record/response data.

Mirrors `argilla_server/webhooks/v1/schemas.py`. Models keep unknown keys (`extra="allow"`) so that a newer server
does not break a handler, but the keys Argilla 2.8 sends are typed exactly: ids are UUIDs, times are datetimes,
statuses are the server's literals, so `{"name": 5}` or a non-UUID id fails validation.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any, Literal, Optional, Union
from uuid import UUID

import orjson
from pydantic import AfterValidator, BaseModel, ConfigDict, PlainSerializer


def _as_utc(value: datetime) -> datetime:
    # Argilla stores naive UTC (`datetime.utcnow()`); making it aware keeps comparisons with `now(timezone.utc)` safe.
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    try:
        return value.astimezone(timezone.utc)
    except OverflowError:  # 0001-01-01T00:00:00+01:00: a ValueError is a validation error, an OverflowError a crash
        raise ValueError("this time has no UTC equivalent (out of range in UTC)") from None


def server_time_text(value: datetime) -> str:
    # The server's own JSON form (fastapi's jsonable_encoder of a naive datetime): no offset, no `Z`.
    return value.astimezone(timezone.utc).replace(tzinfo=None).isoformat()


def format_event_timestamp(value: datetime) -> str:
    """An event timestamp as Argilla writes it in the body: `2026-11-27T21:30:19.154092Z`."""
    # This runs for every delivery a listener reports. orjson writes RFC 3339 four times faster than isoformat (0.3 us
    # against 1.3), the same text but for a zero fraction, which it leaves out.
    if value.tzinfo is not timezone.utc:
        value = value.astimezone(timezone.utc)
    if value.microsecond and type(value) is datetime:  # (orjson takes no subclass: pandas' Timestamp, freezegun's)
        return orjson.dumps(value, option=orjson.OPT_UTC_Z)[1:-1].decode()
    return value.isoformat(timespec="microseconds")[:-6] + "Z"  # (in UTC, it ends in "+00:00")


ServerTime = Annotated[datetime, AfterValidator(_as_utc), PlainSerializer(server_time_text, when_used="json")]
EventTime = Annotated[datetime, AfterValidator(_as_utc), PlainSerializer(format_event_timestamp, when_used="json")]


class _Payload(BaseModel):
    # A newer server may add keys; keeping them lets handlers read them and lets samples round-trip.
    model_config = ConfigDict(extra="allow")


class Workspace(_Payload):
    id: UUID
    name: str
    inserted_at: ServerTime
    updated_at: ServerTime


class User(_Payload):
    id: UUID
    first_name: str
    last_name: Optional[str] = None
    username: str
    role: Literal["owner", "admin", "annotator"]
    inserted_at: ServerTime
    updated_at: ServerTime


class Distribution(_Payload):
    strategy: Literal["overlap"]
    min_submitted: int


class Field(_Payload):
    id: UUID
    name: str
    title: str
    required: bool
    settings: dict[str, Any]
    inserted_at: ServerTime
    updated_at: ServerTime


class Question(_Payload):
    id: UUID
    name: str
    title: str
    description: Optional[str] = None
    required: bool
    settings: dict[str, Any]
    inserted_at: ServerTime
    updated_at: ServerTime


class MetadataProperty(_Payload):
    id: UUID
    name: str
    title: str
    settings: dict[str, Any]
    visible_for_annotators: bool
    inserted_at: ServerTime
    updated_at: ServerTime


class VectorSettings(_Payload):
    id: UUID
    name: str
    title: str
    dimensions: int
    inserted_at: ServerTime
    updated_at: ServerTime


class Dataset(_Payload):
    """The `data` of `dataset.*` events, and `record.dataset` / `response.record.dataset`."""

    id: UUID
    name: str
    guidelines: Optional[str] = None
    allow_extra_metadata: bool
    status: Literal["draft", "ready"]
    distribution: Distribution
    workspace: Workspace
    questions: list[Question]
    fields: list[Field]
    metadata_properties: list[MetadataProperty]
    vectors_settings: list[VectorSettings]
    last_activity_at: ServerTime
    inserted_at: ServerTime
    updated_at: ServerTime


class Record(_Payload):
    """The `data` of `record.*` events, and `response.record`. Responses, suggestions and vectors are not included."""

    id: UUID
    status: Literal["pending", "completed"]
    fields: dict[str, Any]
    metadata: Optional[dict[str, Any]] = None
    external_id: Optional[str] = None
    dataset: Dataset
    inserted_at: ServerTime
    updated_at: ServerTime


class Response(_Payload):
    """The `data` of `response.*` events: `values` maps question names to `{"value": ...}`."""

    id: UUID
    values: Optional[dict[str, Any]] = None
    status: Literal["draft", "submitted", "discarded"]
    record: Record
    user: User
    inserted_at: ServerTime
    updated_at: ServerTime


class Ping(_Payload):
    """The `data` of a `ping` event."""

    agent: str
    version: str


EventData = Union[Dataset, Record, Response, Ping]

_MODELS: dict[str, type[EventData]] = {"dataset": Dataset, "record": Record, "response": Response, "ping": Ping}


def data_model(event_type: str) -> Optional[type[EventData]]:
    """The model of `data` for an event type (`record.completed` -> Record), or None for a type Argilla 2.8 lacks."""
    return _MODELS.get(event_type.partition(".")[0])


def parse_data(event_type: str, data: dict[str, Any]) -> Union[EventData, dict[str, Any]]:
    """`data` validated as the model its event type implies; unchanged for an unknown type."""
    model = data_model(event_type)
    return data if model is None else model.model_validate(data)


class Event(_Payload):
    """A whole webhook body: `{"type", "version", "timestamp", "data"}`."""

    type: str
    version: int = 1
    timestamp: EventTime
    data: dict[str, Any]

    def parsed_data(self) -> Union[EventData, dict[str, Any]]:
        return parse_data(self.type, self.data)
