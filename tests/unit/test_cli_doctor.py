"""`hooks doctor` against the fake Argilla: each check's verdict and fix, and the exit code."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from tests.unit.fake_argilla import ANNOTATOR_KEY
from tests.unit.hooks_cli import hooks


def checks(*args, code=None, env=None):
    result = hooks("doctor", "--json", *args, env=env)
    report = json.loads(result.stdout)
    assert result.exit_code == (0 if report["ok"] else 1)
    if code is not None:
        assert result.exit_code == code, result.stdout
    return {check["name"]: check for check in report["checks"]}


def test_a_sound_setup_passes_every_check(fake_argilla):
    fake_argilla.date = format_datetime(datetime.now(timezone.utc), usegmt=True)
    fake_argilla.add(url="https://hooks.example.com/a", events=["dataset.created"])
    found = checks(code=0)
    assert list(found) == ["server", "key", "clock", "webhooks", "disabled", "urls", "duplicates", "left-behind", "journal"]
    assert {c["status"] for c in found.values()} == {"pass"}
    assert found["server"]["message"] == "Argilla 2.8.0 at http://argilla.test"
    assert found["key"]["message"] == "owner (owner)" and found["webhooks"]["message"] == "1 of Argilla's limit of 10"


@pytest.mark.parametrize(("offset", "status"), [(-600, "fail"), (400, "fail"), (90, "warn"), (-5, "pass")])
def test_a_skewed_clock_is_flagged_against_the_signature_tolerance(fake_argilla, offset, status):
    fake_argilla.date = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=offset), usegmt=True)
    clock = checks()["clock"]
    assert clock["status"] == status
    if status == "fail":
        assert f"{abs(offset)} s" in clock["message"] or f"{abs(offset) - 1} s" in clock["message"] or f"{abs(offset) + 1} s" in clock["message"]
        assert "signatures would be refused (tolerance 300 s)" in clock["message"] and "NTP" in clock["fix"]
        assert ("behind" if offset > 0 else "ahead of") in clock["message"]


def test_no_date_header_is_a_warning(fake_argilla):
    assert checks()["clock"]["status"] == "warn"


def test_a_loopback_webhook_with_a_server_elsewhere_fails(fake_argilla):
    fake_argilla.add(url="http://127.0.0.1:8000/", events=["dataset.created"])
    fake_argilla.add(url="http://localhost:9000/hook", events=["record.created"])
    urls = checks(code=1)["urls"]
    assert urls["status"] == "fail" and "http://127.0.0.1:8000/" in urls["message"] and "http://localhost:9000/hook" in urls["message"]
    assert "cannot reach" in urls["message"] and urls["fix"].startswith("`hooks update")


def test_a_loopback_webhook_with_a_server_on_this_machine_passes(fake_argilla, monkeypatch):
    import respx

    fake_argilla.add(url="http://127.0.0.1:8000/", events=["dataset.created"])
    with respx.mock(assert_all_called=False) as router:
        router.route(host="127.0.0.1").mock(side_effect=fake_argilla.handle)
        assert checks("--api-url", "http://127.0.0.1:6900")["urls"]["status"] == "pass"


def test_disabled_duplicated_and_too_many_webhooks_are_warned_of(fake_argilla):
    first = fake_argilla.add(url="https://a.example.com/", events=["dataset.created", "record.created"])
    twin = fake_argilla.add(url="https://A.example.com", events=["record.created", "dataset.created"])
    off = fake_argilla.add(url="https://a.example.com/", events=["dataset.created"], enabled=False)
    for i in range(7):
        fake_argilla.add(url=f"https://b.example.com/{i}")
    found = checks(code=0)
    assert found["disabled"]["status"] == "warn" and off["id"][:8] in found["disabled"]["message"]
    assert found["duplicates"]["status"] == "warn" and f"{first['id'][:8]} = {twin['id'][:8]}" in found["duplicates"]["message"]
    assert off["id"][:8] not in found["duplicates"]["message"] and found["duplicates"]["fix"] == f"`hooks delete {twin['id'][:8]}`"
    assert found["webhooks"]["status"] == "warn" and "10 webhooks, Argilla's limit" in found["webhooks"]["message"]


def test_a_disabled_twin_is_no_duplicate_and_overlapping_events_are(fake_argilla):
    # doctor said "delivered twice" of a disabled webhook's twin, and its fix deleted the enabled one.
    fake_argilla.add(url="https://a.example.com/a", events=["record.created"], enabled=False)
    enabled = fake_argilla.add(url="https://a.example.com/a", events=["record.created"])
    assert checks(code=0)["duplicates"]["status"] == "pass"
    wider = fake_argilla.add(url="https://a.example.com/a", events=["record.created", "record.updated", "dataset.created"])
    other = fake_argilla.add(url="https://a.example.com/a", events=["dataset.created", "record.deleted"])
    found = checks(code=0)["duplicates"]
    assert found["status"] == "warn" and found["message"].endswith(
        f"{enabled['id'][:8]} = {wider['id'][:8]} (record.created), {wider['id'][:8]} = {other['id'][:8]} (dataset.created)"
    )
    assert found["fix"] == f"`hooks delete {enabled['id'][:8]}`"  # its events all come with `wider` already
    fake_argilla.webhooks.remove(enabled)
    assert checks(code=0)["duplicates"]["fix"] == f"`hooks update {other['id'][:8]} --remove-event dataset.created`"


def test_webhooks_left_by_a_killed_register_session_are_warned_of_with_the_fix(fake_argilla):
    from argilla_hooks.cli.listen.left_behind import session_description

    killed = dead_pid()
    stale = fake_argilla.add(url="https://hooks.example.com/a", description=session_description(killed))
    fake_argilla.add(url="https://hooks.example.com/b", description=session_description(os.getppid()))  # still running
    fake_argilla.add(url="https://hooks.example.com/c", description="temporary: hooks listen on elsewhere pid 1 (deleted on exit)")
    found = checks(code=0)["left-behind"]
    assert found["status"] == "warn" and f"pid {killed}" in found["message"], found
    assert stale["id"][:8] in found["message"] and "hooks.example.com/b" not in found["message"] and "/c" not in found["message"]
    assert found["fix"].startswith(f"`hooks delete {stale['id'][:8]}`")


def test_no_webhook_left_behind_passes(fake_argilla):
    fake_argilla.add(url="https://hooks.example.com/a", description="mine")
    assert checks(code=0)["left-behind"]["status"] == "pass"


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_no_key_or_a_bad_one_or_an_annotators_fails_and_skips_what_needs_one(fake_argilla):
    found = checks(code=1, env={"ARGILLA_API_KEY": ""})
    assert found["key"]["status"] == "fail" and found["server"]["status"] == "pass"
    assert found["clock"]["status"] != "skip" and found["webhooks"]["status"] == "skip"
    assert checks(env={"ARGILLA_API_KEY": "wrong"})["key"]["message"] == "the API key is not valid on http://argilla.test"
    annotator = checks(env={"ARGILLA_API_KEY": ANNOTATOR_KEY})["key"]
    assert annotator["status"] == "fail" and "annotator: every webhook action needs an owner's key" in annotator["message"]


def test_an_unreachable_server_fails_and_the_rest_is_skipped():
    found = checks("--api-url", "http://127.0.0.1:9", code=1)
    assert found["server"]["status"] == "fail" and "cannot reach Argilla" in found["server"]["message"]
    assert [found[name]["status"] for name in ("key", "clock", "webhooks")] == ["skip", "skip", "skip"]


def test_recent_refusals_in_the_journal_are_warned_of(fake_argilla, tmp_path):
    import anyio
    import httpx

    from argilla_hooks import create_app
    from argilla_hooks.trigger import delivery, samples

    journal = tmp_path / "journal.sqlite3"
    assert checks("--journal", str(journal))["journal"]["status"] == "pass"

    async def refuse_one():
        app = create_app(secrets=[base64.b64encode(b"a" * 64).decode()], journal=journal)
        body = samples.build_event("dataset.created")
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r") as client:
            await client.post("/", content=body, headers=delivery.sign(base64.b64encode(b"b" * 64).decode(), None, None, body))
        await app.aclose()

    anyio.run(refuse_one)
    found = checks("--journal", str(journal))["journal"]
    assert found["status"] == "warn" and "1 request(s) refused in the last 24 h, the last: 401 no webhook-signature" in found["message"]
    assert found["fix"] == "`hooks deliveries list --rejected` shows them"


def test_text_output_marks_each_check_and_gives_the_fix(fake_argilla):
    fake_argilla.add(url="http://127.0.0.1:8000/")
    result = hooks("doctor")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("✓ server") and any(line.startswith("✗ urls") for line in lines)
    assert any(line.strip().startswith("fix: `hooks update") for line in lines)
