"""Where Redis saturates: appends of send-sized commands (16 per batch, as a busy process sends
them) per second of redis-server CPU, AOF fsync'd on every write (the compose example's setting).

    python -m bench.redis_cpu
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import redis.asyncio as aioredis

from .scale import redis_server

HEAD, BODY = b"h" * 450, b"b" * 250  # a Generic send's command: its head and body, near enough


def cpu_of(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(url: str, batches: int = 300, senders: int = 4) -> dict[str, float]:
    from emulator.state.log import CommandLog

    client = aioredis.Redis.from_url(url)
    await client.hset("rcs:meta", "generation", "bench")
    pid = int((await client.info("server"))["process_id"])
    log = CommandLog(client, "rcs:", "bench", "bench")
    newest = [b"0-0"]

    async def sender(number: int) -> None:
        for batch in range(batches):
            entries = await log.append(f"{number}.{batch}", newest[0], [(b"1", HEAD, BODY)] * 16)
            newest[0] = max(newest[0], entries[-1][0], key=lambda i: tuple(map(int, i.split(b"-"))))

    before = cpu_of(pid)
    await asyncio.gather(*(sender(n) for n in range(senders)))
    used = cpu_of(pid) - before
    await client.aclose()
    appended = batches * senders * 16
    return {"appends": appended, "redis_cpu_s": round(used, 2),
            "appends_per_redis_cpu_second": round(appended / used)}  # fmt: skip


if __name__ == "__main__":
    with redis_server() as url:
        print(json.dumps(asyncio.run(measure(url))))
