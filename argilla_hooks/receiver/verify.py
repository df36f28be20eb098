"""Standard Webhooks signatures: sign a delivery and verify one against one or more secrets.

Our own few lines rather than the `standardwebhooks` package: its ±5 min tolerance is fixed, it takes one secret,
and it raises ValueError/binascii.Error/UnicodeDecodeError on malformed input, which a receiver must answer with 401.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Sequence
from typing import Any

DEFAULT_TOLERANCE = 300
_PREFIX = "whsec_"


class VerificationError(Exception):
    """A delivery whose signature headers are missing, malformed, wrong or outside the tolerance; the reason says which."""


def decode_secret(secret: str) -> bytes:
    """The HMAC key of a secret: Argilla's base64 (no prefix) or a Standard Webhooks `whsec_...` one."""
    value = secret.strip()
    if value.startswith(_PREFIX):
        value = value[len(_PREFIX) :]
    try:
        key = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a webhook secret must be base64 (as Argilla shows it, e.g. in `hooks show`)") from None
    if not key:
        raise ValueError("a webhook secret must not be empty")
    return key


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header value Argilla would send for this delivery."""
    mac = hmac.new(decode_secret(secret), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


class Verifier:
    """Checks `webhook-*` headers (as raw bytes, the way ASGI gives them) against every secret; any match passes."""

    __slots__ = ("_keyed", "tolerance")

    def __init__(self, secrets: Sequence[str], tolerance: int = DEFAULT_TOLERANCE) -> None:
        if not secrets:
            raise ValueError("at least one webhook secret is needed to verify deliveries")
        self._keyed = [_keyed_sha256(decode_secret(s)) for s in secrets]
        self.tolerance = tolerance

    def verify(self, msg_id: bytes | None, timestamp: bytes | None, signature: bytes | None, body: bytes) -> None:
        """Raise VerificationError unless one `v1,` signature matches a secret within the tolerance."""
        if not msg_id or not timestamp or not signature:
            missing = [n for n, v in (("id", msg_id), ("timestamp", timestamp), ("signature", signature)) if not v]
            raise VerificationError("missing " + ", ".join(f"webhook-{n}" for n in missing) + " header")
        # bytes.isdigit() is ASCII-only, so int() below never sees signs, spaces, underscores or other scripts.
        if not timestamp.isdigit() or len(timestamp) > 12:
            raise VerificationError("webhook-timestamp is not an integer of Unix seconds")
        age = time.time() - int(timestamp)
        if age > self.tolerance:
            raise VerificationError(f"webhook-timestamp is {int(age)} s old (tolerance {self.tolerance} s)")
        if -age > self.tolerance:
            raise VerificationError(f"webhook-timestamp is {int(-age)} s in the future (tolerance {self.tolerance} s)")
        # Compare base64 text, not decoded bytes: a malformed value then simply fails to match.
        candidates = [part[3:] for part in signature.split(b" ") if part[:3] == b"v1,"]
        if not candidates:
            raise VerificationError("webhook-signature has no v1 signature")
        signed = b"%s.%s.%s" % (msg_id, timestamp, body)
        for inner, outer in self._keyed:
            mac_inner = inner.copy()
            mac_inner.update(signed)
            mac = outer.copy()
            mac.update(mac_inner.digest())
            expected = binascii.b2a_base64(mac.digest(), newline=False)
            for candidate in candidates:
                if hmac.compare_digest(expected, candidate):
                    return
        raise VerificationError("no webhook-signature matches the secret")


def _keyed_sha256(key: bytes) -> tuple[Any, Any]:
    """HMAC-SHA256 (RFC 2104) with its two padded-key blocks hashed once, so each request only copies the states.

    Same result as `hmac.digest(key, msg, "sha256")`, about half the cost per request.
    """
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    return hashlib.sha256(key.translate(_IPAD)), hashlib.sha256(key.translate(_OPAD))


_BLOCK = 64
_IPAD = bytes(x ^ 0x36 for x in range(256))
_OPAD = bytes(x ^ 0x5C for x in range(256))
