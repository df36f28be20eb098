"""`on` filters and argument injection by parameter name, checked when the handler is loaded."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from receiver_samples import event_body

from argilla_hooks import on
from argilla_hooks.events import UnknownEventError
from argilla_hooks.receiver.payloads import Dataset, Event, Record, Response
from argilla_hooks.receiver.handlers import Delivery, Handler, NotAnEvent
from argilla_hooks.receiver.loader import HandlerLoadError


def delivery(event_type: str, **overrides) -> Delivery:
    return Delivery(event_body(event_type, **overrides), [(b"webhook-id", b"msg_1")])


def test_on_expands_patterns_and_undecorated_handlers_get_everything_but_ping():
    @on("dataset.created", "record.*")
    def picky():
        pass

    def everything():
        pass

    assert Handler(picky).wants("record.completed")
    assert not Handler(picky).wants("response.created")
    assert Handler(everything).wants("response.deleted")
    assert not Handler(everything).wants("ping")


def test_ping_reaches_only_handlers_that_ask_for_it():
    @on("ping")
    def pinged():
        pass

    assert Handler(pinged).wants("ping")
    assert not Handler(pinged).wants("dataset.created")


def test_on_rejects_unknown_events_and_an_empty_call():
    with pytest.raises(UnknownEventError, match="dataset.created"):
        on("dataset.create")
    with pytest.raises(TypeError):
        on()
    with pytest.raises(TypeError, match="at least one event"):  # an unset variable: the handler would never run
        on("")


def test_on_without_parentheses_says_to_add_them():
    with pytest.raises(TypeError, match=r"@on needs the events in parentheses"):  # was "unknown event '<function h ...>'"

        @on
        def h():
            pass


@pytest.mark.parametrize("kind", [staticmethod, classmethod])
def test_on_above_staticmethod_or_classmethod_keeps_its_events(kind):
    # the marks went on the wrapper, which the class attribute does not hand out: the handler got every event
    class Hooks:
        @on("dataset.created")
        @kind
        def created(*args):
            pass

    handler = Handler(Hooks.created)
    assert handler.wants("dataset.created") and not handler.wants("record.deleted")


def test_a_class_or_a_generator_is_refused_at_load_time():
    # each was "called" on every event and did nothing, reported ok (a class: instantiated, its __call__ never run)
    class Hooks:
        def __call__(self):
            pass

    def generator():
        yield

    async def async_generator():
        yield

    for target, why in [(Hooks, "is a class"), (generator, "is a generator"), (async_generator, "is a generator")]:
        with pytest.raises(HandlerLoadError, match=why):
            Handler(target)
    assert Handler(Hooks()).params == ()  # an instance is fine


def test_stacked_on_decorators_add_up():
    @on("dataset.created")
    @on("ping")
    def both():
        pass

    assert Handler(both).wants("ping") and Handler(both).wants("dataset.created")


def test_a_parameter_that_cannot_be_injected_is_named_at_load_time():
    def handler(dataset, payload):
        pass

    with pytest.raises(HandlerLoadError, match="'payload'"):
        Handler(handler)


def test_a_positional_only_parameter_is_named_as_such():
    def handler(type, /):
        pass

    with pytest.raises(HandlerLoadError, match="'type' is positional-only; arguments are passed by name"):
        Handler(handler)


@pytest.mark.parametrize("asynchronous", [False, True])
def test_on_decorates_a_bound_method(asynchronous):
    # `create_app(handlers=[on("record.*")(service.handle)])`: setting the filter on a bound method raised AttributeError.
    class Service:
        def handle(self, type):
            pass

        async def handle_async(self, type):
            pass

    service = Service()
    handler = Handler(on("record.*")(service.handle_async if asynchronous else service.handle))
    assert handler.wants("record.created") and not handler.wants("dataset.created")
    assert handler.is_async is asynchronous and handler.params == ("type",)
    assert handler.name.endswith("Service.handle_async" if asynchronous else "Service.handle")


def test_unknown_parameters_with_defaults_and_var_keywords_are_allowed():
    def handler(type, retries=3, *args, **kwargs):
        pass

    assert Handler(handler).params == ("type",) and Handler(handler).any_keyword


@pytest.mark.anyio
@pytest.mark.parametrize(("event_type", "resource"), [("dataset.created", "dataset"), ("record.updated", "record"),
                                                      ("response.created", "response"), ("ping", "data")])
async def test_var_keywords_get_what_the_sdk_passes(event_type, resource):
    # The Argilla SDK calls handlers with type, timestamp and the resource by keyword: `def h(type, **kw)` got nothing
    got = {}

    async def handler(type, **kwargs):
        got.update(kwargs, type=type)

    view = delivery(event_type)
    await Handler(handler)(view)
    assert sorted(got) == sorted(["type", "timestamp", resource])
    assert got[resource] is getattr(view, resource) and got["type"] == event_type


def test_async_and_sync_handlers_are_told_apart():
    async def a():
        pass

    class Callable:
        async def __call__(self):
            pass

    assert Handler(a).is_async and Handler(Callable()).is_async
    assert not Handler(lambda: None).is_async


@pytest.mark.parametrize(
    ("event_type", "dataset", "record", "response"),
    [
        ("dataset.updated", True, False, False),
        ("record.completed", True, True, False),
        ("response.created", True, True, True),
        ("ping", False, False, False),
    ],
)
def test_typed_views_follow_the_payload_nesting(event_type, dataset, record, response):
    view = delivery(event_type)
    assert isinstance(view.dataset, Dataset) is dataset
    assert isinstance(view.record, Record) is record
    assert isinstance(view.response, Response) is response


def test_a_responses_record_and_dataset_are_the_nested_objects():
    view = delivery("response.updated")
    assert view.record is view.response.record
    assert view.dataset is view.response.record.dataset
    assert isinstance(view.event, Event) and view.event.type == "response.updated"
    assert view.headers == {"webhook-id": "msg_1"}


def test_an_event_is_keyed_on_its_type_timestamp_and_data_id_however_it_is_serialized():
    body = event_body("response.created")
    raw = json.loads(body)
    compact = json.dumps(raw, separators=(",", ":")).encode()
    assert Delivery(body, []).key == Delivery(compact, []).key == ("response.created", raw["timestamp"], raw["data"]["id"])


def test_a_ping_is_keyed_on_its_timestamp():
    view = delivery("ping")
    assert view.key[0] == "ping" and view.key[2] == "None"
    assert view.timestamp.tzinfo is not None


@pytest.mark.parametrize(
    ("stamp", "microsecond"),
    [("2026-11-27T21:30:19.154092Z", 154092), ("2026-11-27T21:30:19.15Z", 150000), ("2026-11-27T21:30:19.1540921Z", 154092),
     ("2026-11-27T21:30:19,15Z", 150000), ("2026-11-27T21:30:19+0000", 0), ("2026-11-27T21:30:19+00", 0),
     ("2026-11-27T22:30:19.15+01:00", 150000), ("2026-11-27T21:30:19.15", 150000)],
)
def test_rfc_3339_timestamps_read_the_same_on_every_python(stamp, microsecond):
    # Python 3.10's fromisoformat refuses most of these unaided; 3.11+ reads them all.
    body = json.dumps({"type": "ping", "version": 1, "timestamp": stamp, "data": {}}).encode()
    assert Delivery(body, []).timestamp == datetime(2026, 11, 27, 21, 30, 19, microsecond, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "body",
    [
        b"\xff", b"{", b"[]", b'{"type": "x", "timestamp": "2026-01-01T00:00:00Z"}', b'{"type": "x", "timestamp": "now", "data": {}}',
        b'{"type": "x", "timestamp": "0001-01-01T00:00:00+01:00", "data": {}}',  # before year 1 in UTC
    ],
)
def test_a_body_that_is_not_an_event_is_refused(body):
    with pytest.raises(NotAnEvent):
        Delivery(body, [])


def test_call_handler_takes_the_body_as_bytes_text_or_a_memoryview():
    # A str body (json.dumps(...) in a user's test) raised TypeError once integers beyond 64 bits were looked for.
    from argilla_hooks.receiver import call_handler

    seen = []
    body = event_body("dataset.created")
    for given in (body, body.decode(), memoryview(body)):
        call_handler(lambda type, data: seen.append((type, data["id"])), given)
    assert len(seen) == 3 and len(set(seen)) == 1 and seen[0][0] == "dataset.created"
