"""One place that turns any failure into a one-line message and an exit code."""

from __future__ import annotations

import sys

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    ERROR = 1  # any other failure, e.g. a ping Argilla could not deliver
    CHANGES = 1  # `apply --exit-code`: the server did not match the file (like `git diff --exit-code`)
    USAGE = 2  # usage error or input rejected before any request
    AUTH = 3  # the API key was rejected (401) or the user is not an owner (403)
    NOT_FOUND = 4  # 404, or no webhook id matches the prefix
    REJECTED = 5  # the server refused the request (422, e.g. the 10-webhook limit)
    UNREACHABLE = 6  # Argilla cannot be reached: refused, DNS, timeout
    INTERRUPTED = 130  # Ctrl-C


class CommandError(Exception):
    """A failure a command detected itself; `code` is the exit code."""

    def __init__(self, message: str, code: ExitCode = ExitCode.ERROR):
        super().__init__(message)
        self.code = code


class UsageProblem(CommandError):
    """Input rejected before any request was sent (exit 2)."""

    def __init__(self, message: str):
        super().__init__(message, ExitCode.USAGE)


def classify(exc: BaseException) -> tuple[str, ExitCode] | None:
    """(message, exit code) for the failures we know; None for a bug, which keeps its traceback."""
    if isinstance(exc, CommandError):
        return str(exc), exc.code
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted", ExitCode.INTERRUPTED
    from argilla_hooks.events import UnknownEventError
    from argilla_hooks.settings import ProfileError

    if isinstance(exc, (UnknownEventError, ProfileError)):
        return str(exc), ExitCode.USAGE
    if "argilla_hooks.client" not in sys.modules:
        return None
    from argilla_hooks.client import errors as e

    table: list[tuple[type[BaseException], ExitCode]] = [
        (e.ConfigurationError, ExitCode.USAGE),
        (e.AmbiguousWebhookId, ExitCode.USAGE),
        (e.ConnectionFailed, ExitCode.UNREACHABLE),
        (e.WebhookNotFound, ExitCode.NOT_FOUND),
        (e.AuthenticationError, ExitCode.AUTH),
        (e.PermissionDenied, ExitCode.AUTH),
        (e.UnprocessableEntity, ExitCode.REJECTED),
        (e.ArgillaError, ExitCode.ERROR),
    ]
    for kind, code in table:
        if isinstance(exc, kind):
            return str(exc), code
    return None
