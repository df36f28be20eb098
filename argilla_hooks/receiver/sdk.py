"""Handlers written for the Argilla SDK: `@rg.webhook_listener` functions, and parameters annotated with the SDK's
types (`rg.Dataset`, `rg.Record`, `rg.UserResponse`, its `EventType`, `rg.webhooks.WebhookEvent`), given the SDK's
own objects, built as its listener builds them.

The SDK (`argilla-hooks[sdk]`) is never imported here unless a handler asks for it: a user's module imports it, and
this module looks in `sys.modules`, so that handlers which do not use it cost nothing. One thing relies on more than
the SDK's documented API, which pyproject's `sdk` extra bounds to the minor version the suite ran on: the decorator
replaces a function with the `request_handler(request)` closure of `WebhookHandler.handle`, and the function, its
`WebhookHandler` (whose `webhook` is public) and `raw_event` are found only among that closure's values
(`inspect.getclosurevars`). `unwrap_listener` is the one place that reads them.
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
import threading
import traceback
import types
import typing
from dataclasses import dataclass
from typing import Any, Callable, Optional

import anyio.to_thread

from argilla_hooks import settings
from argilla_hooks.receiver.handlers import INJECTABLE, Delivery, Handler, handler_threads, sdk_style_defaults
from argilla_hooks.receiver.loader import HandlerLoadError, load_handler, load_module

INSTALL = "pip install 'argilla-hooks[sdk]'"
RESOURCES = ("dataset", "record", "response")
# What the SDK's listener needs besides argilla itself: the decorator imports fastapi, argilla 2.8 imports requests.
_SDK_MODULES = frozenset({"argilla", "fastapi", "requests"})


def require_sdk(why: str) -> Any:
    """The `argilla` module; HandlerLoadError (exit 2 under `hooks listen`) saying how to install it."""
    try:
        return importlib.import_module("argilla")
    except ImportError as exc:
        raise HandlerLoadError(f"{why}, but the Argilla SDK cannot be imported ({exc}): {INSTALL}") from None


def sdk_missing(exc: ImportError) -> bool:
    """Whether `exc`, raised while a handler's module was imported, is the SDK or a module it needs being absent."""
    name = (getattr(exc, "name", None) or "").partition(".")[0]
    if name == "argilla":
        return True
    inside_sdk = any(f"{os.sep}argilla{os.sep}" in frame.filename for frame in traceback.extract_tb(exc.__traceback__))
    return name in _SDK_MODULES and inside_sdk


class SdkConnection:
    """The SDK client the SDK's objects are built with (their `.get()`, `.update()`, `dataset.records` use it).

    Given, or made on first use from ARGILLA_API_URL and ARGILLA_API_KEY as they are then (the SDK reads them when it
    is imported). `hooks listen` gives one for its own server and key.
    """

    def __init__(self, client: Any = None) -> None:
        self._client = client
        self._lock = threading.Lock()

    @property
    def client(self) -> Any:
        with self._lock:  # the first deliveries may ask from several threads at once
            if self._client is None:
                argilla = require_sdk("a handler takes the Argilla SDK's objects")
                api_url = os.environ.get(settings.ENV_API_URL) or settings.DEFAULT_API_URL
                self._client = argilla.Argilla(api_url=api_url, api_key=os.environ.get(settings.ENV_API_KEY))
            return self._client

    def parse(self, raw: dict[str, Any]) -> Any:
        """The SDK's parsed event (DatasetEvent, RecordEvent or UserResponseEvent), built as its listener builds it:
        with a GET of the dataset and one of the record, whose failures it ignores. Blocking."""
        argilla = require_sdk("a handler takes the Argilla SDK's objects")
        return argilla.webhooks.WebhookEvent.model_validate(raw).parsed(self.client)

    async def parsed(self, delivery: Delivery) -> Any:
        """`parse` in a worker thread, once per delivery whatever the number of handlers that ask."""
        if delivery.sdk_event is None:
            delivery.sdk_event = await anyio.to_thread.run_sync(self.parse, delivery.raw, limiter=handler_threads())
        return delivery.sdk_event


DEFAULT_CONNECTION = SdkConnection()


@dataclass(frozen=True)
class Unwrapped:
    """What `@rg.webhook_listener` made of a function: the function, the webhook it registered, and `raw_event`."""

    func: Callable[..., Any]
    webhook: Any  # argilla.webhooks.Webhook
    raw_event: bool


def unwrap_listener(obj: Any) -> Optional[Unwrapped]:
    """The function inside `obj` if `obj` is what `@rg.webhook_listener` returns, else None (see the module's
    docstring for what this relies on)."""
    webhooks = sys.modules.get("argilla.webhooks")
    if webhooks is None or not inspect.isfunction(obj) or not obj.__closure__:
        return None
    values = list(inspect.getclosurevars(obj).nonlocals.values())
    handlers = [value for value in values if isinstance(value, webhooks.WebhookHandler)]
    if not handlers:
        return None
    functions = [value for value in values if inspect.isfunction(value) or inspect.ismethod(value)]
    flags = [value for value in values if isinstance(value, bool)]
    if len(handlers) != 1 or len(functions) != 1 or len(flags) != 1:
        raise HandlerLoadError(
            f"{obj.__qualname__}: this version of the Argilla SDK wraps its listeners in a way argilla-hooks does not "
            "know; it supports argilla 2.8"
        )
    return Unwrapped(functions[0], handlers[0].webhook, flags[0])


class SdkListener(Handler):
    """A function `@rg.webhook_listener` decorated, run as the SDK's server runs it: with the SDK's parsed event as
    keyword arguments (or the raw `WebhookEvent`, with `raw_event=True`), for its webhook's events only. It is served
    at `path` (`/<function name>`, where the SDK's server has it) and verified with its webhook's `secret`."""

    __slots__ = ("webhook", "raw_event", "path", "connection")

    def __init__(self, found: Unwrapped, name: str, connection: SdkConnection = DEFAULT_CONNECTION) -> None:
        self.webhook, self.raw_event, self.connection = found.webhook, found.raw_event, connection
        super().__init__(found.func, name)
        self.events = frozenset(_event_names(found.webhook))  # the SDK's server, too, runs it for these only
        self.path = "/" + found.func.__name__

    @property
    def secret(self) -> str:
        return str(self.webhook.secret)

    @property
    def webhook_id(self) -> Optional[str]:
        found = getattr(self.webhook, "id", None)
        return None if found is None else str(found)

    def injected_params(self) -> tuple[tuple[str, ...], bool]:
        """None by name: the SDK passes its own arguments, checked here against the function's signature."""
        signature = inspect.signature(self.fn)
        calls: list[tuple[tuple[None, ...], dict[str, None]]] = [((None,), {})] if self.raw_event else [
            ((), {"type": None, "timestamp": None, kind: None}) for kind in self._kinds()
        ]
        for args, kwargs in calls:
            try:
                signature.bind(*args, **kwargs)
            except TypeError as exc:
                passed = "the raw WebhookEvent" if self.raw_event else ", ".join(kwargs)
                raise HandlerLoadError(f"handler {self.name}: the Argilla SDK calls it with {passed}, which it does not take ({exc})") from None
        return (), False

    def _kinds(self) -> list[str]:
        return [kind for kind in RESOURCES if any(event.startswith(kind + ".") for event in _event_names(self.webhook))]

    async def __call__(self, delivery: Delivery) -> None:
        if self.raw_event:  # called as the SDK calls it: `func(event)`
            await self.call({}, (require_sdk("an SDK listener").webhooks.WebhookEvent.model_validate(delivery.raw),))
            return
        parsed = await self.connection.parsed(delivery)
        await self.call(parsed.model_dump())  # exactly what the SDK passes: type (EventType), timestamp, the resource


def _event_names(webhook: Any) -> list[str]:
    """A webhook's events as names (the SDK gives its EventType members, whose str() is not the name)."""
    return [str(getattr(event, "value", event)) for event in webhook.events]


class SdkTypedHandler(Handler):
    """A handler some of whose parameters are annotated with the SDK's types: those get the SDK's objects (`dataset`
    of a record event is the record's, as for the payload models), the others what any handler gets."""

    __slots__ = ("sdk_params", "connection", "fetches")

    def __init__(self, fn: Callable[..., Any], name: Optional[str], sdk_params: dict[str, str], connection: SdkConnection = DEFAULT_CONNECTION) -> None:
        super().__init__(fn, name)
        self.sdk_params, self.connection = sdk_params, connection
        self.params = tuple(name for name in self.params if name not in sdk_params)
        self.fetches = any(kind in RESOURCES for kind in sdk_params.values())  # only these cost the SDK's GETs

    async def __call__(self, delivery: Delivery) -> None:
        kind = delivery.type.partition(".")[0]
        parsed = await self.connection.parsed(delivery) if self.fetches and kind in RESOURCES else None
        kwargs = {name: _sdk_value(what, delivery, parsed) for name, what in self.sdk_params.items()}
        kwargs.update((name, getattr(delivery, name)) for name in self.params)
        if self.any_keyword:
            sdk_style_defaults(kwargs, delivery)
        await self.call(kwargs)


def _sdk_value(what: str, delivery: Delivery, parsed: Any) -> Any:
    """The SDK's value of `what` (a parameter's name) for this delivery; None where the event has none (ping, which
    the SDK knows nothing of, gets its type as a str)."""
    argilla = require_sdk("a handler takes the Argilla SDK's objects")
    if what == "type":
        try:
            return argilla.webhooks.WebhookEvent.model_fields["type"].annotation(delivery.type)
        except ValueError:
            return delivery.type
    if what == "event":
        return None if delivery.type == "ping" else argilla.webhooks.WebhookEvent.model_validate(delivery.raw)
    response = getattr(parsed, "response", None)
    record = getattr(parsed, "record", None) or getattr(response, "record", None)
    if what == "response":
        return response
    if what == "record":
        return record
    return getattr(parsed, "dataset", None) or getattr(record, "dataset", None)


def handlers_for_target(target: str, app_dir: Optional[str] = ".", connection: SdkConnection = DEFAULT_CONNECTION) -> list[Handler]:
    """The handlers a `hooks listen` target names: `module:function` (a plain handler or an SDK listener), or a bare
    `module`, for every SDK listener it defines."""
    if ":" in target or not target or any(c in target for c in "/\\") or target.startswith("."):  # load_handler says why
        return [handler_for(load_handler(target, app_dir), target, connection, listeners=True)]
    module = load_module(target, app_dir, target=target)
    found = [(attr, value) for attr, value in vars(module).items() if _defined_in(value, module)]
    if not found:
        raise HandlerLoadError(
            f"module {target!r} defines no @rg.webhook_listener function: name a handler as 'module:function' "
            f"(e.g. '{target}:on_event')"
        )
    return [handler_for(value, f"{target}:{attr}", connection, listeners=True) for attr, value in found]


def _defined_in(value: Any, module: types.ModuleType) -> bool:
    found = unwrap_listener(value)
    return found is not None and getattr(found.func, "__module__", None) == module.__name__


def handler_for(fn: Callable[..., Any], name: Optional[str] = None, connection: SdkConnection = DEFAULT_CONNECTION, *, listeners: bool = False) -> Handler:
    """`fn` as a Handler: an SdkListener, an SdkTypedHandler, or (no SDK in sight: the usual case) a plain Handler.
    `listeners`: whether an SDK listener is welcome (it needs a path and a secret of its own)."""
    found = unwrap_listener(fn)
    if found is not None:
        if not listeners:
            raise HandlerLoadError(
                f"handler {name or found.func.__qualname__} is an @rg.webhook_listener, served at its own path with its "
                "webhook's secret: run it with `hooks listen`, or give create_app an SdkListener"
            )
        return SdkListener(found, name or f"{found.func.__module__}:{found.func.__qualname__}", connection)
    sdk_params = sdk_annotated(fn, name or str(getattr(fn, "__qualname__", repr(fn))))
    if sdk_params:
        return SdkTypedHandler(fn, name, sdk_params, connection)
    return Handler(fn, name)


def sdk_annotated(fn: Callable[..., Any], name: str) -> dict[str, str]:
    """The parameters of `fn` annotated with an SDK type, by name; {} at once when neither the SDK nor an annotation
    naming it (a string, under `from __future__ import annotations`) is in sight."""
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return {}  # Handler says why
    annotated = [p for p in parameters if p.name in INJECTABLE and p.annotation is not p.empty]
    if not annotated or ("argilla" not in sys.modules and not any(_names_sdk(p.annotation) for p in annotated)):
        return {}
    argilla = require_sdk(f"handler {name} takes the Argilla SDK's objects")
    kinds = _sdk_kinds(argilla)
    found = {}
    for param in annotated:
        annotation = _resolved(param.annotation, fn, argilla)
        kind = next((kind for sdk_type, kind in kinds if annotation is sdk_type), None)  # `is`: annotations need not hash
        if kind is None:
            continue
        if kind != param.name:
            raise HandlerLoadError(f"handler {name}: parameter {param.name!r} cannot be the SDK's {kind}; name it {kind!r}")
        found[param.name] = kind
    return found


def _sdk_kinds(argilla: Any) -> list[tuple[Any, str]]:
    """Each SDK type a parameter may be annotated with, and the parameter it must be (its EventType is not exported by
    name: it is the type of WebhookEvent's `type`)."""
    webhook_event = argilla.webhooks.WebhookEvent
    return [(argilla.Dataset, "dataset"), (argilla.Record, "record"), (argilla.UserResponse, "response"),
            (webhook_event, "event"), (webhook_event.model_fields["type"].annotation, "type")]  # fmt: skip


def _names_sdk(annotation: Any) -> bool:
    return isinstance(annotation, str) and annotation.replace("Optional[", "").startswith(("rg.", "argilla."))


def _resolved(annotation: Any, fn: Callable[..., Any], argilla: Any) -> Any:
    """An annotation as an object: a string evaluated where `fn` was defined (or, naming the SDK, against it), with
    `Optional[X]` / `X | None` read as X; None when it cannot be."""
    if isinstance(annotation, str):
        namespace = {"rg": argilla, "argilla": argilla, **getattr(inspect.unwrap(fn), "__globals__", {})}
        try:
            annotation = eval(annotation, namespace)  # noqa: S307 - the user's own annotation, in their namespace
        except Exception:  # noqa: BLE001 - an annotation that names what is not there says nothing of the SDK
            return None
    if typing.get_origin(annotation) in (typing.Union, getattr(types, "UnionType", typing.Union)):
        members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        annotation = members[0] if len(members) == 1 else None
    return annotation
