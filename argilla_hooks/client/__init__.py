"""A thin, typed client for Argilla's webhook API (usable without the CLI)."""

from __future__ import annotations

import builtins
import re
import urllib.request
from collections.abc import Iterable
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any, Optional, TypeVar
from urllib.parse import urlsplit
from uuid import UUID

import httpx
from pydantic import BaseModel, ValidationError

from argilla_hooks import __version__, settings, urls
from argilla_hooks.client.errors import (
    AmbiguousWebhookId, AnswerLost, ArgillaError, ConfigurationError, ConnectionFailed, NotArgilla, WebhookNotFound,
    error_for_status, one_line,
)
from argilla_hooks.client.models import ServerVersion, User, Webhook, WebhookCreate, WebhookList, WebhookUpdate

# httpx bounds each phase, not a whole request. With one connect retry, a server that refuses, drops packets or never
# answers is reported within 10 s (two 3 s connects, or a failed one and a 6 s wait for the answer); a server that
# trickles its answer, each byte within the read timeout, is not bounded in total.
DEFAULT_TIMEOUT = httpx.Timeout(connect=3.0, read=6.0, write=6.0, pool=3.0)
# Argilla sends a ping synchronously and waits up to 20 s for the listener, so wait longer for that one.
PING_TIMEOUT = httpx.Timeout(connect=3.0, read=25.0, write=6.0, pool=3.0)
CONNECT_RETRIES = 1
USER_AGENT = f"argilla-hooks/{__version__}"

Model = TypeVar("Model", bound=BaseModel)


def check_api_url(api_url: str) -> str:
    """The base URL without a trailing slash; ConfigurationError when it is not http(s) with a host (see urls)."""
    try:
        return urls.check_api_url(api_url, example=settings.DEFAULT_API_URL)
    except ValueError as exc:
        raise ConfigurationError(str(exc)) from None


def check_api_key(api_key: Optional[str]) -> str:
    """The key without surrounding whitespace (a newline from `$(cat keyfile)`, a CRLF line ending).

    Raises ConfigurationError when it is missing or holds a character an HTTP header cannot carry, before httpx
    would quote the key in its own error. The message never shows the key.
    """
    key = (api_key or "").strip()
    if not key:
        raise ConfigurationError(f"no API key: pass api_key or set {settings.ENV_API_KEY}")
    if not all("!" <= ch <= "~" for ch in key):
        raise ConfigurationError(
            "the API key contains a space, a control character or a non-ASCII character: copy it again from "
            "your Argilla user settings"
        )
    return key


def _given_ids(ids: Iterable[str | UUID]) -> list[str]:
    wanted = [str(i) for i in ids]
    if not all(i.strip() for i in wanted):  # a prefix of every id: refused before anything is asked
        raise ConfigurationError("empty webhook id: give the full UUID or a unique prefix")
    return wanted


class ArgillaClient:
    """Webhooks of one Argilla server, seen with one API key.

    `timeout` bounds each phase of a request (connect, send, each read), not the whole of it. A failed connect is
    tried `connect_retries` more times (with a `transport` of the caller's, only as that transport does). A GET is
    sent once more when its connection was dropped; a POST, PATCH or DELETE that may have reached Argilla is never
    sent again, and raises AnswerLost when its answer was lost.

    >>> with ArgillaClient("http://localhost:6900", "owner.apikey") as client:
    ...     for hook in client.list():
    ...         print(hook.id, hook.url)
    """

    def __init__(
        self,
        api_url: str,
        api_key: Optional[str],
        *,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        connect_retries: int = CONNECT_RETRIES,
        transport: Optional[httpx.BaseTransport] = None,
    ) -> None:
        self.api_url = check_api_url(api_url)
        self._shown_url = urls.shown_api_url(self.api_url)  # in messages: a key pasted into its path is not shown
        self._api_key = check_api_key(api_key)
        self.connect_retries = connect_retries
        self._timeout, self._transport = timeout, transport
        self._http = self._connect()

    @property
    def api_key(self) -> str:
        """The key it authenticates with (for another client of the same server: the Argilla SDK's, say)."""
        return self._api_key

    def _connect(self) -> httpx.Client:
        transport = self._transport
        if transport is None:  # httpx retries only a connect that failed, when nothing was sent: safe for a POST
            transport = httpx.HTTPTransport(retries=self.connect_retries, proxy=_environment_proxy(self.api_url))
        # follow_redirects stays off: httpx would carry the key header to wherever a redirect points.
        return httpx.Client(
            base_url=f"{self.api_url}/api/v1",
            headers={"X-Argilla-Api-Key": self._api_key, "User-Agent": USER_AGENT},
            timeout=self._timeout,
            transport=transport,
        )

    def __enter__(self) -> "ArgillaClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # --- webhooks -------------------------------------------------------------------------

    def list(self) -> list[Webhook]:
        """Every webhook on the server, oldest first (disabled ones included)."""
        return self._request_model(WebhookList, "GET", "/webhooks").items

    def get(self, id_or_prefix: str | UUID) -> Webhook:
        """One webhook by full id or unique prefix (Argilla has no GET by id, so this lists)."""
        [wanted] = _given_ids([id_or_prefix])
        return self._match(wanted, self.list())

    def resolve_id(self, id_or_prefix: str | UUID) -> UUID:
        """The full id for an id or prefix; a full UUID costs no request (and is not checked: see get_all)."""
        try:
            return UUID(str(id_or_prefix))
        except ValueError:
            return self.get(id_or_prefix).id

    # builtins.list: in this class, a bare `list` in an annotation after `def list` names that method.
    def get_all(self, ids: Iterable[str | UUID]) -> builtins.list[Webhook]:
        """The webhooks of several ids or prefixes, in order and once each, all checked against one listing: an
        unknown id (a full one too) or an ambiguous prefix raises before the caller changes anything."""
        wanted = _given_ids(ids)
        webhooks = self.list()
        return list({w.id: w for w in (self._match(i, webhooks) for i in wanted)}.values())

    def resolve_ids(self, ids: Iterable[str | UUID]) -> builtins.list[UUID]:
        """The full ids of `get_all(ids)`."""
        return [w.id for w in self.get_all(ids)]

    def create(self, body: WebhookCreate) -> Webhook:
        return self._request_model(Webhook, "POST", "/webhooks", json=body.model_dump(mode="json", exclude_none=True))

    def update(self, webhook_id: str | UUID, body: WebhookUpdate) -> Webhook:
        """PATCH only the fields set on `body`."""
        webhook_id = self.resolve_id(webhook_id)
        return self._request_model(Webhook, "PATCH", f"/webhooks/{webhook_id}", json=body.body(), webhook_id=webhook_id)

    def delete(self, webhook_id: str | UUID) -> Webhook:
        webhook_id = self.resolve_id(webhook_id)
        return self._request_model(Webhook, "DELETE", f"/webhooks/{webhook_id}", webhook_id=webhook_id)

    def ping(self, webhook_id: str | UUID) -> None:
        """Ask Argilla to send a `ping` event; raises ServerError when Argilla could not reach the URL."""
        webhook_id = self.resolve_id(webhook_id)
        self._request("POST", f"/webhooks/{webhook_id}/ping", webhook_id=webhook_id, timeout=PING_TIMEOUT)

    # --- server ---------------------------------------------------------------------------

    def me(self) -> User:
        return self._request_model(User, "GET", "/me")

    def server_version(self) -> str:
        return self._request_model(ServerVersion, "GET", "/version").version

    def server_time(self) -> Optional[datetime]:
        """The server's clock (to the second, from the Date header of GET /version), None when it sends none."""
        date = self._request("GET", "/version").headers.get("date")
        try:
            return None if date is None else parsedate_to_datetime(date)
        except (TypeError, ValueError):
            return None

    # --- internals ------------------------------------------------------------------------

    def _match(self, wanted: str, webhooks: builtins.list[Webhook]) -> Webhook:
        needle = wanted.strip().lower()
        try:
            needle = str(UUID(needle))  # the other spellings UUID() reads ({...}, urn:uuid:, no hyphens), as resolve_id
        except ValueError:
            pass
        if needle:
            exact = [w for w in webhooks if str(w.id) == needle]
            if exact:
                return exact[0]
            # A prefix written with or without the hyphens (`3f2a9c1e4b`, as some tools print ids).
            found = [w for w in webhooks if str(w.id).startswith(needle) or w.id.hex.startswith(needle)]
            if len(found) == 1:
                return found[0]
            if found:
                ids = [str(w.id) for w in found]
                raise AmbiguousWebhookId(f"id prefix {wanted!r} is ambiguous; it matches {', '.join(ids)}", ids)
        raise WebhookNotFound(f"no webhook with id {wanted!r} on {self._shown_url}")

    def _request(self, method: str, path: str, *, webhook_id: UUID | None = None, **kwargs: Any) -> httpx.Response:
        response = self._send(method, path, **kwargs)
        if response.is_success:
            return response
        if response.is_server_error and self._transport is None:
            # Argilla's uvicorn closes the connection a few ms after a 500, without `Connection: close`: not reused.
            self._http.close()
            self._http = self._connect()
        if response.has_redirect_location:
            raise self._redirected(method, path, response)
        if response.status_code == 404:
            if webhook_id is not None:
                raise WebhookNotFound(f"no webhook with id {str(webhook_id)!r} on {self._shown_url}")
            # /webhooks, /me and /version always exist on Argilla: the URL points somewhere else.
            raise self._not_argilla(f"{method} /api/v1{path} answered 404")
        detail = self._error_detail(response)
        raise error_for_status(response.status_code, detail, api_url=self._shown_url, secret=self._api_key)

    def _request_model(self, model: type[Model], method: str, path: str, **kwargs: Any) -> Model:
        """The answer as `model`; a body that does not fit (not JSON, fields missing) means the URL is not Argilla's."""
        response = self._request(method, path, **kwargs)
        try:
            return model.model_validate_json(response.content)
        except ValidationError:
            raise self._not_argilla(f"{method} /api/v1{path} answered an unexpected body") from None

    def _error_detail(self, response: httpx.Response) -> Any:
        """What an error body says: Argilla's JSON `detail`, else a short summary of the page without the key."""
        try:
            body = response.json()
        except ValueError:
            return one_line(_page_summary(response), self._api_key) or response.reason_phrase
        return body.get("detail") if isinstance(body, dict) else body

    def _redirected(self, method: str, path: str, response: httpx.Response) -> NotArgilla:
        """Argilla's API never redirects: a proxy wants https, or another host, or a login page."""
        asked = f"/api/v1{path}"
        try:
            target = response.request.url.join(response.headers["location"])
        except httpx.InvalidURL:
            return self._not_argilla(f"{method} {asked} redirects to an invalid URL")
        # Where the same API path lives elsewhere (https, another host), the base of that URL is the one to use.
        moved = target.path.endswith(asked) and not target.query
        base = target.copy_with(path=target.path.removesuffix(asked) or "/", fragment=None)
        where = self._shown(base).rstrip("/") if moved else "the URL at which Argilla itself answers"
        advice = f"set api_url / {settings.ENV_API_URL} to {where}"
        return self._not_argilla(f"{method} {asked} redirects to {self._shown(target)}", advice)

    def _shown(self, url: httpx.URL) -> str:
        """A URL a server gave us, fit for a message: one short line, no password, no API key."""
        return one_line(urls.hide_userinfo(str(url)), self._api_key)

    def _not_argilla(self, what: str, advice: Optional[str] = None) -> NotArgilla:
        if advice is None and urlsplit(self.api_url).path.endswith("/api/v1"):
            advice = f"use {self.api_url.removesuffix('/api/v1')}, the server's base URL without /api/v1"
        elif advice is None:
            advice = f"give the server's base URL, e.g. {settings.DEFAULT_API_URL}, without /api/v1"
        return NotArgilla(f"no Argilla API at {self._shown_url} ({what}): {advice}")

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        if self._http.is_closed:  # httpx would raise a bare RuntimeError
            raise ConfigurationError("this ArgillaClient is closed (after `close()` or its `with` block): make a new one")
        try:
            try:
                return self._http.request(method, path, **kwargs)
            except (httpx.ReadError, httpx.RemoteProtocolError):
                if method != "GET":  # it may have arrived: a POST, PATCH or DELETE done twice is not the same
                    raise
                # Most often a kept-alive connection that the server closed as we sent: a new connection gets through.
                return self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise self._failed(method, path, exc) from exc
        except httpx.DecodingError:
            raise self._not_argilla(f"{method} /api/v1{path} answered a body that cannot be decoded") from None

    def _failed(self, method: str, path: str, exc: httpx.TransportError) -> ConnectionFailed:
        reason = self._reason(exc)
        if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)):
            return ConnectionFailed(f"cannot reach Argilla at {self._shown_url}: {reason}")
        if isinstance(exc, httpx.TimeoutException):
            reason = type(exc).__name__  # its text is only "timed out"
        if method != "GET" and isinstance(exc, _MAY_HAVE_ARRIVED):
            return AnswerLost(
                f"the answer to {method} /api/v1{path} was lost ({reason}): Argilla at {self._shown_url} may have done "
                "it, so list the webhooks to see before sending it again",
                request=f"{method} /api/v1{path}",
                reason=reason,
            )
        if isinstance(exc, httpx.TimeoutException):
            return ConnectionFailed(f"Argilla at {self._shown_url} did not answer in time ({reason})")
        return ConnectionFailed(f"cannot talk to Argilla at {self._shown_url}: {reason}")

    def _reason(self, exc: Exception) -> str:
        text = str(exc) or type(exc).__name__
        # httpx wraps OS errors as "[Errno 111] Connection refused"; keep the human part. A transport error may
        # quote what was sent ("Illegal header value b'...'"), so the key is hidden.
        return one_line(text.split("] ", 1)[-1], self._api_key)


# Failures once the request may have reached Argilla, in part or in whole.
_MAY_HAVE_ARRIVED = (
    httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError, httpx.ReadTimeout, httpx.WriteTimeout
)


def _environment_proxy(api_url: str) -> Optional[str]:
    """The proxy that HTTP(S)_PROXY, ALL_PROXY and NO_PROXY set for `api_url`: httpx reads them only for a transport
    of its own making, and the client makes its own (for the connect retries)."""
    parts = urlsplit(api_url)
    proxies = urllib.request.getproxies()
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if not proxy or urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    return proxy if "://" in proxy else f"http://{proxy}"


_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def _page_summary(response: httpx.Response) -> str:
    """An error body that is not JSON; for an HTML page (a proxy's, a web server's) its title, not its markup."""
    text = response.text
    if "html" not in response.headers.get("content-type", "") and not text.lstrip().startswith("<"):
        return text
    title = _TITLE.search(text)
    return f"an HTML page ({title.group(1)})" if title and title.group(1).strip() else "an HTML page"


__all__ = [
    "ArgillaClient",
    "ArgillaError",
    "Webhook",
    "WebhookCreate",
    "WebhookUpdate",
    "User",
    "check_api_key",
    "check_api_url",
]
