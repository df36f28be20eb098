"""Exit codes, and the one table that turns any failure into a one-line message and an exit code.

Commands raise; `main()` is the only place that catches, and it asks `failure()` what to say and how to exit.
"""

from __future__ import annotations

import errno
import sys
from enum import IntEnum
from typing import Optional

import typer

from argilla_hooks import settings


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
    """A failure a command words itself. With `code` None the exit code is that of the error it was raised from
    (`raise CommandError("...") from exc`), else 1."""

    def __init__(self, message: str, code: Optional[ExitCode] = None):
        super().__init__(message)
        self.code = code


class UsageProblem(typer.TyperException):
    """Input rejected before any request was sent: exit 2, as for typer's own usage errors."""

    exit_code = ExitCode.USAGE


# (module, class name) -> exit code and what the CLI adds to the message: the library's errors name its own
# arguments and environment variables, the CLI's flags are added here. Looked up by name so that `hooks --help`
# does not import the client (httpx, pydantic) to classify nothing; the first match wins, so subclasses come first.
_TABLE: list[tuple[str, str, ExitCode, str]] = [
    ("argilla_hooks.events", "UnknownEventError", ExitCode.USAGE, ""),
    ("argilla_hooks.settings", "ProfileError", ExitCode.USAGE, ""),
    ("argilla_hooks.receiver.loader", "HandlerLoadError", ExitCode.USAGE, ""),
    ("argilla_hooks.receiver.journal_reader", "DeliveryNotFound", ExitCode.NOT_FOUND, ""),
    ("argilla_hooks.receiver.journal_reader", "AmbiguousDeliveryId", ExitCode.USAGE, ""),
    ("argilla_hooks.journal_file", "NoJournal", ExitCode.NOT_FOUND, ""),
    ("argilla_hooks.journal_file", "JournalError", ExitCode.ERROR, " (--journal PATH chooses another file)"),
    ("argilla_hooks.client.errors", "ConfigurationError", ExitCode.USAGE, ""),
    ("argilla_hooks.client.errors", "AmbiguousWebhookId", ExitCode.USAGE, ""),
    ("argilla_hooks.client.errors", "ConnectionFailed", ExitCode.UNREACHABLE, ""),
    ("argilla_hooks.client.errors", "WebhookNotFound", ExitCode.NOT_FOUND, " (see `hooks list`)"),
    ("argilla_hooks.client.errors", "AuthenticationError", ExitCode.AUTH, "; pass another with --api-key, or save one with `hooks login`"),
    ("argilla_hooks.client.errors", "PermissionDenied", ExitCode.AUTH, ""),
    ("argilla_hooks.client.errors", "UnprocessableEntity", ExitCode.REJECTED, ""),
    ("argilla_hooks.client.errors", "ArgillaError", ExitCode.ERROR, ""),
    ("argilla_hooks.queue.connection", "QueueUnavailable", ExitCode.UNREACHABLE, ""),
    ("argilla_hooks.queue.connection", "QueueError", ExitCode.ERROR, ""),
    ("argilla_hooks.queue.deadletters", "DeadLetterNotFound", ExitCode.NOT_FOUND, ""),
    ("redis.exceptions", "ConnectionError", ExitCode.UNREACHABLE, " (Redis)"),
    ("redis.exceptions", "TimeoutError", ExitCode.UNREACHABLE, " (Redis)"),
    ("redis.exceptions", "RedisError", ExitCode.ERROR, " (Redis)"),
]
# A write that fails for want of room or of a working device: with no file named, that is stdout.
_FULL_OR_BROKEN = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EIO)


def failure(exc: BaseException) -> tuple[str, int]:
    """The one-line message and the exit code for `exc`; an error nobody expected is a bug, said as such."""
    if isinstance(exc, CommandError):
        cause = exc.__cause__
        code = exc.code if exc.code is not None else failure(cause)[1] if cause is not None else ExitCode.ERROR
        return str(exc), code
    if isinstance(exc, typer.TyperException):  # usage errors, typer's and ours
        # typer words a bad value as pydantic does ("Value error, 'yaml' is not one of ..."): the prefix says nothing.
        message = exc.format_message().replace("Value error, ", "")
        context = getattr(exc, "ctx", None)  # (a usage error without a message: typer has printed the help)
        where = f" (see `{context.command_path} --help`)" if context is not None and message else ""
        return message + where, exc.exit_code
    for module, name, code, hint in _TABLE:
        kind = getattr(sys.modules.get(module), name, None)
        if kind is not None and isinstance(exc, kind):
            return f"{exc}{hint}", code
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted", ExitCode.INTERRUPTED
    if isinstance(exc, OSError) and exc.filename is None and exc.errno in _FULL_OR_BROKEN:
        return f"cannot write to stdout: {exc.strerror or exc}", ExitCode.ERROR
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        return f"{exc.filename}: {exc.strerror}", ExitCode.ERROR
    hint = "" if settings.debug_enabled() else f" (set {settings.ENV_DEBUG}=1 for the traceback)"
    return f"unexpected {type(exc).__name__}: {exc}{hint}", ExitCode.ERROR
