import pytest
import respx

from tests.unit.fake_argilla import API, OWNER_KEY, FakeArgilla


@pytest.fixture
def fake_argilla():
    with respx.mock(assert_all_called=False) as router:
        yield FakeArgilla(router)


@pytest.fixture(autouse=True)
def isolated_settings(monkeypatch, tmp_path):
    """Every unit test gets its own config file and the fake server's credentials."""
    monkeypatch.setenv("ARGILLA_HOOKS_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("ARGILLA_API_URL", API)
    monkeypatch.setenv("ARGILLA_API_KEY", OWNER_KEY)
    monkeypatch.delenv("ARGILLA_HOOKS_PROFILE", raising=False)
    monkeypatch.delenv("ARGILLA_HOOKS_DEBUG", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
