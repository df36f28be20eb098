"""argilla-hooks: manage, receive and test Argilla webhooks.

The heavy parts (httpx, pydantic, the receiver) are imported on first use so that
`hooks --help` stays fast; `from argilla_hooks import on, create_app` still works.
"""

from __future__ import annotations

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
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'argilla_hooks' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module_name), name)
