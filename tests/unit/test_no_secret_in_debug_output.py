"""With ARGILLA_HOOKS_DEBUG=1 (tracebacks on), no failure of any command prints the API key or a webhook secret:
every way the server, the network or the input can fail, through main() as the console script runs it (issue 19)."""

from __future__ import annotations

import base64

import pytest

from tests.unit.fake_argilla import OWNER_KEY
from tests.unit.hooks_cli import hooks

WEBHOOK_SECRET = base64.b64encode(b"w" * 64).decode()
FAILURES = {
    "refused": lambda fake: setattr(fake, "down", True),
    "answer lost": lambda fake: fake.lose_answer.update(POST=1, PATCH=1, DELETE=1),
    "lost, then down": lambda fake: (fake.lose_answer.update(POST=1, PATCH=1, DELETE=1), setattr(fake, "down_after_loss", True)),
    "server error": lambda fake: fake.fail_on.update(GET=1, POST=1, PATCH=1, DELETE=1),
    "nothing wrong": lambda fake: None,
}
COMMANDS = [
    ["list", "--show-secrets"], ["show", "{id}", "--show-secret"], ["create", "http://127.0.0.1:9/", "-e", "*", "--disabled"],
    ["update", "{id}", "--disable"], ["delete", "{id}"], ["enable", "{id}"], ["ping", "{id}"], ["whoami"], ["export"],
    ["apply", "-f", "{file}", "--prune", "--yes"], ["login"], ["trigger", "ping", "--webhook", "{id}", "--to", "http://127.0.0.1:9/"],
    ["listen", "--webhook", "{id}", "--port", "-1"], ["list", "--api-url", "http://argilla.test/" + OWNER_KEY], ["list", "--api-url", "http://argilla.test/?key=" + OWNER_KEY],
]


@pytest.mark.parametrize("failure", FAILURES)
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_no_failure_prints_a_secret_even_with_tracebacks(command, failure, fake_argilla, tmp_path, monkeypatch):
    monkeypatch.setenv("ARGILLA_HOOKS_DEBUG", "1")
    monkeypatch.setenv("ARGILLA_WEBHOOK_SECRET", WEBHOOK_SECRET)
    hook = fake_argilla.add(url="http://127.0.0.1:9/")
    (tmp_path / "w.toml").write_text('[[webhooks]]\nurl = "http://127.0.0.1:9/new"\nevents = ["dataset.created"]\nenabled = false\n')
    FAILURES[failure](fake_argilla)
    args = [a.format(id=hook["id"][:8], file=tmp_path / "w.toml") for a in command]
    result = hooks(*args)
    shown_on_purpose = "--show-secret" in command[-1] or command[0] == "create"  # asked for (stdout only)
    assert OWNER_KEY not in result.output and WEBHOOK_SECRET not in result.output
    assert hook["secret"] not in result.stderr and (shown_on_purpose or hook["secret"] not in result.stdout)
