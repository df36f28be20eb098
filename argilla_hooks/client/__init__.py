"""A thin, typed client for Argilla's webhook API (usable without the CLI)."""

from __future__ import annotations

import time
from typing import Any, Optional
from uuid import UUID

import httpx

from argilla_hooks import __version__
from argilla_hooks.client.errors import (
    AmbiguousWebhookId,
    ArgillaError,
    ConfigurationError,
    ConnectionFailed,
    NotArgilla,
    NotFoundError,
    WebhookNotFound,
    error_for_status,
)
from argilla_hooks.client.models import User, Webhook, WebhookCreate, WebhookUpdate

# "Server down" must be reported within 10 s: two 3 s connects, or one connect and a 7 s wait.
DEFAULT_TIMEOUT = httpx.Timeout(7.0, connect=3.0)
# Argilla sends a ping synchronously and waits up to 20 s for the listener, so wait longer for that one.
PING_TIMEOUT = httpx.Timeout(25.0, connect=3.0)
CONNECT_RETRIES = 1
USER_AGENT = f"argilla-hooks/{__version__}"


def check_api_url(api_url: str) -> str:
    """The base URL without a trailing slash; raises ConfigurationError when it is not http(s) with a host."""
    try:
        url = httpx.URL(api_url)
    except Exception:
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.host:
        raise ConfigurationError(f"malformed API URL {api_url!r}: expected e.g. http://localhost:6900")
    return api_url.rstrip("/")


class ArgillaClient:
    """Webhooks of one Argilla server, seen with one API key.

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
        if not api_key:
            raise ConfigurationError(
                "no API key: set ARGILLA_API_KEY, pass --api-key, or run `hooks login`"
            )
        self.connect_retries = connect_retries
        self._http = httpx.Client(
            base_url=f"{self.api_url}/api/v1",
            headers={"X-Argilla-Api-Key": api_key, "User-Agent": USER_AGENT},
            timeout=timeout,
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
        body = self._request_json("GET", "/webhooks")
        if not isinstance(body, dict) or not isinstance(body.get("items"), list):
            raise self._not_argilla("GET /api/v1/webhooks answered without a list of items")
        return [Webhook.model_validate(item) for item in body["items"]]

    def get(self, id_or_prefix: str | UUID) -> Webhook:
        """One webhook by full id or unique prefix (Argilla has no GET by id, so this lists)."""
        return self._match(str(id_or_prefix), self.list())

    def resolve_id(self, id_or_prefix: str | UUID) -> UUID:
        """The full id for an id or prefix; a full UUID costs no request."""
        try:
            return UUID(str(id_or_prefix))
        except ValueError:
            return self.get(id_or_prefix).id

    def create(self, body: WebhookCreate) -> Webhook:
        return Webhook.model_validate(self._request_json("POST", "/webhooks", json=body.model_dump(mode="json", exclude_none=True)))

    def update(self, webhook_id: str | UUID, body: WebhookUpdate) -> Webhook:
        """PATCH only the fields set on `body`."""
        webhook_id = self.resolve_id(webhook_id)
        return Webhook.model_validate(self._request_json("PATCH", f"/webhooks/{webhook_id}", json=body.body(), webhook_id=webhook_id))

    def delete(self, webhook_id: str | UUID) -> Webhook:
        webhook_id = self.resolve_id(webhook_id)
        return Webhook.model_validate(self._request_json("DELETE", f"/webhooks/{webhook_id}", webhook_id=webhook_id))

    def ping(self, webhook_id: str | UUID) -> None:
        """Ask Argilla to send a `ping` event; raises ServerError when Argilla could not reach the URL."""
        webhook_id = self.resolve_id(webhook_id)
        self._request("POST", f"/webhooks/{webhook_id}/ping", webhook_id=webhook_id, timeout=PING_TIMEOUT)

    # --- server ---------------------------------------------------------------------------

    def me(self) -> User:
        return User.model_validate(self._request_json("GET", "/me"))

    def server_version(self) -> str:
        return str(self._request_json("GET", "/version").get("version", "unknown"))

    # --- internals ------------------------------------------------------------------------

    def _match(self, wanted: str, webhooks: list[Webhook]) -> Webhook:
        needle = wanted.strip().lower()
        if needle:
            exact = [w for w in webhooks if str(w.id) == needle]
            if exact:
                return exact[0]
            found = [w for w in webhooks if str(w.id).startswith(needle)]
            if len(found) == 1:
                return found[0]
            if found:
                ids = [str(w.id) for w in found]
                raise AmbiguousWebhookId(f"id prefix {wanted!r} is ambiguous; it matches {', '.join(ids)}", ids)
        raise WebhookNotFound(f"no webhook with id {wanted!r} on {self.api_url} (see `hooks list`)")

    def _request(self, method: str, path: str, *, webhook_id: UUID | None = None, **kwargs: Any) -> httpx.Response:
        response = self._send(method, path, **kwargs)
        if response.is_success:
            return response
        try:
            body = response.json()
            detail = body.get("detail") if isinstance(body, dict) else body
        except ValueError:
            detail = response.text.strip() or response.reason_phrase
        error = error_for_status(response.status_code, detail, api_url=self.api_url)
        if isinstance(error, NotFoundError):
            if webhook_id is not None:
                raise WebhookNotFound(f"no webhook with id {str(webhook_id)!r} on {self.api_url} (see `hooks list`)")
            # /webhooks, /me and /version always exist on Argilla: the URL points somewhere else.
            raise self._not_argilla(f"{method} /api/v1{path} answered 404")
        raise error

    def _request_json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._request(method, path, **kwargs)
        try:
            return response.json()
        except ValueError:
            raise self._not_argilla(f"{method} /api/v1{path} answered {response.status_code} with no JSON") from None

    def _not_argilla(self, what: str) -> NotArgilla:
        return NotArgilla(
            f"no Argilla API at {self.api_url} ({what}): give the server's base URL, e.g. http://localhost:6900, "
            "without /api/v1"
        )

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        # Retry only when no connection was made; a POST is never retried (it could create twice).
        attempts = 1 if method == "POST" else 1 + self.connect_retries
        for attempt in range(attempts):
            try:
                return self._http.request(method, path, **kwargs)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                if attempt + 1 < attempts:
                    time.sleep(0.3)
                    continue
                raise ConnectionFailed(f"cannot reach Argilla at {self.api_url}: {_reason(exc)}") from exc
            except httpx.TimeoutException as exc:
                raise ConnectionFailed(f"Argilla at {self.api_url} did not answer in time ({type(exc).__name__})") from exc
            except httpx.TransportError as exc:
                raise ConnectionFailed(f"cannot talk to Argilla at {self.api_url}: {_reason(exc)}") from exc
        raise AssertionError("unreachable")


def _reason(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    # httpx wraps OS errors as "[Errno 111] Connection refused"; keep the human part.
    return text.split("] ", 1)[-1]


__all__ = ["ArgillaClient", "ArgillaError", "Webhook", "WebhookCreate", "WebhookUpdate", "User", "check_api_url"]
