"""The receiver against the Standard Webhooks reference verifiers from PyPI: `standardwebhooks` (which Argilla signs
with and the Argilla SDK's listener verifies with) and `svix` (Python, which wraps it).

- deliveries either reference signs are accepted, and `hooks trigger`'s deliveries verify with both;
- a corpus of deliveries, well and badly formed, gets the reference's verdict: accepted when it returns, refused (401)
  when it raises WebhookVerificationError. Documented exceptions only: a body over `max_body` is 413 where the
  reference accepts it, and a header the reference raises another error on is 401 (no reference version here does).
  Past the signature, a body that json.loads cannot read as an event is 400, where the SDK's listener fails (500).
"""

from __future__ import annotations

import base64
import hmac
import json
import math
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import anyio
import pytest
import standardwebhooks
import svix.webhooks
from receiver_samples import event_body, new_secret

from argilla_hooks.events import ALL_EVENTS
from argilla_hooks.receiver import create_app, sign
from argilla_hooks.receiver.verify import decode_secret
from tests.unit.hooks_cli import hooks

SECRET = new_secret()
Headers = list[tuple[bytes, bytes]]
MAX_BODY = 64 * 1024


def _now() -> int:
    return int(time.time())


def _mac(body: bytes, signed_id: bytes, signed_ts: bytes, secret: str = SECRET) -> bytes:
    """A `v1,` signature over exactly these bytes."""
    digest = hmac.digest(decode_secret(secret), signed_id + b"." + signed_ts + b"." + body, "sha256")
    return b"v1," + base64.b64encode(digest)


def _headers(msg_id: bytes | None, timestamp: bytes | None, signature: bytes | None) -> Headers:
    named = ((b"webhook-id", msg_id), (b"webhook-timestamp", timestamp), (b"webhook-signature", signature))
    return [(b"content-type", b"application/json"), *((name, value) for name, value in named if value is not None)]


def _reference_signed(body: bytes, timestamp: str, *, msg_id: str = "msg_ref") -> Headers:
    """Headers with a signature made by the standardwebhooks reference, for the time `timestamp` denotes to it."""
    when = datetime.fromtimestamp(float(timestamp), timezone.utc)
    signature = standardwebhooks.Webhook(SECRET).sign(msg_id, when, body)
    return _headers(msg_id.encode("latin-1"), timestamp.encode("latin-1"), signature.encode())


def _signed(body: bytes, *, ts: int | None = None, msg_id: bytes = b"msg_abc", **parts: bytes) -> Headers:
    """Signed as Argilla signs; `parts` replaces a header's value (id=, timestamp=, signature=) as sent."""
    ts = _now() if ts is None else ts
    signature = _mac(body, msg_id, str(ts).encode())
    return _headers(parts.get("id", msg_id), parts.get("timestamp", str(ts).encode()), parts.get("signature", signature))


BODY = event_body("record.created")


def _corpus() -> dict[str, Callable[[], tuple[Headers, bytes]]]:
    """name -> a delivery (headers as sent, body); built when the test runs, so timestamps are fresh."""
    ts = _now()
    t = b"%d" % ts
    sig = lambda body=BODY, msg_id=b"msg_abc", signed_ts=t: _mac(body, msg_id, signed_ts)  # noqa: E731
    cases: dict[str, Callable[[], tuple[Headers, bytes]]] = {
        "as Argilla signs": lambda: (_signed(BODY), BODY),
        "signed by standardwebhooks": lambda: (_reference_signed(BODY, str(ts)), BODY),
        "no webhook-id": lambda: (_headers(None, t, sig()), BODY),
        "no webhook-timestamp": lambda: (_headers(b"msg_abc", None, sig()), BODY),
        "no webhook-signature": lambda: (_headers(b"msg_abc", t, None), BODY),
        "empty webhook-id": lambda: (_headers(b"", t, sig(msg_id=b"")), BODY),
        "empty webhook-signature": lambda: (_headers(b"msg_abc", t, b""), BODY),
        "wrong secret": lambda: (_headers(b"msg_abc", t, _mac(BODY, b"msg_abc", t, new_secret())), BODY),
        "body changed after signing": lambda: (_headers(b"msg_abc", t, sig()), BODY.replace(b"great", b"awful")),
        "signed for another id": lambda: (_headers(b"msg_other", t, sig()), BODY),
        "a valid v1 after a wrong one": lambda: (_headers(b"msg_abc", t, b"v1,AAAA " + sig()), BODY),
        "a valid v1 before a v2": lambda: (_headers(b"msg_abc", t, sig() + b" v2,AAAA"), BODY),
        "two spaces between signatures": lambda: (_headers(b"msg_abc", t, b"v1,AAAA  " + sig()), BODY),
        "a trailing space": lambda: (_headers(b"msg_abc", t, sig() + b" "), BODY),
        "v1 without a comma": lambda: (_headers(b"msg_abc", t, b"v1"), BODY),
        "v1 with a space after the comma": lambda: (_headers(b"msg_abc", t, b"v1, " + sig()[3:]), BODY),
        "V1 in capitals": lambda: (_headers(b"msg_abc", t, b"V1," + sig()[3:]), BODY),
        "only v2": lambda: (_headers(b"msg_abc", t, b"v2," + sig()[3:]), BODY),
        "base64 that is not": lambda: (_headers(b"msg_abc", t, b"v1,%%%not-base64%%%"), BODY),
        "base64 without its padding": lambda: (_headers(b"msg_abc", t, sig().rstrip(b"=")), BODY),
        "base64, URL-safe alphabet": lambda: (_headers(b"msg_abc", t, sig().replace(b"+", b"-").replace(b"/", b"_")), BODY),
        "non-ASCII bytes in the signature": lambda: (_headers(b"msg_abc", t, sig() + b"\xe9"), BODY),
        "timestamp 301 s old": lambda: (_signed(BODY, ts=ts - 301), BODY),
        "timestamp 301 s ahead": lambda: (_signed(BODY, ts=ts + 301), BODY),
        "timestamp 290 s old": lambda: (_signed(BODY, ts=ts - 290), BODY),
        "timestamp 290 s ahead": lambda: (_signed(BODY, ts=ts + 290), BODY),
        "timestamp 0<ts>, signed over <ts>": lambda: (_headers(b"msg_abc", b"0" + t, sig()), BODY),
        "timestamp 0<ts>, signed over 0<ts>": lambda: (_headers(b"msg_abc", b"0" + t, sig(signed_ts=b"0" + t)), BODY),
        "timestamp +<ts>": lambda: (_headers(b"msg_abc", b"+" + t, sig()), BODY),
        "timestamp ' <ts> '": lambda: (_headers(b"msg_abc", b" " + t + b" ", sig()), BODY),
        "timestamp <ts>.5": lambda: (_headers(b"msg_abc", t + b".5", sig()), BODY),
        "timestamp <ts>.5, signed over <ts>.5": lambda: (_headers(b"msg_abc", t + b".5", sig(signed_ts=t + b".5")), BODY),
        "timestamp <ts>.9999999": lambda: (_reference_signed(BODY, f"{ts}.9999999"), BODY),
        "timestamp with digit underscores": lambda: (_headers(b"msg_abc", t[:4] + b"_" + t[4:], sig()), BODY),
        "timestamp <ts> and letters": lambda: (_headers(b"msg_abc", t + b"abc", sig()), BODY),
        "timestamp in hexadecimal": lambda: (_headers(b"msg_abc", b"%#x" % ts, sig()), BODY),
        "timestamp in milliseconds": lambda: (_headers(b"msg_abc", t + b"000", sig(signed_ts=t + b"000")), BODY),
        "timestamp nan": lambda: (_headers(b"msg_abc", b"nan", sig(signed_ts=b"nan")), BODY),
        "timestamp inf": lambda: (_headers(b"msg_abc", b"inf", sig(signed_ts=b"inf")), BODY),
        "timestamp -<ts>": lambda: (_headers(b"msg_abc", b"-" + t, sig(signed_ts=b"-" + t)), BODY),
        "timestamp in Arabic-Indic digits": lambda: (_headers(b"msg_abc", str(ts).translate({48 + i: 0x660 + i for i in range(10)}).encode(), sig()), BODY),
        "latin-1 webhook-id, signed as the references read it": lambda: (_reference_signed(BODY, str(ts), msg_id="msg_é"), BODY),
        "latin-1 webhook-id, signed over its bytes": lambda: (_headers(b"msg_\xe9", t, sig(msg_id=b"msg_\xe9")), BODY),
        "UTF-8 webhook-id, signed over its bytes": lambda: (_headers(b"msg_\xc3\xa9", t, sig(msg_id=b"msg_\xc3\xa9")), BODY),
        "webhook-id with dots": lambda: (_headers(b"msg.a.b", t, sig(msg_id=b"msg.a.b")), BODY),
        "body with a UTF-8 byte order mark": lambda: _with_body(b"\xef\xbb\xbf" + BODY, t),
        "body in UTF-16": lambda: _with_body(BODY.decode().encode("utf-16"), t),
        "body in UTF-32 without a byte order mark": lambda: _with_body(BODY.decode().encode("utf-32-le"), t),
        "body with a lone surrogate escape": lambda: _with_body(event_body("record.created", data={"id": "r", "t": "\ud800"}), t),
        "body that is not UTF-8": lambda: _with_body(b'{"type": "record.created\xff"}', t),
        "body that is not JSON": lambda: _with_body(b"not json", t),
        "body that is JSON but no event": lambda: _with_body(b"[1, 2]", t),
        "empty body": lambda: _with_body(b"", t),
        "body over max_body": lambda: _with_body(event_body("record.created", data={"id": "r", "pad": "x" * MAX_BODY}), t),
    }
    return cases


def _with_body(body: bytes, t: bytes) -> tuple[Headers, bytes]:
    return _headers(b"msg_abc", t, _mac(body, b"msg_abc", t)), body


def reference_verdict(verify: Callable[[bytes, dict[str, str]], Any], headers: Headers, body: bytes) -> str:
    """"accept", "refuse" (WebhookVerificationError) or "raise" (any other error), given the headers as a Python
    server (Starlette, under the SDK's listener) hands them over: latin-1 text."""
    try:
        verify(body, {name.decode("latin-1"): value.decode("latin-1") for name, value in headers})
    except standardwebhooks.WebhookVerificationError:
        return "refuse"
    except Exception:  # noqa: BLE001 - what a reference raises on malformed input is the point
        return "raise"
    return "accept"


def is_event(body: bytes) -> bool:
    """What the SDK's listener can take past the signature: json.loads of the bytes, an object with type, timestamp
    and data."""
    try:
        event = json.loads(body)
    except ValueError:
        return False
    return isinstance(event, dict) and {"type", "timestamp", "data"} <= set(event) and isinstance(event["data"], dict)


async def post(app: Any, headers: Headers, body: bytes) -> int:
    """One request to an ASGI app, its headers exactly as given (bytes), as a server would hand them over."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "path": "/",
             "raw_path": b"/", "root_path": "", "query_string": b"", "scheme": "http", "server": ("test", 80),
             "headers": [(b"content-length", b"%d" % len(body)), *headers]}  # fmt: skip
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return next(m["status"] for m in sent if m["type"] == "http.response.start")


REFERENCES = {
    "standardwebhooks": lambda body, headers: standardwebhooks.Webhook(SECRET).verify(body, headers, json_parse=False),
    "svix": lambda body, headers: svix.webhooks.Webhook(SECRET).verify(body, headers),
}


@pytest.mark.parametrize("case", list(_corpus()))
def test_every_delivery_of_the_corpus_gets_the_references_verdict(case):
    headers, body = _corpus()[case]()
    app = create_app(handlers=[lambda: None], secrets=[SECRET], max_body=MAX_BODY)
    status = anyio.run(post, app, headers, body)
    verdicts = {name: reference_verdict(verify, headers, body) for name, verify in REFERENCES.items()}
    assert len(set(verdicts.values())) == 1, verdicts  # the two references agree on every case
    verdict = verdicts["standardwebhooks"]
    if case == "body over max_body":  # documented: a size limit the reference does not have
        assert (verdict, status) == ("accept", 413)
    elif verdict == "accept":
        assert status == (204 if is_event(body) else 400), (verdict, status)
    else:  # refused, or (documented) an error the reference raises: never 500
        assert status == 401, (verdict, status)


def test_the_corpus_covers_acceptance_and_refusal_of_each_header():
    # A guard on the corpus itself: both verdicts occur, so a verifier that refused (or accepted) everything fails.
    verdicts = [reference_verdict(REFERENCES["standardwebhooks"], *_corpus()[case]()) for case in _corpus()]
    assert verdicts.count("accept") >= 15 and verdicts.count("refuse") >= 25


@pytest.mark.parametrize("event_type", [*ALL_EVENTS, "ping"])
def test_deliveries_signed_by_either_reference_are_accepted(event_type):
    body = event_body(event_type)
    when = datetime.now(timezone.utc)
    for name, signer in (("standardwebhooks", standardwebhooks.Webhook), ("svix", svix.webhooks.Webhook)):
        for secret_form in (SECRET, "whsec_" + SECRET):
            msg_id = f"msg_{uuid.uuid4().hex}"
            signature = signer(secret_form).sign(msg_id, when, body.decode())
            headers = _headers(msg_id.encode(), str(math.floor(when.timestamp())).encode(), signature.encode())
            calls: list[str] = []
            app = create_app(handlers=[lambda type: calls.append(type)], secrets=[secret_form])
            assert anyio.run(post, app, headers, body) == 204, name
            assert calls == ([] if event_type == "ping" else [event_type])  # (ping reaches only who asks for it)


class Capture:
    """A plain HTTP server on a free loopback port that records each POST (headers as latin-1 text) and answers 204."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()


@pytest.fixture
def capture():
    found = Capture()
    yield found
    found.server.shutdown()
    found.server.server_close()


@pytest.mark.parametrize(
    "args",
    [["dataset.created"], ["record.completed"], ["response.updated"], ["ping"], ["dataset.created", "--data", '{"name": "données ✓"}']],
    ids=["dataset", "record", "response", "ping", "non-ascii data"],
)
def test_hooks_trigger_deliveries_verify_with_both_references(capture, args):
    result = hooks("trigger", *args, "--to", capture.url, "--secret", SECRET)
    assert result.exit_code == 0, result.output
    [(headers, body)] = capture.received
    assert standardwebhooks.Webhook(SECRET).verify(body, headers)["type"] == args[0]
    svix.webhooks.Webhook(SECRET).verify(body, headers)
    assert sign(SECRET, headers["webhook-id"], int(headers["webhook-timestamp"]), body) == headers["webhook-signature"]
