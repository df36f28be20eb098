"""The shape the package keeps: public APIs of its dependencies only, small functions and modules, no import cycle."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[2] / "argilla_hooks"
SOURCES = sorted(PACKAGE.rglob("*.py"))
DEPENDENCIES = {
    "anyio", "click", "httpcore", "httptools", "httpx", "orjson", "pydantic", "pydantic_core", "redis", "rich",
    "standardwebhooks", "starlette", "tomli", "tomli_w", "typer", "uvicorn", "uvloop", "watchfiles", "argilla",
}  # fmt: skip
# The one module allowed past uvicorn's documented API (its docstring says what it relies on; pyproject bounds uvicorn).
FENCED = {PACKAGE / "cli" / "listen" / "http_limits.py"}
MAX_FUNCTION, MAX_MODULE = 60, 400


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _private_uses(path: Path, root: Path = PACKAGE.parent) -> list[str]:
    """Names of dependencies that are not theirs to give: any dotted part or imported name starting with `_`, any
    uvicorn module but `uvicorn` itself, and the same spelt in a string (sys.modules tricks)."""
    tree = ast.parse(path.read_text())
    found, aliases = [], {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                aliases[alias.asname or alias.name.split(".")[0]] = alias.name
                found += _private_module(alias.name, [])
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found += _private_module(node.module, [a.name for a in node.names])
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            module = aliases.get(node.value.id)
            if module and module.split(".")[0] in DEPENDENCIES and node.attr.startswith("_") and not node.attr.startswith("__"):
                found.append(f"{node.value.id}.{node.attr}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found += [node.value for dep in DEPENDENCIES if f"{dep}._" in node.value]
    return [f"{path.relative_to(root)}: {name}" for name in found]


def _private_module(module: str, names: list[str]) -> list[str]:
    top, *rest = module.split(".")
    if top not in DEPENDENCIES:
        return []
    private = any(part.startswith("_") for part in rest) or any(n.startswith("_") for n in names)
    internal = top == "uvicorn" and rest != []
    return [f"{module} import {', '.join(names)}".rstrip(" import ")] if private or internal else []


def test_no_private_name_of_a_dependency_outside_the_fenced_module():
    used = [use for path in SOURCES if path not in FENCED for use in _private_uses(path)]
    assert used == []


def test_the_scan_finds_what_it_looks_for(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import typer\nfrom typer._click import Context\nfrom uvicorn.protocols.http import x\nimport httpx\n"
        "httpx._main\nsys.modules['httpx._main'] = None\nfrom anyio import _backends\nfrom uvicorn import Config\n"
    )
    assert len(_private_uses(sample, root=tmp_path)) == 5


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_and_functions_stay_small(path):
    lines = path.read_text().splitlines()
    assert len(lines) <= MAX_MODULE, f"{len(lines)} lines"
    long = [
        f"{node.name}: {node.end_lineno - node.lineno + 1} lines"
        for node in ast.walk(ast.parse("\n".join(lines)))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION
        and not _returns_a_literal(node)
    ]
    assert long == []


def _returns_a_literal(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """A function that builds one data literal (a sample payload) is data, whatever its length."""
    body = [n for n in node.body if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]
    return len(body) == 1 and isinstance(body[0], ast.Return) and isinstance(body[0].value, (ast.Dict, ast.List))


def test_no_import_cycle():
    modules = {_module_name(path): path for path in SOURCES}
    graph = {name: sorted(_imported(path, modules)) for name, path in modules.items()}
    cycles = []

    def visit(name: str, trail: list[str]) -> None:
        if name in trail:
            cycles.append(" -> ".join(trail[trail.index(name) :] + [name]))
            return
        for other in graph[name]:
            if other not in done:
                visit(other, [*trail, name])
        done.add(name)

    done: set[str] = set()
    for name in graph:
        visit(name, [])
    assert cycles == []


def _imported(path: Path, modules: dict[str, Path]) -> set[str]:
    """The package's modules that `path` imports when it is imported (module level only: an import inside a function
    runs later, and so makes no cycle at import time)."""
    found = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.If):  # `if TYPE_CHECKING:` blocks are skipped: nothing runs them
            continue
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name in modules}
        elif isinstance(node, ast.ImportFrom) and node.module in modules:
            found |= {f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module for a in node.names}
    return found - {_module_name(path)}
