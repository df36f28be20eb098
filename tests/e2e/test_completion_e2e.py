"""Shell completion of webhook ids from a real Argilla server, through the committed bash script."""

import os
from pathlib import Path

from tests.bash_completion import bash_complete


def test_show_completes_the_ids_of_the_servers_webhooks(hooks, _owner):
    made = [_owner.post("/api/v1/webhooks", json={"url": f"http://127.0.0.1:9/{i}", "events": ["dataset.created"]}) for i in range(2)]
    ids = [response.raise_for_status().json()["id"] for response in made]
    env = {**hooks.env, "PATH": f"{Path(hooks.executable).parent}{os.pathsep}{os.environ['PATH']}"}

    assert sorted(bash_complete("show", "", env=env)) == sorted(ids)
    assert bash_complete("show", ids[1][:8], env=env) == [ids[1]]
    assert sorted(bash_complete("delete", ids[0], "", env=env)) == sorted(ids)
    assert bash_complete("show", "", env={**env, "ARGILLA_API_KEY": "wrong-key"}) == []  # quietly nothing
