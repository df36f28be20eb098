"""Import a handler from a `package.module:function` target, the way uvicorn imports `module:app`."""

from __future__ import annotations

import importlib
import os
import sys
import types
import warnings
from typing import Any, Callable, Optional

from argilla_hooks.text import a_or_an, did_you_mean


class HandlerLoadError(Exception):
    """A handler target that cannot be used; the one-line message says why and what to write instead."""


def load_handler(target: str, app_dir: Optional[str] = ".") -> Callable[..., Any]:
    """The callable named by `module:function` (dotted attributes allowed), with `app_dir` first on sys.path.

    A missing module, attribute or a non-callable raises HandlerLoadError; any other error raised while importing
    the module (an ImportError of its own imports included) propagates with its real traceback.
    """
    module_name, _, attrs = target.partition(":")
    if not module_name or not attrs or ":" in attrs:
        raise HandlerLoadError(f"handler {target!r} must be in the form 'module:function' (e.g. 'my_hooks:on_event')")
    if module_name.startswith(".") or "/" in module_name or "\\" in module_name:
        # A path or a relative import: importlib would raise a TypeError that looks like a bug in the user's code.
        raise HandlerLoadError(
            f"handler {target!r}: give the module's dotted name (e.g. 'my_hooks:on_event' for ./my_hooks.py), "
            "not a path; --app-dir sets the directory it is imported from"
        )
    obj: Any = load_module(module_name, app_dir, target=target)
    for attr in attrs.split("."):
        try:
            obj = getattr(obj, attr)
        except AttributeError:
            callables = [n for n in dir(obj) if not n.startswith("_") and callable(getattr(obj, n, None))]
            raise HandlerLoadError(
                f"{target!r}: {_describe(obj)} has no attribute {attr!r}{did_you_mean(attr, callables)}"
            ) from None
    if not callable(obj):
        raise HandlerLoadError(f"{target!r} is not callable (it is {a_or_an(type(obj).__name__)})")
    return obj


def load_module(module_name: str, app_dir: Optional[str] = ".", *, target: Optional[str] = None) -> types.ModuleType:
    """The module, imported with `app_dir` first on sys.path; HandlerLoadError (naming `target`) when it does not
    exist, while any error raised by its code (an ImportError of its own imports included) propagates."""
    if app_dir is not None:
        path = os.path.abspath(app_dir)
        if path not in sys.path:
            sys.path.insert(0, path)
    try:
        with warnings.catch_warnings():
            # `@rg.webhook_listener` warns when it reuses a webhook, and its warning shows the webhook whole, secret
            # included; no output of ours shows a secret (`hooks listen` names the webhook in its banner).
            warnings.filterwarnings("ignore", message="Found existing webhook", category=UserWarning)
            return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        # Only the target itself (or a parent package of it) being absent is "not found"; a module the user's
        # code imports being absent is the user's bug and keeps its traceback.
        if exc.name is None or not (module_name == exc.name or module_name.startswith(exc.name + ".")):
            raise
        where = f" (looked in {os.path.abspath(app_dir)} and sys.path)" if app_dir is not None else ""
        raise HandlerLoadError(f"could not import module {module_name!r} for handler {target or module_name!r}{where}") from None


def _describe(obj: Any) -> str:
    if isinstance(obj, types.ModuleType):
        return f"module {obj.__name__!r}"
    return repr(getattr(obj, "__name__", type(obj).__name__))

