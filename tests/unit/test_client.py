"""The typed client against a fake Argilla API (respx)."""

from pathlib import Path

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


def test_several_ids_are_checked_against_one_listing_and_given_once_each(fake_argilla):
    a = fake_argilla.add(id="aaaa1111-0000-4000-8000-000000000000")
    b = fake_argilla.add(id="bbbb1111-0000-4000-8000-000000000000")
    listed = len(fake_argilla.requests)
    assert [str(w.id) for w in client().get_all(["bbbb", "aaaa1", b["id"]])] == [b["id"], a["id"]]
    assert len(fake_argilla.requests) == listed + 1
    assert [str(i) for i in client().resolve_ids(["aaaa"])] == [a["id"]]
    with pytest.raises(errors.WebhookNotFound):
        client().get_all(["aaaa", "cccc"])  # one unknown id: nothing returned


def test_a_prefix_past_the_first_hyphen_works_with_or_without_it(fake_argilla):
    a = fake_argilla.add(id="c9f574a4-f839-4000-8000-000000000000")
    fake_argilla.add(id="c9f574a4-0000-4000-8000-000000000000")
    assert str(client().get("c9f574a4f8").id) == str(client().get("c9f574a4-f8").id) == a["id"]


def test_update_sends_only_set_fields(fake_argilla):
    hook = fake_argilla.add(description="keep me")
    client().update(hook["id"], WebhookUpdate(enabled=False))
    assert fake_argilla.requests[-1].content == b'{"enabled":false}'
    assert fake_argilla.webhooks[0]["description"] == "keep me"


def test_update_can_clear_description(fake_argilla):
    hook = fake_argilla.add(description="drop me")
    updated = client().update(hook["id"], WebhookUpdate(description=None))
    assert updated.description is None


@pytest.mark.parametrize("field", ["url", "events", "enabled"])
def test_update_refuses_none_where_it_means_nothing(field):
    # It would be sent as null, which Argilla refuses; only description=None means something (clear it).
    with pytest.raises(ValueError, match="leave the field out"):
        WebhookUpdate(**{field: None})


@pytest.mark.parametrize("events", [[""], [","], []])
def test_create_needs_an_event_after_expansion(events):
    with pytest.raises(ValueError, match="at least one event is required"):
        WebhookCreate(url="http://127.0.0.1:9000/", events=events)


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


@pytest.mark.parametrize("failure", [httpx.ReadError("Connection reset by peer"),
                                     httpx.RemoteProtocolError("Server disconnected without sending a response.")])
def test_a_dropped_connection_is_retried_for_get_but_not_for_what_changes_something(failure):
    # What a kept-alive connection that the server had closed looks like to the next request on it. A DELETE the
    # server may have done before dropping the connection is not sent again: the second would report "not found".
    with respx.mock(assert_all_called=False) as router:
        route = router.get(f"{API}/api/v1/webhooks").mock(side_effect=[failure, httpx.Response(200, json={"items": []})])
        assert ArgillaClient(API, "key").list() == []
        assert route.call_count == 2
        posted = router.post(f"{API}/api/v1/webhooks").mock(side_effect=failure)
        with pytest.raises(errors.AnswerLost, match="the answer to POST /api/v1/webhooks was lost"):
            ArgillaClient(API, "key").create(WebhookCreate(url="http://h/", events=["dataset.created"]))
        assert posted.call_count == 1
        hook_id = "aaaa1111-0000-4000-8000-000000000000"
        deleted = router.delete(f"{API}/api/v1/webhooks/{hook_id}").mock(side_effect=failure)
        with pytest.raises(errors.AnswerLost, match=f"the answer to DELETE /api/v1/webhooks/{hook_id} was lost"):
            ArgillaClient(API, "key").delete(hook_id)
        assert deleted.call_count == 1


HOOK_ID = "aaaa1111-0000-4000-8000-000000000000"
CHANGES = {
    "POST": lambda c: c.create(WebhookCreate(url="http://h/", events=["dataset.created"])),
    "PATCH": lambda c: c.update(HOOK_ID, WebhookUpdate(enabled=False)),
    "DELETE": lambda c: c.delete(HOOK_ID),
}
SENT_THEN_LOST = [httpx.ReadError("Connection reset by peer"), httpx.RemoteProtocolError("Server disconnected"),
                  httpx.ReadTimeout("timed out"), httpx.WriteError("Broken pipe"), httpx.WriteTimeout("timed out")]


@pytest.mark.parametrize("method", CHANGES)
@pytest.mark.parametrize("failure", SENT_THEN_LOST, ids=lambda e: type(e).__name__)
def test_a_change_whose_answer_was_lost_is_answer_lost_and_sent_once(method, failure):
    # Argilla may have done it: the caller reads the server's state again rather than report a failure or resend.
    sent = []

    def lose_the_answer(request):
        sent.append(request)
        raise failure

    client = ArgillaClient(API, OWNER_KEY, transport=httpx.MockTransport(lose_the_answer))
    with pytest.raises(errors.AnswerLost) as info:
        CHANGES[method](client)
    assert len(sent) == 1 and sent[0].method == method
    assert isinstance(info.value, errors.ConnectionFailed)  # exit 6, as before, for callers that do not look closer
    assert str(info.value).startswith(f"the answer to {method} /api/v1/webhooks")
    assert str(info.value).endswith(f"Argilla at {API} may have done it, so list the webhooks to see before sending it again")


@pytest.mark.parametrize("failure", [httpx.ConnectError("Connection refused"), httpx.ConnectTimeout("timed out"),
                                     httpx.PoolTimeout("timed out"), httpx.UnsupportedProtocol("no")],
                         ids=lambda e: type(e).__name__)
def test_a_change_that_was_never_sent_is_no_answer_lost(failure):
    def fail(request):
        raise failure

    with pytest.raises(errors.ConnectionFailed) as info:
        CHANGES["POST"](ArgillaClient(API, OWNER_KEY, transport=httpx.MockTransport(fail)))
    assert not isinstance(info.value, errors.AnswerLost)


@pytest.mark.parametrize("failure", SENT_THEN_LOST, ids=lambda e: type(e).__name__)
def test_a_read_whose_answer_was_lost_is_no_answer_lost(failure):
    # A GET changes nothing: there is nothing to find out, so it is a plain ConnectionFailed.
    def fail(request):
        raise failure

    with pytest.raises(errors.ConnectionFailed) as info:
        ArgillaClient(API, OWNER_KEY, transport=httpx.MockTransport(fail)).list()
    assert not isinstance(info.value, errors.AnswerLost)


def test_a_callers_transport_is_left_open_after_a_server_error():
    # The client starts a new connection after a 5xx only with a transport of its own: closing the caller's would
    # break every later request.
    class Transport(httpx.MockTransport):
        closed = False

        def close(self):
            self.closed = True

    transport = Transport(lambda request: httpx.Response(500, json={"detail": "boom"}))
    client = ArgillaClient(API, OWNER_KEY, transport=transport)
    for _ in range(2):
        with pytest.raises(errors.ServerError, match="boom"):
            client.list()
    assert not transport.closed


def test_a_body_that_cannot_be_decoded_is_not_argilla():
    # httpx's DecodingError is no transport error: it escaped the error tree as "unexpected DecodingError" (exit 1).
    with respx.mock() as router:
        router.get(f"{API}/api/v1/webhooks").mock(return_value=httpx.Response(200, headers={"content-encoding": "gzip"}, stream=httpx.ByteStream(b"not gzip")))
        with pytest.raises(errors.NotArgilla, match="answered a body that cannot be decoded"):
            ArgillaClient(API, "key").list()


def test_read_timeout_is_connection_failure_not_retried():
    with respx.mock() as router:
        route = router.route(host="argilla.test").mock(side_effect=httpx.ReadTimeout("slow"))
        with pytest.raises(errors.ConnectionFailed, match="did not answer in time"):
            client().list()
        assert route.call_count == 1


@pytest.mark.parametrize("url", ["foo", "ftp://x", "http://", "", "http://127.0.0.1:99999", "http://exa mple.com"])
def test_malformed_api_url(url):
    with pytest.raises(errors.ConfigurationError, match="malformed API URL"):
        ArgillaClient(url, "k")


def test_spaces_around_the_api_url_are_dropped():
    assert ArgillaClient(" http://argilla.test:6900/ \n", "k").api_url == "http://argilla.test:6900"


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
    cases = {401: errors.AuthenticationError, 403: errors.PermissionDenied, 404: errors.APIStatusError,
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


@pytest.mark.parametrize("suffix", ["/api/v1", "/api/v1/", "/argilla/api/v1"])
def test_an_api_url_ending_in_api_v1_is_told_the_base_url_to_use(suffix):
    with respx.mock() as router:
        router.get(url__startswith=API).mock(return_value=httpx.Response(404, json={"detail": "Not Found"}))
        with pytest.raises(errors.NotArgilla) as info:
            ArgillaClient(API + suffix, OWNER_KEY).list()
    base = API + suffix.rstrip("/").removesuffix("/api/v1")
    assert str(info.value).endswith(f": use {base}, the server's base URL without /api/v1")


def test_messages_name_the_clients_own_settings_not_cli_flags(fake_argilla):
    # The CLI adds its flags to the messages it prints; a library user has no --api-key to pass.
    with pytest.raises(errors.AuthenticationError) as info:
        client("wrong").list()
    assert str(info.value) == f"the API key was rejected by {API} (check api_key / ARGILLA_API_KEY)"
    with pytest.raises(errors.WebhookNotFound) as info:
        client().get("3f2a")
    assert str(info.value) == f"no webhook with id '3f2a' on {API}"
    with pytest.raises(errors.ConfigurationError) as info:
        ArgillaClient(API, None)
    assert str(info.value) == "no API key: pass api_key or set ARGILLA_API_KEY"
    import argilla_hooks.client

    sources = [path.read_text() for path in Path(argilla_hooks.client.__file__).parent.glob("*.py")]
    assert not [flag for flag in ("--api", "--profile", "`hooks ") for text in sources if flag in text]


# --- what a message may show: never the API key or a password --------------------------------------------------


@pytest.mark.parametrize("raw", [f" {OWNER_KEY}\n", f"{OWNER_KEY}\r\n", f"\t{OWNER_KEY}\r"])
def test_surrounding_whitespace_of_the_key_is_dropped(fake_argilla, raw):  # `$(cat keyfile)`, CRLF line endings
    client(raw).list()
    assert fake_argilla.requests[-1].headers["x-argilla-api-key"] == OWNER_KEY


@pytest.mark.parametrize("key", ["owner-abc\rdef", "owner abc", "owner-\x1b[31m", "ownér-abc", "owner\u00a0abc"])
def test_a_key_no_header_can_carry_is_a_configuration_error_that_does_not_show_it(key):
    with respx.mock(assert_all_called=False) as router:
        route = router.route(host="argilla.test")
        with pytest.raises(errors.ConfigurationError, match="the API key contains a space") as info:
            client(key).list()
    assert not route.called
    assert key not in str(info.value) and "owner" not in str(info.value)


def test_a_whitespace_only_key_is_no_key():
    with pytest.raises(errors.ConfigurationError, match="no API key"):
        ArgillaClient(API, " \r\n")


def test_a_transport_error_quoting_the_key_hides_it():
    with respx.mock() as router:
        router.route(host="argilla.test").mock(side_effect=httpx.RemoteProtocolError(f"bad header b'{OWNER_KEY}'"))
        with pytest.raises(errors.ConnectionFailed) as info:
            client().list()
    assert OWNER_KEY not in str(info.value) and "bad header b'***'" in str(info.value)


@pytest.mark.parametrize("url", ["http://admin:s3cret@argilla.test", "http://s3cret@argilla.test:6900/",
                                 "http://admin:s3@cret@argilla.test", "admin:s3cret@argilla.test",
                                 "http://admin:s3/cret@argilla.test", "http://admin:s3#cret@argilla.test"])
def test_an_api_url_with_credentials_is_refused_without_repeating_them(url):
    # A password holding `@`, `/` or `#`, or a URL with no scheme, showed (part of) it.
    with pytest.raises(errors.ConfigurationError) as info:
        ArgillaClient(url, "k")
    assert "cret" not in str(info.value) and "admin" not in str(info.value)


@pytest.mark.parametrize(("url", "shown"), [
    ("http://u:p@ss@h:1/x", "http://***@h:1/x"), ("u:p@h", "***@h"), ("http://h/path", "http://h/path"),
    ("ftp://u:hunter2@x/", "ftp://***@x/"), ("http://u:pa/ss@h", "http://***@h"),
    # what follows the userinfo stays, so that a message names the right host
    ("http://127.0.0.1:9/hook?notify=ops@example.org", "http://127.0.0.1:9/hook?notify=ops@example.org"),
    ("http://u:p@[::1]:8000/x@y", "http://***@[::1]:8000/x@y"),
])
def test_hide_userinfo(url, shown):
    from argilla_hooks.urls import hide_userinfo

    assert hide_userinfo(url) == shown


@pytest.mark.parametrize("url", ["http://argilla.test/?x=1", "http://argilla.test?", "http://argilla.test/#top"])
def test_an_api_url_with_a_query_or_fragment_is_refused(url):
    with pytest.raises(errors.ConfigurationError, match="query or fragment"):
        ArgillaClient(url, "k")


def test_a_malformed_api_url_does_not_repeat_a_password():
    with pytest.raises(errors.ConfigurationError, match="malformed API URL") as info:
        ArgillaClient("ftp://admin:s3cret@argilla.test", "k")
    assert "s3cret" not in str(info.value)


# --- answers that are not Argilla's ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "call"),
    [
        ("/api/v1/me", {}, lambda c: c.me()),
        ("/api/v1/version", ["2.8.0"], lambda c: c.server_version()),
        ("/api/v1/webhooks", {"items": [{"id": "not-a-uuid", "url": "x"}]}, lambda c: c.list()),
        ("/api/v1/webhooks", {"items": "none"}, lambda c: c.list()),
    ],
)
def test_a_json_answer_of_the_wrong_shape_is_not_argilla(path, body, call):
    with respx.mock() as router:
        router.get(f"{API}{path}").mock(return_value=httpx.Response(200, json=body))
        with pytest.raises(errors.NotArgilla) as info:
            call(client())
    assert str(info.value).startswith(f"no Argilla API at {API} (GET {path} answered an unexpected body): ")


def test_a_created_webhook_of_the_wrong_shape_is_not_argilla():
    with respx.mock() as router:
        router.post(f"{API}/api/v1/webhooks").mock(return_value=httpx.Response(201, json={"ok": True}))
        with pytest.raises(errors.NotArgilla, match=r"POST /api/v1/webhooks answered an unexpected body"):
            client().create(WebhookCreate(url="http://127.0.0.1:9000/", events=["dataset.created"]))


def test_a_server_without_a_version_number_is_still_argilla():
    with respx.mock() as router:
        router.get(f"{API}/api/v1/version").mock(return_value=httpx.Response(200, json={}))
        assert client().server_version() == "unknown"


def test_an_html_error_page_echoing_the_request_is_summed_up_without_the_key():
    page = f"<html><head><title>Internal Error</title></head><body><pre>X-Argilla-Api-Key: {OWNER_KEY}\n" + "x" * 5000
    with respx.mock() as router:
        router.get(url__startswith=API).mock(return_value=httpx.Response(500, html=page))
        with pytest.raises(errors.ServerError) as info:
            client().list()
    assert str(info.value) == "Argilla server error (500): an HTML page (Internal Error)"
    assert OWNER_KEY not in str(info.value.detail)


def test_a_plain_text_error_body_is_one_short_line_without_the_key():
    body = f"upstream said:\r\n  key={OWNER_KEY}\x1b[2J\n" + "y" * 5000
    with respx.mock() as router:
        router.get(url__startswith=API).mock(return_value=httpx.Response(502, text=body))
        with pytest.raises(errors.ServerError) as info:
            client().list()
    message = str(info.value)
    assert message.startswith("Argilla server error (502): upstream said: key=***\\x1b[2J yyy") and message.endswith("...")
    assert OWNER_KEY not in message and "\n" not in message and "\x1b" not in message
    assert len(message) < 250


def test_a_json_error_detail_is_cut_and_hides_the_key():
    with respx.mock() as router:
        router.get(url__startswith=API).mock(return_value=httpx.Response(409, json={"detail": f"{OWNER_KEY}\n" * 100}))
        with pytest.raises(errors.APIStatusError) as info:
            client().list()
    assert OWNER_KEY not in str(info.value) and len(str(info.value)) < 250 and "\n" not in str(info.value)


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_is_not_followed_and_says_which_url_to_use(status):
    with respx.mock(assert_all_called=False) as router:
        router.get(f"{API}/api/v1/webhooks").mock(
            return_value=httpx.Response(status, headers={"Location": "https://argilla.test/api/v1/webhooks"})
        )
        elsewhere = router.route(scheme="https")
        with pytest.raises(errors.NotArgilla) as info:
            client().list()
    assert not elsewhere.called  # the key header is not carried to another origin
    assert str(info.value) == (
        f"no Argilla API at {API} (GET /api/v1/webhooks redirects to https://argilla.test/api/v1/webhooks): "
        "set api_url / ARGILLA_API_URL to https://argilla.test"
    )


def test_a_redirect_to_a_login_page_says_to_use_argillas_own_url():
    with respx.mock() as router:
        router.get(f"{API}/api/v1/me").mock(
            return_value=httpx.Response(302, headers={"Location": "/sso/login?next=/api/v1/me"})
        )
        with pytest.raises(errors.NotArgilla) as info:
            client().me()
    assert "redirects to http://argilla.test/sso/login?next=/api/v1/me" in str(info.value)
    assert str(info.value).endswith("set api_url / ARGILLA_API_URL to the URL at which Argilla itself answers")


def test_a_closed_client_says_so_within_the_error_tree(fake_argilla):
    with client() as used:
        used.list()
    with pytest.raises(errors.ConfigurationError, match="closed"):
        used.list()
