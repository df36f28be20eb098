"""Standard Webhooks signatures: sign a delivery and verify one against one or more secrets.

Our own few lines rather than the `standardwebhooks` package: its ±5 min tolerance is fixed, it takes one secret, it
raises ValueError/binascii.Error/UnicodeDecodeError on malformed input, which a receiver must answer with 401, and it
checks headers and body in one call, where a receiver must refuse bad headers before it reads a body.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Optional

DEFAULT_TOLERANCE = 300
_PREFIX = "whsec_"
# The start of the signed content, `{id}.{timestamp}.`, and the `v1` signatures to compare the whole with.
SignedHead = tuple[bytes, list[bytes]]


class VerificationError(Exception):
    """A delivery whose signature headers are missing, malformed, wrong or outside the tolerance; the reason says which,
    and `cause` names it for scripts: missing-header, malformed-timestamp, timestamp-skew, malformed-signature,
    wrong-secret (see explain.py for what a receiver can tell beyond that)."""

    def __init__(self, reason: str, cause: str) -> None:
        super().__init__(reason)
        self.cause = cause


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


def fingerprint(secret: str) -> str:
    """8 hex digits that tell secrets apart without showing them (`hooks show` prints a webhook's, a 401 the
    listener's): the start of the SHA-256 of the secret's key."""
    return hashlib.sha256(decode_secret(secret)).hexdigest()[:8]


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header value Argilla would send for this delivery."""
    mac = hmac.digest(decode_secret(secret), f"{msg_id}.{timestamp}.".encode() + body, "sha256")
    return "v1," + base64.b64encode(mac).decode()


class Verifier:
    """Checks `webhook-*` headers (as raw bytes, the way ASGI gives them) against every secret; any match passes.

    In two steps, so that a receiver refuses what the headers alone condemn before it reads the body: `check_head`
    (present, well formed, within the tolerance), then `check_body` (a signature matches).
    """

    __slots__ = ("_keys", "tolerance", "fingerprints")

    def __init__(self, secrets: Sequence[str], tolerance: int = DEFAULT_TOLERANCE) -> None:
        if not secrets:
            raise ValueError("at least one webhook secret is needed to verify deliveries")
        self._keys = [decode_secret(s) for s in secrets]
        self.tolerance = tolerance
        self.fingerprints = [fingerprint(s) for s in secrets]

    def verify(self, msg_id: bytes | None, timestamp: bytes | None, signature: bytes | None, body: bytes) -> None:
        """Raise VerificationError unless one `v1,` signature matches a secret within the tolerance."""
        self.check_body(self.check_head(msg_id, timestamp, signature), body)

    def check_head(self, msg_id: bytes | None, timestamp: bytes | None, signature: bytes | None) -> SignedHead:
        """What the body must be checked with; VerificationError for headers missing, malformed or out of time."""
        if not msg_id or not timestamp or not signature:
            missing = [n for n, v in (("id", msg_id), ("timestamp", timestamp), ("signature", signature)) if not v]
            raise VerificationError("missing " + ", ".join(f"webhook-{n}" for n in missing) + " header", "missing-header")
        # Argilla sends plain digits (bytes.isdigit() is ASCII-only); anything else is read as the references read it.
        if timestamp.isdigit() and len(timestamp.lstrip(b"0")) <= 12:
            seconds = int(timestamp)
            age = time.time() - seconds
        else:
            seconds, when = _as_the_references_read(timestamp)
            age = time.time() - when
        if age > self.tolerance:
            raise VerificationError(f"webhook-timestamp is {int(age)} s old (tolerance {self.tolerance} s)", "timestamp-skew")
        if -age > self.tolerance:
            raise VerificationError(f"webhook-timestamp is {int(-age)} s in the future (tolerance {self.tolerance} s)", "timestamp-skew")
        # Compare base64 text, not decoded bytes: a malformed value then simply fails to match.
        candidates = [part[3:] for part in signature.split(b" ") if part[:3] == b"v1,"]
        if not candidates:
            raise VerificationError("webhook-signature has no v1 signature", "malformed-signature")
        # Signed as the reference libraries (and Argilla) sign: over the timestamp as a whole number of seconds (so
        # "0<ts>" and "<ts>.5" are <ts>), and over the id as text, which their servers decode from latin-1 and encode
        # as UTF-8.
        if not msg_id.isascii():
            msg_id = msg_id.decode("latin-1").encode()
        return b"%s.%d." % (msg_id, seconds), candidates

    def check_body(self, head: SignedHead, body: bytes) -> None:
        """VerificationError unless a signature of `head` matches the body with one of the secrets."""
        if self.matching(head, body) is None:
            raise VerificationError("no webhook-signature matches the secret", "wrong-secret")

    def matching(self, head: SignedHead, body: bytes) -> Optional[int]:
        """The index of the secret a signature of `head` matches the body with, or None."""
        prefix, candidates = head
        signed = prefix + body
        for index, key in enumerate(self._keys):
            expected = binascii.b2a_base64(hmac.digest(key, signed, "sha256"), newline=False)
            if any(hmac.compare_digest(expected, candidate) for candidate in candidates):
                return index
        return None


def _as_the_references_read(timestamp: bytes) -> tuple[int, float]:
    """The seconds a `webhook-timestamp` other than plain digits is signed over, and the time it says, as the
    Standard Webhooks reference (Python; the Argilla SDK's listener uses it) reads one: `float()` of the header's
    latin-1 text (so a sign, blanks around it, a fraction, digit underscores), to the microsecond, floored."""
    try:
        when = datetime.fromtimestamp(float(timestamp.decode("latin-1")), timezone.utc).timestamp()
    except (ValueError, OverflowError, OSError):  # not a number, NaN, infinite, or no year a datetime can hold
        raise VerificationError("webhook-timestamp is not a number of Unix seconds", "malformed-timestamp") from None
    return math.floor(when), when
