"""Why a delivery was refused 401, in words a person can act on: which header is missing (and what came instead),
how far the clocks are apart, whether the body was changed after it was signed, whose secret signed it.

Only ever run on a request already answered 401, and never runs a handler: what it does is compare headers and
compute HMACs over the body as received and over a few likely originals of it (a newline added, the JSON
re-serialized), with the listener's secrets and, when the caller gives them, the secrets of other webhooks.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Callable, Optional

import anyio
import anyio.to_thread
import orjson

from argilla_hooks.receiver.verify import SignedHead, VerificationError, Verifier

# The bodies examined for a change or another webhook's secret: Argilla's take a few KiB. Each check copies the body
# (and re-serializing parses it), after the body budget let it go: six forged 10 MiB bodies explained at once took a
# listener past the 200 MiB that a flood of them may cost (tests/unit/test_listen_flood.py).
MAX_EXAMINED = 256 * 1024
# How long the secrets of other webhooks are reused before they are asked for again.
OTHER_SECRETS_TTL = 60.0
SVIX_HEADERS = ("svix-id", "svix-timestamp", "svix-signature")
_SIGNATURE_HEADERS = frozenset({"webhook-id", "webhook-timestamp", "webhook-signature"})
_BOM = b"\xef\xbb\xbf"
# How a body may have been written when it was signed; Argilla writes Python's json.dumps default.
_STYLES: list[tuple[str, Callable[[object], bytes]]] = [
    ("Python's json.dumps default, as Argilla writes it", lambda obj: json.dumps(obj).encode()),
    ("json.dumps with ensure_ascii=False", lambda obj: json.dumps(obj, ensure_ascii=False).encode()),
    ("compact JSON", lambda obj: orjson.dumps(obj)),
    ("compact ASCII JSON", lambda obj: json.dumps(obj, separators=(",", ":")).encode()),
    ("indented JSON", lambda obj: json.dumps(obj, indent=2).encode()),
]

OtherSecrets = Callable[[], Mapping[str, str]]


@dataclass(frozen=True)
class Explanation:
    cause: str  # missing-header, svix-headers, malformed-timestamp, timestamp-skew, malformed-signature, body-altered,
    #             other-webhook-secret, wrong-secret
    reason: str


class Explainer:
    """Explains the 401s of one receiver. `other_secrets()` (a blocking call, run in a worker thread at most once a
    minute) gives {label: secret} of other webhooks, e.g. {"webhook 3f2a9c1e": "..."}, to name the one that signed."""

    def __init__(self, verifier: Verifier, other_secrets: Optional[OtherSecrets] = None) -> None:
        self.verifier = verifier
        self._other_secrets = other_secrets
        self._known: dict[str, Verifier] = {}
        self._known_at = -OTHER_SECRETS_TTL
        self._lookup = anyio.Lock()

    async def explain(self, reason: str, cause: Optional[str], headers: Mapping[str, str], body: Optional[bytes]) -> Explanation:
        if cause == "missing-header":
            return _missing(reason, headers)
        if cause == "timestamp-skew":
            return Explanation(cause, f"{reason}: this machine's clock and the sender's are apart, or the delivery was held back")
        if cause in ("malformed-signature", "malformed-timestamp"):
            name = "webhook-signature" if cause == "malformed-signature" else "webhook-timestamp"
            return Explanation(cause, f"{reason} (received {headers.get(name, '')[:60]!r})")
        return await self._unmatched(reason, headers, body)

    async def _unmatched(self, reason: str, headers: Mapping[str, str], body: Optional[bytes]) -> Explanation:
        """A signature well formed and in time that matches no secret: a changed body, another webhook's secret, or
        simply another secret."""
        ours = ", ".join(self.verifier.fingerprints)
        plural = "s" if len(self.verifier.fingerprints) > 1 else ""
        wrong = Explanation(
            "wrong-secret",
            f"no webhook-signature matches the secret{plural} this listener verifies with (fingerprint{plural} {ours}): "
            "the sender signs with another secret; `hooks show ID` prints a webhook's fingerprint to compare",
        )
        head = _signed_head(self.verifier, headers)
        if head is not None and not any(_is_hmac(candidate) for candidate in head[1]):
            shown = headers.get("webhook-signature", "")[:60]
            return Explanation("malformed-signature", f"webhook-signature has no v1 value that is the base64 of a SHA-256 HMAC (received {shown!r})")
        if head is None or body is None:
            return wrong
        if len(body) > MAX_EXAMINED:
            return Explanation(wrong.cause, f"{wrong.reason} (a body over {MAX_EXAMINED // 1024} KiB is not examined further)")
        for original, change in _originals(body):
            if self.verifier.matching(head, original) is not None:
                return Explanation("body-altered", f"the body was changed after it was signed: {change}; verify the bytes as received")
        for label, verifier in (await self._others()).items():
            if verifier.matching(head, body) is not None:
                return Explanation(
                    "other-webhook-secret",
                    f"signed with the secret of {label}, not with the one this listener verifies with (fingerprint{plural} {ours})",
                )
        return wrong

    async def _others(self) -> dict[str, Verifier]:
        if self._other_secrets is None:
            return {}
        async with self._lookup:  # one lookup for a burst of 401s
            if time.monotonic() - self._known_at >= OTHER_SECRETS_TTL:
                self._known_at = time.monotonic()
                try:
                    found = await anyio.to_thread.run_sync(self._other_secrets)
                except Exception:  # noqa: BLE001 - no server, no key: the 401 is explained without them
                    found = {}
                ours = set(self.verifier.fingerprints)
                self._known = {}
                for label, secret in found.items():
                    try:
                        verifier = Verifier([secret])
                    except ValueError:
                        continue
                    if verifier.fingerprints[0] not in ours:
                        self._known[label] = verifier
        return self._known


def _missing(reason: str, headers: Mapping[str, str]) -> Explanation:
    if all(name in headers for name in SVIX_HEADERS):
        return Explanation(
            "svix-headers",
            f"{reason}: the request has svix-id, svix-timestamp and svix-signature instead (Svix's names for the same "
            "scheme); send them as webhook-id, webhook-timestamp and webhook-signature",
        )
    lookalikes = [
        name for name in headers
        if name not in _SIGNATURE_HEADERS and any(word in name for word in ("signature", "webhook", "timestamp"))
    ]  # fmt: skip
    if lookalikes:
        return Explanation("missing-header", f"{reason}; it has {', '.join(sorted(lookalikes)[:5])}: renamed on the way (a proxy, a client)?")
    return Explanation("missing-header", f"{reason}: is the sender signing its deliveries (Standard Webhooks)?")


def _signed_head(verifier: Verifier, headers: Mapping[str, str]) -> Optional[SignedHead]:
    def raw(name: str) -> Optional[bytes]:
        value = headers.get(name)
        return None if value is None else value.encode("latin-1")

    try:
        return verifier.check_head(raw("webhook-id"), raw("webhook-timestamp"), raw("webhook-signature"))
    except VerificationError:
        return None


def _is_hmac(candidate: bytes) -> bool:
    try:
        return len(base64.b64decode(candidate, validate=True)) == 32
    except ValueError:  # binascii.Error included
        return False


def _originals(body: bytes) -> Iterator[tuple[bytes, str]]:
    """Bodies that may have been signed before `body` was made of them, each with what was done to it."""
    if body.endswith(b"\r\n"):
        yield body[:-2], "a CRLF was added at its end"
    elif body.endswith(b"\n"):
        yield body[:-1], "a newline was added at its end"
    if b"\r\n" in body:
        yield body.replace(b"\r\n", b"\n"), "its line ends were changed to CRLF"
    if body.startswith(_BOM):
        yield body[len(_BOM) :], "a byte order mark was added at its start"
    if body.strip() != body:
        yield body.strip(), "white space was added around it"
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return
    for style, dumps in _STYLES:
        try:
            original = dumps(parsed)
        except (TypeError, ValueError, orjson.JSONEncodeError):
            continue
        if original != body:
            yield original, f"it was re-serialized (the same JSON, signed as {style})"
