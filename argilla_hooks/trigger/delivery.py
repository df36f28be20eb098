"""Signing and sending one delivery as Argilla does (Standard Webhooks headers, one POST)."""

from __future__ import annotations

import secrets
import time
from typing import Optional

import httpx

from argilla_hooks.receiver.verify import sign as signature_header
from argilla_hooks.trigger.samples import SampleError
from argilla_hooks.urls import hide_userinfo

DEFAULT_TIMEOUT = 20.0  # what Argilla's worker allows a listener


class DeliveryError(Exception):
    """The receiver could not be reached (refused, DNS, timeout): there is no status to show."""


def new_msg_id() -> str:
    """A delivery id like Argilla's: `msg_` and 16 random bytes, URL-safe base64."""
    return f"msg_{secrets.token_urlsafe(16)}"


def sign(secret: str, msg_id: Optional[str], timestamp: Optional[int], body: bytes) -> dict[str, str]:
    """Standard Webhooks headers for `body`; a None `msg_id` / `timestamp` gets a fresh id / the current time."""
    msg_id = msg_id or new_msg_id()
    timestamp = int(time.time()) if timestamp is None else int(timestamp)
    try:
        # The receiver's own signing code, so `trigger` and `listen` can never disagree on the scheme.
        signature = signature_header(secret, msg_id, timestamp, body)
    except ValueError:
        raise SampleError([("secret", "not a base64 webhook secret (Argilla's are 88 characters of base64)")]) from None
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature,
        "content-type": "application/json",
    }


def send(url: str, body: bytes, headers: dict[str, str], timeout: float = DEFAULT_TIMEOUT) -> tuple[int, str]:
    """POST one delivery; returns the receiver's status and body. Raises DeliveryError when there is no answer."""
    shown = hide_userinfo(url)
    try:
        response = httpx.post(url, content=body, headers=headers, timeout=timeout)
    except httpx.TimeoutException:
        raise DeliveryError(f"{shown} did not answer within {timeout:g} s") from None
    except httpx.TransportError as exc:
        reason = (str(exc) or type(exc).__name__).replace(url, shown)
        raise DeliveryError(f"could not reach {shown}: {reason} (is the receiver running?)") from None
    except httpx.InvalidURL as exc:
        raise DeliveryError(f"invalid URL {shown!r}: {str(exc).replace(url, shown)}") from None
    return response.status_code, response.text
