"""Server (c) of listen_throughput.py: the least a verifying receiver does, as a raw ASGI app.

Checks the Standard Webhooks signature (`v1,` base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`, +-5 min) with the
secret in BENCH_SECRET, json-parses the body, answers 204 (401 / 400 otherwise). No de-duplication, no handlers.
HTTP only: the benchmark serves it with `--lifespan off`.
"""

import base64
import hashlib
import hmac
import json
import os
import time

_KEY = base64.b64decode(os.environ["BENCH_SECRET"])
_TOLERANCE = 300


async def app(scope, receive, send):
    chunks, more = [], True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    body = b"".join(chunks)
    headers = dict(scope["headers"])
    await _respond(send, _check(headers, body))


def _check(headers, body):
    msg_id = headers.get(b"webhook-id", b"")
    timestamp = headers.get(b"webhook-timestamp", b"")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > _TOLERANCE:
        return 401
    digest = hmac.new(_KEY, b"%s.%s.%s" % (msg_id, timestamp, body), hashlib.sha256).digest()
    expected = base64.b64encode(digest)
    signatures = headers.get(b"webhook-signature", b"").split()
    if not any(s[:3] == b"v1," and hmac.compare_digest(s[3:], expected) for s in signatures):
        return 401
    try:
        json.loads(body)
    except ValueError:
        return 400
    return 204


async def _respond(send, status):
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": b""})
