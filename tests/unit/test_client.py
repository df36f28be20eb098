"""The typed client against a fake Argilla API (respx)."""

import httpx
import pytest
import respx

from argilla_hooks import __version__
from argilla_hooks.client import ArgillaClient
from argilla_hooks.client import errors
from argilla_hooks.client.errors import detail_message
from argilla_hooks.client.models import WebhookCreate, WebhookUpdate
from tests.unit.fake_argilla import ANNOTATOR_KEY, API, OWNER_KEY


def client(key=OWNER_KEY):
    return ArgillaClient(API, key)


def test_list_parses_webhooks_and_ignores_unknown_fields(fake_argilla):
    hook = fake_argilla.add(description="x")
    hook["future_field"] = {"new": True}
    [listed] = client().list()
    assert str(listed.id) == hook["id"] and listed.description == "x"


def test_sends_api_key_and_user_agent(fake_argilla):
    client().list()
    request = fake_argilla.requests[-1]
    assert request.headers["x-argilla-api-key"] == OWNER_KEY
    assert request.headers["user-agent"] == f"argilla-hooks/{__version__}"


def test_get_by_unique_prefix_and_ambiguous_prefix(fake_argilla):
    a = fake_argilla.add(id="aaaa1111-0000-4000-8000-000000000000")
    fake_argilla.add(id="aaaa2222-0000-4000-8000-000000000000")
    assert str(client().get("aaaa1").id) == a["id"]
    with pytest.raises(errors.AmbiguousWebhookId) as info:
        client().get("aaaa")
    assert len(info.value.candidates) == 2
    with pytest.raises(errors.WebhookNotFound):
        client().get("bbbb")


def test_update_sends_only_set_fields(fake_argilla):
    hook = fake_argilla.add(description="keep me")
    client().update(hook["id"], WebhookUpdate(enabled=False))
    assert fake_argilla.requests[-1].content == b'{"enabled":false}'
    assert fake_argilla.webhooks[0]["description"] == "keep me"


def test_update_can_clear_description(fake_argilla):
    hook = fake_argilla.add(description="drop me")
    updated = client().update(hook["id"], WebhookUpdate(description=None))
    assert updated.description is None


def test_create_then_delete(fake_argilla):
    created = client().create(WebhookCreate(url="http://127.0.0.1:9000/", events=["dataset.*"]))
    assert created.events == ["dataset.created", "dataset.updated", "dataset.deleted", "dataset.published"]
    assert client().delete(created.id).id == created.id
    assert fake_argilla.webhooks == []


@pytest.mark.parametrize(
    ("key", "error"),
    [("wrong", errors.AuthenticationError), (ANNOTATOR_KEY, errors.PermissionDenied)],
)
def test_auth_errors(fake_argilla, key, error):
    with pytest.raises(error):
        client(key).list()


def test_unknown_full_id_is_not_found(fake_argilla):
    with pytest.raises(errors.WebhookNotFound):
        client().delete("0b5d8c1e-0000-4000-8000-000000000000")


def test_limit_is_unprocessable_with_server_reason(fake_argilla):
    for _ in range(10):
        fake_argilla.add()
    with pytest.raises(errors.UnprocessableEntity, match="more than 10 webhooks"):
        client().create(WebhookCreate(url="http://127.0.0.1:9000/", events=["dataset.created"]))


def test_ping_failure_is_server_error_with_detail(fake_argilla):
    hook = fake_argilla.add()
    fake_argilla.ping_error = "[Errno 111] Connection refused"
    with pytest.raises(errors.ServerError) as info:
        client().ping(hook["id"])
    assert info.value.detail["params"]["type"] == "httpx.ConnectError"


def test_connection_refused_is_retried_for_get_but_never_for_post():
    with respx.mock() as router:
        route = router.route(host="argilla.test").mock(side_effect=httpx.ConnectError("refused"))
        with pytest.raises(errors.ConnectionFailed):
            client().list()
        assert route.call_count == 2
        route.reset()
        with pytest.raises(errors.ConnectionFailed):
            client().create(WebhookCreate(url="http://127.0.0.1:9000/", events=["dataset.created"]))
        assert route.call_count == 1
        route.reset()
        with pytest.raises(errors.ConnectionFailed):  # shell completion asks for no retry: the shell waits
            ArgillaClient("http://argilla.test", "key", connect_retries=0).list()
        assert route.call_count == 1


def test_read_timeout_is_connection_failure_not_retried():
    with respx.mock() as router:
        route = router.route(host="argilla.test").mock(side_effect=httpx.ReadTimeout("slow"))
        with pytest.raises(errors.ConnectionFailed, match="did not answer in time"):
            client().list()
        assert route.call_count == 1


@pytest.mark.parametrize("url", ["foo", "ftp://x", "http://", ""])
def test_malformed_api_url(url):
    with pytest.raises(errors.ConfigurationError, match="malformed API URL"):
        ArgillaClient(url, "k")


def test_missing_api_key_says_how_to_set_one():
    with pytest.raises(errors.ConfigurationError, match="ARGILLA_API_KEY"):
        ArgillaClient(API, None)


def test_both_error_body_shapes_read_well():
    assert detail_message("Webhook not found") == "Webhook not found"
    validation = {
        "code": "argilla.api.errors::ValidationError",
        "params": {"errors": [{"type": "value_error", "loc": ["body", "url"], "msg": "bad url"}]},
    }
    assert detail_message(validation) == "url: bad url"
    assert detail_message({"code": "argilla.api.errors::UnauthorizedError", "params": {}}) == "UnauthorizedError"


def test_status_to_error_mapping():
    cases = {401: errors.AuthenticationError, 403: errors.PermissionDenied, 404: errors.NotFoundError,
             422: errors.UnprocessableEntity, 500: errors.ServerError, 409: errors.APIStatusError}
    for status, kind in cases.items():
        assert type(errors.error_for_status(status, "x", api_url=API)) is kind


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(404, json={"detail": "Not Found"}),  # e.g. --api-url http://host:6900/api/v1
        httpx.Response(200, html="<html>some other app</html>"),
        httpx.Response(200, json=["not", "argilla"]),
    ],
)
def test_a_url_that_is_not_argillas_api_says_so(response):
    with respx.mock() as router:
        router.get(url__startswith="http://argilla.test/").mock(return_value=response)
        with pytest.raises(errors.NotArgilla) as info:
            client().list()
    assert str(info.value).startswith(f"no Argilla API at {API} (GET /api/v1/webhooks answered ")
    assert "without /api/v1" in str(info.value)
    assert isinstance(info.value, errors.ConnectionFailed)  # exit 6, like a server that is not there
