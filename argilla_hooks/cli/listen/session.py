"""One `hooks listen` session: handlers loaded, port bound, the webhook to verify with found or made, serving,
and the clean-up and exit status, in that order."""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import sys
import traceback
from collections.abc import Iterator
from typing import IO, Callable, Optional

import typer

from argilla_hooks.cli import output
from argilla_hooks.cli.errors import CommandError, ExitCode, UsageProblem
from argilla_hooks.cli.listen import sdk, signals
from argilla_hooks.cli.listen.config import ListenConfig
from argilla_hooks.cli.listen.output import Printer, Ready
from argilla_hooks.cli.listen.reachability import Reachability
from argilla_hooks.cli.listen.registration import Verifying, verification
from argilla_hooks.cli.listen.reloading import Reloader
from argilla_hooks.cli.listen.serving import Background, Listener, Tally
from argilla_hooks.cli.queue import preflight
from argilla_hooks.client import ArgillaClient
from argilla_hooks.events import ALL_EVENTS, SUBSCRIBABLE
from argilla_hooks.receiver import Handler, HandlerLoadError
from argilla_hooks.receiver.journal import Journal, ListenerInfo
from argilla_hooks.receiver.sdk import INSTALL, SdkListener, handlers_for_target, sdk_missing
from argilla_hooks.receiver.verify import fingerprint
from argilla_hooks.urls import hide_userinfo, http_url, landing


def run(config: ListenConfig, connect: Callable[[], ArgillaClient], rerun_options: str) -> None:
    """Serve until stopped; raise (CommandError, typer.Exit) for an exit status other than 0."""
    with stdout_for_json_only(config.as_json) as json_out, signals.stopping_interrupts():
        if config.targets:
            sdk.share_connection(connect)
        handlers = load_handlers(config.targets, config.app_dir)
        plain, listeners = sdk.split(handlers)
        sdk.check_options(config, plain, listeners)
        sdk.connect_sdk(handlers, connect)
        wanted = _events(handlers)
        register_events = list(config.events or [e for e in SUBSCRIBABLE if e in _events(plain)])
        if config.register and not register_events:
            raise UsageProblem("--register: the handlers take no event a webhook can subscribe to (only ping, or none); name the events with -e")
        if config.queue is not None:
            preflight(config.queue, "hooks listen --queue")  # a Redis that cannot take events stops us now
        printer = Printer(json_out, as_json=config.as_json, verbose=config.verbose, show_data=not (handlers or config.queue))
        with _journal(config, start=bool(plain) or not handlers) as journal, contextlib.closing(bind(config.host, config.port)) as sock:
            port = sock.getsockname()[1]
            # A wildcard bind is not an address Argilla can call; on this machine, loopback reaches it.
            host = "127.0.0.1" if config.host in ("0.0.0.0", "::") else config.host
            listen_url = http_url(host, port, config.path)
            sdk_urls = sdk.listener_urls(listeners, config.public_url or http_url(host, port, "/"))  # not at --path
            for url in config.forward_to:  # (the receiver refuses any other loop when it happens)
                if landing(url) == landing(listen_url):
                    raise UsageProblem(f"--forward-to {hide_userinfo(url)} is this listener: each delivery would be forwarded to itself, forever")
            with verification(config, connect, listen_url, register_events, rerun_options) as verifying:
                if not config.verify:
                    output.warn("--no-verify: anyone who can reach this port can send events; every event is marked unverified")
                ready = Ready(
                    host=config.host, port=port, path=config.path, verify=config.verify, secrets=len(verifying.secrets) + len(listeners),
                    events=verifying.events or [e for e in ALL_EVENTS if e in wanted], handlers=[h.name for h in handlers],
                    forward_to=list(config.forward_to), webhook_id=verifying.webhook_id, registered=verifying.registered,
                    exit_after=config.exit_after, secret_source=_secret_source(config, verifying.webhook_id),
                    sdk_listeners=sdk.ready_entries(listeners, sdk_urls), queue=config.queue,
                )  # fmt: skip
                if journal is not None:
                    journal.listener = ListenerInfo(listen_url, verifying.webhook_id, tuple(fingerprint(s) for s in verifying.secrets))
                listener = Listener(config, handlers, verifying.secrets, printer, journal, _other_secrets(connect, verifying),
                                    _sdk_journals(journal, listeners, sdk_urls))  # fmt: skip
                printer.on_closed = listener.stop
                probe = _reachability(config, connect, verifying, listen_url, listener)
                tally = listener.run(sock, on_ready=lambda: printer.ready(ready), background=_background(config, connect, listener, probe))
                printer.stopped(tally.handled)
    _exit_status(tally, printer)
    if probe is not None and probe.failure is not None and config.require_reachable:
        raise CommandError("stopped: Argilla cannot reach this listener (--require-reachable; see the warning above)", ExitCode.ERROR)


@contextlib.contextmanager
def _journal(config: ListenConfig, start: bool) -> Iterator[Optional[Journal]]:
    """The journal, checked before anything binds (a path that cannot be used is one line), closed at the end; its
    writer process started at once when `start` (else with a first delivery: SDK listeners alone have their own)."""
    if config.journal is None:
        yield None
        return
    journal = Journal(config.journal, config.journal_keep)
    if start:
        journal.open()
    else:
        journal.check()
    with contextlib.closing(journal):
        yield journal


def _sdk_journals(journal: Optional[Journal], listeners: list[SdkListener], urls: dict[str, str]) -> dict[str, Journal]:
    """A journal for each SDK listener, on the same file, naming its URL and webhook so that its deliveries replay to
    it (the writer process of each starts with its first delivery; the app closes it)."""
    if journal is None:
        return {}
    return {
        h.name: Journal(journal.path, journal.keep, ListenerInfo(urls[h.name], h.webhook_id, (fingerprint(h.secret),)))
        for h in listeners
    }


def _other_secrets(connect: Callable[[], ArgillaClient], verifying: Verifying) -> Callable[[], dict[str, str]]:
    """For a 401: the secrets of the server's other webhooks, to name the one that signed (when a client is set up)."""

    def lookup() -> dict[str, str]:
        with connect() as client:
            return {f"webhook {w.short_id}": w.secret for w in client.list() if str(w.id) != verifying.webhook_id}

    return lookup


def _reachability(
    config: ListenConfig, connect: Callable[[], ArgillaClient], verifying: Verifying, listen_url: str, listener: Listener
) -> Optional[Reachability]:
    if verifying.webhook_id is None or verifying.url is None:
        return None
    probe = Reachability(connect, verifying.webhook_id, verifying.url, listen_url, listener.stop if config.require_reachable else None)
    listener.on_delivery = probe.saw
    return probe


def _background(
    config: ListenConfig, connect: Callable[[], ArgillaClient], listener: Listener, probe: Optional[Reachability]
) -> list[Background]:
    tasks: list[Background] = [] if probe is None else [probe.check]
    if config.reload and listener.plain_app is not None:
        tasks.append(Reloader(config.targets, config.app_dir, lambda: _reloaded(config, connect), listener.plain_app).run)
    return tasks


def _reloaded(config: ListenConfig, connect: Callable[[], ArgillaClient]) -> list[Handler]:
    """The handlers imported again for --reload, those that take the SDK's objects given a client again."""
    handlers = load_handlers(config.targets, config.app_dir)
    plain, listeners = sdk.split(handlers)
    if listeners:  # each is served at a path of its own, fixed at start
        raise UsageProblem(f"{listeners[0].name} is an SDK listener, which --reload does not reload; restart hooks listen")
    sdk.connect_sdk(plain, connect)
    return plain


def _events(handlers: list[Handler]) -> set[str]:
    """The events some handler takes; with no handler (the printer), every subscribable one."""
    return {e for e in ALL_EVENTS if any(h.wants(e) for h in handlers)} if handlers else set(SUBSCRIBABLE)


def _secret_source(config: ListenConfig, webhook_id: Optional[str]) -> str:
    if webhook_id is None:
        return config.secret_source
    own = f"the secret of webhook {webhook_id[:8]} (`hooks show {webhook_id[:8]} --show-secret`)"
    return f"{own} and {config.secret_source}" if config.secrets else own


def _exit_status(tally: Tally, printer: Printer) -> None:
    if tally.cut_short:
        count = tally.cut_short
        raise CommandError(f"stopped before {count} in-flight deliver{'y' if count == 1 else 'ies'} finished (Argilla retries them)", ExitCode.INTERRUPTED)
    if printer.write_error:
        raise output.stdout_failed(printer.write_error)
    if printer.closed:
        raise typer.Exit(ExitCode.ERROR)  # like every command whose reader went away: quietly, exit 1


def load_handlers(targets: tuple[str, ...], app_dir: str) -> list[Handler]:
    """Every target imported and checked before anything binds: a bad one is exit 2, a bug in it shows its traceback.
    A bare module names every SDK listener it defines."""
    handlers: dict[str, Handler] = {}  # by name: a target given twice (or a module and one of its listeners) runs once
    for target in targets:
        try:
            for handler in handlers_for_target(target, app_dir):  # named as typed, for scripts
                handlers.setdefault(handler.name, handler)
        except HandlerLoadError:
            raise
        except Exception as exc:
            if isinstance(exc, ImportError) and sdk_missing(exc):
                raise HandlerLoadError(f"handler {target!r} needs the Argilla SDK, which cannot be imported ({exc}): {INSTALL}") from None
            # An error inside the user's module (an ImportError of its own included) is theirs to see in full.
            traceback.print_exc()
            raise CommandError(f"importing handler {target!r} failed (traceback above)", ExitCode.ERROR) from None
    return list(handlers.values())


def bind(host: str, port: int) -> socket.socket:
    """Bind before anything else happens, so a port in use is one clear line, not a uvicorn traceback."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise CommandError(f"port {port} on {host} is already in use: pick another with --port (0 picks a free one)") from None
        raise CommandError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.setblocking(False)
    return sock


@contextlib.contextmanager
def stdout_for_json_only(as_json: bool) -> Iterator[IO[str]]:
    """The stream for listen's output. With --json, everything else written to stdout goes to stderr meanwhile, so
    that only JSON lines reach stdout: `print` in a handler module (sys.stdout), and, when stdout is the process's
    file descriptor 1, child processes and C code too (the JSON lines then go out through a copy of it)."""
    original = sys.stdout
    if not as_json:
        yield original
        return
    try:
        own_fd = original.fileno() == 1
    except (AttributeError, ValueError, OSError):  # a stream with no descriptor (a test runner's capture)
        own_fd = False
    json_out, saved_fd = original, None
    if own_fd:
        original.flush()
        saved_fd = os.dup(1)
        os.dup2(2, 1)
        json_out = open(saved_fd, "w", encoding=original.encoding, errors=original.errors, closefd=False)
    sys.stdout = sys.stderr
    try:
        yield json_out
    finally:
        sys.stdout = original
        if saved_fd is not None:
            with contextlib.suppress(OSError):
                json_out.close()  # flushes; a reader that went away has been handled by the printer
            os.dup2(saved_fd, 1)
            os.close(saved_fd)
