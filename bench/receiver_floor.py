"""Server (e) of listen_throughput.py: the library receiver with nothing to run, the floor under `hooks listen`.

`argilla_hooks.create_app()` with the secret in BENCH_SECRET, no handler and no report: per delivery it checks the
size and the signature, parses the body, and records the event's type, timestamp and data.id for de-duplication.
Every receiver that does what the issue asks does at least this; `hooks listen` adds the handler call and the JSON
line.
HTTP only: the benchmark serves it with `--lifespan off`.
"""

import os

from argilla_hooks import create_app

app = create_app(secrets=[os.environ["BENCH_SECRET"]])
