"""Whether Argilla can reach the listener: once it serves, `hooks listen --register` (or `--webhook ID`) asks Argilla
to ping the webhook and watches for that ping to arrive; when it does not, a loud warning says the likely cause and
the fix (exit 1 with --require-reachable) instead of a session that silently receives nothing.

Argilla sends a ping synchronously: its API answers 204 once the URL answered (whatever it answered), 500 when the
URL could not be reached. So a 204 and no ping here means the URL leads elsewhere.
"""

from __future__ import annotations

from typing import Callable, Optional
from urllib.parse import urlsplit

import anyio
import anyio.to_thread

from argilla_hooks.cli import output
from argilla_hooks.cli.webhooks import ping_failure_reason
from argilla_hooks.client import ArgillaClient
from argilla_hooks.client.errors import ArgillaError, ServerError
from argilla_hooks.receiver.report import DeliveryReport
from argilla_hooks.urls import LOOPBACK, hide_userinfo

# Within this the ping must have arrived (Argilla itself waits up to 20 s for a URL that does not answer).
WAIT = 8.0


class Reachability:
    """The check for one session: `check()` runs as a background task of the listener, `saw()` sees every report."""

    def __init__(
        self, connect: Callable[[], ArgillaClient], webhook_id: str, webhook_url: str, listen_url: str, stop: Optional[Callable[[], None]]
    ) -> None:
        self.connect, self.webhook_id, self.webhook_url, self.listen_url = connect, webhook_id, webhook_url, listen_url
        self.stop = stop  # with --require-reachable: how to end the session
        self.failure: Optional[str] = None  # the warning, once the ping did not arrive
        self._arrived: Optional[anyio.Event] = None

    def saw(self, report: DeliveryReport) -> None:
        if self._arrived is not None and report.kind == "event" and report.type == "ping":
            self._arrived.set()

    async def check(self) -> None:
        self._arrived = anyio.Event()
        unreachable: Optional[str] = "no answer"
        api_url = ""
        with anyio.move_on_after(WAIT):
            # Abandoned at the deadline: the thread ends with the client's own timeouts.
            unreachable, api_url = await anyio.to_thread.run_sync(self._ping, abandon_on_cancel=True)
            if unreachable is None:
                with anyio.move_on_after(1.0):  # (it arrived before Argilla answered us, unless it went elsewhere)
                    await self._arrived.wait()
        if self._arrived.is_set():
            return
        if unreachable == "not asked":
            return  # Argilla could not be asked (said by _ping): no verdict on the URL
        self.failure = advice(self.webhook_url, self.listen_url, api_url, unreachable)
        output.warn(self.failure)
        if self.stop is not None:
            self.stop()

    def _ping(self) -> tuple[Optional[str], str]:
        """(None, api_url) when Argilla reached the URL, (why not, api_url) when it could not; "not asked" when
        Argilla itself could not be asked."""
        try:
            with self.connect() as client:
                try:
                    client.ping(self.webhook_id)
                except ServerError as exc:
                    return ping_failure_reason(exc.detail), client.api_url
                return None, client.api_url
        except ArgillaError as exc:
            output.warn(f"could not ask Argilla to ping webhook {self.webhook_id[:8]}, so whether it reaches this listener is unknown: {exc}")
            return "not asked", ""


def advice(webhook_url: str, listen_url: str, api_url: str, unreachable: Optional[str]) -> str:
    """The warning for a ping that did not arrive: what happened, the likely cause, the fix."""
    shown = hide_userinfo(webhook_url)
    parts, here = urlsplit(webhook_url), urlsplit(listen_url)
    port = here.port
    if unreachable is None:
        return (f"Argilla reached {shown}, but its ping did not arrive at this listener: that URL leads to another "
                f"server, or its path is not this listener's ({here.path}); deliveries will not arrive either")  # fmt: skip
    if unreachable == "no answer":
        what = f"Argilla did not answer within {WAIT:g} s whether it can reach {shown} (a firewall dropping packets, a tunnel that hangs?)"
    else:
        what = f"Argilla{f' at {api_url}' if api_url else ''} cannot reach {shown} ({unreachable})"
    if parts.hostname in LOOPBACK:
        other_port = f"; this listener is on port {port}" if parts.port != port else ""
        return (f"{what}{other_port}: no delivery will arrive. If Argilla runs in a container (Docker), {parts.hostname} "
                f"is the container itself: listen with --host 0.0.0.0 and give --public-url "
                f"http://host.docker.internal:{port}{here.path} (Linux: run the container with "
                "--add-host=host.docker.internal:host-gateway), or use a tunnel (ngrok, cloudflared) and its URL")  # fmt: skip
    return (f"{what}: no delivery will arrive. Is the tunnel or proxy running, and does it lead to port {port} of this "
            "machine? Is the host name one Argilla's machine can resolve?")  # fmt: skip
