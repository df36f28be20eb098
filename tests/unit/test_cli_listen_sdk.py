"""`hooks listen` with Argilla SDK code, in-process against the fake Argilla: what is refused before anything binds,
and the SDK's absence said in one line. Serving real deliveries to SDK listeners is in tests/e2e/test_sdk_e2e.py."""

from __future__ import annotations

import io
import os
import socket
import sys
import textwrap
import uuid
import warnings
from types import SimpleNamespace

import argilla as rg
import pytest

from argilla_hooks.client.errors import AuthenticationError
from argilla_hooks.receiver.sdk import INSTALL
from tests.unit.fake_argilla import API, OWNER_KEY
from tests.unit.hooks_cli import hooks

SECRET = "c2VjcmV0LWtleS1mb3ItdGVzdHM="


@pytest.fixture
def sdk_client(fake_argilla):
    """The fake Argilla, with an SDK client for it as the SDK's default (which `@rg.webhook_listener` uses)."""
    rg.Argilla(api_url=API, api_key=OWNER_KEY)
    return fake_argilla


def module(tmp_path, source: str) -> str:
    """A handler module with a name of its own (the import system keeps modules by name)."""
    name = f"listen_sdk_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
    return name


LISTENER = """
    import argilla as rg
    from datetime import datetime

    @rg.webhook_listener(events="dataset.created")
    async def on_dataset(dataset: rg.Dataset, type: str, timestamp: datetime):
        pass

    def plain(type):
        pass
"""


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--register"], "--register concerns plain handlers: an SDK listener verifies with the secret of the webhook its @rg.webhook_listener registered"),
        (["--webhook", "3f2a"], "--webhook concerns plain handlers"),
        (["--secret", SECRET], "--secret concerns plain handlers"),
    ],
)
def test_options_that_choose_a_secret_are_refused_for_sdk_listeners_alone(sdk_client, tmp_path, options, message):
    name = module(tmp_path, LISTENER)
    result = hooks("listen", f"{name}:on_dataset", *options, "--app-dir", str(tmp_path), "--port", "0")
    assert result.exit_code == 2 and message in result.stderr, result.output
    assert len(sdk_client.webhooks) == 1  # the decorator's own, and nothing else


def test_a_secret_left_in_the_environment_is_no_reason_to_refuse(sdk_client, tmp_path, monkeypatch):
    # ...but serving needs the real server (the decorator registered there): stop at the bind of a port in use.
    name = module(tmp_path, LISTENER)
    monkeypatch.setenv("ARGILLA_WEBHOOK_SECRET", SECRET)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = hooks("listen", f"{name}:on_dataset", "--app-dir", str(tmp_path), "--port", str(taken.getsockname()[1]))
    assert result.exit_code == 1 and "is already in use" in result.stderr, result.output


def test_the_sdks_warning_of_a_reused_webhook_never_shows_its_secret(sdk_client, tmp_path):
    name = module(tmp_path, LISTENER)
    with socket.socket() as taken:  # the listener stops at the bind, after importing the module
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        args = ("listen", f"{name}:on_dataset", "--app-dir", str(tmp_path), "--port", str(taken.getsockname()[1]))
        hooks(*args)  # the decorator registers its webhook
        del sys.modules[name]  # imported again, the decorator finds that webhook and reuses it
        with warnings.catch_warnings(record=True) as shown:
            warnings.simplefilter("always")
            result = hooks(*args)
    [webhook] = sdk_client.webhooks
    assert result.exit_code == 1 and "is already in use" in result.stderr, result.output
    assert not [w for w in shown if webhook["secret"] in str(w.message)] and webhook["secret"] not in result.output


def test_plain_handlers_beside_sdk_listeners_still_need_a_secret(sdk_client, tmp_path):
    name = module(tmp_path, LISTENER)
    result = hooks("listen", f"{name}:on_dataset", f"{name}:plain", "--app-dir", str(tmp_path), "--port", "0")
    assert result.exit_code == 2 and "no secret to verify deliveries with" in result.stderr, result.output


def test_two_listeners_at_one_path_are_refused(sdk_client, tmp_path):
    first, second = module(tmp_path, LISTENER), module(tmp_path, LISTENER)
    result = hooks("listen", first, second, "--app-dir", str(tmp_path), "--port", "0")
    assert result.exit_code == 2 and f"{second}:on_dataset is served at /on_dataset" in result.stderr, result.output
    assert f"which {first}:on_dataset takes already" in result.stderr


def test_an_sdk_listener_at_the_path_of_the_plain_handlers_is_refused(sdk_client, tmp_path):
    name = module(tmp_path, LISTENER)
    result = hooks("listen", name, f"{name}:plain", "--path", "/on_dataset", "--secret", SECRET, "--app-dir", str(tmp_path))
    assert result.exit_code == 2 and "which --path takes already" in result.stderr, result.output


def test_reload_is_refused_for_sdk_listeners_each_served_at_a_path_fixed_at_start(sdk_client, tmp_path):
    name = module(tmp_path, LISTENER)
    result = hooks("listen", f"{name}:on_dataset", "--reload", "--no-journal", "--app-dir", str(tmp_path), "--port", "0")
    assert result.exit_code == 2 and f"--reload reloads plain handlers, not SDK listeners such as {name}:on_dataset" in result.stderr


def test_a_module_that_imports_the_sdk_when_it_is_missing_is_one_line_exit_2(tmp_path, monkeypatch):
    name = module(tmp_path, LISTENER)
    monkeypatch.setitem(sys.modules, "argilla", None)  # `import argilla` fails as if it were not installed
    result = hooks("listen", f"{name}:on_dataset", "--app-dir", str(tmp_path), "--port", "0")
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().splitlines() == [
        f"error: handler '{name}:on_dataset' needs the Argilla SDK, which cannot be imported "
        f"(import of argilla halted; None in sys.modules): {INSTALL}"
    ]


def test_an_import_error_of_the_users_own_is_still_their_traceback(tmp_path):
    name = module(tmp_path, "import requests_that_do_not_exist\n")
    result = hooks("listen", f"{name}:fn", "--secret", SECRET, "--app-dir", str(tmp_path), "--port", "0")
    assert result.exit_code == 1 and "Traceback" in result.stderr and "requests_that_do_not_exist" in result.stderr


# --- the pieces `hooks listen` puts together --------------------------------------------------------------------------


def test_the_sdk_gets_the_server_and_key_of_a_profile_before_the_targets_are_imported(monkeypatch):
    from argilla_hooks import settings
    from argilla_hooks.cli.connect import get_client
    from argilla_hooks.cli.listen.sdk import share_connection

    monkeypatch.delenv("ARGILLA_API_URL")
    monkeypatch.delenv("ARGILLA_API_KEY")
    share_connection(lambda: get_client(None, None, None))  # no key anywhere: nothing changes
    assert "ARGILLA_API_KEY" not in os.environ
    settings.save_profile("default", "http://profile.test:6900", "profile.key")
    share_connection(lambda: get_client(None, None, None))
    assert (os.environ["ARGILLA_API_URL"], os.environ["ARGILLA_API_KEY"]) == ("http://profile.test:6900", "profile.key")


def test_handlers_that_take_sdk_objects_share_one_sdk_client_checked_before_serving(sdk_client):
    from argilla_hooks.cli.connect import get_client
    from argilla_hooks.cli.listen.sdk import connect_sdk
    from argilla_hooks.receiver.sdk import DEFAULT_CONNECTION, handler_for

    def first(dataset: rg.Dataset):
        pass

    def second(type: rg.webhooks.WebhookEvent.model_fields["type"].annotation, data):  # type: ignore[name-defined]
        pass

    handlers = [handler_for(first), handler_for(second), handler_for(lambda data: None)]
    connect_sdk(handlers, lambda: get_client(API, OWNER_KEY, None))
    assert handlers[0].connection is handlers[1].connection is not DEFAULT_CONNECTION  # type: ignore[attr-defined]
    assert handlers[0].connection.client.api_url == API  # type: ignore[attr-defined]
    with pytest.raises(AuthenticationError):  # the key, checked with this tool's own errors (exit 3 under the CLI)
        connect_sdk(handlers, lambda: get_client(API, "wrong.key", None))


def test_an_sdk_listener_whose_webhook_points_elsewhere_is_warned_about_and_announced(capsys):
    from argilla_hooks.cli.listen.output import Printer, Ready
    from argilla_hooks.cli.listen.sdk import listener_urls, ready_entries

    webhook = SimpleNamespace(url="http://127.0.0.1:8000/on_dataset", id="3f2a9c1e-0000-4000-8000-000000000000")
    listener = SimpleNamespace(name="guide:on_dataset", path="/on_dataset", webhook=webhook, webhook_id=webhook.id, wants=lambda e: e == "dataset.created")
    assert listener_urls([listener], "http://localhost:8000/") == {"guide:on_dataset": "http://localhost:8000/on_dataset"}  # type: ignore[list-item]
    assert capsys.readouterr().err == ""  # localhost and 127.0.0.1 are one
    urls = listener_urls([listener], "http://127.0.0.1:9000")  # type: ignore[list-item]
    assert "the webhook of guide:on_dataset points at http://127.0.0.1:8000/on_dataset, not at this listener" in capsys.readouterr().err
    entries = ready_entries([listener], urls)  # type: ignore[list-item]
    assert entries == [{"handler": "guide:on_dataset", "path": "/on_dataset", "url": "http://127.0.0.1:9000/on_dataset",
                        "webhook_id": webhook.id, "events": ["dataset.created"]}]  # fmt: skip
    out = io.StringIO()
    ready = Ready(host="127.0.0.1", port=9000, path="/", verify=True, secrets=0, events=["dataset.created"],
                  handlers=["guide:on_dataset"], forward_to=[], sdk_listeners=entries)  # fmt: skip
    Printer(out, as_json=False, verbose=False, show_data=False).ready(ready)
    assert "  sdk:      guide:on_dataset at http://127.0.0.1:9000/on_dataset (webhook 3f2a9c1e, dataset.created)" in out.getvalue()
    assert ready.to_json()["sdk_listeners"] == entries
