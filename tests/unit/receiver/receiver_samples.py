"""Argilla-shaped webhook payloads and signed headers for the receiver tests (as argilla-server 2.8 sends them)."""

from __future__ import annotations

import base64
import itertools
import json
import os
import time
import uuid
from typing import Any

from argilla_hooks.receiver import sign

NOW_ISO = "2026-11-27T21:30:19.154092"  # how Argilla writes a resource's times: naive UTC, no Z
_sequence = itertools.count(1)


def new_secret() -> str:
    """A secret as Argilla makes one: 64 random bytes in base64, no `whsec_` prefix."""
    return base64.b64encode(os.urandom(64)).decode()


def _times() -> dict[str, str]:
    return {"inserted_at": NOW_ISO, "updated_at": NOW_ISO}


def dataset_data(name: str = "reviews") -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "name": name,
        "guidelines": None,
        "allow_extra_metadata": False,
        "status": "ready",
        "distribution": {"strategy": "overlap", "min_submitted": 1},
        "workspace": {"id": str(uuid.uuid4()), "name": "argilla", **_times()},
        "questions": [
            {
                "id": str(uuid.uuid4()),
                "name": "label",
                "title": "Label",
                "description": None,
                "required": True,
                "settings": {"type": "label_selection", "options": [{"value": "pos", "text": "pos"}]},
                **_times(),
            }
        ],
        "fields": [
            {
                "id": str(uuid.uuid4()),
                "name": "text",
                "title": "Text",
                "required": True,
                "settings": {"type": "text", "use_markdown": False},
                **_times(),
            }
        ],
        "metadata_properties": [],
        "vectors_settings": [],
        "last_activity_at": NOW_ISO,
        **_times(),
    }


def record_data() -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "status": "pending",
        "fields": {"text": "great product"},
        "metadata": None,
        "external_id": "ext-1",
        "dataset": dataset_data(),
        **_times(),
    }


def response_data() -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "values": {"label": {"value": "pos"}},
        "status": "submitted",
        "record": record_data(),
        "user": {
            "id": str(uuid.uuid4()),
            "first_name": "Ana",
            "last_name": None,
            "username": "ana",
            "role": "annotator",
            **_times(),
        },
        **_times(),
    }


def event_body(event_type: str = "dataset.created", data: dict[str, Any] | None = None, **overrides: Any) -> bytes:
    """A webhook body as Argilla serializes it (json.dumps, `Z` timestamp); a new event (timestamp) per call."""
    if data is None:
        resource = event_type.partition(".")[0]
        data = {"dataset": dataset_data, "record": record_data, "response": response_data}.get(
            resource, lambda: {"agent": "argilla-server", "version": "2.8.0"}
        )()
    timestamp = f"2026-11-27T21:30:19.{next(_sequence) % 1_000_000:06d}Z"
    payload = {"type": event_type, "version": 1, "timestamp": timestamp, "data": data}
    payload.update(overrides)
    return json.dumps(payload).encode()


def signed_headers(secret: str, body: bytes, *, msg_id: str | None = None, timestamp: int | None = None) -> dict[str, str]:
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
        "content-type": "application/json",
    }


def malformed(secret: str, body: bytes, change: str) -> dict[str, str]:
    """Signed headers for `body` with one thing wrong, as `change` says (see the tests that use it)."""
    headers = signed_headers(secret, body)
    if change.startswith("without "):
        del headers[change.removeprefix("without ")]
    elif change == "v1 without comma":
        headers["webhook-signature"] = "v1"
    elif change == "bad base64":
        headers["webhook-signature"] = "v1,%%%not-base64%%%"
    elif change == "only v2":
        headers["webhook-signature"] = "v2," + headers["webhook-signature"][3:]
    elif change == "non-integer timestamp":
        headers["webhook-timestamp"] = "soon"
    elif change == "stale":
        headers = signed_headers(secret, body, timestamp=int(time.time()) - 600)
    elif change == "future":
        headers = signed_headers(secret, body, timestamp=int(time.time()) + 600)
    elif change == "wrong secret":
        headers = signed_headers(new_secret(), body)
    return headers
