"""Shell completion: candidates for typer's `autocompletion=`, and the scripts committed in completions/.

The scripts are typer's own, asked for through click's documented protocol (`_HOOKS_COMPLETE=source_bash hooks`,
in typer's `source_<shell>` order). They call the program back on every Tab, so new commands need no new scripts;
rerun this when typer changes its scripts (a unit test fails when completions/ differs from what it writes):

    python -m argilla_hooks.cli.completion [DIR]      (DIR defaults to ./completions)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import typer

from argilla_hooks import settings
from argilla_hooks.events import ALL_EVENTS, EVENT_DESCRIPTIONS, SUBSCRIBABLE

PROGRAMS = ("hooks", "argilla-hooks")  # the console scripts of pyproject.toml
SHELLS = ("bash", "zsh", "fish")


def event_names(incomplete: str) -> list[tuple[str, str]]:
    """Subscribable events, for `-e`: completes the last item of a comma list, keeping what came before it."""
    head, comma, last = incomplete.rpartition(",")
    return [(head + comma + name, text) for name, text in sendable_event_names(last) if name in SUBSCRIBABLE]


def sendable_event_names(incomplete: str) -> list[tuple[str, str]]:
    """Every event, `ping` included, for `hooks trigger EVENT`."""
    # typer's zsh script drops a straight apostrophe from a description ("a datasets name"); a typographic one stays.
    return [(name, EVENT_DESCRIPTIONS[name].replace("'", "\u2019")) for name in ALL_EVENTS if name.startswith(incomplete)]


def profile_names(incomplete: str) -> list[str]:
    """Saved profiles, for `--profile`."""
    try:
        return [name for name in settings.profiles() if name.startswith(incomplete)]
    except Exception:  # an unreadable config file: no candidates, not a traceback in the middle of the line
        return []


def webhook_ids(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    """Ids of the webhooks of the server the command would use; quietly nothing when it does not answer in 2 s.

    That server comes from `--api-url`, `--api-key` and `--profile` (typed on the line or from their environment
    variables: click has parsed both into ctx.params), else from the profile, as for the command itself.
    """
    from argilla_hooks.client import ArgillaClient  # httpx and pydantic: only once ids are asked for

    params = ctx.params
    try:
        found = settings.resolve(params.get("api_url"), params.get("api_key"), params.get("profile"))
        # One attempt, 1 s per phase: the shell waits for us on every Tab.
        with ArgillaClient(found.api_url, found.api_key, timeout=1.0, connect_retries=0) as client:
            hooks = client.list()
    except Exception:
        return []
    return [(str(hook.id), hook.url) for hook in hooks if str(hook.id).startswith(incomplete)]


def delivery_ids(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    """Ids of the journal's newest deliveries (`--journal` or its default), with what each was; nothing on a failure."""
    from argilla_hooks.receiver.journal_reader import JournalReader

    try:
        with JournalReader(ctx.params.get("journal") or settings.default_journal_path()) as reader:
            entries = reader.newest(50)
    except Exception:
        return []
    return [(e.short_id, f"{e.status} {e.type or e.reason or ''}") for e in entries if e.id.startswith(incomplete.lower())]


def scripts() -> dict[str, str]:
    """File name (`hooks.bash`) -> the script typer gives that shell, from the programs installed beside this Python."""
    return {f"{program}.{shell}": _script(program, shell) for program in PROGRAMS for shell in SHELLS}


def _script(program: str, shell: str) -> str:
    variable = "_{}_COMPLETE".format(program.replace("-", "_").upper())
    answer = subprocess.run(
        [str(Path(sys.executable).parent / program)],
        env={**os.environ, variable: f"source_{shell}"}, capture_output=True, text=True, check=True,
    )
    return answer.stdout.strip() + "\n"


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "completions")
    target.mkdir(parents=True, exist_ok=True)
    for name, content in scripts().items():
        (target / name).write_text(content, encoding="utf-8")
        print(target / name)
