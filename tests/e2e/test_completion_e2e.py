"""Shell completion of webhook ids from a real Argilla server, through the committed scripts in real shells."""

import os
from pathlib import Path

from tests.shell_completion import bash_complete, fish_complete


def on_path(env: dict[str, str], executable: str) -> dict[str, str]:
    return {**env, "PATH": f"{Path(executable).parent}{os.pathsep}{os.environ['PATH']}"}


def test_show_completes_the_ids_of_the_servers_webhooks(hooks, _owner):
    made = [_owner.post("/api/v1/webhooks", json={"url": f"http://127.0.0.1:9/{i}", "events": ["dataset.created"]}) for i in range(2)]
    ids = [response.raise_for_status().json()["id"] for response in made]
    env = on_path(hooks.env, hooks.executable)

    assert sorted(bash_complete("show", "", env=env)) == sorted(ids)
    assert bash_complete("show", ids[1][:8], env=env) == [ids[1]]
    assert sorted(bash_complete("delete", ids[0], "", env=env)) == sorted(ids)
    assert bash_complete("show", "", env={**env, "ARGILLA_API_KEY": "wrong-key"}) == []  # quietly nothing


def test_ids_come_from_the_server_that_the_options_on_the_line_name(hooks, argilla, _owner, tmp_path):
    made = _owner.post("/api/v1/webhooks", json={"url": "http://127.0.0.1:9/line", "events": ["dataset.created"]})
    hook_id = made.raise_for_status().json()["id"]
    env = on_path(hooks.env, hooks.executable)
    nowhere = {**env, "ARGILLA_API_URL": "http://127.0.0.1:9", "ARGILLA_API_KEY": "wrong-key"}

    assert bash_complete("show", "", env=nowhere) == []
    # fish, since bash's readline splits the URL at its colons
    line = f"hooks show --api-url {argilla.api_url} --api-key {argilla.owner_key} "
    assert fish_complete(line, env=nowhere, cwd=tmp_path) == [(hook_id, "http://127.0.0.1:9/line")]
    # a profile named on the line, as the command itself would use it (the environment still wins over a profile)
    config = tmp_path / "profiles.toml"
    config.write_text(f'[profiles.e2e]\napi_url = "{argilla.api_url}"\napi_key = "{argilla.owner_key}"\n')
    no_env = {k: v for k, v in env.items() if k not in ("ARGILLA_API_URL", "ARGILLA_API_KEY")}
    no_env["ARGILLA_HOOKS_CONFIG"] = str(config)
    assert bash_complete("show", "", env=no_env) == []  # the default profile does not exist
    assert bash_complete("show", "--profile", "e2e", "", env=no_env) == [hook_id]
    assert bash_complete("trigger", "ping", "--profile", "e2e", "--webhook", "", env=no_env) == [hook_id]
