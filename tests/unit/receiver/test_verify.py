"""Standard Webhooks verification: any secret may match, malformed headers are rejected, never raised as a crash."""

from __future__ import annotations

import base64
import hmac
import math
import os
import time
from datetime import datetime, timezone

import pytest
from receiver_samples import new_secret
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from argilla_hooks.receiver.verify import VerificationError, Verifier, decode_secret, sign

BODY = b'{"type":"ping","version":1,"timestamp":"2026-11-27T21:30:19.154092Z","data":{}}'


def headers(secret: str, body: bytes = BODY, msg_id: str = "msg_abc", ts: int | None = None) -> tuple[bytes, bytes, bytes]:
    ts = int(time.time()) if ts is None else ts
    return msg_id.encode(), str(ts).encode(), sign(secret, msg_id, ts, body).encode()


def test_sign_matches_the_standardwebhooks_package_that_argilla_uses():
    secret = new_secret()
    ts = int(time.time())
    expected = Webhook(secret).sign("msg_abc", datetime.fromtimestamp(ts, timezone.utc), BODY.decode())
    assert sign(secret, "msg_abc", ts, BODY) == expected


def test_a_correct_signature_verifies():
    secret = new_secret()
    Verifier([secret]).verify(*headers(secret), BODY)


def test_any_of_several_secrets_may_match_for_rotation():
    old, new = new_secret(), new_secret()
    verifier = Verifier([old, new])
    verifier.verify(*headers(old), BODY)
    verifier.verify(*headers(new), BODY)
    with pytest.raises(VerificationError):
        verifier.verify(*headers(new_secret()), BODY)


def test_whsec_prefixed_secrets_are_accepted():
    secret = new_secret()
    Verifier(["whsec_" + secret]).verify(*headers(secret), BODY)


def test_one_matching_v1_among_several_signatures_is_enough_and_other_versions_are_ignored():
    secret = new_secret()
    msg_id, ts, good = headers(secret)
    signature = b"v2,abc v1,bm90IGl0 " + good
    Verifier([secret]).verify(msg_id, ts, signature, BODY)


@pytest.mark.parametrize(
    "signature",
    [b"v1", b"v1,not base64!!", b"v2,c29tZXRoaW5n", b"", b"v1,", b"\xff\xfe"],
    ids=["no-comma", "bad-base64", "only-v2", "empty", "empty-v1", "non-ascii"],
)
def test_malformed_signatures_are_verification_errors(signature):
    secret = new_secret()
    msg_id, ts, _ = headers(secret)
    with pytest.raises(VerificationError):
        Verifier([secret]).verify(msg_id, ts, signature, BODY)


@pytest.mark.parametrize("timestamp", [b"abc", b"", b"nan", b"inf", b"1e999", b"99999999999999999", b"\xd9\xa1"])
def test_a_timestamp_that_is_not_a_time_in_unix_seconds_is_rejected(timestamp):
    secret = new_secret()
    msg_id, _, signature = headers(secret)
    with pytest.raises(VerificationError, match="not a number|missing"):
        Verifier([secret]).verify(msg_id, timestamp, signature, BODY)


@pytest.mark.parametrize("form", ["+{}", " {} ", "{}.7", "{}.9999999", "{}\xa0", "0{}.0"])
def test_a_timestamp_written_otherwise_is_read_and_signed_as_the_reference_reads_it(form):
    # The Python reference (which the Argilla SDK's listener uses) reads float() of the header and signs the floored
    # seconds, to the microsecond (so "<ts>.9999999" is <ts> + 1): a sender that signs what it means passes.
    secret = new_secret()
    text = form.format(int(time.time()) - 1)
    signed_over = math.floor(datetime.fromtimestamp(float(text), timezone.utc).timestamp())
    signature = reference(secret, "msg_abc", signed_over)
    assert reference_accepts(secret, "msg_abc", text, signature)
    Verifier([secret]).verify(b"msg_abc", text.encode("latin-1"), signature.encode(), BODY)


def test_a_negative_or_fractional_past_timestamp_is_stale_not_malformed():
    secret = new_secret()
    msg_id, _, signature = headers(secret)
    for timestamp in (b"-5", b"1.5"):
        with pytest.raises(VerificationError, match="old"):
            Verifier([secret]).verify(msg_id, timestamp, signature, BODY)


@pytest.mark.parametrize(("offset", "word"), [(-301, "old"), (301, "future")])
def test_timestamps_outside_the_tolerance_are_rejected(offset, word):
    secret = new_secret()
    with pytest.raises(VerificationError, match=word):
        Verifier([secret]).verify(*headers(secret, ts=int(time.time()) + offset), BODY)


def test_a_timestamp_just_inside_the_tolerance_verifies():
    secret = new_secret()
    for offset in (-298, 298):
        Verifier([secret]).verify(*headers(secret, ts=int(time.time()) + offset), BODY)


def test_the_tolerance_is_configurable():
    secret = new_secret()
    stale = headers(secret, ts=int(time.time()) - 30)
    Verifier([secret]).verify(*stale, BODY)
    with pytest.raises(VerificationError):
        Verifier([secret], tolerance=10).verify(*stale, BODY)


def test_a_body_changed_after_signing_fails():
    secret = new_secret()
    with pytest.raises(VerificationError, match="matches"):
        Verifier([secret]).verify(*headers(secret), BODY.replace(b"ping", b"pong"))


@pytest.mark.parametrize("missing", [0, 1, 2])
def test_missing_headers_are_named(missing):
    secret = new_secret()
    values = list(headers(secret))
    values[missing] = None
    name = ["webhook-id", "webhook-timestamp", "webhook-signature"][missing]
    with pytest.raises(VerificationError, match=name):
        Verifier([secret]).verify(*values, BODY)


def test_secrets_that_are_not_base64_or_missing_are_refused_up_front():
    with pytest.raises(ValueError, match="base64"):
        decode_secret("not a secret!")
    with pytest.raises(ValueError, match="at least one"):
        Verifier([])


@pytest.mark.parametrize("key_length", [16, 64, 65, 200])
def test_keys_shorter_equal_and_longer_than_the_hash_block_verify_like_the_hmac_module(key_length):
    secret = base64.b64encode(os.urandom(key_length)).decode()
    Verifier([secret]).verify(*headers(secret), BODY)  # sign() uses the hmac module itself


def reference(secret: str, msg_id: str, ts: int, body: bytes = BODY) -> str:
    """The signature the Standard Webhooks reference library (and so Argilla) makes."""
    return Webhook(secret).sign(msg_id, datetime.fromtimestamp(ts, timezone.utc), body)


def reference_accepts(secret: str, msg_id: str, timestamp: str, signature: str) -> bool:
    try:
        Webhook(secret).verify(BODY, {"webhook-id": msg_id, "webhook-timestamp": timestamp, "webhook-signature": signature})
    except WebhookVerificationError:
        return False
    return True


@pytest.mark.parametrize("zeros", ["0", "0" * 20])
def test_a_timestamp_with_leading_zeros_is_signed_as_its_integer_as_the_references_do(zeros):
    secret = new_secret()
    ts = int(time.time())
    padded = f"{zeros}{ts}"
    over_integer = reference(secret, "msg_abc", ts)
    key = decode_secret(secret)
    over_text = "v1," + base64.b64encode(hmac.digest(key, f"msg_abc.{padded}.".encode() + BODY, "sha256")).decode()
    Verifier([secret]).verify(b"msg_abc", padded.encode(), over_integer.encode(), BODY)
    with pytest.raises(VerificationError, match="matches"):
        Verifier([secret]).verify(b"msg_abc", padded.encode(), over_text.encode(), BODY)
    assert reference_accepts(secret, "msg_abc", padded, over_integer)
    assert not reference_accepts(secret, "msg_abc", padded, over_text)


def test_a_non_ascii_webhook_id_is_signed_as_the_references_read_it():
    # A server hands the reference its header as latin-1 text; the reference signs that text as UTF-8.
    secret = new_secret()
    ts = int(time.time())
    raw_id = "msg_é".encode("latin-1")  # the header's bytes as sent, as ASGI gives them
    as_text = raw_id.decode("latin-1")
    signature = reference(secret, as_text, ts)
    Verifier([secret]).verify(raw_id, str(ts).encode(), signature.encode(), BODY)
    key = decode_secret(secret)
    over_raw_bytes = b"v1," + base64.b64encode(hmac.digest(key, raw_id + f".{ts}.".encode() + BODY, "sha256"))
    with pytest.raises(VerificationError, match="matches"):
        Verifier([secret]).verify(raw_id, str(ts).encode(), over_raw_bytes, BODY)
    assert reference_accepts(secret, as_text, str(ts), signature)
