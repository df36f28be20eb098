"""`argilla_hooks` as a library: what it exports, what importing it costs, and that type checkers see its types."""

import subprocess
import sys
import textwrap

import argilla_hooks


def test_every_exported_name_resolves_and_is_listed():
    assert set(argilla_hooks.__all__) == {"__version__", *argilla_hooks._LAZY}
    for name in argilla_hooks.__all__:
        assert getattr(argilla_hooks, name) is not None
    assert set(argilla_hooks.__all__) <= set(dir(argilla_hooks))  # REPL and IDE completion offer them


def test_the_receiver_and_client_import_no_server_or_cli():
    # "a plain ASGI app factory (no uvicorn import)": a production server picks its own. (rich arrives with httpx,
    # whose own command-line tool imports it when it is installed.)
    probe = "import sys; from argilla_hooks import create_app, on, ArgillaClient, Dataset; print(sorted(m for m in ('uvicorn', 'typer') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_a_type_checker_sees_the_public_api_typed(tmp_path):
    # Without py.typed mypy skipped the package, and the lazy exports made every name Any: no error was ever found.
    script = tmp_path / "user.py"
    script.write_text(textwrap.dedent('''
        from argilla_hooks import ArgillaClient, Dataset, create_app, on

        client = ArgillaClient("http://localhost:6900", "key")
        count: int = client.list()
        app: int = create_app(secrets=["a2V5"])

        @on("dataset.created")
        def handler(dataset: Dataset, type: str) -> None:
            print(dataset.name, type)
    '''))
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir", str(tmp_path / "cache"), str(script)],
        capture_output=True, text=True, cwd=tmp_path,
    )
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert len(errors) == 2, result.stdout + result.stderr
    assert 'expression has type "list[Webhook]", variable has type "int"' in errors[0]
    assert 'expression has type "ReceiverApp", variable has type "int"' in errors[1]


def test_the_package_itself_type_checks(tmp_path):
    # py.typed promises these types to every user's type checker; 52 errors had crept in while nothing checked them.
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", "--cache-dir", str(tmp_path / "cache"), "-p", "argilla_hooks"],
        capture_output=True, text=True, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
