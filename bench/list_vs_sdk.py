"""Wall time of `hooks list --json` against the Argilla SDK doing the same, on one server, in one run.

    .venv/bin/python bench/list_vs_sdk.py [--rounds 15] [--webhooks 8]

Starts a throwaway Argilla server (as the e2e tests do) unless ARGILLA_API_URL and ARGILLA_API_KEY
name one, installs the SDK (argilla==2.8.0) into its own venv on first use, and this checkout into a venv of its own
as a user would install it (no test extras: they add trio, which httpcore then imports), creates the webhooks, then
alternates the two commands so machine noise hits both alike. Target (issue 14): hooks <= 0.2x the SDK.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.e2e.local_server import E2E_HOME, LocalArgillaServer  # noqa: E402

SDK_VENV = E2E_HOME / "sdk-venv"
USER_VENV = E2E_HOME / "user-venv"
TARGET = 0.2
# The SDK imports `requests` without declaring it (argilla 2.8.0), so it is installed alongside.
SDK_SPEC = ["argilla==2.8.0", "requests"]
SDK_SCRIPT = """
import json, argilla as rg
client = rg.Argilla()
print(json.dumps([w.serialize() if hasattr(w, "serialize") else w._model.model_dump(mode="json") for w in client.webhooks], default=str))
"""


def sdk_python() -> Path:
    python = SDK_VENV / "bin" / "python"
    if not python.exists() or subprocess.run([python, "-c", "import argilla"], capture_output=True).returncode:
        print(f"installing {' '.join(SDK_SPEC)} into {SDK_VENV}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", SDK_VENV], check=True)
        subprocess.run([python, "-m", "pip", "install", "-q", *SDK_SPEC], check=True)
    return python


def user_hooks() -> Path:
    """`hooks` installed from this checkout as `pip install .` installs it, afresh each run."""
    if not (USER_VENV / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", USER_VENV], check=True)
    subprocess.run([USER_VENV / "bin" / "python", "-m", "pip", "install", "-q", "--force-reinstall", "--no-deps", str(ROOT)], check=True)
    subprocess.run([USER_VENV / "bin" / "python", "-m", "pip", "install", "-q", str(ROOT)], check=True)
    return USER_VENV / "bin" / "hooks"


def timed(cmd: list, env: dict) -> float:
    start = time.perf_counter()
    result = subprocess.run(cmd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode:
        raise SystemExit(f"{cmd[0]} failed: {result.stderr[-2000:]}")
    json.loads(result.stdout)  # both must print real JSON
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--webhooks", type=int, default=8)
    args = parser.parse_args()

    server = None
    api_url, api_key = os.environ.get("ARGILLA_API_URL"), os.environ.get("ARGILLA_API_KEY")
    if not (api_url and api_key):
        server = LocalArgillaServer(Path(tempfile.mkdtemp(prefix="bench-argilla-")))
        info = server.start()
        api_url, api_key = info.api_url, info.owner_api_key
    try:
        with httpx.Client(base_url=api_url, headers={"X-Argilla-Api-Key": api_key}) as http:
            for hook in http.get("/api/v1/webhooks").json()["items"]:
                http.delete(f"/api/v1/webhooks/{hook['id']}")
            for i in range(args.webhooks):
                http.post("/api/v1/webhooks", json={"url": f"http://127.0.0.1:{9000 + i}/", "events": ["dataset.created"]})
        env = {**os.environ, "ARGILLA_API_URL": api_url, "ARGILLA_API_KEY": api_key, "NO_COLOR": "1"}
        hooks_cmd = [str(user_hooks()), "list", "--json"]
        sdk_cmd = [str(sdk_python()), "-c", SDK_SCRIPT]
        timed(hooks_cmd, env), timed(sdk_cmd, env)  # warm the page cache and .pyc files
        hooks_t, sdk_t = [], []
        for _ in range(args.rounds):
            hooks_t.append(timed(hooks_cmd, env))
            sdk_t.append(timed(sdk_cmd, env))
        h, s = statistics.median(hooks_t), statistics.median(sdk_t)
        print(f"webhooks on server: {args.webhooks}, rounds: {args.rounds}")
        print(f"hooks list --json : median {h * 1000:7.1f} ms  (min {min(hooks_t) * 1000:.1f})")
        print(f"Argilla SDK       : median {s * 1000:7.1f} ms  (min {min(sdk_t) * 1000:.1f})")
        print(f"ratio hooks/SDK   : {h / s:.2f}x  (target <= {TARGET:.2f}x) -> {'PASS' if h / s <= TARGET else 'FAIL'}")
    finally:
        if server:
            server.stop()


if __name__ == "__main__":
    main()
