"""One master of a Redis Cluster of three lost (kill -9), with and without a replica: how the
tenants of the other masters fare meanwhile. Two processes serve the cluster; each tenant (two
per master) runs its own loop of a send, a read of what it sent and an advance of its own time
(which makes its callbacks, to a receiver), and every call's time is kept: before the loss, and
while the master is lost (until its replica took over, or for `down` seconds). Figures: per phase,
the others' calls (p50, p99, max in ms, and how many were not answered 200) and the lost
master's tenants' (how many 503s).

    .venv/bin/python -m bench.shards [down seconds]
"""

from __future__ import annotations

import json
import sys
import threading
import time
from functools import partial
from typing import Any

import httpx

from emulator.engines.redis import keys
from emulator.testing import WebhookReceiver

from .cluster import Cluster, cluster
from .scale import Server

MESSAGE = "/Rcs/api/v1/Message"
Call = tuple[float, str, str, int, float]  # when, tenant, which call, status, seconds


def tenants_by_master(made: Cluster, each: int = 2) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    n = 0
    while len(found) < 3 or any(len(v) < each for v in found.values()):
        key = f"bench-tenant-{n}"
        n += 1
        port = made.master_of(keys.slot(keys.TAGS[keys.partition_of(key)]))
        if len(found.setdefault(port, [])) < each:
            found[port].append(key)
    return found


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round((len(ordered) - 1) * p / 100)))]


def tenant_loop(bases: list[str], key: str, stop: threading.Event, calls: list[Call]) -> None:
    """A tenant's send, read and advance, round the processes, until told to stop."""
    n = 0
    auth = {"Authorization": f"Bearer {key}"}
    with httpx.Client(timeout=30) as client:
        while not stop.is_set():
            n += 1
            at = bases[n % len(bases)]
            body = {
                "agentId": "bot",
                "number": [f"+467012{n % 100000:05d}"],
                "messageType": "TextMessage",
                "text": "Hi",
            }
            steps = {
                "send": partial(client.post, at + MESSAGE, headers=auth, json=body),
                "read": partial(
                    client.get, at + "/_emulator/messages", params={"tenant": key, "limit": "10"}
                ),
                "advance": partial(
                    client.post,
                    at + "/_emulator/clock/advance",
                    json={"seconds": 10, "tenant": key},
                ),
            }
            for name, step in steps.items():
                started = time.perf_counter()
                try:
                    status = step().status_code
                except httpx.HTTPError:
                    status = 0
                calls.append((time.time(), key, name, status, time.perf_counter() - started))


def outage(replicas: int, down: float) -> dict[str, Any]:
    with cluster(replicas) as made, WebhookReceiver() as hooks:
        env = {"RCS_EMULATOR_WEBHOOK_TIMEOUT": "2"}
        servers = [Server("--state", made.url, env=env) for _ in range(2)]
        try:
            by_master = tenants_by_master(made)
            lost_port = next(iter(by_master))
            for tenants in by_master.values():
                for key in tenants:
                    httpx.put(
                        f"{servers[0].base}/_emulator/agents/generic/bot",
                        json={"webhook_url": hooks.url, "tenant": key},
                    ).raise_for_status()
            calls: list[Call] = []
            stop = threading.Event()
            loops = [
                threading.Thread(
                    target=tenant_loop, args=([s.base for s in servers], key, stop, calls)
                )
                for tenants in by_master.values()
                for key in tenants
            ]
            for loop in loops:
                loop.start()
            time.sleep(5)  # (a benchmark's phases are times: a test would wait for conditions)
            lost_at = time.time()
            made.process_of(lost_port).kill()
            ended = lost_at + down
            if replicas:  # until its tenants are served again (their replica took over)
                lost_key = by_master[lost_port][0]
                while time.time() < lost_at + 60:
                    recent = [c for c in calls if c[1] == lost_key and c[0] > lost_at + 1]
                    if recent and recent[-1][3] == 200:
                        ended = recent[-1][0]
                        break
                    time.sleep(0.2)
            time.sleep(max(0.0, ended - time.time()))
            stop.set()
            for loop in loops:
                loop.join(60)
        finally:
            for server in servers:
                server.stop()
    lost = set(by_master[lost_port])
    out: dict[str, Any] = {"replicas": replicas, "lost_for_s": round(ended - lost_at, 1)}
    for phase, (low, high) in {"before": (0.0, lost_at), "lost": (lost_at, ended)}.items():
        chosen = [c for c in calls if low <= c[0] < high]
        others = [c for c in chosen if c[1] not in lost]
        shown: dict[str, Any] = {}
        for name in ("send", "read", "advance"):
            found = [c for c in others if c[2] == name]
            ms = [c[4] * 1000 for c in found]
            if ms:
                shown[name] = {
                    "calls": len(ms),
                    "not_200": sum(c[3] != 200 for c in found),
                    "p50_ms": round(percentile(ms, 50), 1),
                    "p99_ms": round(percentile(ms, 99), 1),
                    "max_ms": round(max(ms), 1),
                }
        mine = [c for c in chosen if c[1] in lost]
        shown["lost_masters_tenants"] = {"calls": len(mine), "503": sum(c[3] == 503 for c in mine)}
        out[phase] = shown
    return out


def shards(down: float = 10.0) -> dict[str, Any]:
    return {"without_replica": outage(0, down), "with_replica": outage(1, down)}


if __name__ == "__main__":
    args = [float(a) for a in sys.argv[1:]]
    print("command: .venv/bin/python -m bench.shards " + " ".join(sys.argv[1:]), flush=True)
    print(json.dumps(shards(*args), indent=2))
