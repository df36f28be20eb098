"""`hooks --help` stays fast: the heavy libraries are imported only by commands that use them."""

import os
import subprocess
import sys

PROBE = """
import sys
sys.argv = ["hooks", *sys.argv[1:]]
from argilla_hooks.cli.app import main
try:
    main()
except SystemExit:
    pass
heavy = sorted(m for m in ("httpx", "pydantic", "uvicorn", "standardwebhooks") if m in sys.modules)
print("HEAVY:", ",".join(heavy))
"""


def heavy_modules(*args: str) -> str:
    result = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=True)
    return result.stdout.rsplit("HEAVY:", 1)[1].strip()


def test_help_imports_no_heavy_module():
    assert heavy_modules("--help") == ""


def test_command_help_imports_no_http_or_server_module():
    # typer >= 0.28 itself coerces parameters with pydantic, so only httpx and uvicorn are ours to defer here.
    assert heavy_modules("create", "--help") in ("", "pydantic")
    assert heavy_modules("listen", "--help") in ("", "pydantic")


def test_python_dash_m_runs_the_cli():
    result = subprocess.run([sys.executable, "-m", "argilla_hooks", "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("argilla-hooks ")


def test_bare_hooks_prints_the_help_and_exits_2_without_an_empty_error():
    # typer signals "no command" with a usage error that has no message: it was shown as `error:  (see ...)`.
    result = subprocess.run([sys.executable, "-m", "argilla_hooks"], capture_output=True, text=True)
    assert result.returncode == 2 and "Usage" in result.stdout and result.stderr == ""


def test_help_shows_no_metavar_after_flags_and_arguments_as_their_names():
    # Issue 18, item 14: `--json <bool>` made `hooks list --json true` look plausible; the usage line said `{URL}`.
    env = {**os.environ, "NO_COLOR": "", "COLUMNS": "120"}
    for args, usage in ((["list", "--help"], "Usage: hooks list [OPTIONS]"), (["create", "--help"], "Usage: hooks create [OPTIONS] URL"),
                        (["delete", "--help"], "Usage: hooks delete [OPTIONS] [ID]..."), (["--help"], "Usage: hooks [OPTIONS] COMMAND")):
        shown = subprocess.run([sys.executable, "-m", "argilla_hooks", *args], capture_output=True, text=True, env=env).stdout
        assert usage in shown and "<bool>" not in shown and "{" not in shown.split("\n\n")[0], shown
