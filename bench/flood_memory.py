"""Peak memory of `hooks listen` under floods, each on a fresh listener (the figures in docs/reliability.md).

    .venv/bin/python bench/flood_memory.py

Scenarios: 300 concurrent 10 MiB POSTs unsigned, then signed with a wrong key; 1,000 connections each holding 60 KiB
of a head that never ends; and the worst the defaults allow at once: 512 such heads held while 300 forged 10 MiB POSTs
arrive. Prints what the clients were answered and the listener's peak RSS (VmHWM).
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.flood import enough_descriptors, flood, held_heads, peak_rss_mib  # noqa: E402
from tests.listener_process import Listener  # noqa: E402
from tests.unit.receiver.receiver_samples import new_secret  # noqa: E402

MIB = 1024 * 1024


def worst(port: int) -> dict:
    heads: dict = {}
    holder = threading.Thread(target=lambda: heads.update(held_heads(port, 512, 60 * 1024, hold=6)))
    holder.start()
    posts = flood(port, 300, 10 * MIB, forged=True)
    holder.join()
    return {"heads": dict(heads), "posts": dict(posts)}


SCENARIOS = {
    "300 x 10 MiB unsigned": lambda port: dict(flood(port, 300, 10 * MIB)),
    "300 x 10 MiB signed with a wrong key": lambda port: dict(flood(port, 300, 10 * MIB, forged=True)),
    "1,000 heads of 60 KiB held": lambda port: dict(held_heads(port, 1000, 60 * 1024, hold=3)),
    "512 heads held + 300 x 10 MiB forged": worst,
}

if __name__ == "__main__":
    enough_descriptors(4096)
    for name, scenario in SCENARIOS.items():
        with Listener(["--secret", new_secret()]) as listener:
            at_rest = peak_rss_mib(listener.proc.pid)
            outcome = scenario(listener.ready["port"])
            peak = peak_rss_mib(listener.proc.pid)
            listener.stop()
        print(f"{name:40} peak {peak:5.0f} MiB (at rest {at_rest:.0f})  {outcome}", flush=True)
