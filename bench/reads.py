"""Reads of every tenant on a shared deployment: `tenants` tenants (1,000) hold `count` messages
(100,000) between them, sent 100 numbers a request; a tenth of the tenants' messages went on to
be delivered and read, with their callbacks (deliveries) and an upload each. Then each read of
every tenant (no `tenant`) the control API and the inbox make is timed, the median of `rounds`:
messages (first page, and the newest page), conversations (one, and the total), stats, webhooks,
files, health; on the memory engine, one Redis and a Redis Cluster (3+3). The target: each under
200 ms, whatever the tenants (each read goes through an index across tenants, never a walk).

    .venv/bin/python -m bench.reads [tenants] [count] [rounds]
"""

from __future__ import annotations

import contextlib
import json
import statistics
import sys
import time
from typing import Any

import httpx

from emulator.testing import WebhookReceiver

from .cluster import cluster
from .scale import Server, redis_server

READS = {
    "messages_first_page": ("/_emulator/messages", {"limit": "100", "exchange": "false"}),
    "messages_total": ("/_emulator/messages", {"limit": "1", "exchange": "false"}),
    "conversations_one": ("/_emulator/conversations", {"limit": "1"}),
    "stats": ("/_emulator/stats", {}),
    "webhooks_one": ("/_emulator/webhooks", {"limit": "1"}),
    "files": ("/_emulator/files", {"limit": "100"}),
    "health": ("/_emulator/health", {}),
}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64


def fill(base: str, tenants: int, count: int, hooks: str) -> None:
    per_tenant = max(1, count // tenants)
    with httpx.Client(base_url=base, timeout=120) as client:
        for t in range(tenants):
            key = f"reads-tenant-{t:04d}"
            auth = {"Authorization": f"Bearer {key}"}
            for start in range(0, per_tenant, 100):
                numbers = [
                    f"+4670{t:03d}{n:04d}" for n in range(start, min(start + 100, per_tenant))
                ]
                client.post(
                    "/Rcs/api/v1/Message",
                    headers=auth,
                    json={
                        "agentId": "bot",
                        "number": numbers,
                        "messageType": "TextMessage",
                        "text": "Hello",
                    },
                ).raise_for_status()
            if t % 10 == 0:  # a tenth: delivered, read, called back; and an upload
                client.put(
                    "/_emulator/agents/generic/bot", json={"webhook_url": hooks, "tenant": key}
                ).raise_for_status()
                client.post(
                    "/_emulator/clock/advance", json={"seconds": 60, "tenant": key}
                ).raise_for_status()
                client.post(
                    "/Rcs/api/v1/UploadFile/bot",
                    headers=auth,
                    files={"file": ("p.png", PNG, "image/png")},
                ).raise_for_status()


def timed(base: str, rounds: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with httpx.Client(base_url=base, timeout=120) as client:
        total = client.get("/_emulator/messages", params={"limit": "1"}).json()["total"]
        reads = dict(READS)
        reads["messages_newest_page"] = (
            "/_emulator/messages",
            {"limit": "100", "offset": str(max(0, total - 100)), "exchange": "false"},
        )
        for name, (path, params) in reads.items():
            took = []
            for _ in range(rounds):
                started = time.perf_counter()
                client.get(path, params=params).raise_for_status()
                took.append((time.perf_counter() - started) * 1000)
            out[name] = round(statistics.median(took), 1)
        out["messages"] = total
    return out


def reads(tenants: int = 1000, count: int = 100_000, rounds: int = 5) -> dict[str, Any]:
    out: dict[str, Any] = {"tenants": tenants, "messages": count, "rounds": rounds, "ms_median": {}}
    with WebhookReceiver() as hooks:
        for engine in ("memory", "redis", "cluster"):
            with contextlib.ExitStack() as stack:
                flags: list[str] = []
                if engine == "redis":
                    flags = ["--state", stack.enter_context(redis_server("everysec"))]
                elif engine == "cluster":
                    flags = ["--state", stack.enter_context(cluster(1, "everysec")).url]
                server = Server(*flags)
                stack.callback(server.stop)
                fill(server.base, tenants, count, hooks.url)
                out["ms_median"][engine] = timed(server.base, rounds)
                print(json.dumps({engine: out["ms_median"][engine]}), flush=True)
    return out


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    print("command: .venv/bin/python -m bench.reads " + " ".join(sys.argv[1:]), flush=True)
    print(json.dumps(reads(*args), indent=2))
