"""One `hooks work` session: handlers loaded, Redis checked, the worker run until stopped, and the exit status."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from typing import TYPE_CHECKING

import typer

from argilla_hooks.cli import output
from argilla_hooks.cli.errors import CommandError, ExitCode
from argilla_hooks.cli.listen.session import load_handlers, stdout_for_json_only
from argilla_hooks.cli.queue import preflight, require_redis
from argilla_hooks.cli.work.command import WorkConfig
from argilla_hooks.cli.work.output import WorkPrinter
from argilla_hooks.receiver import Handler

if TYPE_CHECKING:
    from argilla_hooks.queue.connection import Check
    from argilla_hooks.queue.reports import Tally
    from argilla_hooks.queue.worker import Worker


def run(config: WorkConfig) -> None:
    """Work until stopped (or drained); raise (CommandError, typer.Exit) for an exit status other than 0."""
    require_redis("hooks work")
    with stdout_for_json_only(config.as_json) as json_out:
        handlers = load_handlers(config.targets, config.app_dir)
        checks = preflight(config.url, "hooks work")
        printer = WorkPrinter(json_out, as_json=config.as_json, verbose=config.verbose)
        try:
            tally = asyncio.run(_work(config, handlers, checks, printer))
        finally:
            printer.close()
        if tally.cut_short and _handler_threads_running():
            # A `def` handler's thread cannot be cancelled, and Python waits for it at exit; its entry is given back
            # already, so the process ends now.
            json_out.flush()
            output.error(_cut_short(tally))
            os._exit(ExitCode.INTERRUPTED)
    if tally.cut_short:
        raise CommandError(_cut_short(tally), ExitCode.INTERRUPTED)
    if printer.closed:
        raise typer.Exit(ExitCode.ERROR)  # the reader of stdout went away, as for every command: quietly, exit 1


async def _work(config: WorkConfig, handlers: list[Handler], checks: list["Check"], printer: WorkPrinter) -> "Tally":
    from argilla_hooks.queue.attempts import Policy
    from argilla_hooks.queue.connection import connect
    from argilla_hooks.queue.worker import Worker, WorkerSettings

    settings = WorkerSettings(
        group=config.group, concurrency=config.concurrency, claim_idle=config.claim_idle, grace=config.grace,
        drain=config.drain, policy=Policy(max_attempts=config.max_attempts, retry_delay=config.retry_delay),
    )  # fmt: skip
    # A read waits up to `block` for new entries, so replies may take that long; and every entry may hold a connection.
    client = connect(config.url, timeout=max(5.0, settings.block * 4), max_connections=config.concurrency + 4)
    try:
        worker = Worker(client, handlers, settings, url=config.url, on_report=printer.entry)
        await worker.ensure_group()
        printer.on_closed = worker.stop
        worker.on_change = lambda: printer.status(worker.tally)
        printer.ready(config, settings.consumer, [h.name for h in handlers], checks)
        _stop_on_signals(worker)
        tally = await worker.run()
    finally:
        await client.aclose()
    printer.stopped(tally)
    return tally


def _handler_threads_running(wait: float = 0.5) -> bool:
    """Whether threads other than the main one are still running `wait` seconds from now (idle pool threads end when
    the event loop does; a `def` handler's thread runs until its handler returns)."""
    deadline = time.monotonic() + wait
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join(max(0.0, deadline - time.monotonic()))
    return any(t.is_alive() and not t.daemon for t in threading.enumerate() if t is not threading.main_thread())


def _cut_short(tally: "Tally") -> str:
    count = tally.cut_short
    return f"stopped before {count} running entr{'y' if count == 1 else 'ies'} finished; given back to the group"


def _stop_on_signals(worker: "Worker") -> None:
    """Ctrl-C / SIGTERM: stop reading and let running handlers finish (up to --grace); a second one gives them back."""
    loop = asyncio.get_running_loop()
    signals_seen = []

    def stop() -> None:
        signals_seen.append(True)
        if len(signals_seen) > 1:
            worker.stop(now=True)
            return
        running = worker.tally.in_flight
        if running:
            output.info(f"stopping: waiting up to {worker.settings.grace:g} s for {running} running entr{'y' if running == 1 else 'ies'} (Ctrl-C again to give them back now)")
        worker.stop()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)
