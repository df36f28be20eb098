"""A journaled delivery sent again: the secret to sign it with, where to send it, and the request written out as a
curl command, an HTTP message or a pytest test (`hooks deliveries replay` and `export`)."""

from __future__ import annotations

import base64
import re
import secrets
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Optional

from argilla_hooks import __version__, settings
from argilla_hooks.cli import output
from argilla_hooks.cli.errors import UsageProblem
from argilla_hooks.client import ArgillaClient
from argilla_hooks.client.errors import ArgillaError
from argilla_hooks.receiver.dedup import REPLAY_PREFIX
from argilla_hooks.receiver.journal_reader import JournalEntry
from argilla_hooks.receiver.verify import fingerprint, sign
from argilla_hooks.urls import check_url

FORMATS = ("curl", "http", "pytest")
# Headers a replay carries over from the original delivery: the rest describe its transport or its old signature.
_KEPT = ("content-type", "user-agent")


@dataclass(frozen=True)
class Signing:
    secret: str
    origin: str  # where it came from, for messages


def signing_secret(entry: JournalEntry, secret: Optional[str], secret_origin: str, webhook: Optional[str],
                   connect: Callable[[], ArgillaClient]) -> Signing:  # fmt: skip
    """--secret (or the environment's), else --webhook's, else the secret of the webhook the listener verified with,
    fetched from Argilla while it exists (a --register webhook does while its listener runs)."""
    if webhook:
        with connect() as client:
            found = client.get(webhook)
        return _checked(entry, Signing(found.secret, f"the secret of webhook {found.short_id}"))
    if secret:
        return _checked(entry, Signing(secret, secret_origin))
    recorded = entry.listener.webhook_id
    if recorded:
        try:
            with connect() as client:
                found = client.get(recorded)
        except (ArgillaError, UsageProblem) as exc:
            raise UsageProblem(f"the listener verified with webhook {recorded[:8]}, whose secret cannot be had ({exc}): "
                               f"pass --secret or set {settings.ENV_WEBHOOK_SECRET}") from None  # fmt: skip
        return _checked(entry, Signing(found.secret, f"the secret of webhook {found.short_id}"))
    raise UsageProblem(f"no secret to sign with: pass --secret, set {settings.ENV_WEBHOOK_SECRET}, or --webhook ID")


def _checked(entry: JournalEntry, signing: Signing) -> Signing:
    try:
        tried = fingerprint(signing.secret)
    except ValueError as exc:
        raise UsageProblem(f"{signing.origin}: {exc}") from None
    verified_with = entry.listener.fingerprints
    if verified_with and tried not in verified_with:
        output.warn(f"signing with {signing.origin} (fingerprint {tried}), but the listener that received "
                    f"{entry.short_id} verifies with {', '.join(verified_with)}: it will answer 401")  # fmt: skip
    return signing


def target_url(entry: JournalEntry, to: Optional[str]) -> str:
    url = to or entry.listener.url
    if url is None:
        raise UsageProblem(f"the journal does not say where {entry.short_id} was received: give --to URL")
    try:
        return check_url(url)
    except ValueError as exc:
        raise UsageProblem(f"--to: {exc}") from None


def replayable_body(entry: JournalEntry) -> bytes:
    if entry.body is None or entry.body_truncated:
        raise UsageProblem(f"delivery {entry.short_id} has no {'whole ' if entry.body_truncated else ''}body to send again")
    return entry.body


def signed_headers(entry: JournalEntry, signing: Signing) -> dict[str, str]:
    """The original's content headers and a new signature: a fresh timestamp and a replay id (so that the receiver
    runs the handlers again, where it would take Argilla's retry for a duplicate)."""
    body = replayable_body(entry)
    msg_id = f"{REPLAY_PREFIX.decode()}{secrets.token_urlsafe(16)}"
    timestamp = int(time.time())
    original = {name: value for name, value in entry.headers}
    kept = {name: original[name] for name in _KEPT if name in original}
    return {
        "content-type": "application/json", **kept,
        "webhook-id": msg_id, "webhook-timestamp": str(timestamp), "webhook-signature": sign(signing.secret, msg_id, timestamp, body),
    }  # fmt: skip


def as_curl(url: str, headers: dict[str, str], body: bytes) -> str:
    lines = [f"curl -sS -X POST {shlex.quote(url)}"] + [f"  -H {shlex.quote(f'{name}: {value}')}" for name, value in headers.items()]
    text = _text(body)
    if text is not None:
        return " \\\n".join([*lines, f"  --data-binary {shlex.quote(text)}"]) + "\n"
    # Bytes a shell word cannot carry as they are (not UTF-8, a NUL): through base64, exact all the same.
    encoded = base64.b64encode(body).decode()
    return f"printf %s {encoded} | base64 -d | " + " \\\n".join([*lines, "  --data-binary @-"]) + "\n"


def as_http(url: str, headers: dict[str, str], body: bytes) -> str:
    """An HTTP message (the .http format of editors' REST clients): request line, headers, a blank line, the body."""
    head = [f"POST {url} HTTP/1.1"] + [f"{name}: {value}" for name, value in headers.items()]
    return "\n".join(head) + "\n\n" + body.decode("utf-8", "replace") + "\n"


def as_pytest(entry: JournalEntry, targets: list[str]) -> str:
    """A test module that calls each handler on this delivery's body, as `hooks listen` calls it."""
    body = replayable_body(entry)
    imports, tests = [], []
    for target in dict.fromkeys(targets):
        module, _, attribute = target.partition(":")
        name = attribute.split(".")[0]
        imports.append(f"from {module} import {name}")
        test_name = re.sub(r"\W", "_", f"test_{attribute}_handles_{entry.type or 'delivery'}_{entry.short_id}")
        tests.append(f"def {test_name}():\n    call_handler({attribute}, BODY)\n")
    chunks = [body[i : i + 80] for i in range(0, len(body), 80)] or [b""]
    literal = "\n".join(f"    {chunk!r}" for chunk in chunks)
    return (
        f'"""{entry.type or "A delivery"} {entry.short_id}, received {time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(entry.received_at))}, '
        f"as a test (written by argilla-hooks {__version__}: `hooks deliveries export {entry.short_id} --as pytest`).\n\n"
        f'Run it with pytest where the handlers import from (the directory `hooks listen --app-dir` names)."""\n\n'
        "from argilla_hooks.receiver import call_handler\n\n" + "\n".join(imports) + "\n\n"
        f"BODY = (\n{literal}\n)\n\n\n" + "\n\n".join(tests)
    )


def _text(body: bytes) -> Optional[str]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return None if "\x00" in text else text
