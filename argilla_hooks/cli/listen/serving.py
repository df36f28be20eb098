"""Serving the receiver for `hooks listen` on uvicorn's own Config and Server, on a socket the command has bound.

The app is wrapped to tell when it is ready and how many deliveries a stop cut short, and to run the session's
background tasks (--reload, the reachability check) from then until shutdown; `--exit-after`, a vanished reader of
stdout and `--require-reachable` stop the server through its public `should_exit`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import socket
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Callable, Optional

import anyio
import uvicorn

from argilla_hooks import settings
from argilla_hooks.cli import output
from argilla_hooks.cli.listen import http_limits, signals
from argilla_hooks.cli.listen.config import ListenConfig
from argilla_hooks.cli.listen.output import Printer
from argilla_hooks.receiver import Handler, ReceiverApp, create_app
from argilla_hooks.receiver.explain import OtherSecrets
from argilla_hooks.receiver.journal import Journal
from argilla_hooks.receiver.report import DeliveryReport
from argilla_hooks.receiver.routes import Routes
from argilla_hooks.receiver.sdk import SdkListener

GRACE = 30  # seconds in-flight deliveries get at a stop: Argilla waits 20 s for an answer
Background = Callable[[], Coroutine[Any, Any, None]]


@dataclass
class Tally:
    handled: int = 0  # events answered 2xx, new, and run by a handler or forward (or printed, with no handler)
    in_flight: int = 0
    cut_short: int = 0  # deliveries cancelled by a second Ctrl-C or by the end of the grace period


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, tally: Tally) -> None:
        super().__init__(config)
        self.tally = tally

    def handle_exit(self, sig: int, frame: Any) -> None:
        # uvicorn's signal handler: say what the first Ctrl-C waits for (the second stops at once).
        if not self.should_exit and self.tally.in_flight:
            count = self.tally.in_flight
            with contextlib.suppress(OSError):  # a terminal that hung up (SIGHUP) takes no more text
                output.info(f"stopping: waiting up to {GRACE} s for {count} in-flight deliver{'y' if count == 1 else 'ies'} (Ctrl-C again to stop now)")
        super().handle_exit(sig, frame)


class Listener:
    """The receiver for one `hooks listen` session, served on a socket the command has bound."""

    def __init__(
        self, config: ListenConfig, handlers: list[Handler], secrets: list[str], printer: Printer,
        journal: Optional[Journal] = None, other_secrets: Optional[OtherSecrets] = None,
        sdk_journals: Mapping[str, Journal] = MappingProxyType({}),
    ) -> None:  # fmt: skip
        self.config, self.handlers, self.printer = config, handlers, printer
        self.sdk_journals = list(sdk_journals.values())
        self.tally = Tally()
        self.server: Optional[uvicorn.Server] = None
        self.on_delivery: Optional[Callable[[DeliveryReport], None]] = None  # sees every report (the reachability check)
        queue = None
        if config.queue is not None:  # (then there are no handlers: the config refuses them)
            from argilla_hooks.queue.ingest import RedisQueue  # redis-py, the [queue] extra: imported for --queue only

            queue = RedisQueue(config.queue)
        options: dict[str, Any] = dict(
            verify=config.verify,
            tolerance=config.tolerance,
            max_body=config.max_body,
            forward_to=config.forward_to,
            on_report=self.report,
            max_events=config.exit_after,  # exactly N (per path), however many arrive before the server stops
            body_timeout=None,  # the HTTP protocol bounds the time a request takes to arrive (http_limits)
            journal=journal,
            other_secrets=other_secrets,
        )
        # Handlers loaded and named as typed by the command. An SDK listener is served apart, at its own path (where
        # the SDK's server has it) with its webhook's secret; the plain handlers, or the printer, at --path.
        # Each SDK listener journals as a listener of its own (its URL and webhook, for replay), and a 401 there names
        # its webhook's secret.
        plain = [h for h in handlers if not isinstance(h, SdkListener)]
        apps = [create_app(handlers=plain, secrets=secrets, path=config.path, queue=queue, **options)] if plain or not handlers else []
        for h in handlers:
            if isinstance(h, SdkListener):
                source = f"the secret of webhook {(h.webhook_id or '?')[:8]}, which its @rg.webhook_listener registered"
                own = {"journal": sdk_journals.get(h.name), "on_report": functools.partial(self.report, secret_source=source)}
                apps.append(create_app(handlers=[h], secrets=[h.secret], path=h.path, **{**options, **own}))
        self.app: Any = apps[0] if len(apps) == 1 else Routes(apps)
        self.plain_app: Optional[ReceiverApp] = apps[0] if plain or not handlers else None  # what --reload replaces

    def report(self, report: DeliveryReport, secret_source: Optional[str] = None) -> None:
        counted = report.handlers or report.forwards or not self.handlers  # with no handler, the printer takes all
        if report.kind == "event" and report.ok and not report.duplicate and counted and report.type != "ping":
            self.tally.handled += 1  # before printing: it was handled, whatever becomes of its line
            if self.config.exit_after and self.tally.handled >= self.config.exit_after:
                self.stop()
        if self.on_delivery is not None:
            self.on_delivery(report)
        self.printer.delivery(report, secret_source)

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True

    def run(self, sock: socket.socket, on_ready: Callable[[], None], background: Sequence[Background] = ()) -> Tally:
        """Serve until Ctrl-C, SIGTERM or `stop()`, running `background` tasks once ready; the tally says what was
        handled and what the stop cut short."""
        http_limits.check()
        refused = lambda status, reason: self.report(DeliveryReport("rejected", status, reason=reason))  # noqa: E731
        config = uvicorn.Config(
            _tracked(self.app, self.tally, on_ready, background),
            http=http_limits.limited_protocol(refused),
            lifespan="on",
            log_level="warning",
            access_log=False,
            server_header=False,
            proxy_headers=False,  # the receiver never reads the client address or scheme
            timeout_graceful_shutdown=GRACE,
            # Requests in progress too (a handler runs on after its client left); +1: uvicorn counts the request's own
            # connection among those open, which http_limits bounds.
            limit_concurrency=http_limits.MAX_CONNECTIONS + 1,
        )
        if not settings.debug_enabled():
            logging.getLogger("uvicorn.error").addFilter(_no_cancellation_noise)
        self.server = _Server(config, self.tally)
        try:
            with signals.handled_by(self.server.handle_exit, *signals.ALSO_STOPPING):  # uvicorn takes SIGINT, SIGTERM
                self.server.run(sockets=[sock])
        except KeyboardInterrupt:
            pass  # uvicorn re-raises the Ctrl-C or SIGTERM it stopped on, once it has shut down
        finally:
            for journal in self.sdk_journals:  # (the lifespan shutdown closes them, but a forced exit skips it)
                journal.close()
        self.tally.cut_short += self.tally.in_flight  # abandoned by a second Ctrl-C
        return self.tally


def _tracked(app: Any, tally: Tally, on_ready: Callable[[], None], background: Sequence[Background]) -> Any:
    """`app`, counting deliveries in flight and cut short, and calling `on_ready` then starting `background` once its
    start-up is complete (the socket is listening already, so a client can send from then on); they are cancelled at
    shutdown."""

    async def tracked(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            async with anyio.create_task_group() as group:

                async def send_and_tell(message: Any) -> None:
                    await send(message)
                    if message["type"] == "lifespan.startup.complete":
                        on_ready()
                        for task in background:
                            group.start_soon(task)

                await app(scope, receive, send_and_tell)
                group.cancel_scope.cancel()
            return
        tally.in_flight += 1
        try:
            await app(scope, receive, send)
        except asyncio.CancelledError:
            tally.cut_short += 1
            raise
        finally:
            tally.in_flight -= 1

    return tracked


def _no_cancellation_noise(record: logging.LogRecord) -> bool:
    """Drop uvicorn's tracebacks of deliveries cancelled at a stop: `listen` reports how many were cut short."""
    if record.exc_info and record.exc_info[0] is not None and issubclass(record.exc_info[0], asyncio.CancelledError):
        return False
    return not record.getMessage().endswith("timeout graceful shutdown exceeded")
