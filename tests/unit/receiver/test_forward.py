"""Forwarding: each verified delivery re-sent byte for byte with its signature headers; 502 until every target took it."""

from __future__ import annotations

import httpx
import pytest
from receiver_samples import event_body

from argilla_hooks import create_app

pytestmark = pytest.mark.anyio

TARGET = "http://target.test/hooks"


class Recorder:
    """A forward target as an httpx transport: remembers requests and answers with the next status."""

    def __init__(self, *statuses: int) -> None:
        self.requests: list[httpx.Request] = []
        self.statuses = list(statuses) or [200]
        self.closed = False

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        return httpx.Response(status)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)


async def test_a_verified_delivery_is_forwarded_with_the_same_bytes_and_signature_headers(secret, deliver):
    target = Recorder()
    app = create_app(handlers=[], secrets=[secret], forward_to=[TARGET], forward_transport=target.transport())
    body = event_body("record.created")
    answer = await deliver(app, body, msg_id="msg_forwarded")
    assert answer.status_code == 204
    (request,) = target.requests
    assert str(request.url) == TARGET and request.method == "POST"
    assert request.content == body
    assert request.headers["webhook-id"] == "msg_forwarded"
    assert request.headers["webhook-signature"].startswith("v1,")
    assert request.headers["content-type"] == "application/json"
    await app.aclose()


async def test_the_forward_target_can_verify_the_delivery_itself(secret, deliver):
    received = []
    downstream = create_app(handlers=[lambda type: received.append(type)], secrets=[secret])
    app = create_app(
        handlers=[], secrets=[secret], forward_to=["http://downstream.test/"], forward_transport=httpx.ASGITransport(app=downstream)
    )
    assert (await deliver(app, event_body("dataset.deleted"))).status_code == 204
    assert received == ["dataset.deleted"]
    await app.aclose()


async def test_unverified_deliveries_are_never_forwarded(secret, request_to):
    target = Recorder()
    app = create_app(handlers=[], secrets=[secret], forward_to=[TARGET], forward_transport=target.transport())
    answer = await request_to(app, "POST", content=event_body(), headers={"webhook-signature": "v1,bad"})
    assert answer.status_code == 401 and target.requests == []


async def test_a_failing_target_answers_502_and_a_retry_forwards_again_without_rerunning_handlers(secret, deliver):
    target = Recorder(503, 200)
    calls, reports = [], []
    app = create_app(
        handlers=[lambda: calls.append(1)],
        secrets=[secret],
        forward_to=[TARGET],
        forward_transport=target.transport(),
        on_report=reports.append,
    )
    body = event_body("response.created")
    assert (await deliver(app, body)).status_code == 502
    assert (await deliver(app, body)).status_code == 204
    assert (await deliver(app, body)).status_code == 200  # duplicate: not forwarded a third time
    assert calls == [1]
    assert len(target.requests) == 2
    first = reports[0].forwards[0].to_json()
    assert {k: first[k] for k in ("url", "status", "ok", "error")} == {
        "url": TARGET,
        "status": 503,
        "ok": False,
        "error": "answered 503",
    }
    assert reports[1].handlers == [] and reports[1].forwards[0].ok
    await app.aclose()


async def test_an_unreachable_target_answers_502_with_the_error(secret, deliver):
    def refuse(request):
        raise httpx.ConnectError("connection refused", request=request)

    reports = []
    app = create_app(
        handlers=[],
        secrets=[secret],
        forward_to=[TARGET],
        forward_transport=httpx.MockTransport(refuse),
        on_report=reports.append,
    )
    assert (await deliver(app, event_body())).status_code == 502
    result = reports[0].forwards[0]
    assert (result.status, result.ok, result.error) == (None, False, "ConnectError: connection refused")
    await app.aclose()


async def test_several_targets_all_receive_it_and_results_keep_their_order(secret, deliver):
    good, bad = Recorder(200), Recorder(500)
    by_host = {"good.test": good, "bad.test": bad}
    transport = httpx.MockTransport(lambda request: by_host[request.url.host].handle(request))
    reports = []
    app = create_app(
        handlers=[],
        secrets=[secret],
        forward_to=["http://good.test/", "http://bad.test/", "http://good.test/"],
        forward_transport=transport,
        on_report=reports.append,
    )
    assert (await deliver(app, event_body())).status_code == 502
    assert [f.url for f in reports[0].forwards] == ["http://good.test/", "http://bad.test/"]  # duplicates dropped
    assert len(good.requests) == 1 and len(bad.requests) == 1
    await app.aclose()


async def test_a_handler_failure_takes_precedence_over_a_forward_failure(secret, deliver):
    def boom():
        raise RuntimeError("boom")

    app = create_app(handlers=[boom], secrets=[secret], forward_to=[TARGET], forward_transport=Recorder(500).transport())
    assert (await deliver(app, event_body())).status_code == 500
    await app.aclose()


def test_forward_targets_must_be_http_urls(secret):
    with pytest.raises(ValueError, match="http"):
        create_app(handlers=[], secrets=[secret], forward_to=["ftp://example.com/"])


async def test_lifespan_shutdown_closes_the_shared_forward_client(secret, deliver):
    app = create_app(handlers=[], secrets=[secret], forward_to=[TARGET], forward_transport=Recorder().transport())
    await deliver(app, event_body())
    client = app._forwarder._client
    assert client is not None and not client.is_closed

    messages = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent = []

    async def receive():
        return messages.pop(0)

    async def send(message):
        sent.append(message["type"])

    await app({"type": "lifespan"}, receive, send)
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert client.is_closed


def test_each_forwarded_header_is_sent_once_with_the_value_that_was_verified():
    from argilla_hooks.receiver.forward import forwarded_headers

    raw = [(b"webhook-signature", b"v1,bogus"), (b"host", b"x"), (b"webhook-signature", b"v1,verified"),
           (b"content-type", b"application/json")]
    # the receiver verifies the last value of a repeated header (dict(raw_headers)): that one, and only it, goes on
    assert forwarded_headers(raw, b"me") == [(b"webhook-signature", b"v1,verified"), (b"content-type", b"application/json"),
                                             (b"argilla-hooks-forwarded-by", b"me")]
    # Through several listeners, each adds its token: the one that finds its own refuses the delivery.
    hops = forwarded_headers([*raw, (b"argilla-hooks-forwarded-by", b"first")], b"second")
    assert hops[-1] == (b"argilla-hooks-forwarded-by", b"first second")


async def test_a_forward_that_comes_back_through_another_listener_is_refused_not_looped(secret, deliver):
    # A forwards to B, B to A: whatever URLs they use, A finds its own token on the delivery B sends it.
    apps = {}

    async def route(request: httpx.Request) -> httpx.Response:
        transport = httpx.ASGITransport(app=apps[request.url.host])
        return await transport.handle_async_request(request)

    apps["a.test"] = create_app(secrets=[secret], forward_to=["http://b.test/"], forward_transport=httpx.MockTransport(route))
    apps["b.test"] = create_app(secrets=[secret], forward_to=["http://a.test/"], forward_transport=httpx.MockTransport(route))
    reports = []
    apps["a.test"].on_report = reports.append
    answer = await deliver(apps["a.test"], event_body("record.created"))
    assert answer.status_code == 502  # B answered 502, because A answered B 508
    refused, delivered = reports
    assert (refused.kind, refused.status) == ("rejected", 508) and "--forward-to loop" in refused.reason
    assert delivered.forwards[0].error == "answered 502"


async def test_a_targets_answer_is_read_to_the_end_but_never_held(secret, deliver):
    import tracemalloc

    class HugeAnswer(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request):
            async def chunks():
                for _ in range(200):  # 200 MiB in all
                    yield b"x" * (1024 * 1024)

            return httpx.Response(200, content=chunks())

    app = create_app(handlers=[], secrets=[secret], forward_to=[TARGET], forward_transport=HugeAnswer())
    tracemalloc.start()
    try:
        assert (await deliver(app, event_body())).status_code == 204
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024 * 1024  # it held the 200 MiB before
