"""Typed shapes of the Argilla webhook API: what it returns and what we send."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator

from argilla_hooks.events import SUBSCRIBABLE, EventName, expand_required
from argilla_hooks.urls import check_url

MAX_DESCRIPTION = 1000
# Argilla refuses an 11th webhook (disabled ones count); apply checks it before sending anything.
MAX_WEBHOOKS = 10


class _Response(BaseModel):
    # A newer server may add fields; ignoring them keeps the tool working.
    model_config = ConfigDict(extra="ignore")


class Webhook(_Response):
    id: UUID
    url: str
    secret: str = Field(repr=False)
    events: list[str]
    enabled: bool = True
    description: Optional[str] = None
    inserted_at: datetime
    updated_at: datetime

    @property
    def short_id(self) -> str:
        return str(self.id)[:8]

    def to_json(self, *, with_secret: bool = False) -> dict[str, Any]:
        """The server's field names and formats; `secret` only when the caller shows it."""
        data = self.model_dump(mode="json", exclude=None if with_secret else {"secret"})
        return {key: data[key] for key in _JSON_ORDER if key in data}


_JSON_ORDER = ("id", "url", "secret", "events", "enabled", "description", "inserted_at", "updated_at")


class WebhookList(_Response):
    """The answer of GET /webhooks."""

    items: list[Webhook]


class User(_Response):
    id: UUID
    username: str
    role: str
    first_name: Optional[str] = None
    last_name: Optional[str] = None


class ServerVersion(_Response):
    """The answer of GET /version; a server that leaves the number out is still Argilla."""

    version: str = "unknown"


def check_description(value: Optional[str]) -> Optional[str]:
    if value is not None and not 1 <= len(value) <= MAX_DESCRIPTION:
        raise ValueError(f"must be 1 to {MAX_DESCRIPTION} characters (got {len(value)})")
    if value is not None and not value.isascii():
        try:
            value.encode("utf-8")  # a lone surrogate: Python's stand-in for a byte of the command line that is not UTF-8
        except UnicodeEncodeError:
            raise ValueError("is not UTF-8 text: give it in UTF-8 (check the terminal's or file's encoding)") from None
    return value


class WebhookCreate(BaseModel):
    """Body of POST /webhooks. Argilla ignores `enabled` here: a disabled webhook takes a PATCH after."""

    model_config = ConfigDict(extra="forbid")

    url: str
    events: list[str]
    description: Optional[str] = None

    _url = field_validator("url")(classmethod(lambda cls, v: check_url(v)))
    _events = field_validator("events")(classmethod(lambda cls, v: expand_required(v)))
    _description = field_validator("description")(classmethod(lambda cls, v: check_description(v)))


def _given(value: Any) -> Any:
    if value is None:
        raise ValueError("cannot be None: leave the field out to keep its current value")
    return value


class WebhookUpdate(BaseModel):
    """Body of PATCH /webhooks/{id}: only the fields that were set are sent (`description=None` clears it)."""

    model_config = ConfigDict(extra="forbid")

    url: Optional[str] = None
    events: Optional[list[str]] = None
    enabled: Optional[bool] = None
    description: Optional[str] = None

    # Only fields given are checked (the defaults are not validated): None given for these would be sent as null,
    # which Argilla refuses; only `description=None` means something (clear it).
    _url = field_validator("url")(classmethod(lambda cls, v: check_url(_given(v))))
    _events = field_validator("events")(classmethod(lambda cls, v: expand_required(_given(v))))
    _enabled = field_validator("enabled")(classmethod(lambda cls, v: _given(v)))
    _description = field_validator("description")(classmethod(lambda cls, v: check_description(v)))

    def body(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_unset=True)

    def is_empty(self) -> bool:
        return not self.model_fields_set


__all__ = [
    "EventName",
    "MAX_WEBHOOKS",
    "SUBSCRIBABLE",
    "User",
    "Webhook",
    "WebhookCreate",
    "WebhookUpdate",
]
