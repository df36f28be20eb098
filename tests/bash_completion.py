"""Run the committed bash completion script as bash does on <TAB>, for the unit and e2e tests."""

import fcntl
import os
import pty
import select
import struct
import subprocess
import termios
import time
from pathlib import Path

COMPLETIONS = Path(__file__).parents[1] / "completions"
FILE_NAMES = "<file names>"  # what bash_complete returns where the script hands the word to bash's file completion


def bash_complete(*words: str, env: dict[str, str], program: str = "hooks") -> list[str]:
    """The candidates for the last of `words` after `program` (`env` must put the installed `hooks` on PATH): the line
    is the words joined by spaces, the cursor at its end, as bash sets COMP_LINE and COMP_POINT.

    `compopt` only works while readline runs a completion, so it is replaced by a function that reports its call.
    """
    function = "_" + program.replace("-", "_") + "_completion"
    script = (
        f'compopt() {{ [ "$*" = "-o default" ] && echo "{FILE_NAMES}" || echo "compopt $*"; }}; '
        f'source "$1"; shift; COMP_LINE="$*"; COMP_POINT=${{#COMP_LINE}}; '
        f'{function} {program}; '
        'printf "%s\\n" "${COMPREPLY[@]}"'
    )
    result = subprocess.run(
        ["bash", "-c", script, "bash", str(COMPLETIONS / f"{program}.bash"), program, *words],
        capture_output=True, text=True, env=env, timeout=30, check=True,
    )
    return [line for line in result.stdout.splitlines() if line]


def bash_tab(line: str, *, env: dict[str, str], cwd: Path, program: str = "hooks") -> str:
    """What an interactive bash on a terminal shows once `line` is typed and Tab pressed (once: enough for a single
    candidate, which is completed in place), with the committed script sourced: readline's own word splitting
    included (COMP_WORDBREAKS), which bash_complete cannot show."""
    master, slave = pty.openpty()
    # Wide enough that readline never scrolls the line sideways (it would show `<` and a tail of it).
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 400, 0, 0))
    proc = subprocess.Popen(
        ["bash", "--norc", "--noprofile", "-i"], stdin=slave, stdout=slave, stderr=slave, cwd=cwd,
        env={**env, "PS1": "$ ", "TERM": "dumb", "HISTFILE": os.devnull}, start_new_session=True,
    )
    os.close(slave)

    def shown_until_quiet(quiet: float = 1.0, limit: float = 20) -> str:
        text, deadline, last = b"", time.monotonic() + limit, time.monotonic()
        while time.monotonic() < deadline and time.monotonic() - last < quiet:
            if select.select([master], [], [], 0.1)[0]:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    break
                text, last = text + chunk, time.monotonic()
        return text.decode(errors="replace")

    try:
        os.write(master, f"source {COMPLETIONS / (program + '.bash')}\n".encode())
        shown_until_quiet(0.5)
        os.write(master, line.encode() + b"\t")
        return shown_until_quiet().replace("\r", "")
    finally:
        os.write(master, b"\x15exit\n")  # Ctrl-U empties the line (the pty is not the controlling terminal: no Ctrl-C)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        os.close(master)
