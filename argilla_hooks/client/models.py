"""Typed shapes of the Argilla webhook API: what it returns and what we send."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any, Optional
from urllib.parse import urlsplit
from uuid import UUID

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, HttpUrl, TypeAdapter, field_validator

from argilla_hooks.events import SUBSCRIBABLE, EventName, expand_required

MAX_DESCRIPTION = 1000
MAX_URL = 2083
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


@lru_cache(maxsize=None)
def _http_url_adapter() -> TypeAdapter:
    return TypeAdapter(HttpUrl)


def normalize_url(url: str) -> str:
    """The URL as Argilla stores it: `str(pydantic.HttpUrl(url))`, exactly what its WebhookCreate schema does.

    Lower-cased scheme and host, default port dropped, `/` for an empty path, dot segments resolved,
    IDNA hosts punycoded. A URL pydantic refuses is returned unchanged.
    """
    try:
        return str(_http_url_adapter().validate_python(url))
    except ValueError:
        return url


def hide_userinfo(url: str) -> str:
    """`url` fit for a message: its user name and password shown as ***, also when the URL is malformed
    (`http://u:p@ss@h`, `u:p@h`); host, path and query stay (`?notify=ops@example.org` is not a password)."""
    scheme_end = url.find("//")
    start = scheme_end + 2 if scheme_end >= 0 else 0
    at = url.rfind("@", start, _first_of(url, "/?#", start))  # the userinfo, as a URL parser reads it
    if at < 0:
        # A raw `/` or `#` in a password ends the authority early (`http://u:pa/ss@h`): an `@` before the query
        # is taken for the end of a password too, at the cost of hiding the host of a path that holds one.
        at = url.rfind("@", start, _first_of(url, "?", start))
        if at < 0:
            return url
    return url[:start] + "***" + url[at:]


def _first_of(text: str, characters: str, start: int) -> int:
    found = [i for i in (text.find(c, start) for c in characters) if i >= 0]
    return min(found, default=len(text))


def check_url(value: str) -> str:
    """http(s) with a host, at most 2083 characters: the server's own rule, checked before sending."""
    if len(value) > MAX_URL:
        raise ValueError(f"URL is longer than {MAX_URL} characters")
    if not value.lower().startswith(("http://", "https://")):
        raise ValueError(f"{hide_userinfo(value)!r} is not an http(s) URL (e.g. http://127.0.0.1:8000/)")
    check_has_host(value)
    try:
        AnyHttpUrl(value)
    except Exception:
        raise ValueError(f"{hide_userinfo(value)!r} is not a valid http(s) URL with a host (e.g. http://127.0.0.1:8000/)") from None
    return value


def check_has_host(value: str) -> str:
    """Refuses `http:///path`, which pydantic, and so Argilla, would store as `http://path/`: nobody means that."""
    try:
        authority = urlsplit(value).netloc
    except ValueError:
        return value  # e.g. a bracket left open: the URL parser that follows gives the better message
    if not authority:
        raise ValueError(f"{hide_userinfo(value)!r} has no host after // (e.g. http://127.0.0.1:8000/)")
    return value


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
    """Body of POST /webhooks. Argilla ignores `enabled` here, so `hooks create --disabled` PATCHes after."""

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
