"""Run `hooks` in-process as its console script does: through `main()`, the one place that catches failures, with
stdout and stderr apart and stdin given, for the CLI's unit tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from typer.testing import CliRunner

from argilla_hooks.cli.app import main


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def hooks(*args: str, input: Optional[str] = None, env: Optional[dict[str, str]] = None) -> Result:
    with CliRunner().isolation(input=input, env=env) as (stdout, stderr, _):
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
        return Result(code, stdout.getvalue().decode(), stderr.getvalue().decode())
