"""The README's first steps work as written: its install script, and its examples that need no Argilla server.

Which blocks run, and how, is the convention docs/development.md describes: `<!-- readme-test: run -->` before a
console block runs its `$` lines, in order, in one bash session for the whole README, with the installed `hooks` first
on PATH; `<!-- readme-test: file -->` before a block whose first line is `# NAME` writes it to NAME first. Blocks that
need a server are left to the end-to-end tests.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
MARKED_BLOCK = re.compile(r"^<!-- readme-test: (\w+) -->\n```\w*\n(.*?)^```$", re.MULTILINE | re.DOTALL)
DOC_PORT = "8000"  # the port the README's examples use; the test serves on a free one instead


@dataclass
class Command:
    line: int  # in README.md
    text: str
    shown: list[str] = field(default_factory=list)  # the output the README shows under it

    @property
    def background(self) -> bool:
        return re.search(r"(?<!&)&\s*(#.*)?$", self.text) is not None


def marked_blocks() -> tuple[dict[str, str], list[Command]]:
    """The README's files to write and commands to run, in order."""
    text = README.read_text()
    files: dict[str, str] = {}
    commands: list[Command] = []
    for match in MARKED_BLOCK.finditer(text):
        kind, body = match.groups()
        first_line = text.count("\n", 0, match.start(2)) + 1
        if kind == "file":
            name = re.fullmatch(r"# (\S+)", body.splitlines()[0])
            assert name, f"README.md:{first_line}: a readme-test file block starts with `# NAME`"
            files[name.group(1)] = body
        elif kind == "run":
            for offset, line in enumerate(body.splitlines()):
                if line.startswith("$ "):
                    commands.append(Command(first_line + offset, line[2:]))
                elif line.strip():
                    assert commands and commands[-1].line >= first_line, f"README.md:{first_line + offset}: output before any command"
                    commands[-1].shown.append(line)
        else:
            raise AssertionError(f"README.md: unknown readme-test marker {kind!r}")
    return files, commands


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def session_script(commands: list[Command], port: int, out: Path) -> str:
    """One bash script: each command as written (but for the port), its output and exit code kept in `out`. A
    background command on the port starts once the one before it on the port has exited, and the next command once
    something listens there; background pids are kept in `out/pids` for the test to stop."""
    lines = [
        "wait_for_port() {  # PID: until the port accepts a connection, or PID has exited (10 s at most)",
        "  for _ in $(seq 200); do",
        f"    (exec 3<>/dev/tcp/127.0.0.1/{port}) 2>/dev/null && return",
        "    kill -0 \"$1\" 2>/dev/null || return; sleep 0.05",
        "  done",
        "}",
        "wait_for_exit() { for _ in $(seq 200); do kill -0 \"$1\" 2>/dev/null || return; sleep 0.05; done; }",
    ]
    for number, command in enumerate(commands):
        serves = command.background and DOC_PORT in command.text
        if serves:  # as in a terminal, where the listener stopped before has gone by the time one types this
            lines.append(f"for pid in $(cat {out}/serving 2>/dev/null); do wait_for_exit $pid; done")
        text = command.text.replace(DOC_PORT, str(port))
        lines.append(f"{{ {text}\n}} >{out}/{number}.out 2>{out}/{number}.err")
        lines.append(f"echo $? >{out}/{number}.rc")
        if command.background:
            lines.append(f"echo $! {number} >>{out}/pids")
        if serves:
            lines.append(f"echo $! >>{out}/serving")
            lines.append("wait_for_port $!")
    # Give what the README stopped time to finish (its output is checked); what it did not stop is stopped by the test.
    lines.append(f"[ -f {out}/pids ] && while read -r pid _; do wait_for_exit $pid; done <{out}/pids")
    return "\n".join(lines) + "\n"


def shown_matches(shown: list[str], output: str) -> bool:
    """The output is what the README shows, line for line; `...` stands for any text within a line."""
    pattern = "\n".join(".*".join(map(re.escape, line.rstrip().split("..."))) for line in shown)
    actual = "\n".join(line.rstrip() for line in output.strip("\n").splitlines())
    return re.fullmatch(pattern, actual) is not None


def test_the_readme_has_the_examples_this_test_runs():
    """A marker lost in an edit would otherwise make the next test pass by running nothing."""
    files, commands = marked_blocks()
    assert "handlers.py" in files
    ran = " ; ".join(c.text for c in commands)
    for expected in ("hooks listen", "hooks trigger", "hooks events", "kill $!"):
        assert expected in ran
    text = README.read_text()
    assert text.count("<!-- readme-test:") == len(MARKED_BLOCK.findall(text)), "a marker stands right before a block"


def test_the_readme_examples_that_need_no_server_run_as_written(tmp_path):
    files, commands = marked_blocks()
    work, out, home = tmp_path / "work", tmp_path / "out", tmp_path / "home"
    for directory in (work, out, home):
        directory.mkdir()
    for name, body in files.items():
        (work / name).write_text(body)
    port = free_port()
    script = session_script(commands, port, out)
    env = {key: value for key, value in os.environ.items() if key != "ARGILLA_WEBHOOK_SECRET"}
    # The installed hooks (beside this interpreter) first; HOME a scratch one, so nothing outside tmp_path is touched.
    env.update(PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}", HOME=str(home), NO_COLOR="1")
    session = subprocess.Popen(["bash", "-c", script], cwd=work, env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        session_output, _ = session.communicate(timeout=60)
    finally:
        left_running = stop_what_it_started(session, out / "pids")
    never_stopped = [f"README.md:{commands[n].line}: $ {commands[n].text}" for n in left_running]
    assert not never_stopped, "started in the background and never stopped:\n" + "\n".join(never_stopped)

    for number, command in enumerate(commands):
        where = f"README.md:{command.line}: $ {command.text}"
        rc_file = out / f"{number}.rc"
        assert rc_file.exists(), f"{where}\nnever ran; the session said:\n{session_output}"
        stdout, stderr = (out / f"{number}.out").read_text(), (out / f"{number}.err").read_text()
        said = f"{where}\n--- stdout\n{stdout}--- stderr\n{stderr}"
        assert rc_file.read_text().strip() == "0", f"exit {rc_file.read_text().strip()}: {said}"
        shown = [line.replace(DOC_PORT, str(port)) for line in command.shown]
        if shown:
            assert shown_matches(shown, stdout + stderr), "the README shows\n" + "\n".join(command.shown) + f"\n{said}"


def stop_what_it_started(session: subprocess.Popen, pids: Path) -> list[int]:
    """Stop the session and whatever it left running (all in the session's own process group), and say which
    background commands those were."""
    if session.poll() is None:
        os.killpg(session.pid, signal.SIGKILL)
        session.wait()
    started = [tuple(map(int, line.split())) for line in pids.read_text().splitlines()] if pids.exists() else []
    left_running = [number for pid, number in started if in_group(pid, session.pid)]
    if left_running:
        os.killpg(session.pid, signal.SIGKILL)
    return left_running


def in_group(pid: int, group: int) -> bool:
    try:
        return os.getpgid(pid) == group
    except ProcessLookupError:
        return False


def test_every_link_between_the_readme_and_docs_leads_to_a_file():
    for page in [README, *DOCS.glob("*.md")]:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text()):
            if "://" not in target:
                assert (page.parent / target).exists(), f"{page.relative_to(ROOT)} links to {target}, which does not exist"


def test_the_readme_stays_a_front_door():
    assert len(README.read_text().splitlines()) <= 250, "the README is the front door; depth belongs in docs/"


# scripts/venv.sh on a Debian or Ubuntu whose python3 lacks ensurepip, with fakes for python3, id, sudo and apt-get.

FAKE_PYTHON = f"""#!{sys.executable}
import os, sys
flag, args = os.environ["FAKE_INSTALLED"], sys.argv[1:]
if args[:2] == ["-m", "venv"]:
    os.makedirs(args[2] + "/bin", exist_ok=True)
    open(args[2] + "/pyvenv.cfg", "w").close()
    if not os.path.lexists(args[2] + "/bin/python"):
        os.symlink("{sys.executable}", args[2] + "/bin/python")
    if not os.path.exists(flag):
        print("The virtual environment was not created successfully because ensurepip is not\\navailable.")
        sys.exit(1)
    open(args[2] + "/bin/pip", "w").close()
elif args[:1] == ["-c"] and "ensurepip" in args[1] and not os.path.exists(flag):
    sys.exit("ModuleNotFoundError: No module named 'ensurepip'")
else:
    os.execv("{sys.executable}", ["{sys.executable}", *args])
"""


def fake_debian(tmp_path: Path, *, uid: int, sudo: str | None) -> tuple[Path, dict[str, str]]:
    """A PATH holding only the fakes and the tools scripts/venv.sh needs; sudo None: no sudo, "ok": a usable one,
    "password": one that would ask for a password."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fakes = {
        "python3": FAKE_PYTHON,
        "id": f"#!/bin/sh\necho {uid}\n",
        "apt-get": '#!/bin/sh\necho "apt-get $*" >>"$FAKE_LOG"\ncase " $* " in *" install "*) : >"$FAKE_INSTALLED";; esac\n',
        "apt-cache": "#!/bin/sh\nexit 0\n",
    }
    if sudo:
        fakes["sudo"] = f'#!/bin/sh\n[ "$1" = -n ] && exit {0 if sudo == "ok" else 1}\necho "sudo $1" >>"$FAKE_LOG"\nexec "$@"\n'
    for name, text in fakes.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    for tool in ("env", "ls"):
        (bin_dir / tool).symlink_to(next(Path(d, tool) for d in ("/usr/bin", "/bin") if Path(d, tool).exists()))
    env = {"PATH": str(bin_dir), "HOME": str(tmp_path), "FAKE_LOG": str(tmp_path / "log"),
           "FAKE_INSTALLED": str(tmp_path / "installed")}
    return tmp_path / "venv", env


def make_venv(venv: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(["/bin/bash", "-c", f'source {ROOT}/scripts/venv.sh && make_venv "$1"', "install", str(venv)],
                          env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)


def log(tmp_path: Path) -> list[str]:
    return (tmp_path / "log").read_text().splitlines() if (tmp_path / "log").exists() else []


python_version = f"{sys.version_info.major}.{sys.version_info.minor}"


def test_make_venv_as_root_installs_python3_venv_with_apt_get_then_makes_the_virtualenv(tmp_path):
    venv, env = fake_debian(tmp_path, uid=0, sudo=None)
    result = make_venv(venv, env)
    assert result.returncode == 0, result.stderr
    assert log(tmp_path) == ["apt-get update -qq", f"apt-get install -y -qq python{python_version}-venv"]
    assert (venv / "bin" / "pip").exists()
    assert f"installing python{python_version}-venv with apt-get" in result.stderr


def test_make_venv_goes_through_sudo_when_not_root(tmp_path):
    venv, env = fake_debian(tmp_path, uid=1000, sudo="ok")
    result = make_venv(venv, env)
    assert result.returncode == 0, result.stderr
    assert log(tmp_path) == ["sudo env", "apt-get update -qq", "sudo env", f"apt-get install -y -qq python{python_version}-venv"]


@pytest.mark.parametrize("sudo, command", [
    (None, "apt-get update && apt-get install -y python{v}-venv"),
    ("password", "sudo apt-get update && sudo apt-get install -y python{v}-venv"),
])
def test_make_venv_without_root_or_usable_sudo_prints_the_one_command_to_run(tmp_path, sudo, command):
    venv, env = fake_debian(tmp_path, uid=1000, sudo=sudo)
    result = make_venv(venv, env)
    assert result.returncode == 1
    assert log(tmp_path) == []  # nothing was tried
    assert f"\n    {command.format(v=python_version)}\n" in result.stderr
    assert "then run scripts/install again" in result.stderr


def test_make_venv_leaves_a_complete_virtualenv_alone_and_refuses_a_directory_of_something_else(tmp_path):
    venv, env = fake_debian(tmp_path, uid=0, sudo=None)
    (tmp_path / "installed").touch()
    assert make_venv(venv, env).returncode == 0
    again = make_venv(venv, env)
    assert (again.returncode, again.stderr, log(tmp_path)) == (0, "", [])

    elsewhere = tmp_path / "photos"
    elsewhere.mkdir()
    (elsewhere / "cat.jpg").touch()
    refused = make_venv(elsewhere, env)
    assert refused.returncode == 1 and "is not empty and not a virtualenv" in refused.stderr
    assert [p.name for p in elsewhere.iterdir()] == ["cat.jpg"]
