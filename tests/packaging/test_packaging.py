"""Packaging (issue 4): the sdist and wheel build, and `pipx install .` and `uv tool install .` give a working `hooks`.

The README sends users of a system Python that refuses pip to pipx and uv tool: these tests do just that, from this
checkout, with every directory the installers write to under tmp_path, and run what they installed. pipx and uv come
with the test extras; a missing one fails here, never skips. The installers fetch dependencies from PyPI.
"""

import configparser
import email
import json
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import argilla_hooks
from argilla_hooks.events import ALL_EVENTS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).parents[2]
BIN = Path(sys.executable).parent  # where the test extras put pipx and uv
VERSION = argilla_hooks.__version__
SCRIPTS = {"hooks": "argilla_hooks.cli.app:main", "argilla-hooks": "argilla_hooks.cli.app:main"}

pytestmark = pytest.mark.packaging


def tool(name: str) -> Path:
    path = BIN / name
    assert path.exists(), f"no {name} beside {sys.executable}: install the test extras (pip install -e '.[test]')"
    return path


def run(*args, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    # A timeout of our own: pytest-timeout's thread method would end the whole run, not just this test.
    result = subprocess.run([str(arg) for arg in args], capture_output=True, text=True, stdin=subprocess.DEVNULL,
                            env=env, cwd=cwd, timeout=120)
    assert result.returncode == 0, f"{args} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result


def uv_env(tmp: Path) -> dict[str, str]:
    # No uv-managed Python may be downloaded: the tools get the interpreter running the tests.
    return {**os.environ, "UV_TOOL_DIR": str(tmp / "uv-tools"), "UV_TOOL_BIN_DIR": str(tmp / "uv-bin"),
            "UV_CACHE_DIR": str(tmp / "uv-cache"), "UV_PYTHON_INSTALL_DIR": str(tmp / "uv-python"),
            "UV_PYTHON_DOWNLOADS": "never"}


def test_the_version_lives_in_argilla_hooks_init_only():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" in pyproject["project"]["dynamic"] and "version" not in pyproject["project"]
    assert pyproject["tool"]["hatch"]["version"]["path"] == "argilla_hooks/__init__.py"


def test_sdist_and_wheel_build_with_every_module_the_license_and_both_commands(tmp_path):
    # uv build makes the wheel from the sdist, not from the checkout, so a file missing from the sdist fails it too.
    run(tool("uv"), "build", "--python", sys.executable, "--out-dir", tmp_path / "dist", ROOT, env=uv_env(tmp_path))
    [wheel] = (tmp_path / "dist").glob("*.whl")
    [sdist] = (tmp_path / "dist").glob("*.tar.gz")
    assert (wheel.name, sdist.name) == (f"argilla_hooks-{VERSION}-py3-none-any.whl", f"argilla_hooks-{VERSION}.tar.gz")

    info = f"argilla_hooks-{VERSION}.dist-info"
    with zipfile.ZipFile(wheel) as archive:
        in_wheel = set(archive.namelist())
        metadata = email.message_from_bytes(archive.read(f"{info}/METADATA"))
        entry_points = configparser.ConfigParser()
        entry_points.read_string(archive.read(f"{info}/entry_points.txt").decode())
    package = {path.relative_to(ROOT).as_posix() for path in (ROOT / "argilla_hooks").rglob("*")
               if path.is_file() and "__pycache__" not in path.parts}
    assert "argilla_hooks/__init__.py" in in_wheel
    assert package - in_wheel == set()  # every module, py.typed and any data file
    assert f"{info}/licenses/LICENSE" in in_wheel
    assert metadata["Version"] == VERSION
    assert dict(entry_points["console_scripts"]) == SCRIPTS

    with tarfile.open(sdist) as archive:
        in_sdist = set(archive.getnames())
        pkg_info = email.message_from_bytes(archive.extractfile(f"argilla_hooks-{VERSION}/PKG-INFO").read())
    for name in ("LICENSE", "README.md", "pyproject.toml", "argilla_hooks/__init__.py"):
        assert f"argilla_hooks-{VERSION}/{name}" in in_sdist
    assert pkg_info["Version"] == VERSION


def check_installed(bin_dir: Path, venv: Path, tmp: Path) -> None:
    """The commands in bin_dir run from the package installed in venv, not from this checkout."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ARGILLA_HOOKS_")}
    env.update(ARGILLA_HOOKS_CONFIG=str(tmp / "config.toml"), NO_COLOR="1")
    for program in SCRIPTS:
        assert run(bin_dir / program, "--version", env=env, cwd=tmp).stdout == f"argilla-hooks {VERSION}\n"
    assert "Usage" in run(bin_dir / "hooks", "--help", env=env, cwd=tmp).stdout
    events = json.loads(run(bin_dir / "hooks", "events", "--json", env=env, cwd=tmp).stdout)
    assert [event["name"] for event in events] == list(ALL_EVENTS)
    assert [event["name"] for event in events if not event["subscribable"]] == ["ping"]
    # An editable or path-based install would pass the above while importing the checkout.
    where = run(venv / "bin" / "python", "-c", "import argilla_hooks; print(argilla_hooks.__file__)", cwd=tmp).stdout
    assert Path(where.strip()).resolve().is_relative_to(venv.resolve())


# pipx uses uv when it can find it (it can here: the test extras bring it) and pip otherwise: users get either.
@pytest.mark.parametrize("backend", ["pip", "uv"])
def test_pipx_install_gives_working_commands(tmp_path, backend):
    env = {**os.environ, "PIPX_HOME": str(tmp_path / "pipx"), "PIPX_BIN_DIR": str(tmp_path / "pipx-bin"),
           "PIPX_MAN_DIR": str(tmp_path / "pipx-man"), "PIPX_COMPLETION_DIR": str(tmp_path / "pipx-completions"),
           "UV_CACHE_DIR": str(tmp_path / "uv-cache")}
    run(tool("pipx"), "install", "--backend", backend, "--python", sys.executable, ROOT, env=env)
    check_installed(tmp_path / "pipx-bin", tmp_path / "pipx" / "venvs" / "argilla-hooks", tmp_path)


def test_uv_tool_install_gives_working_commands(tmp_path):
    run(tool("uv"), "tool", "install", "--python", sys.executable, ROOT, env=uv_env(tmp_path))
    check_installed(tmp_path / "uv-bin", tmp_path / "uv-tools" / "argilla-hooks", tmp_path)
