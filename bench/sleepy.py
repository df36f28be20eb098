"""Handlers for queue_throughput.py: `sleepy:second` waits 1 s (a slow handler: a training trigger, an export),
`sleepy:io` waits 20 ms (a typical call to another service); both without using the CPU, as I/O would."""

import asyncio


async def second():
    await asyncio.sleep(1.0)


async def io():
    await asyncio.sleep(0.02)
