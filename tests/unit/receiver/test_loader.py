"""Loading `module:function` handler targets: one clean error per mistake, the user's own import errors untouched."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest

from argilla_hooks.receiver.loader import HandlerLoadError, load_handler


@pytest.fixture
def app_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A folder for handler modules with unique names; sys.path and sys.modules are restored afterwards."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        del sys.modules[name]


def write_module(app_dir: Path, source: str) -> str:
    name = f"hooks_{uuid.uuid4().hex[:12]}"
    (app_dir / f"{name}.py").write_text(source)
    return name


def test_loads_a_function_from_a_module_in_app_dir(app_dir):
    name = write_module(app_dir, "def handle(data):\n    return data\n")
    handler = load_handler(f"{name}:handle", str(app_dir))
    assert handler({"x": 1}) == {"x": 1}
    assert str(app_dir) in sys.path


def test_loads_dotted_attributes_and_packages(app_dir):
    package = f"pkg_{uuid.uuid4().hex[:12]}"
    (app_dir / package).mkdir()
    (app_dir / package / "__init__.py").write_text("")
    (app_dir / package / "hooks.py").write_text("class Hooks:\n    @staticmethod\n    def handle():\n        return 'ok'\n")
    assert load_handler(f"{package}.hooks:Hooks.handle", str(app_dir))() == "ok"


@pytest.mark.parametrize("target", ["no_colon", ":handle", "module:", "a:b:c"])
def test_a_target_not_in_module_function_form_is_refused(target):
    with pytest.raises(HandlerLoadError, match="form 'module:function'"):
        load_handler(target)


def test_a_missing_module_is_a_clean_error(app_dir):
    with pytest.raises(HandlerLoadError, match="could not import module 'no_such_module_xyz'") as info:
        load_handler("no_such_module_xyz:handle", str(app_dir))
    assert "\n" not in str(info.value)


def test_a_missing_parent_package_is_a_clean_error(app_dir):
    with pytest.raises(HandlerLoadError, match="could not import module"):
        load_handler("no_such_pkg_xyz.hooks:handle", str(app_dir))


def test_a_missing_attribute_is_a_clean_error_with_a_suggestion(app_dir):
    name = write_module(app_dir, "def handle_event():\n    pass\n")
    with pytest.raises(HandlerLoadError, match=r"has no attribute 'handle_evnt' \(did you mean 'handle_event'\?\)"):
        load_handler(f"{name}:handle_evnt", str(app_dir))


def test_a_non_callable_is_a_clean_error(app_dir):
    name = write_module(app_dir, "handle = 42\n")
    with pytest.raises(HandlerLoadError, match="not callable"):
        load_handler(f"{name}:handle", str(app_dir))


def test_an_import_error_inside_the_users_module_propagates_with_its_traceback(app_dir):
    name = write_module(app_dir, "import definitely_missing_dependency_xyz\n\ndef handle():\n    pass\n")
    with pytest.raises(ModuleNotFoundError) as info:
        load_handler(f"{name}:handle", str(app_dir))
    assert info.value.name == "definitely_missing_dependency_xyz"
    assert any(name in str(entry.path) for entry in info.traceback)


def test_any_other_error_inside_the_users_module_propagates(app_dir):
    name = write_module(app_dir, "raise RuntimeError('boom at import')\n")
    with pytest.raises(RuntimeError, match="boom at import"):
        load_handler(f"{name}:handle", str(app_dir))
