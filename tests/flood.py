"""Many clients at once against a listener on loopback, for the memory tests: POSTs with big bodies (unsigned, or
signed with a wrong key), and connections that hold a half-sent head; and the listener's peak memory."""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
import sys
import time
from collections import Counter
from typing import Optional

CHUNK = b"a" * 256 * 1024


def peak_rss_mib(pid: int) -> Optional[float]:
    """The process's peak resident memory so far (Linux's VmHWM), in MiB; None where /proc does not say."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def enough_descriptors(count: int) -> None:
    """Raise this process's soft limit on open files to `count` where the hard limit allows (a listener started
    afterwards inherits it): a CI machine's 1,024 leaves little room beside a thousand sockets."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < count:
        resource.setrlimit(resource.RLIMIT_NOFILE, (count if hard == resource.RLIM_INFINITY else min(count, hard), hard))


def head(size: int, forged: bool) -> bytes:
    """A delivery's head for a `size`-byte body: no webhook-* headers, or well-formed ones with a wrong signature."""
    lines = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n" % size
    if forged:
        lines += b"webhook-id: msg_%s\r\nwebhook-timestamp: %d\r\nwebhook-signature: v1,%s\r\n" % (
            secrets.token_hex(8).encode(), int(time.time()), base64.b64encode(os.urandom(32)))
    return lines + b"\r\n"


async def _post(port: int, size: int, forged: bool) -> str:
    """Send the head and as much of the body as the listener takes; its status code, or `refused` for a connection
    closed (reset) without one."""
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return "refused"
    try:
        writer.write(head(size, forged))
        sent = 0
        while sent < size:
            writer.write(CHUNK[: size - sent])
            sent += len(CHUNK)
            await writer.drain()
        line = await asyncio.wait_for(reader.readline(), 60)
    except (OSError, asyncio.IncompleteReadError):
        line = await _late_answer(reader)
    finally:
        writer.close()
    return line.split(b" ")[1].decode() if line.startswith(b"HTTP/1.1 ") else "refused"


async def _late_answer(reader: asyncio.StreamReader) -> bytes:
    """The answer that may have come before the listener closed a connection we were still writing to."""
    try:
        return await asyncio.wait_for(reader.readline(), 5)
    except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError):
        return b""


async def _hold_head(port: int, size: int, hold: float) -> str:
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST / HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * size)
        await writer.drain()
        try:
            line = await asyncio.wait_for(reader.readline(), hold)  # refused at once, or nothing till we give up
        except asyncio.TimeoutError:
            line = b"held"
        writer.close()
    except OSError:
        return "refused"
    return line.split(b" ")[1].decode() if line.startswith(b"HTTP/1.1 ") else line.decode() or "refused"


def flood(port: int, clients: int, size: int, *, forged: bool = False) -> Counter:
    """`clients` POSTs of `size` bytes at once; how many got each status (or were `refused`)."""

    async def run() -> Counter:
        return Counter(await asyncio.gather(*(_post(port, size, forged) for _ in range(clients))))

    return asyncio.run(run())


def held_heads(port: int, clients: int, size: int, hold: float) -> Counter:
    """`clients` connections that each send `size` bytes of a head and wait `hold` seconds: `held`, or their answer."""

    async def run() -> Counter:
        return Counter(await asyncio.gather(*(_hold_head(port, size, hold) for _ in range(clients))))

    return asyncio.run(run())


if __name__ == "__main__":  # python tests/flood.py PORT CLIENTS SIZE [forged|heads] [PID]
    port, clients, size = (int(a) for a in sys.argv[1:4])
    mode = sys.argv[4] if len(sys.argv) > 4 else "unsigned"
    began = time.monotonic()
    result = held_heads(port, clients, size, 3) if mode == "heads" else flood(port, clients, size, forged=mode == "forged")
    print(dict(result), f"{time.monotonic() - began:.1f} s", f"peak {peak_rss_mib(int(sys.argv[5])) if len(sys.argv) > 5 else '?'} MiB")
