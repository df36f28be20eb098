"""Every 401 names its cause (in the report, so on the terminal, in --json and in the journal), and none runs a handler."""

from __future__ import annotations

import json
import re
import time

import orjson
import pytest
from receiver_samples import event_body, new_secret, signed_headers

from argilla_hooks import create_app
from argilla_hooks.receiver.explain import MAX_EXAMINED
from argilla_hooks.receiver.verify import fingerprint, sign

pytestmark = pytest.mark.anyio


async def refused(request_to, secret, body, headers, **options):
    """The report of a request answered 401, after checking that no handler ran."""
    calls, reports = [], []
    app = create_app(handlers=[lambda type: calls.append(type)], secrets=[secret], on_report=reports.append, **options)
    answer = await request_to(app, "POST", content=body, headers=headers)
    assert answer.status_code == 401 and calls == []
    [report] = reports
    assert report.kind == "rejected" and report.status == 401
    return report


@pytest.mark.parametrize("header", ["webhook-id", "webhook-timestamp", "webhook-signature"])
async def test_a_missing_header_is_named(secret, request_to, header):
    body = event_body()
    headers = signed_headers(secret, body)
    del headers[header]
    report = await refused(request_to, secret, body, headers)
    assert report.cause == "missing-header" and f"missing {header} header" in report.reason


async def test_svix_headers_sent_instead_of_webhook_ones_are_named(secret, request_to):
    body = event_body()
    headers = {name.replace("webhook-", "svix-"): value for name, value in signed_headers(secret, body).items()}
    report = await refused(request_to, secret, body, headers)
    assert report.cause == "svix-headers"
    assert "svix-id, svix-timestamp and svix-signature instead" in report.reason and "webhook-signature" in report.reason


async def test_a_renamed_header_is_pointed_at(secret, request_to):
    body = event_body()
    headers = signed_headers(secret, body)
    headers["x-webhook-signature"] = headers.pop("webhook-signature")
    report = await refused(request_to, secret, body, headers)
    assert report.cause == "missing-header" and "it has x-webhook-signature: renamed on the way" in report.reason


@pytest.mark.parametrize("value", ["v1", "v1,%%%not-base64%%%", "sha256=abcdef", "v1,c2hvcnQ="])
async def test_an_unparseable_signature_is_named_with_what_came(secret, request_to, value):
    body = event_body()
    headers = {**signed_headers(secret, body), "webhook-signature": value}
    report = await refused(request_to, secret, body, headers)
    assert report.cause == "malformed-signature" and repr(value) in report.reason


async def test_an_unparseable_timestamp_is_named(secret, request_to):
    body = event_body()
    headers = {**signed_headers(secret, body), "webhook-timestamp": "2026-11-27T21:30:19Z"}
    report = await refused(request_to, secret, body, headers)
    assert report.cause == "malformed-timestamp" and "'2026-11-27T21:30:19Z'" in report.reason


@pytest.mark.parametrize(("offset", "words"), [(-900, r"(899|900) s old"), (3600, r"(3599|3600) s in the future")])
async def test_clock_skew_says_by_how_many_seconds(secret, request_to, offset, words):
    body = event_body()
    report = await refused(request_to, secret, body, signed_headers(secret, body, timestamp=int(time.time()) + offset))
    assert report.cause == "timestamp-skew" and re.search(words, report.reason) and "clock" in report.reason


def _reserialized(body: bytes) -> bytes:
    return orjson.dumps(json.loads(body))  # what a framework that parses and writes JSON again sends on


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda body: body + b"\n", "a newline was added at its end"),
        (lambda body: body + b"\r\n", "a CRLF was added at its end"),
        (lambda body: json.dumps(json.loads(body), indent=2).encode().replace(b"\n", b"\r\n"), "line ends were changed to CRLF"),
        (_reserialized, "it was re-serialized (the same JSON, signed as Python's json.dumps default, as Argilla writes it)"),
        (lambda body: b"\xef\xbb\xbf" + body, "a byte order mark was added"),
    ],
    ids=["newline", "crlf", "crlf-inside", "re-serialized", "bom"],
)
async def test_a_body_altered_after_signing_is_told_from_a_wrong_secret(secret, request_to, change, words):
    original = event_body()
    if "inside" in words or "line ends" in words:
        original = json.dumps(json.loads(original), indent=2).encode()
    report = await refused(request_to, secret, change(original), signed_headers(secret, original))
    assert report.cause == "body-altered" and words in report.reason


async def test_a_body_past_the_examined_size_is_not_copied_to_explain_it(secret, request_to):
    # Every check copies the body: a flood of forged 10 MiB bodies must not make the listener hold several each.
    original = event_body("record.created", data={"id": "r", "pad": "x" * MAX_EXAMINED})
    report = await refused(request_to, secret, original + b"\n", signed_headers(secret, original))
    assert report.cause == "wrong-secret" and report.reason.endswith(f"(a body over {MAX_EXAMINED // 1024} KiB is not examined further)")


async def test_a_wrong_secret_gives_the_fingerprint_of_the_one_tried(secret, request_to):
    body = event_body()
    other = new_secret()
    report = await refused(request_to, secret, body, signed_headers(other, body))
    assert report.cause == "wrong-secret" and f"fingerprint {fingerprint(secret)}" in report.reason
    assert secret not in report.reason and other not in report.reason and fingerprint(other) not in report.reason


async def test_several_secrets_give_all_their_fingerprints(secret, request_to):
    old = new_secret()
    calls, reports = [], []
    app = create_app(handlers=[lambda: calls.append(1)], secrets=[secret, old], on_report=reports.append)
    body = event_body()
    answer = await request_to(app, "POST", content=body, headers=signed_headers(new_secret(), body))
    assert answer.status_code == 401 and calls == []
    assert f"fingerprints {fingerprint(secret)}, {fingerprint(old)}" in reports[0].reason


async def test_the_secret_of_another_webhook_is_named_when_they_are_known(secret, request_to):
    theirs = new_secret()
    looked_up = []

    def other_secrets():
        looked_up.append(1)
        return {"webhook 3f2a9c1e": theirs, "webhook 00000000": new_secret(), "webhook mine0000": secret, "webhook junk": "!"}

    body = event_body()
    report = await refused(request_to, secret, body, signed_headers(theirs, body), other_secrets=other_secrets)
    assert report.cause == "other-webhook-secret"
    assert "signed with the secret of webhook 3f2a9c1e, not with the one this listener verifies with" in report.reason
    assert theirs not in report.reason and looked_up == [1]


async def test_other_secrets_are_asked_for_once_a_minute_and_a_failing_lookup_leaves_a_wrong_secret(secret, request_to):
    asked = []

    def other_secrets():
        asked.append(1)
        raise ConnectionError("no Argilla here")

    calls, reports = [], []
    app = create_app(handlers=[lambda: calls.append(1)], secrets=[secret], on_report=reports.append, other_secrets=other_secrets)
    for _ in range(3):
        body = event_body()
        assert (await request_to(app, "POST", content=body, headers=signed_headers(new_secret(), body))).status_code == 401
    assert asked == [1] and calls == [] and {r.cause for r in reports} == {"wrong-secret"}


async def test_the_answer_keeps_the_short_reason_and_never_a_fingerprint(secret, request_to):
    # What a sender sees stays as it was; the explanation is for the terminal, --json and the journal.
    app = create_app(secrets=[secret], on_report=lambda report: None)
    body = event_body()
    answer = await request_to(app, "POST", content=body, headers=signed_headers(new_secret(), body))
    assert answer.json()["error"] == "no webhook-signature matches the secret"


def test_the_fingerprint_ignores_a_whsec_prefix_and_tells_secrets_apart():
    secret = new_secret()
    assert fingerprint(secret) == fingerprint("whsec_" + secret) and len(fingerprint(secret)) == 8
    assert fingerprint(secret) != fingerprint(new_secret())
    assert int(fingerprint(secret), 16) >= 0
    assert sign(secret, "msg_1", 1, b"{}")  # (the same decoding as signing)
