"""`hooks listen` and the Argilla SDK: the server and key the SDK uses, the options SDK listeners leave to their
decorator, and how each is served and announced."""

from __future__ import annotations

import importlib.util
import os
from typing import Any, Callable

from argilla_hooks import settings
from argilla_hooks.cli import output
from argilla_hooks.cli.errors import CommandError, UsageProblem
from argilla_hooks.cli.listen.config import ListenConfig
from argilla_hooks.client import ArgillaClient
from argilla_hooks.events import ALL_EVENTS
from argilla_hooks.receiver import Handler
from argilla_hooks.receiver.sdk import SdkConnection, SdkListener, SdkTypedHandler, require_sdk
from argilla_hooks.urls import loopback_as_one


def share_connection(connect: Callable[[], ArgillaClient]) -> None:
    """Before the targets are imported: give the SDK, when it is installed, the server and key `hooks` uses (flag >
    environment > profile), as ARGILLA_API_URL and ARGILLA_API_KEY, which `@rg.webhook_listener` and `rg.Argilla()`
    read; so that a decorator registers its webhook on the server this listener talks to, with a key from a profile
    too. Without a key, nothing changes (the SDK then says what it misses)."""
    if importlib.util.find_spec("argilla") is None:
        return
    try:
        with connect() as client:
            os.environ[settings.ENV_API_URL], os.environ[settings.ENV_API_KEY] = client.api_url, client.api_key
    except Exception:  # noqa: BLE001 - no key, a bad profile: said when a command needs a connection, if one does
        return


def split(handlers: list[Handler]) -> tuple[list[Handler], list[SdkListener]]:
    """The plain handlers (served at --path) and the SDK listeners (each at its own path)."""
    return [h for h in handlers if not isinstance(h, SdkListener)], [h for h in handlers if isinstance(h, SdkListener)]


def check_options(config: ListenConfig, plain: list[Handler], listeners: list[SdkListener]) -> None:
    """UsageProblem for what cannot work: SDK listeners verify with the secret of the webhook their decorator
    registered, so the options choosing a secret or a webhook concern plain handlers only; and two receivers at one
    path."""
    if plain or not listeners:
        config.check_verification()
    else:
        chosen = (("--webhook", config.webhook), ("--register", config.register), ("--secret", config.secret_source == "--secret"))
        given = [flag for flag, on in chosen if on and (flag != "--secret" or config.secrets)]
        if given:
            raise UsageProblem(
                f"{given[0]} concerns plain handlers: an SDK listener verifies with the secret of the webhook its "
                "@rg.webhook_listener registered"
            )
    if listeners and config.reload:
        raise UsageProblem(f"--reload reloads plain handlers, not SDK listeners such as {listeners[0].name}: restart hooks listen after a change")
    taken = {config.path: "--path"} if plain or not listeners else {}
    for listener in listeners:
        if listener.path in taken:
            raise UsageProblem(f"{listener.name} is served at {listener.path}, as the SDK serves it, which {taken[listener.path]} takes already")
        taken[listener.path] = listener.name


def connect_sdk(handlers: list[Handler], connect: Callable[[], ArgillaClient]) -> None:
    """Give the handlers that take the SDK's objects one SDK client, for the server and key `hooks` uses; made now,
    so that a wrong key or an unreachable server stops the listener before it starts."""
    users = [h for h in handlers if isinstance(h, (SdkListener, SdkTypedHandler))]
    if not users:
        return
    argilla = require_sdk(f"handler {users[0].name} takes the Argilla SDK's objects")
    with connect() as client:
        client.me()  # the key and the server, checked with this tool's own messages and exit codes
        api_url, api_key = client.api_url, client.api_key
    try:
        connection = SdkConnection(argilla.Argilla(api_url=api_url, api_key=api_key))
    except Exception as exc:  # noqa: BLE001 - whatever the SDK raises, it could not connect
        raise CommandError(f"the Argilla SDK could not connect to {api_url}: {exc or type(exc).__name__}") from None
    for handler in users:
        handler.connection = connection  # type: ignore[union-attr]


def listener_urls(listeners: list[SdkListener], base_url: str) -> dict[str, str]:
    """Each SDK listener's URL on this listener, by name, as the SDK makes it: WEBHOOK_SERVER_URL (or --public-url,
    else the listen URL) and `/<function name>`; with a warning for a webhook that points elsewhere."""
    urls = {}
    for listener in listeners:
        url = urls[listener.name] = base_url.rstrip("/") + listener.path
        registered = str(listener.webhook.url)
        if loopback_as_one(registered) != loopback_as_one(url):
            output.warn(
                f"the webhook of {listener.name} points at {registered}, not at this listener ({url}); deliveries "
                f"arrive here only if that URL leads to this port (set {settings.ENV_PUBLIC_URL} to this listener's "
                "URL before starting, as for the SDK's own server)"
            )
    return urls


def ready_entries(listeners: list[SdkListener], urls: dict[str, str]) -> list[dict[str, Any]]:
    """The SDK listeners as the `ready` line shows them."""
    return [
        {"handler": listener.name, "path": listener.path, "url": urls[listener.name], "webhook_id": listener.webhook_id,
         "events": [event for event in ALL_EVENTS if listener.wants(event)]}
        for listener in listeners
    ]  # fmt: skip
