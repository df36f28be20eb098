"""Handlers written for the Argilla SDK (receiver/sdk.py), in-process, against a fake Argilla behind respx: the SDK's
listeners unwrapped and called with what the SDK's own server passes, parameters annotated with the SDK's types, and
the SDK left unimported (and optional) for every other handler. The real server is the e2e tests' business."""

from __future__ import annotations

import sys
import textwrap
import threading
import uuid
from datetime import datetime
from typing import Any, Optional

import argilla as rg
import fastapi
import httpx
import pytest
import respx
from receiver_samples import event_body, new_secret, signed_headers

from argilla_hooks import on
from argilla_hooks.receiver import Handler, HandlerLoadError, call_handler, create_app
from argilla_hooks.receiver.payloads import Dataset as PayloadDataset
from argilla_hooks.receiver.routes import Routes
from argilla_hooks.receiver.sdk import (
    INSTALL,
    SdkConnection,
    SdkListener,
    SdkTypedHandler,
    handler_for,
    handlers_for_target,
    sdk_annotated,
)
from tests.unit.fake_argilla import API, OWNER_KEY, FakeArgilla

EventType = rg.webhooks.WebhookEvent.model_fields["type"].annotation
SECRET = new_secret()

pytestmark = pytest.mark.anyio


@pytest.fixture
def argilla_api():
    """A fake Argilla for the SDK: webhooks kept in memory, every dataset and record GET a 404 (which the SDK's
    parsing ignores, building its objects from the payload), and an SDK client for it, the SDK's default."""
    with respx.mock(assert_all_called=False) as router:
        fake = FakeArgilla(router)
        client = rg.Argilla(api_url=API, api_key=OWNER_KEY)
        yield fake, client


async def sdk_server_answer(app: Any, path: str, body: bytes, secret: str) -> int:
    """What the SDK's own FastAPI server answers to a signed delivery (run in-process)."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sdk") as http:
        return (await http.post(path, content=body, headers=signed_headers(secret, body))).status_code


def describe(**kwargs: Any) -> dict[str, Any]:
    """The arguments a listener got: each one's type, and the values the SDK's objects carry."""
    out: dict[str, Any] = {name: type(value).__qualname__ for name, value in kwargs.items()}
    out["type"] = repr(kwargs["type"])
    out["timestamp"] = kwargs["timestamp"].isoformat()
    if "dataset" in kwargs:
        out["dataset.name"], out["dataset.id"] = kwargs["dataset"].name, str(kwargs["dataset"].id)
    if "record" in kwargs:
        out["record.id"], out["record.fields"] = kwargs["record"].id, dict(kwargs["record"].fields)
    if "response" in kwargs:
        response = kwargs["response"]
        out["response"] = [str(response.user_id), response.status, response.record.id]
    return out


async def test_an_sdk_listener_gets_exactly_what_the_sdks_own_server_passes(argilla_api, deliver):
    _, client = argilla_api
    seen: list[dict[str, Any]] = []
    server = fastapi.FastAPI()

    @rg.webhook_listener(events=["dataset.created", "record.created", "response.created"], client=client, server=server)
    async def on_event(type: str, timestamp: datetime, **resource: Any) -> None:
        seen.append(describe(type=type, timestamp=timestamp, **resource))

    listener = handler_for(on_event, "mod:on_event", listeners=True)
    assert isinstance(listener, SdkListener) and listener.path == "/on_event"
    app = create_app(handlers=[listener], secrets=[listener.secret], path=listener.path)
    for event_type in ("dataset.created", "record.created", "response.created"):
        body = event_body(event_type)
        assert await sdk_server_answer(server, "/on_event", body, listener.secret) == 200  # the SDK's: 200, null
        assert (await deliver(app, body, path="/on_event", key=listener.secret)).status_code == 204
        sdk_saw, we_passed = seen[-2:]
        assert we_passed == sdk_saw
    assert seen[1]["type"] == "<EventType.dataset_created: 'dataset.created'>" and seen[1]["dataset"] == "Dataset"
    assert seen[3]["record.id"] == "ext-1"  # the SDK's record id, not the server's UUID
    assert seen[5]["response"][1] == "submitted"


async def test_an_sdk_listener_runs_for_its_webhooks_events_once_each_and_never_unsigned(argilla_api, deliver, request_to):
    _, client = argilla_api
    calls: list[str] = []

    @rg.webhook_listener(events="dataset.created", client=client, server=fastapi.FastAPI())
    async def welcome(dataset: rg.Dataset, type: str, timestamp: datetime) -> None:
        calls.append(dataset.name)

    listener = handler_for(welcome, "mod:welcome", listeners=True)
    app = create_app(handlers=[listener], secrets=[listener.secret], path=listener.path)
    body = event_body("dataset.created")
    assert (await request_to(app, "POST", "/welcome", content=body, headers=signed_headers(new_secret(), body))).status_code == 401
    assert calls == []
    assert (await deliver(app, body, path="/welcome", key=listener.secret)).status_code == 204
    retried = await deliver(app, body, path="/welcome", key=listener.secret)  # a retry: a new webhook-id
    assert retried.status_code == 200 and retried.json()["duplicate"] is True
    assert (await deliver(app, event_body("record.created"), path="/welcome", key=listener.secret)).status_code == 204
    assert (await deliver(app, event_body("ping"), path="/welcome", key=listener.secret)).status_code == 204
    assert calls == ["reviews"]


async def test_a_raw_event_listener_gets_the_sdks_webhook_event(argilla_api, deliver):
    _, client = argilla_api
    got: list[Any] = []

    @rg.webhook_listener(events=["record.deleted"], client=client, server=fastapi.FastAPI(), raw_event=True)
    async def raw(event: rg.webhooks.WebhookEvent) -> None:
        got.append(event)

    listener = handler_for(raw, "mod:raw", listeners=True)
    app = create_app(handlers=[listener], secrets=[listener.secret], path=listener.path)
    assert (await deliver(app, event_body("record.deleted"), path="/raw", key=listener.secret)).status_code == 204
    [event] = got
    assert isinstance(event, rg.webhooks.WebhookEvent) and event.type is EventType.record_deleted and event.data["external_id"] == "ext-1"


async def test_a_def_listener_which_the_sdks_server_cannot_run_runs_in_a_worker_thread(argilla_api, deliver):
    _, client = argilla_api
    server = fastapi.FastAPI()
    threads: list[bool] = []

    @rg.webhook_listener(events="dataset.deleted", client=client, server=server)
    def blocking(dataset: rg.Dataset, type: str, timestamp: datetime) -> None:
        threads.append(threading.current_thread() is not threading.main_thread())

    listener = handler_for(blocking, "mod:blocking", listeners=True)
    body = event_body("dataset.deleted")
    with pytest.raises(TypeError, match="can't be used in 'await' expression"):  # the SDK awaits what it returns
        await sdk_server_answer(server, "/blocking", body, listener.secret)
    app = create_app(handlers=[listener], secrets=[listener.secret], path=listener.path)
    assert (await deliver(app, body, path="/blocking", key=listener.secret)).status_code == 204
    assert threads == [False, True]  # the SDK ran it on its event loop (blocking it), then failed; ours in a thread


def test_a_listener_that_cannot_take_what_the_sdk_passes_is_refused_at_load(argilla_api):
    _, client = argilla_api

    @rg.webhook_listener(events=["dataset.created", "record.created"], client=client, server=fastapi.FastAPI())
    async def only_datasets(dataset: rg.Dataset, type: str, timestamp: datetime) -> None:
        pass

    with pytest.raises(HandlerLoadError, match="calls it with type, timestamp, record"):
        handler_for(only_datasets, "mod:only_datasets", listeners=True)


def test_create_app_points_an_sdk_listener_to_where_it_can_be_served(argilla_api):
    _, client = argilla_api

    @rg.webhook_listener(events="dataset.created", client=client, server=fastapi.FastAPI())
    async def listener(dataset: rg.Dataset, type: str, timestamp: datetime) -> None:
        pass

    with pytest.raises(HandlerLoadError, match="served at its own path with its webhook's secret"):
        create_app(handlers=[listener], secrets=["a2V5"])
    # The test `hooks deliveries export --as pytest` writes: it said "parameter 'request' cannot be injected".
    with pytest.raises(HandlerLoadError, match="is an @rg.webhook_listener, .*: run it with `hooks listen`"):
        call_handler(listener, event_body())


def write_module(tmp_path, source: str) -> str:
    name = f"sdk_mod_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
    return name


GUIDE = """
    import argilla as rg
    from datetime import datetime
    from argilla import webhook_listener

    @webhook_listener(events="dataset.created")
    async def my_webhook_handler(dataset: rg.Dataset, type: str, timestamp: datetime):
        print(dataset, type, timestamp)

    @rg.webhook_listener(events=["record.created"])
    async def on_record(record: rg.Record, type: str, timestamp: datetime):
        pass

    def plain(type):
        pass

    server = rg.get_webhook_server()
"""


def test_a_bare_module_names_every_listener_it_defines_and_registers_each_once(argilla_api, tmp_path):
    fake, _ = argilla_api
    name = write_module(tmp_path, GUIDE)
    handlers = handlers_for_target(name, str(tmp_path))
    assert [(h.name, h.path, sorted(h.events)) for h in handlers] == [  # type: ignore[attr-defined]
        (f"{name}:my_webhook_handler", "/my_webhook_handler", ["dataset.created"]),
        (f"{name}:on_record", "/on_record", ["record.created"]),
    ]
    assert [h["url"] for h in fake.webhooks] == ["http://127.0.0.1:8000/my_webhook_handler", "http://127.0.0.1:8000/on_record"]
    assert handlers[0].secret == fake.webhooks[0]["secret"]  # type: ignore[attr-defined]
    [single] = handlers_for_target(f"{name}:on_record", str(tmp_path))  # imported once: nothing registered again
    assert isinstance(single, SdkListener) and len(fake.webhooks) == 2
    assert type(handlers_for_target(f"{name}:plain", str(tmp_path))[0]) is Handler


def test_a_bare_module_without_listeners_says_how_to_name_a_handler(tmp_path):
    name = write_module(tmp_path, "def fn(type):\n    pass\n")
    with pytest.raises(HandlerLoadError, match=f"module '{name}' defines no @rg.webhook_listener function: name a handler as 'module:function'"):
        handlers_for_target(name, str(tmp_path))


# --- plain handlers annotated with the SDK's types ------------------------------------------------------------------


async def test_parameters_annotated_with_sdk_types_get_the_sdks_objects_the_others_the_payload_models(argilla_api, deliver):
    got: dict[str, Any] = {}

    @on("record.created", "response.created")
    async def handler(type: EventType, dataset: rg.Dataset, record: rg.Record, data: dict, response=None) -> None:  # type: ignore[valid-type]
        got[str(type.value)] = (type, dataset, record, data, response)

    built = handler_for(handler)
    assert isinstance(built, SdkTypedHandler) and built.sdk_params == {"type": "type", "dataset": "dataset", "record": "record"}
    app = create_app(handlers=[built], secrets=[SECRET])
    for event_type in ("record.created", "response.created"):
        assert (await deliver(app, event_body(event_type), key=SECRET)).status_code == 204
    kind, dataset, record, data, response = got["record.created"]
    assert kind is EventType.record_created and isinstance(dataset, rg.Dataset) and isinstance(record, rg.Record)
    assert record.id == "ext-1" and dataset is record.dataset and isinstance(data, dict) and response is None
    kind, dataset, record, _, response = got["response.created"]
    assert isinstance(record, rg.Record) and dataset is record.dataset and not isinstance(response, rg.UserResponse)


async def test_string_and_optional_annotations_are_read_and_type_alone_costs_no_request(argilla_api, deliver, tmp_path):
    fake, _ = argilla_api
    name = write_module(tmp_path, """
        from __future__ import annotations
        from typing import Optional
        import argilla as rg
        from argilla_hooks import on

        seen = []

        @on("dataset.created")
        def dataset_handler(dataset: Optional[rg.Dataset], timestamp):
            seen.append(dataset)

        @on("dataset.created", "ping")
        def type_only(type: rg.webhooks.WebhookEvent.model_fields["type"].annotation):
            seen.append(type)
    """)
    [typed] = handlers_for_target(f"{name}:type_only", str(tmp_path))
    [with_dataset] = handlers_for_target(f"{name}:dataset_handler", str(tmp_path))
    app = create_app(handlers=[typed], secrets=[SECRET])
    before = len(fake.requests)
    assert (await deliver(app, event_body("dataset.created"), key=SECRET)).status_code == 204
    assert (await deliver(app, event_body("ping"), key=SECRET)).status_code == 204
    assert len(fake.requests) == before  # no dataset GET: the SDK's round trips only for its resources
    assert sys.modules[name].seen == [EventType.dataset_created, "ping"]  # the SDK has no ping event
    app = create_app(handlers=[with_dataset], secrets=[SECRET])
    assert (await deliver(app, event_body("dataset.created"), key=SECRET)).status_code == 204
    assert isinstance(sys.modules[name].seen[-1], rg.Dataset) and len(fake.requests) == before + 1


def test_handlers_without_sdk_annotations_stay_plain_handlers_with_the_payload_models():
    def untyped(dataset, type):
        pass

    def ours(dataset: PayloadDataset, type: str, record: Optional[dict] = None):
        pass

    assert type(handler_for(untyped)) is Handler and type(handler_for(ours)) is Handler
    assert sdk_annotated(ours, "ours") == {}


def test_an_sdk_type_on_a_parameter_of_another_name_is_refused():
    def wrong(record: rg.Dataset):
        pass

    with pytest.raises(HandlerLoadError, match="parameter 'record' cannot be the SDK's dataset; name it 'dataset'"):
        handler_for(wrong, "mod:wrong")


def test_an_annotation_naming_the_sdk_when_it_is_missing_is_one_line_saying_how_to_install_it(monkeypatch):
    def handler(dataset: "rg.Dataset"):  # noqa: F821 - as under `if TYPE_CHECKING: import argilla as rg`
        pass

    monkeypatch.setitem(sys.modules, "argilla", None)  # `import argilla` now fails as if it were not installed
    with pytest.raises(HandlerLoadError, match="handler mod:handler takes the Argilla SDK's objects, but the Argilla SDK cannot be imported") as caught:
        handler_for(handler, "mod:handler")
    assert str(caught.value).endswith(INSTALL) and "\n" not in str(caught.value)


def test_the_sdk_client_is_made_once_on_first_use_from_the_environment_as_it_is_then(argilla_api, monkeypatch):
    made = []
    monkeypatch.setattr(rg, "Argilla", lambda **kwargs: made.append(kwargs) or "client")
    monkeypatch.setenv("ARGILLA_API_URL", "http://elsewhere:6900")
    connection = SdkConnection()
    assert connection.client == connection.client == "client"
    assert made == [{"api_url": "http://elsewhere:6900", "api_key": OWNER_KEY}]


# --- several receivers on one server --------------------------------------------------------------------------------


async def test_routes_hand_each_path_to_its_receiver_and_the_rest_to_the_first(deliver, request_to):
    seen: list[str] = []
    first = create_app(handlers=[lambda type: seen.append("first")], secrets=[SECRET])
    other_secret = new_secret()
    second = create_app(handlers=[lambda type: seen.append("second")], secrets=[other_secret], path="/second")
    app = Routes([first, second])
    assert (await deliver(app, event_body(), key=SECRET)).status_code == 204
    assert (await deliver(app, event_body(), path="/second/", key=other_secret)).status_code == 204
    assert (await deliver(app, event_body(), path="/second", key=SECRET)).status_code == 401  # each its own secret
    assert (await request_to(app, "GET", "/healthz")).status_code == 200
    assert (await request_to(app, "POST", "/elsewhere")).status_code == 404
    assert seen == ["first", "second"]
    with pytest.raises(ValueError, match="two receivers take deliveries at /second"):
        Routes([second, create_app(secrets=[SECRET], path="/second")])


async def test_routes_answer_lifespan_and_close_every_receiver():
    closed: list[int] = []
    apps = [create_app(secrets=[SECRET]), create_app(secrets=[SECRET], path="/b")]
    for i, app in enumerate(apps):
        app.aclose = lambda i=i: _record(closed, i)  # type: ignore[method-assign]
    messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent: list[str] = []

    async def receive() -> dict[str, str]:
        return next(messages)

    async def send(message: dict[str, str]) -> None:
        sent.append(message["type"])

    await Routes(apps)({"type": "lifespan"}, receive, send)
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"] and closed == [0, 1]


async def _record(closed: list[int], index: int) -> None:
    closed.append(index)
