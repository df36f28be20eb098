"""Property-based fuzzing of the receiver (hypothesis): whatever method, path, headers, body, encoding, size and
chunking a request has, the receiver answers it once, never with a 5xx, and runs a handler only for a delivery signed
with its secret over exactly those bytes within the tolerance.

The app is driven as an ASGI server drives it (no httpx, so headers and bodies can be anything). HOOKS_FUZZ_EXAMPLES
sets the number of requests (default 1,500; docs/reliability.md gives the figures of a long run).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import time
from dataclasses import dataclass, field
from typing import Any, Optional

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from receiver_samples import new_secret

from argilla_hooks import create_app
from argilla_hooks.receiver import sign
from argilla_hooks.trigger.samples import build_event

EXAMPLES = int(os.environ.get("HOOKS_FUZZ_EXAMPLES", "1500"))
SECRET, OTHER = new_secret(), new_secret()
MAX_BODY = 8192
EVENTS = ["dataset.created", "record.completed", "response.created", "ping"]
_ids = itertools.count()

# --- bodies: bytes, JSON of every shape, Argilla's own events, text in other encodings --------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@st.composite
def argilla_events(draw: Any) -> bytes:
    """A real event body, maybe with its data or envelope changed in place."""
    body = build_event(draw(st.sampled_from(EVENTS)))
    change = draw(st.sampled_from(["none"] * 5 + ["data", "type", "timestamp", "drop", "surrogate", "bom", "nested"]))
    if change == "none":
        return body
    if change == "bom":
        return b"\xef\xbb\xbf" + body
    event = json.loads(body)
    if change == "data":
        event["data"] = draw(json_values)
    elif change in ("type", "timestamp"):
        event[change] = draw(json_values)
    elif change == "drop":
        event.pop(draw(st.sampled_from(["type", "timestamp", "data", "version"])))
    text = json.dumps(event)
    if change == "surrogate":
        text = text.replace('"data": {', '"data": {"note": "\\ud800\\udfff\\udc00", ', 1)
    elif change == "nested":
        text = text.replace('"data": {', '"data": {"deep": ' + "[" * 400 + "]" * 400 + ", ", 1)
    return text.encode()


other_bodies = st.one_of(
    st.binary(max_size=MAX_BODY + 64),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.tuples(argilla_events(), st.sampled_from(["utf-16", "utf-32", "latin-1"])).map(
        lambda pair: pair[0].decode("utf-8", "replace").encode(pair[1], "replace")),
    st.integers(MAX_BODY - 4, MAX_BODY + 4).map(lambda n: b"{" + b" " * (n - 2) + b"}"),  # around --max-body
)
bodies = st.sampled_from([True, False]).flatmap(lambda argillas: argilla_events() if argillas else other_bodies)

# --- how a request is signed: once the real way, else forged in one of many ways -------------------------------------

FORGERIES = ["unsigned", "random headers", "other key", "body changed", "id changed", "timestamp changed", "stale",
             "future", "malformed signature", "signature of another body", "id missing", "no v1"]


@st.composite
def signatures(draw: Any, body: bytes) -> tuple[bool, list[tuple[bytes, bytes]], bytes]:
    """(authentic, webhook-* headers, the body as sent)."""
    how = draw(st.sampled_from(["authentic"] * 8 + FORGERIES))  # the real thing 2 times in 5
    msg_id = f"msg_{next(_ids)}_{draw(st.text(st.characters(codec='ascii'), max_size=6))}"
    now = int(time.time())
    timestamp = now + draw(st.integers(-250, 250))
    if how == "unsigned":
        return False, [], body
    if how == "random headers":
        names = st.sampled_from([b"webhook-id", b"webhook-timestamp", b"webhook-signature"])
        return False, draw(st.lists(st.tuples(names, st.binary(max_size=120)), max_size=4)), body
    key, signed_id, signed_ts, signed_body = SECRET, msg_id, timestamp, body
    if how == "other key":
        key = OTHER
    elif how == "id changed":
        signed_id = msg_id + "x"
    elif how == "timestamp changed":
        signed_ts = timestamp + 1
    elif how == "signature of another body":
        signed_body = body + b" "
    elif how in ("stale", "future"):
        timestamp = signed_ts = now + (-1 if how == "stale" else 1) * draw(st.integers(301, 10**9))
    signature = sign(key, signed_id, signed_ts, signed_body)
    if how == "malformed signature":
        signature = draw(st.sampled_from(["v1,", "v1", "v1,%%%", "v1," + "A" * 44, signature[:-2], signature.replace(",", " ")]))
    elif how == "no v1":
        signature = "v2" + signature[2:]
    sent = body + draw(st.binary(min_size=1, max_size=3)) if how == "body changed" else body
    headers = [(b"webhook-timestamp", str(timestamp).encode()), (b"webhook-signature", signature.encode())]
    if how != "id missing":
        headers.append((b"webhook-id", msg_id.encode("utf-8", "surrogatepass")))
    if how == "authentic" and draw(st.booleans()):  # several signatures, one right
        headers[1] = (b"webhook-signature", b"v1,AAAA " + signature.encode() + b" v1,%%")
    return how == "authentic", headers, sent


@dataclass
class Request:
    authentic: bool
    method: str
    path: str
    headers: list[tuple[bytes, bytes]]
    chunks: list[bytes]
    disconnect_after: Optional[int]  # the client goes away after this many body messages

    def __repr__(self) -> str:  # hypothesis prints it for a failing example
        return f"Request({self.method} {self.path} authentic={self.authentic} headers={self.headers} chunks={[len(c) for c in self.chunks]} disconnect={self.disconnect_after})"


@st.composite
def requests(draw: Any) -> Request:
    body = draw(bodies)
    authentic, signature_headers, sent = draw(signatures(body))
    delivery = draw(st.sampled_from([True] * 7 + [False] * 3))  # POSTed to the path with its length, as Argilla does
    method = "POST" if delivery else draw(st.sampled_from(["POST", "GET", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH"]))
    path = "/" if delivery else draw(st.sampled_from(["/", "", "/healthz", "/other", "//", "/%00", "/hooks/"]))
    length = "exact" if delivery else draw(st.sampled_from(["exact", "none", "short", "long", "junk", "huge"]))
    declared = {"exact": str(len(sent)), "short": str(max(0, len(sent) - 1)), "long": str(len(sent) + 7), "junk": "-1x",
                "huge": str(10**12)}.get(length)
    extra = draw(st.lists(st.tuples(st.binary(min_size=1, max_size=12).map(bytes.lower), st.binary(max_size=40)), max_size=3))
    headers = [*signature_headers, *extra, *([(b"content-length", declared.encode())] if declared else [])]
    headers = draw(st.permutations(headers))
    cuts = sorted(draw(st.lists(st.integers(0, len(sent)), max_size=4)))
    chunks = [sent[a:b] for a, b in zip([0, *cuts], [*cuts, len(sent)])]
    disconnect = draw(st.integers(0, len(chunks))) if draw(st.sampled_from([False] * 9 + [True])) else None
    return Request(authentic and method == "POST" and path in ("/", ""), method, path, list(headers), chunks, disconnect)


# --- the app and an ASGI server's side of the conversation ------------------------------------------------------------


@dataclass
class Seen:
    handled: list[str] = field(default_factory=list)  # webhook-ids a handler ran for


SEEN = Seen()


async def on_any(headers: dict) -> None:
    SEEN.handled.append(headers.get("webhook-id", "?"))


def on_typed(type: str, data: Any, event: Any) -> None:  # a thread, and typed views: different paths in
    SEEN.handled.append(f"typed {type}")


APP = create_app(handlers=[on_any, on_typed], secrets=[SECRET], max_body=MAX_BODY, body_budget=MAX_BODY * 4)


async def serve(request: Request) -> list[dict]:
    messages = [{"type": "http.request", "body": c, "more_body": i < len(request.chunks) - 1} for i, c in enumerate(request.chunks)]
    if request.disconnect_after is not None:
        messages = messages[: request.disconnect_after] + [{"type": "http.disconnect"}]
    pending = iter(messages or [{"type": "http.request", "body": b"", "more_body": False}])
    sent: list[dict] = []

    async def receive() -> dict:
        return next(pending, {"type": "http.disconnect"})

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": request.method,
             "path": request.path, "raw_path": request.path.encode(), "root_path": "", "query_string": b"",
             "headers": request.headers, "scheme": "http", "server": ("127.0.0.1", 8000), "client": ("127.0.0.1", 5)}
    await asyncio.wait_for(APP(scope, receive, send), 30)
    return sent


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=False)
@given(requests())
def test_any_request_is_answered_once_below_500_and_only_a_signed_one_reaches_a_handler(request: Request) -> None:
    SEEN.handled.clear()
    sent = asyncio.run(serve(request))
    starts = [m for m in sent if m["type"] == "http.response.start"]
    went_away = request.disconnect_after is not None
    assert len(starts) == 1 or (went_away and not starts), (sent, request)
    if starts:
        assert starts[0]["status"] < 500, (starts[0]["status"], sent[-1].get("body"))
        assert [m for m in sent if m["type"] == "http.response.body"][-1].get("more_body") is not True
    if SEEN.handled:
        assert request.authentic, SEEN.handled
    event(f"status {starts[0]['status'] if starts else 'none'}, {'handled' if SEEN.handled else 'not handled'}")
