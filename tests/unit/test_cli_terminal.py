"""What `hooks` does on a terminal: Ctrl-C and end of input at prompts, server text that could drive the terminal,
and ARGILLA_HOOKS_DEBUG keeping the exit codes."""

import json
import os
import pty
import select
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

import pytest

from argilla_hooks.cli import app as cli_app, output
from argilla_hooks.cli.app import app
from tests.unit.fake_argilla import API
from tests.unit.hooks_cli import hooks


EVIL = "evil\x1b]0;PWNED\x07\x1b[2J"  # retitles the window and clears the screen when printed raw
EVIL_SHOWN = "evil\\x1b]0;PWNED\\x07\\x1b[2J"
CONTROLS = [chr(c) for c in [*range(0x20), *range(0x7F, 0xA0)]]




def raw_controls(text: str) -> list[str]:
    """The control characters in `text`, line ends apart."""
    return [c for c in text if c in CONTROLS and c != "\n"]


# --- the one sanitising function -------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "shown"), [
    (EVIL, EVIL_SHOWN),
    ("tab\there\r\nnew line", "tab\\there\\r\\nnew line"),
    ("\x00\x7f\x9b\x85", "\\x00\\x7f\\x9b\\x85"),  # NUL, DEL and C1 (CSI, NEL) too
    ("café ✓ 😀 back\\slash", "café ✓ 😀 back\\slash"),  # printable text is untouched
])
def test_visible_escapes_every_control_character(text, shown):
    assert output.visible(text) == shown


def test_visible_multiline_keeps_line_breaks_only():
    assert output.visible("one\r\ntwo\x1b[2J\nthree\n", multiline=True) == "one\ntwo\\x1b[2J\nthree"


# --- server text is shown escaped in text mode, exact in JSON and in exported files ------------------------------


def test_show_escapes_server_text_and_json_keeps_it_exact(fake_argilla):
    hook = fake_argilla.add(description=EVIL)
    text = hooks("show", hook["id"][:8])
    assert text.exit_code == 0, text.stderr
    assert f"description: {EVIL_SHOWN}\n" in text.stdout and raw_controls(text.stdout) == []
    assert json.loads(hooks("show", hook["id"][:8], "--json").stdout)["description"] == EVIL


def test_list_escapes_server_text_piped_and_on_a_terminal(fake_argilla, monkeypatch):
    fake_argilla.add(url="http://a.test/\x1b[2J", description=EVIL + "\tand\na tab")
    piped = hooks("list")
    [header, row] = piped.stdout.splitlines()  # a tab or newline in a description no longer breaks the lines
    assert header.count("\t") == row.count("\t") == 5
    assert row.split("\t")[1:5:3] == ["http://a.test/\\x1b[2J", EVIL_SHOWN + "\\tand\\na tab"]
    assert [c for c in raw_controls(piped.stdout) if c != "\t"] == []

    monkeypatch.setattr(output, "stdout_is_terminal", lambda: True)
    table = hooks("list")
    assert table.exit_code == 0 and "description" in table.stdout.lower()  # a table, or blocks on a narrow terminal
    assert raw_controls(table.stdout) == [] and "\\x1b" in table.stdout


def test_messages_escape_server_text(fake_argilla):
    hook = fake_argilla.add(url="http://a.test/\x1b[2J")
    result = hooks("delete", hook["id"])
    assert result.exit_code == 0
    assert "(http://a.test/\\x1b[2J)" in result.stderr and raw_controls(result.stderr) == []


def test_apply_plan_and_result_escape_server_text(fake_argilla, tmp_path):
    fake_argilla.add(url="http://gone.test/\x1b[2J", events=["dataset.created\x07"])
    path = tmp_path / "w.toml"
    path.write_text("webhooks = []\n")
    result = hooks("apply", "-f", str(path), "--prune", "--yes")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("- http://gone.test/\\x1b[2J (id ")
    assert "deleted http://gone.test/\\x1b[2J (id " in result.stdout
    assert raw_controls(result.stdout + result.stderr) == []


def test_export_stays_exact(fake_argilla):
    fake_argilla.add(description=EVIL)
    result = hooks("export", "--format", "json")
    assert json.loads(result.stdout)["webhooks"][0]["description"] == EVIL


def test_trigger_escapes_the_receivers_answer_but_keeps_its_lines():
    answer = f"ok {EVIL}\r\nline 2\n".encode()

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("content-length", 0)))
            self.send_response(200)
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/"
        secret = "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"
        text = hooks("trigger", "ping", "--to", url, "--secret", secret)
        as_json = hooks("trigger", "ping", "--to", url, "--secret", secret, "--json")
    finally:
        server.shutdown()
        server.server_close()
    assert text.exit_code == 0, text.stderr
    assert text.stdout == f"ok {EVIL_SHOWN}\nline 2\n"
    assert json.loads(as_json.stdout)["body"] == f"ok {EVIL}\r\nline 2\n"


# --- ARGILLA_HOOKS_DEBUG adds a traceback and keeps the exit code ---------------------------------------------------


@pytest.mark.parametrize(("args", "code"), [
    (["show", "ffff", "--json"], 4),
    (["create", "ftp://x", "-e", "dataset.created"], 2),
    (["list", "--api-key", "wrong"], 3),
])
def test_debug_prints_the_traceback_and_keeps_the_exit_code_and_message(fake_argilla, args, code):
    quiet = hooks(*args)
    debug = hooks(*args, env={"ARGILLA_HOOKS_DEBUG": "1"})
    assert quiet.exit_code == debug.exit_code == code
    assert "Traceback (most recent call last)" in debug.stderr and "Traceback" not in quiet.stderr
    assert debug.stderr.splitlines()[-1] == quiet.stderr.splitlines()[-1]
    assert quiet.stderr.startswith("error: ")


@pytest.mark.parametrize("debug", [False, True])
def test_a_bug_is_one_line_and_exit_1_with_its_traceback_first_under_debug(monkeypatch, capsys, debug):
    def buggy(*args, **kwargs):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(cli_app, "app", buggy)
    monkeypatch.setattr(sys, "argv", ["hooks", "list"])
    if debug:
        monkeypatch.setenv("ARGILLA_HOOKS_DEBUG", "1")
    with pytest.raises(SystemExit) as exited:
        cli_app.main()
    stderr = capsys.readouterr().err
    assert exited.value.code == 1
    assert ("Traceback (most recent call last)" in stderr) is debug  # with debug it printed only the traceback
    assert stderr.splitlines()[-1].startswith("error: unexpected RuntimeError: kaboom")


# --- prompts: end of input (Ctrl-D) ------------------------------------------------------------------------------


@pytest.fixture
def on_a_terminal(monkeypatch):
    monkeypatch.setattr(output, "stdin_is_terminal", lambda: True)


def test_end_of_input_at_delete_all_means_no(fake_argilla, on_a_terminal):
    fake_argilla.add()
    result = hooks("delete", "--all", input="")
    assert result.exit_code == 1 and result.stderr.endswith("\nnothing deleted\n") and "error" not in result.stderr
    assert "Aborted" not in result.stderr and len(fake_argilla.webhooks) == 1


def test_answering_no_at_delete_all_is_not_an_error(fake_argilla, on_a_terminal):
    # Issue 18, item 9: a declined confirmation printed a red `error: nothing deleted`.
    fake_argilla.add()
    result = hooks("delete", "--all", input="n\n")
    assert result.exit_code == 1 and result.stderr.endswith("nothing deleted\n") and "error" not in result.stderr
    assert len(fake_argilla.webhooks) == 1


def test_end_of_input_at_apply_prune_means_no(fake_argilla, on_a_terminal, tmp_path):
    fake_argilla.add()
    path = tmp_path / "w.toml"
    path.write_text("webhooks = []\n")
    result = hooks("apply", "-f", str(path), "--prune", input="")
    assert result.exit_code == 1 and result.stderr.endswith("\nnothing was changed\n") and "error" not in result.stderr
    assert "Aborted" not in result.stderr and len(fake_argilla.webhooks) == 1


@pytest.mark.parametrize(("args", "question"), [
    (["login"], "Argilla API URL"),
    (["login", "--api-url", API], "Argilla API key"),
])
def test_end_of_input_at_a_login_prompt_is_a_usage_error(fake_argilla, on_a_terminal, monkeypatch, args, question):
    monkeypatch.delenv("ARGILLA_API_URL")
    monkeypatch.delenv("ARGILLA_API_KEY")
    result = hooks(*args, input="")
    assert result.exit_code == 2
    assert result.stderr.endswith(f"error: no answer to '{question}' (end of input); nothing was done\n")
    assert fake_argilla.requests == [] and not os.path.exists(os.environ["ARGILLA_HOOKS_CONFIG"])


# --- prompts: Ctrl-C, on a real pseudo-terminal ---------------------------------------------------------------------

# The child makes the pty its controlling terminal, so \x03 sends it SIGINT exactly as a real Ctrl-C does.
_CHILD = (
    "import fcntl, os, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
    "os.execv(sys.executable, [sys.executable, '-m', 'argilla_hooks', *sys.argv[1:]])"
)


def ctrl_c_on_a_terminal(args: list[str], *, at: str, env: dict) -> tuple[int, str]:
    """Run `hooks ARGS` on a pseudo-terminal and press Ctrl-C at the prompt ending in `at`: (exit code, all shown)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-c", _CHILD, *args], stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
    )
    os.close(slave)
    shown, next_press, deadline = b"", None, time.monotonic() + 30
    try:
        while time.monotonic() < deadline:
            if next_press is None and at.encode() in shown:
                next_press = time.monotonic() + 0.2  # let the prompt start reading
            if next_press is not None and time.monotonic() >= next_press:
                # Pressed again if still running: a SIGINT landing between the prompt and its read is only noticed at
                # the next one (a person would press twice, too).
                os.write(master, b"\x03")
                next_press += 2
            if select.select([master], [], [], 0.05)[0]:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # EIO: the child exited and the terminal closed
                    break
                if not chunk:
                    break
                shown += chunk
        # Reap it before closing the terminal: closing it first would hang the child up (SIGHUP) as it exits.
        code = proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    return code, shown.decode(errors="replace")


@pytest.mark.parametrize(("args", "prompt"), [
    (["login", "--api-url", "{url}"], "Argilla API key: "),  # hidden input
    (["login"], "]: "),  # Argilla API URL [default]:
    (["delete", "--all"], "[y/N]: "),
    (["apply", "-f", "{file}", "--prune"], "[y/N]: "),
])
def test_ctrl_c_at_a_prompt_exits_130_quietly_and_changes_nothing(served_argilla, tmp_path, args, prompt):
    served_argilla.add()
    file = tmp_path / "w.toml"
    file.write_text("webhooks = []\n")
    config = tmp_path / "config.toml"
    env = {**os.environ, "ARGILLA_HOOKS_CONFIG": str(config), "NO_COLOR": "1", "ARGILLA_API_URL": served_argilla.url}
    if args[0] == "login":
        del env["ARGILLA_API_KEY"], env["ARGILLA_API_URL"]
    args = [a.format(url=served_argilla.url, file=file) for a in args]
    code, shown = ctrl_c_on_a_terminal(args, at=prompt, env=env)
    assert code == 130, shown
    assert prompt.strip() in shown.splitlines()[-1]  # nothing after the prompt's line: no "Aborted.", no error
    assert "Aborted" not in shown and "error" not in shown
    assert len(served_argilla.webhooks) == 1 and not config.exists()


# --- `hooks show ""` -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("webhook_id", ["", "  "])
def test_an_empty_id_is_a_usage_error_before_any_request(fake_argilla, webhook_id):
    result = hooks("show", webhook_id)
    assert result.exit_code == 2
    assert fake_argilla.requests == []


# --- stdout that cannot be written ------------------------------------------------------------------------


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs Linux's /dev/full")
@pytest.mark.parametrize("args", [
    ["events"], ["events", "--json"], ["--version"], ["--help"], ["show", "--help"],
    # the listener stops by itself: nothing it prints could be read
    ["listen", "--no-verify", "--port", "0"], ["listen", "--no-verify", "--port", "0", "--json"],
])
def test_a_full_stdout_is_one_line_and_exit_1(args):
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [sys.executable, "-m", "argilla_hooks", *args], stdout=full, stderr=subprocess.PIPE, text=True, timeout=60
        )
    if "--no-verify" in args:  # its start-up warning comes first
        assert result.stderr.startswith("warning: --no-verify")
        result.stderr = result.stderr.split("\n", 1)[1]
    assert result.returncode == 1
    assert result.stderr == "error: cannot write to stdout: No space left on device\n"


def test_a_closed_stdout_does_nothing_and_exits_2():
    code = "import os, sys; os.close(1); os.execv(sys.executable, [sys.executable, '-m', 'argilla_hooks', 'events', '--json'])"
    result = subprocess.run([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True)
    assert result.returncode == 2
    assert result.stderr == "error: stdout is closed; to discard the output, redirect it to /dev/null instead\n"


# --- NO_COLOR ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("no_color", "styled"), [("1", False), ("", True)])
def test_no_color_leaves_no_escape_code_on_a_terminal(monkeypatch, no_color, styled):
    import io

    monkeypatch.setenv("NO_COLOR", no_color)  # empty means unset, as no-color.org says
    shown = io.StringIO()
    console = output.new_console(file=shown, force_terminal=True)
    console.print("header", style="bold")
    console.print("disabled row", style="dim")
    console.print("error", style="red")
    assert ("\x1b[" in shown.getvalue()) is styled


def terminal_output(args: list[str], env: dict) -> str:
    """What `hooks ARGS` writes to stdout when stdout is a terminal."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "argilla_hooks", *args], stdout=slave, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL, env=env)
    os.close(slave)
    shown = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed its end
            break
        if not chunk:
            break
        shown += chunk
    os.close(master)
    assert proc.wait(timeout=30) == 0
    return shown.decode()


@pytest.mark.parametrize(("no_color", "styled"), [("1", False), ("", True)])
def test_no_color_leaves_no_escape_code_in_the_help_either(no_color, styled):
    # typer's rich help kept its bold and dim under NO_COLOR (rich drops only colours).
    shown = terminal_output(["create", "--help"], {**os.environ, "NO_COLOR": no_color, "TERM": "xterm"})
    assert "Usage" in shown and ("\x1b[" in shown) is styled


# --- a locale that is not UTF-8 ----------------------------------------------------------------------------------

ASCII_LOCALE = {"LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONIOENCODING": "ascii"}


def in_ascii_locale(args: list[str], **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in ("LANG", "LC_CTYPE")}
    return subprocess.run(
        [sys.executable, "-m", "argilla_hooks", *args], capture_output=True, text=True, encoding="utf-8",
        env={**environment, **ASCII_LOCALE, **env}, stdin=subprocess.DEVNULL, timeout=60,
    )


def test_non_ascii_text_goes_in_and_out_whatever_the_locale(served_argilla):
    # The arguments are read as UTF-8 (not as surrogates no request can carry); stdout escapes what ASCII lacks, which
    # keeps JSON valid; nothing crashes half-way with UnicodeEncodeError after the change was made.
    text = "déploiement 🚀"
    env = {"ARGILLA_API_URL": served_argilla.url}
    created = in_ascii_locale(["create", "http://127.0.0.1:9/", "-e", "*", "-d", text, "--json"], **env)
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["description"] == text and served_argilla.webhooks[0]["description"] == text
    assert created.stdout.isascii()
    listed = in_ascii_locale(["list"], **env)
    assert listed.returncode == 0 and "d\\u00e9ploiement \\ud83d\\ude80" in listed.stdout


def test_stdin_is_read_as_utf8_whatever_the_locale(served_argilla, tmp_path):
    file = tmp_path / "w.json"
    file.write_text('{"webhooks": [{"url": "http://127.0.0.1:9/", "events": ["*"], "description": "été"}]}', encoding="utf-8")
    environment = {k: v for k, v in os.environ.items() if k not in ("LANG", "LC_CTYPE")}
    with open(file, "rb") as stdin:
        result = subprocess.run(
            [sys.executable, "-m", "argilla_hooks", "apply", "-f", "-", "--json"], stdin=stdin, capture_output=True,
            env={**environment, **ASCII_LOCALE, "ARGILLA_API_URL": served_argilla.url}, timeout=60,
        )
    assert result.returncode == 0, result.stderr
    assert served_argilla.webhooks[0]["description"] == "été"


@pytest.mark.parametrize("width", [20, 80, 200])
def test_a_narrow_terminal_still_shows_whole_ids_urls_and_event_names(fake_argilla, monkeypatch, width):
    import io

    hook = fake_argilla.add(
        url="https://example.com/a-receiver-with-a-long-path", events=["dataset.created", "response.created"],
        description="a description long enough to need the room",
    )
    shown = io.StringIO()
    monkeypatch.setattr(output, "stdout_is_terminal", lambda: True)
    monkeypatch.setattr(output, "_console", lambda stderr: output.new_console(file=shown, width=width))
    assert hooks("list").exit_code == 0
    # At 80 columns the URL and `response.created` were folded mid-word (`https://exampl` / `e.com/...`), at 20
    # the short id into 2-character pieces: a terminal too narrow for the table gets a block of lines per webhook.
    assert hook["id"][:8] in shown.getvalue() and hook["url"] in shown.getvalue() and "response.created" in shown.getvalue()
    if width == 200:
        assert shown.getvalue().startswith("ID ") and "need the room" in shown.getvalue()
    else:
        assert f"url:         {hook['url']}\n" in shown.getvalue() and "description: a description long enough to need the room\n" in shown.getvalue()


def test_times_for_people_are_local_with_their_zone_and_json_stays_iso(served_argilla):
    # Issue 18, item 4: `hooks list` showed UTC without saying so, while `hooks listen` printed local time.
    served_argilla.add()
    env = {**os.environ, "ARGILLA_API_URL": served_argilla.url, "TZ": "America/New_York"}
    listed = subprocess.run([sys.executable, "-m", "argilla_hooks", "list"], env=env, capture_output=True, text=True)
    shown = subprocess.run([sys.executable, "-m", "argilla_hooks", "show", served_argilla.webhooks[0]["id"][:8]], env=env, capture_output=True, text=True)
    as_json = subprocess.run([sys.executable, "-m", "argilla_hooks", "list", "--json"], env=env, capture_output=True, text=True)
    stored = served_argilla.webhooks[0]["updated_at"]  # naive UTC, as Argilla writes it
    local = datetime.fromisoformat(stored).replace(tzinfo=timezone.utc).astimezone(ZoneInfo("America/New_York"))
    assert local.strftime("%Y-%m-%d %H:%M %Z") in listed.stdout, listed.stdout + listed.stderr
    assert f"updated_at:  {local.strftime('%Y-%m-%d %H:%M:%S %Z')}" in shown.stdout
    assert json.loads(as_json.stdout)[0]["updated_at"].startswith(stored[:19])


@pytest.mark.parametrize(("no_color", "escapes"), [("1", False), ("", True)])
def test_hooks_work_redraws_no_status_line_under_no_color(monkeypatch, no_color, escapes):
    # Its status line, redrawn in place, wrote cursor escapes (\x1b[2K, \x1b[?25l) under NO_COLOR.
    import io
    from types import SimpleNamespace

    from argilla_hooks.cli.work.output import WorkPrinter

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setenv("NO_COLOR", no_color)
    shown = Terminal()
    printer = WorkPrinter(shown, as_json=False, verbose=False)
    config = SimpleNamespace(url="redis://127.0.0.1:6379/0", group="workers", concurrency=4, max_attempts=5, claim_idle=60.0)
    printer.ready(config, "worker-1", ["handlers:notify"], [])
    tally = SimpleNamespace(in_flight=1, done=2, retries=0, dead=0, given_back=0, redis_error=None)
    printer.status(tally)
    printer.stopped(tally)
    assert ("\x1b[" in shown.getvalue()) is escapes
    assert shown.getvalue().endswith("stopped: 2 done, 0 retries, 0 dead, 0 given back\n")
