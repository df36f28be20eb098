"""argilla-hooks: manage, receive and test Argilla webhooks.

The heavy parts (httpx, pydantic, the receiver) are imported on first use so that
`hooks --help` stays fast; `from argilla_hooks import on, create_app` still works.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# name -> module that defines it; resolved lazily by __getattr__ below.
_LAZY = {
    "ArgillaClient": "argilla_hooks.client",
    "Webhook": "argilla_hooks.client.models",
    "WebhookCreate": "argilla_hooks.client.models",
    "WebhookUpdate": "argilla_hooks.client.models",
    "EventName": "argilla_hooks.events",
    "on": "argilla_hooks.receiver.handlers",
    "create_app": "argilla_hooks.receiver.app",
    # What handlers are given, for their annotations.
    "Event": "argilla_hooks.receiver.payloads",
    "Dataset": "argilla_hooks.receiver.payloads",
    "Record": "argilla_hooks.receiver.payloads",
    "Response": "argilla_hooks.receiver.payloads",
}

# Spelt out (not built from _LAZY) so that linters and type checkers can read it; a test keeps the two in step.
__all__ = [
    "__version__", "ArgillaClient", "Webhook", "WebhookCreate", "WebhookUpdate", "EventName", "on", "create_app",
    "Event", "Dataset", "Record", "Response",
]

if TYPE_CHECKING:  # what type checkers and IDEs see (`as`: exported); at run time __getattr__ imports on first use
    from argilla_hooks.client import ArgillaClient as ArgillaClient
    from argilla_hooks.client.models import Webhook as Webhook, WebhookCreate as WebhookCreate, WebhookUpdate as WebhookUpdate
    from argilla_hooks.events import EventName as EventName
    from argilla_hooks.receiver.payloads import Dataset as Dataset, Event as Event, Record as Record, Response as Response
    from argilla_hooks.receiver.app import create_app as create_app
    from argilla_hooks.receiver.handlers import on as on


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'argilla_hooks' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module_name), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
