"""`hooks listen`: serve the verifying receiver with an embedded uvicorn, and optionally register it with Argilla."""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import sys
from typing import TYPE_CHECKING, Annotated, Any, Callable, Iterator, Optional
from urllib.parse import urlsplit

import typer

from argilla_hooks import settings
from argilla_hooks.cli import completion, output
from argilla_hooks.cli.listen import signals
from argilla_hooks.cli.connect import get_client, given_by, same_server
from argilla_hooks.cli.errors import CommandError, ExitCode, UsageProblem
from argilla_hooks.cli.listen.serving import serve
from argilla_hooks.cli.options import ApiKey, ApiUrl, Profile, event_option
from argilla_hooks.events import ALL_EVENTS, SUBSCRIBABLE, expand_required

if TYPE_CHECKING:
    from argilla_hooks.client import ArgillaClient
    from argilla_hooks.client.models import Webhook

_SIZE_UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1024, "kib": 1024, "m": 1024**2, "mb": 1024**2, "mib": 1024**2}


def listen(
    ctx: typer.Context,
    targets: Annotated[
        Optional[list[str]],
        typer.Argument(help="Handlers as module:function (several allowed); none: print each event.", metavar="MODULE:FUNCTION", show_default=False),
    ] = None,
    host: Annotated[str, typer.Option("--host", help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", "-p", help="Port to bind; 0 picks a free one.", min=0, max=65535)] = 8000,
    path: Annotated[str, typer.Option("--path", help="URL path that receives deliveries.")] = "/",
    app_dir: Annotated[str, typer.Option("--app-dir", help="Directory put first on sys.path for the targets.")] = ".",
    secret: Annotated[
        Optional[list[str]],
        typer.Option(
            "--secret",
            "-s",
            envvar=settings.ENV_WEBHOOK_SECRET,
            help="Webhook secret to verify with; repeat it while rotating.",
            show_default=False,
            rich_help_panel="Verification",
        ),
    ] = None,
    webhook: Annotated[
        Optional[str],
        typer.Option(
            "--webhook",
            help="Verify with this existing Argilla webhook's secret (id or prefix).",
            autocompletion=completion.webhook_ids,
            show_default=False,
            rich_help_panel="Verification",
        ),
    ] = None,
    register: Annotated[
        bool,
        typer.Option("--register", help="Create a webhook for this session; deleted on exit.", rich_help_panel="Verification"),
    ] = False,
    no_verify: Annotated[
        bool, typer.Option("--no-verify", help="Accept unsigned deliveries (marked unverified).", rich_help_panel="Verification")
    ] = False,
    tolerance: Annotated[
        int, typer.Option("--tolerance", help="Seconds a signature timestamp may be off.", min=1, rich_help_panel="Verification")
    ] = 300,
    event: Annotated[
        Optional[list[str]],
        event_option(
            "--event",
            "-e",
            help="Events to register for (globs ok) \\[default: the handlers' @on events, else all].",
            rich_help_panel="Registration",
        ),
    ] = None,
    public_url: Annotated[
        Optional[str],
        typer.Option(
            "--public-url",
            envvar=settings.ENV_PUBLIC_URL,
            help="URL Argilla should call (a tunnel, a proxy) \\[default: the listen URL].",
            show_default=False,
            rich_help_panel="Registration",
        ),
    ] = None,
    forward_to: Annotated[
        Optional[list[str]],
        typer.Option("--forward-to", help="Re-send each verified delivery here too (repeatable).", show_default=False),
    ] = None,
    max_body: Annotated[str, typer.Option("--max-body", help="Largest body accepted (e.g. 512KiB, 10MiB).")] = "10MiB",
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line on stdout (ready, event, rejected, stopped).")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Also print headers, body and handler tracebacks.")] = False,
    exit_after: Annotated[
        Optional[int], typer.Option("--exit-after", help="Exit 0 after N handled events.", min=1, show_default=False)
    ] = None,
    api_url: ApiUrl = None,
    api_key: ApiKey = None,
    profile: Profile = None,
) -> None:
    """Receive Argilla deliveries locally: verify them, run your handlers, print or forward the events.

    \b
    Examples:
      hooks listen --secret "$SECRET"                          # print every verified event
      hooks listen handlers:on_response --register -e 'response.*'
      hooks listen app.hooks:notify --webhook 3f2a --port 9000 --path /argilla
      hooks listen --secret "$SECRET" --forward-to http://127.0.0.1:3000/hooks --json | jq 'select(.kind == "event").type'
    """
    # Imported here, not at the top: `hooks --help` and the other commands need none of it (listen_output loads asyncio).
    from argilla_hooks.cli.listen.output import ListenInfo, Printer
    from argilla_hooks.urls import check_url, hide_userinfo, landing
    from argilla_hooks.receiver.app import check_path
    from argilla_hooks.receiver.verify import decode_secret

    secret_from_env = bool(secret) and given_by(ctx, "secret", "ENVIRONMENT")
    if secret_from_env and (no_verify or webhook or register):
        secret = None  # a flag choosing how to verify outranks a secret left in the environment
    if no_verify and (secret or webhook or register):
        raise UsageProblem("--no-verify cannot be combined with --secret, --webhook or --register")
    if webhook and register:
        raise UsageProblem("give --webhook (use an existing webhook) or --register (create one), not both")
    if not (secret or webhook or register or no_verify):
        raise UsageProblem(
            f"no secret to verify deliveries with: pass --secret, set {settings.ENV_WEBHOOK_SECRET}, "
            "use --webhook ID or --register, or --no-verify to accept anything"
        )
    if event is not None and not register:
        raise UsageProblem("-e/--event chooses the events of a --register webhook; handlers choose theirs with @on(...)")
    asked_events = expand_required(event) if event is not None else None  # `-e ''` too: before anything binds
    limit = _parse_size(max_body)
    path = "/" + path.strip("/")
    _check(check_path, path, "--path")
    if not host.strip():
        raise UsageProblem("--host needs an address, e.g. 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)")
    if public_url is not None:
        _check(check_url, public_url, "--public-url")
    for url in forward_to or []:
        _check(check_url, url, "--forward-to")
    for value in secret or []:
        # now, not once the port is bound and a webhook registered
        _check(decode_secret, value, settings.ENV_WEBHOOK_SECRET if secret_from_env else "--secret")

    with _stdout_for_json_only(as_json) as json_out, signals.sigterm_interrupts():
        handlers = _load_handlers(targets or [], app_dir)
        wanted = _handler_events(handlers)
        register_events = asked_events or [e for e in SUBSCRIBABLE if e in wanted]  # no handler: wanted is all 11
        if register and not register_events:
            raise UsageProblem("--register: the handlers take no event a webhook can subscribe to (only ping, or none); name the events with -e")
        printer = Printer(json_out, as_json=as_json, verbose=verbose, show_data=not handlers)
        sock = _bind(host, port)
        bound_port = sock.getsockname()[1]
        info = ListenInfo(
            host=host,
            port=bound_port,
            path=path,
            verify=not no_verify,
            secrets=0,
            events=register_events if register else [e for e in ALL_EVENTS if e in wanted],
            handlers=[h.name for h in handlers],
            forward_to=list(forward_to or []),
            exit_after=exit_after,
        )
        listen_url = _reachable_url(host, bound_port, path)
        secrets = list(secret or [])
        registered: Optional["Webhook"] = None
        client: Optional["ArgillaClient"] = None
        left_behind = False
        try:
            for url in info.forward_to:
                if landing(url) == landing(listen_url):  # (the receiver refuses any other loop when it happens)
                    raise UsageProblem(f"--forward-to {hide_userinfo(url)} is this listener: each delivery would be forwarded to itself, forever")
            if webhook or register:
                client = get_client(api_url, api_key, profile)
                if webhook:
                    found = client.get(webhook)
                    secrets.append(found.secret)
                    info.webhook_id = str(found.id)
                    # What will arrive is what the webhook subscribes to, whatever the handlers would take.
                    info.events = [e for e in ALL_EVENTS if e in found.events] + [e for e in found.events if e not in ALL_EVENTS]
                    _warn_if_elsewhere(found.url, public_url or listen_url)
                else:
                    with signals.deferred():  # a Ctrl-C now must not lose the id of a webhook just created
                        registered = _register(client, public_url or listen_url, register_events)
                    secrets.append(registered.secret)
                    info.webhook_id, info.registered = str(registered.id), True
            info.secrets = len(secrets)
            if no_verify:
                output.warn("--no-verify: anyone who can reach this port can send events; every event is marked unverified")
            handled, cut_short = serve(sock, handlers, secrets, info, printer, limit=limit, tolerance=tolerance, verify=not no_verify)
        finally:
            sock.close()
            if registered is not None and client is not None:
                left_behind = not _unregister(client, registered, ctx)
            if client is not None:
                client.close()
        printer.stopped(handled)
        if left_behind:
            raise typer.Exit(ExitCode.ERROR)  # _unregister said why, and what to run
        if cut_short:
            raise CommandError(
                f"stopped before {cut_short} in-flight deliver{'y' if cut_short == 1 else 'ies'} finished (Argilla retries them)",
                ExitCode.INTERRUPTED,
            )
        if printer.write_error:
            raise output.stdout_failed(printer.write_error)
        if printer.closed:
            raise typer.Exit(ExitCode.ERROR)  # like every command whose reader went away: quietly, exit 1


@contextlib.contextmanager
def _stdout_for_json_only(as_json: bool) -> Iterator[Any]:
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



def _parse_size(text: str) -> int:
    """`10MiB`, `512k`, `1048576` -> bytes."""
    number = text.strip().lower().rstrip("s")
    unit = number.lstrip("0123456789.")
    digits = number[: len(number) - len(unit)]
    factor = _SIZE_UNITS.get(unit.strip())
    try:
        size = int(float(digits) * factor) if factor else 0
    except ValueError:
        size = 0
    if size < 1:
        raise UsageProblem(f"--max-body {text!r} is not a size (e.g. 10MiB, 512KiB, 1048576)")
    return size


def _check(validator: Callable[[str], Any], value: str, option: str) -> None:
    try:
        validator(value)
    except ValueError as exc:
        raise UsageProblem(f"{option}: {exc}") from None


def _load_handlers(targets: list[str], app_dir: str) -> list:
    """Every target imported and checked before anything binds: a bad one is exit 2, a bug in it shows its traceback."""
    from argilla_hooks.receiver import Handler, HandlerLoadError, load_handler

    handlers = []
    for target in dict.fromkeys(targets):  # a target given twice would run twice per event
        try:
            fn = load_handler(target, app_dir)
            handler = Handler(fn, name=target)  # reported as typed, so a script can match it up
        except HandlerLoadError as exc:
            raise UsageProblem(str(exc)) from None
        except Exception:
            # An error inside the user's module (an ImportError of its own included) is theirs to see in full.
            import traceback

            traceback.print_exc()
            raise CommandError(f"importing handler {target!r} failed (traceback above)", ExitCode.ERROR) from None
        handlers.append(handler)
    return handlers


def _handler_events(handlers: list) -> set[str]:
    """Every event some handler takes (as `Handler.wants` decides); with no handler, the printer takes the 11."""
    if not handlers:
        return set(SUBSCRIBABLE)
    return {event for event in ALL_EVENTS if any(handler.wants(event) for handler in handlers)}


def _bind(host: str, port: int) -> socket.socket:
    """Bind before anything else happens, so a port in use is one clear line, not a uvicorn traceback."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
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


def _reachable_url(host: str, port: int, path: str) -> str:
    from argilla_hooks.urls import http_url

    # A wildcard bind is not an address Argilla can call; on this machine, loopback reaches it.
    return http_url("127.0.0.1" if host in ("0.0.0.0", "::") else host, port, path)


def _warn_if_elsewhere(webhook_url: str, listen_url: str) -> None:
    from argilla_hooks.urls import loopback_as_one

    if loopback_as_one(webhook_url) != loopback_as_one(listen_url):
        output.warn(
            f"the webhook points at {webhook_url}, not at this listener ({listen_url}); deliveries arrive here only if "
            "that URL leads to this port (a tunnel, a proxy, Docker's host.docker.internal)"
        )


def _register(client: "ArgillaClient", url: str, events: list[str]) -> "Webhook":
    from argilla_hooks.client.models import WebhookCreate

    description = f"temporary: hooks listen on {socket.gethostname()} pid {os.getpid()} (deleted on exit)"
    return client.create(WebhookCreate(url=url, events=events, description=description[:1000]))


def _unregister(client: "ArgillaClient", webhook: "Webhook", ctx: typer.Context) -> bool:
    """Delete the session's webhook; False (after saying what to run) when it is still on the server."""
    from argilla_hooks.client.errors import WebhookNotFound

    try:
        client.delete(webhook.id)
    except WebhookNotFound:  # someone deleted it meanwhile (`hooks delete`): what we wanted
        output.info(f"the temporary webhook {webhook.id} was already deleted")
    except BaseException as exc:  # noqa: BLE001 - a second Ctrl-C lands here too
        server, key = same_server(ctx)
        output.error(
            f"could not delete the temporary webhook {webhook.id} ({exc or type(exc).__name__}); "
            f"run: hooks delete {webhook.id}{server}{key}"
        )
        return False
    else:
        output.info(f"deleted the temporary webhook {webhook.short_id}")
    return True
