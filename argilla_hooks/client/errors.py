"""Errors raised by the Argilla client.

    ArgillaError                      anything the client could not do
    ├── ConfigurationError            bad or missing settings, found before any request
    ├── ConnectionFailed              Argilla unreachable: refused, DNS, timeout, connection lost
    │   ├── NotArgilla                something answered, but not Argilla's API (a wrong URL or path, a 404
    │   │                             where Argilla has an endpoint, a redirect, a body of another shape)
    │   └── AnswerLost                a POST, PATCH or DELETE was sent but its answer was lost (connection reset,
    │       │                         timeout): Argilla may have done it, so read its state (`list()`, or
    │       │                         `client.recovery`) before sending it again
    │       ├── NotApplied            ... and read back, the server does not hold the change (`client.recovery`)
    │       └── OutcomeUnknown        ... and reading back could not tell whether it does
    ├── WebhookNotFound               no webhook has that id (Argilla's 404), or no id starts with that prefix
    ├── AmbiguousWebhookId            a prefix matches several webhooks (`.candidates`)
    └── APIStatusError                Argilla answered with an error status (`.status_code`, `.detail`)
        ├── AuthenticationError       401: the API key was rejected
        ├── PermissionDenied          403: the user is not an owner
        ├── UnprocessableEntity       422: the body was refused (validation, the 10-webhook limit)
        └── ServerError               5xx

`error_for_status` is the one place that maps a status code to a class, and `one_line` the one place that makes
text from a server fit to print.
"""

from __future__ import annotations

from typing import Any, Optional

from argilla_hooks import settings

# What a server says in an error body is shown in a one-line message, not as a page.
MAX_DETAIL = 200


class ArgillaError(Exception):
    """Base class: every error the client raises carries a one-line, actionable message."""


class ConfigurationError(ArgillaError):
    pass


class ConnectionFailed(ArgillaError):
    pass


class NotArgilla(ConnectionFailed):
    pass


class AnswerLost(ConnectionFailed):
    """`.request` is what was sent (`POST /api/v1/webhooks`), `.reason` how its answer was lost (`ReadTimeout`)."""

    def __init__(self, message: str, *, request: str = "", reason: str = ""):
        super().__init__(message)
        self.request = request
        self.reason = reason


class NotApplied(AnswerLost):
    pass


class OutcomeUnknown(AnswerLost):
    pass


class WebhookNotFound(ArgillaError):
    pass


class AmbiguousWebhookId(ArgillaError):
    def __init__(self, message: str, candidates: list[str]):
        super().__init__(message)
        self.candidates = candidates


class APIStatusError(ArgillaError):
    def __init__(self, message: str, *, status_code: int, detail: Any = None):
        super().__init__(message)
        self.status_code = status_code
        self.detail = detail


class AuthenticationError(APIStatusError):
    pass


class PermissionDenied(APIStatusError):
    pass


class UnprocessableEntity(APIStatusError):
    pass


class ServerError(APIStatusError):
    pass


def detail_message(detail: Any) -> str:
    """A readable message from either Argilla error body shape.

    `{"detail": "plain text"}` (404, the webhook limit) or
    `{"detail": {"code": "argilla.api.errors::X", "params": {...}}}` (401, 403, 422, 500).
    """
    if isinstance(detail, str):
        return detail
    if isinstance(detail, dict):
        params = detail.get("params") or {}
        errors = params.get("errors") if isinstance(params, dict) else None
        if errors:
            return "; ".join(_validation_message(e) for e in errors)
        if isinstance(params, dict) and params.get("detail"):
            return str(params["detail"])
        if isinstance(params, dict) and params.get("message"):
            return str(params["message"])
        code = str(detail.get("code", ""))
        return code.rsplit("::", 1)[-1] or str(detail)
    if isinstance(detail, list):  # FastAPI's own 422 shape
        return "; ".join(_validation_message(e) for e in detail if isinstance(e, dict))
    return str(detail)


def _validation_message(error: dict) -> str:
    loc = [str(part) for part in error.get("loc", []) if part != "body"]
    where = ".".join(loc)
    msg = error.get("msg", "invalid value")
    return f"{where}: {msg}" if where else msg


def one_line(text: str, secret: Optional[str] = None) -> str:
    """`text` as one short printable line, with `secret` (the API key) replaced by ***: line breaks and other spacing
    as single spaces, any other control character escaped (`\\x1b`), so that it shows what was sent and cannot act
    on a terminal.

    A proxy's error page may echo the request's headers, and a body may hold terminal escape sequences.
    """
    if secret:
        text = text.replace(secret, "***")  # before cutting, which could leave half of the key
    line = " ".join("".join(_printable(ch) for ch in text).split())
    return line if len(line) <= MAX_DETAIL else line[: MAX_DETAIL - 3] + "..."


def _printable(ch: str) -> str:
    if ch.isprintable() or ch.isspace():  # spacing is joined into single spaces by one_line
        return ch
    return ch.encode("unicode_escape").decode("ascii")  # \x1b, \u200b


def error_for_status(status_code: int, detail: Any, *, api_url: str, secret: Optional[str] = None) -> APIStatusError:
    """The error for an HTTP error answer from Argilla, with a message that says what to do.

    `secret` is the API key, hidden wherever the server's words would show it.
    """
    text = one_line(detail_message(detail), secret)
    if status_code == 401:
        return AuthenticationError(
            f"the API key was rejected by {api_url} (check api_key / {settings.ENV_API_KEY})",
            status_code=status_code,
            detail=detail,
        )
    if status_code == 403:
        return PermissionDenied(
            f"permission denied by {api_url}: only owners can manage webhooks (use an owner's API key)",
            status_code=status_code,
            detail=detail,
        )
    if status_code == 422:
        return UnprocessableEntity(f"Argilla refused the request: {text}", status_code=status_code, detail=detail)
    if status_code >= 500:
        return ServerError(f"Argilla server error ({status_code}): {text}", status_code=status_code, detail=detail)
    return APIStatusError(f"Argilla answered {status_code}: {text}", status_code=status_code, detail=detail)
