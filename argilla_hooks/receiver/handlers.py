"""Event handlers: the `on` decorator, the Delivery a handler is given, and calling it with what its parameters name."""

from __future__ import annotations

import functools
import inspect
import json
import re
import sys
from datetime import datetime, timezone
from typing import Any, Callable, Optional, TypeVar

import anyio
import anyio.to_thread
import orjson
from anyio.lowlevel import RunVar

from argilla_hooks.events import expand_events
from argilla_hooks.receiver.loader import HandlerLoadError
from argilla_hooks.receiver.payloads import Dataset, Event, Record, Response, parse_data

F = TypeVar("F", bound=Callable[..., Any])

_EVENTS_ATTR = "__argilla_hooks_events__"
# The parameter names a handler may take, each filled from the delivery (see Delivery below).
INJECTABLE = ("type", "timestamp", "data", "event", "dataset", "record", "response", "headers")


def on(*patterns: str) -> Callable[[F], F]:
    """Declare the events a handler wants: `@on("dataset.created", "record.*")`; `ping` only when named or globbed.

    Unknown names raise UnknownEventError at import time. Without `@on`, a handler gets every event but `ping`.
    """
    if len(patterns) == 1 and callable(patterns[0]):  # `@on` written without its parentheses
        raise TypeError("@on needs the events in parentheses, e.g. @on('record.*')")
    events = frozenset(expand_events(patterns, allow_ping=True))
    if not events:  # none given, or only '' and ',' (an unset variable): the handler would never run
        raise TypeError("on() needs at least one event name or pattern, e.g. @on('record.*')")

    def decorate(fn: F) -> F:
        # Above @staticmethod or @classmethod: the class attribute hands out the function inside, so mark that.
        target: Any = fn.__func__ if isinstance(fn, (staticmethod, classmethod)) else fn
        marked = events | getattr(target, _EVENTS_ATTR, frozenset())
        try:
            setattr(target, _EVENTS_ATTR, marked)
        except AttributeError:  # a bound method (`on(...)(service.handle)`) takes no attribute: a partial of it does
            fn = functools.partial(fn)  # type: ignore[assignment]
            setattr(fn, _EVENTS_ATTR, marked)
        return fn

    return decorate


class NotAnEvent(ValueError):
    """A verified body that is not an Argilla event; the message says what is wrong (answered with 400)."""


class Delivery:
    """One accepted event as handlers see it: the parsed body, and its typed views, made on first use and then shared.

    `key` identifies the event across Argilla's retries (which carry new webhook-ids): type, timestamp, data.id.
    """

    __slots__ = ("raw", "type", "timestamp", "key", "raw_headers", "_headers", "_event", "_payload", "sdk_event")

    def __init__(self, body: bytes, raw_headers: list[tuple[bytes, bytes]]) -> None:
        """NotAnEvent unless `body` is UTF-8 JSON with a type, an ISO 8601 timestamp and a data object."""
        self.raw = raw = _parse_event(body)
        self.raw_headers = raw_headers
        self.type: str = raw["type"]
        data_id = raw["data"].get("id")
        # ping has no id; keep the key hashable whatever a sender put there
        self.key = (self.type, raw["timestamp"], data_id if isinstance(data_id, str) else repr(data_id))
        self.timestamp = _parse_timestamp(raw["timestamp"])
        self._headers: Optional[dict[str, str]] = None
        self._event: Optional[Event] = None
        self._payload: Any = None
        self.sdk_event: Any = None  # the Argilla SDK's parsed event, for handlers that ask for its objects (sdk.py)

    @property
    def data(self) -> dict[str, Any]:
        return self.raw["data"]

    @property
    def headers(self) -> dict[str, str]:
        if self._headers is None:
            self._headers = decode_headers(self.raw_headers)
        return self._headers

    @property
    def event(self) -> Event:
        if self._event is None:
            self._event = Event.model_validate(self.raw)
        return self._event

    @property
    def payload(self) -> Any:
        """`data` as its typed model (Dataset, Record, Response, Ping), or the dict for an unknown event type."""
        if self._payload is None:
            self._payload = parse_data(self.type, self.data)
        return self._payload

    @property
    def dataset(self) -> Optional[Dataset]:
        """The event's dataset: itself, a record's dataset, or a response's record's dataset."""
        record = self.record
        if record is not None:
            return record.dataset
        return self.payload if self.type.startswith("dataset.") else None

    @property
    def record(self) -> Optional[Record]:
        """The event's record: itself, or a response's record."""
        if self.type.startswith("record."):
            return self.payload
        if self.type.startswith("response."):
            return self.payload.record
        return None

    @property
    def response(self) -> Optional[Response]:
        return self.payload if self.type.startswith("response.") else None


if sys.version_info >= (3, 11):
    _fromisoformat = datetime.fromisoformat
else:  # Python 3.10's fromisoformat reads only what isoformat writes: no Z, 3 or 6 fraction digits, +HH:MM offsets
    _TIME_TAIL = re.compile(r"(?:[.,]([0-9]+))?(?:([+-])([0-9]{2}):?([0-9]{2})?)?$")

    def _fix_time_tail(match: re.Match) -> str:
        fraction, sign, hours, minutes = match.groups()
        return (f".{fraction[:6].ljust(6, '0')}" if fraction else "") + (f"{sign}{hours}:{minutes or '00'}" if sign else "")

    def _fromisoformat(value: str) -> datetime:
        if value.endswith("Z"):
            value = value[:-1] + "+00:00"
        # Only the time part (after YYYY-MM-DDT) is rewritten, so a date's own hyphens are never read as an offset.
        return datetime.fromisoformat(value[:11] + _TIME_TAIL.sub(_fix_time_tail, value[11:], count=1))


def _parse_event(body: bytes) -> dict[str, Any]:
    event = _load_json(body)
    if not (
        isinstance(event, dict)
        and isinstance(event.get("type"), str)
        and event["type"]
        and isinstance(event.get("timestamp"), str)
        and isinstance(event.get("data"), dict)
    ):
        raise NotAnEvent("body is not an Argilla event (needs type, timestamp and data)")
    return event


def _load_json(body: bytes) -> Any:
    # orjson parses several times faster than json, and parsing is the largest cost of a delivery. But it refuses some
    # text that json.loads accepts (a lone surrogate escape such as "\ud800", NaN, a number beyond a double), which
    # a sender written in Python, as Argilla is, may send: that is parsed as the Argilla SDK's listener and the
    # references parse it, json.loads of the bytes (which also skips a leading byte order mark, and reads UTF-16 and
    # UTF-32 bodies). And it reads an integer beyond 64 bits (in a record's metadata, say) as an inexact float: a run
    # of 19 digits or more, which such an integer has, sends the body to json.loads too (1.7 us to look in 2 KiB).
    if type(body) is not bytes:  # (text or a memoryview, from a caller of call_handler)
        body = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else bytes(body)
    if _LONG_DIGIT_RUN not in body.translate(_DIGITS_AS_ZERO):
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            pass
    try:
        return json.loads(body)
    except UnicodeDecodeError:
        raise NotAnEvent("body is not UTF-8 (nor UTF-16 or UTF-32) text") from None
    except (ValueError, RecursionError):
        raise NotAnEvent("body is not JSON") from None


_DIGITS_AS_ZERO = bytes(ord("0") if chr(i).isdigit() and i < 128 else ord(" ") for i in range(256))
_LONG_DIGIT_RUN = b"0" * 19  # 2**63 has 19 digits: orjson reads every integer of fewer exactly


def _parse_timestamp(value: str) -> datetime:
    try:
        timestamp = _fromisoformat(value)
        # In UTC (naive means UTC, as Argilla writes it), which also refuses a time that has none (0001-01-01 at +01:00).
        return timestamp.replace(tzinfo=timezone.utc) if timestamp.tzinfo is None else timestamp.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        raise NotAnEvent(f"event timestamp {value[:40]!r} is not an ISO 8601 time") from None


class Handler:
    """A user function with its event filter and the parameters to inject, checked once when it is loaded."""

    __slots__ = ("fn", "name", "events", "params", "any_keyword", "is_async")

    def __init__(self, fn: Callable[..., Any], name: Optional[str] = None) -> None:
        """`name` is how reports call it: the `module:function` target it was loaded by, else where `fn` is defined."""
        self.fn = fn
        self.name = name or _qualified_name(fn)
        _check_callable(fn, self.name)
        self.events: Optional[frozenset[str]] = getattr(fn, _EVENTS_ATTR, None)
        self.params, self.any_keyword = self.injected_params()
        self.is_async = inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(getattr(fn, "__call__", None))

    def injected_params(self) -> tuple[tuple[str, ...], bool]:
        """The parameters to pass by name, and whether the handler takes `**kwargs`; HandlerLoadError for one that
        cannot be given."""
        return _injected_params(self.fn, self.name)

    def wants(self, event_type: str) -> bool:
        if self.events is None:
            return event_type != "ping"
        return event_type in self.events

    async def __call__(self, delivery: Delivery) -> None:
        kwargs = {name: getattr(delivery, name) for name in self.params}
        if self.any_keyword:
            sdk_style_defaults(kwargs, delivery)
        await self.call(kwargs)

    async def call(self, kwargs: dict[str, Any], args: tuple[Any, ...] = ()) -> None:
        """The function called with `kwargs` (and `args`): awaited, or a `def` in a worker thread, so that it never
        blocks other deliveries."""
        if self.is_async:
            await self.fn(*args, **kwargs)
            return
        result = await anyio.to_thread.run_sync(functools.partial(self.fn, *args, **kwargs), limiter=handler_threads())
        if inspect.isawaitable(result):
            await result


def sdk_style_defaults(kwargs: dict[str, Any], delivery: Delivery) -> None:
    """What a handler's `**kwargs` gets besides the parameters it names: what the Argilla SDK passes its listeners,
    type, timestamp and the event's resource (`data` for ping)."""
    kind = delivery.type.partition(".")[0]
    for name in ("type", "timestamp", kind if kind in _RESOURCES else "data"):
        kwargs.setdefault(name, getattr(delivery, name))


# The threads `def` handlers run in, at most HANDLER_THREADS at a time per event loop: anyio's pool, with a limiter of
# our own so that other code's use of anyio's default one (40 threads, shared) neither starves nor is starved by them.
HANDLER_THREADS = 40
_LIMITER: RunVar[anyio.CapacityLimiter] = RunVar("argilla_hooks_handler_threads")


def handler_threads() -> anyio.CapacityLimiter:
    """This event loop's limiter for handler threads (and the work done in threads for them)."""
    try:
        return _LIMITER.get()
    except LookupError:
        limiter = anyio.CapacityLimiter(HANDLER_THREADS)
        _LIMITER.set(limiter)
        return limiter


def decode_headers(raw_headers: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """ASGI's (name, value) byte pairs as a dict; names are already lower-case."""
    return {name.decode("latin-1"): value.decode("latin-1") for name, value in raw_headers}


def _unwrapped(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The function inside any functools.partial layers."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    return fn


def _qualified_name(fn: Callable[..., Any]) -> str:
    fn = _unwrapped(fn)
    module = getattr(fn, "__module__", None)
    qualname = getattr(fn, "__qualname__", None) or type(fn).__qualname__
    return f"{module}:{qualname}" if module else qualname


_RESOURCES = frozenset({"dataset", "record", "response"})  # event kinds whose resource a Delivery types


def _check_callable(fn: Callable[..., Any], name: str) -> None:
    """Refuse what would be called and then do nothing: a class (it would be instantiated), a generator function
    (its body runs only when iterated)."""
    inner = _unwrapped(fn)
    if inspect.isclass(inner):
        raise HandlerLoadError(f"handler {name} is a class: name a function, or an instance whose __call__ handles events")
    if inspect.isasyncgenfunction(inner) or inspect.isgeneratorfunction(inner):
        raise HandlerLoadError(f"handler {name} is a generator (it uses `yield`), whose body would never run: remove the yield")


def _injected_params(fn: Callable[..., Any], name: str) -> tuple[tuple[str, ...], bool]:
    """The parameters to pass by name, and whether the handler takes `**kwargs`."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError) as exc:
        raise HandlerLoadError(f"handler {name}: cannot read its parameters ({exc})") from None
    injected = []
    any_keyword = False
    for param in signature.parameters.values():
        if param.kind is param.VAR_KEYWORD:
            any_keyword = True
            continue
        if param.kind is param.VAR_POSITIONAL:
            continue
        if param.name in INJECTABLE and param.kind is not param.POSITIONAL_ONLY:
            injected.append(param.name)
        elif param.default is not param.empty:
            continue
        elif param.name in INJECTABLE:
            raise HandlerLoadError(
                f"handler {name}: parameter {param.name!r} is positional-only; arguments are passed by name, "
                "so remove the `/` after it"
            )
        else:
            raise HandlerLoadError(
                f"handler {name}: parameter {param.name!r} cannot be injected; "
                f"name parameters after what they need ({', '.join(INJECTABLE)}) or give it a default"
            )
    return tuple(injected), any_keyword
