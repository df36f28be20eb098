"""Webhooks that `hooks listen --register` made for a session and never deleted, its process killed (SIGKILL, a
crash, a machine that lost power): each one's description names this tool, the host and the process id."""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Optional

from argilla_hooks.client.models import Webhook

_SESSION = re.compile(r"temporary: hooks listen on (?P<host>\S+) pid (?P<pid>\d+) \(deleted on exit\)")


def session_description(pid: Optional[int] = None) -> str:
    """The description of a webhook registered for this process's session, which `left_behind` recognises."""
    return f"temporary: hooks listen on {socket.gethostname()} pid {os.getpid() if pid is None else pid} (deleted on exit)"


@dataclass(frozen=True)
class LeftBehind:
    webhook: Webhook
    pid: int  # of the listener that made it, which no longer runs


def left_behind(webhooks: Iterable[Webhook]) -> list[LeftBehind]:
    """The session webhooks of listeners on this host whose process no longer runs, oldest first. (A process id in
    use again by another process hides its webhook: a live process is never robbed of one.)"""
    host, found = socket.gethostname(), []
    for webhook in webhooks:
        session = _SESSION.fullmatch(webhook.description or "")
        if session and session["host"] == host and not _running(int(session["pid"])):
            found.append(LeftBehind(webhook, int(session["pid"])))
    return found


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return False  # an earlier process that had our id: this one has registered nothing yet
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's
    return True
