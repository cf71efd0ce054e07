"""The Redis engine's cost and reach, against one memory process under the same load:

- CPU per send: every emulator process's CPU (a `--workers N` supervisor and its children) plus
  redis-server's, over the sends wrk completed, for one memory process and for 1, 2 and 4
  processes on Redis (each configuration its own redis-server, AOF fsync'd on every write as the
  compose example ships it; one more process on a Redis that fsyncs once a second, to show what
  the fsync on every write costs Redis), in alternating rounds; with the sends/s each reached.
  Each at 16 connections; and, since what a send costs depends on how many requests each process
  has in flight (a tenant's commits share a call: commits.py), 2 and 4 processes at 16 each, and
  one process at 8 and 4 (what each of 2 and 4 has at 16 in all); and one process whose
  commits are answered at once without Redis (bench/instant.py): the process's cost apart from
  its calls.
  On this 2-core machine the processes, Redis and wrk share the cores, so sends/s show the
  machine's limit, and CPU per send shows what the design costs per message however spread.
- join: a process started on a state of `count` messages, seconds until it is ready and until
  its first send is answered, and its resident memory then, beside one started on an empty state
  (it reads no state at start: neither figure grows with the state);
- bytes in Redis per message: single-number sends (each keeps its HTTP exchange) and sends to
  100 numbers (one exchange per 100 messages).

    .venv/bin/python -m bench.scale [rounds] [seconds]
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import redis

from .cluster import answering, cluster
from .common import (
    BIN,
    BOTH_CORES,
    LOAD_CPU,
    ROOT,
    free_port,
    median,
    pinned,
    redis_argv,
    wait_healthy,
)
from .send import CASES

PROCESSES = (1, 2, 4)
PATH, BODY = CASES["generic"]
TENANTS = 24  # API keys the load rotates over (a shared deployment's: they spread over shards)


@contextlib.contextmanager
def redis_server(fsync: str = "always") -> Iterator[str]:
    folder = Path(tempfile.mkdtemp(prefix="bench-redis-"))
    port = free_port()
    proc = subprocess.Popen(
        pinned(BOTH_CORES, redis_argv(port, folder, fsync=fsync)), stdout=subprocess.DEVNULL
    )
    url = f"redis://127.0.0.1:{port}/0"
    answering(port)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


class Server:
    """`rcs-emulator serve` with `flags`, on both cores; its process tree's CPU (`instant`: its
    commits answered without Redis, bench/instant.py)."""

    def __init__(
        self,
        *flags: str,
        instant: bool = False,
        env: dict[str, str] | None = None,
        clock: str = "manual",
    ) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        command = (
            [sys.executable, "-m", "bench.instant"] if instant else [str(BIN / "rcs-emulator")]
        )
        argv = [
            *command,
            "serve",
            "--port",
            str(self.port),
            "--log-level",
            "warning",
            "--clock",
            clock,
            *flags,
        ]
        self.proc = subprocess.Popen(
            pinned(BOTH_CORES, argv), cwd=ROOT, env=os.environ | (env or {})
        )
        wait_healthy(self.base + "/_emulator/ready", timeout=60)

    def pids(self) -> list[int]:
        return [self.proc.pid, *descendants(self.proc.pid)]

    def cpu(self) -> float:
        return sum(cpu_of(pid) for pid in self.pids())

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(20)


def descendants(root: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                parents[int(entry.name)] = int(stat[1])
    found, frontier = [], [root]
    while frontier:
        children = [pid for pid, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def cpu_of(pid: int) -> float:
    with contextlib.suppress(OSError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return 0.0


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def redis_pid(url: str) -> int:
    client = redis.Redis.from_url(url)
    try:
        return int(client.info("server")["process_id"])
    finally:
        client.close()


def tenants_lua(body: dict[str, Any], tenants: int = TENANTS) -> Path:
    """A wrk script posting `body` as each of `tenants` API keys in turn."""
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    payload = json.dumps(body).replace("\\", "\\\\").replace("'", "\\'")
    script.write_text(
        f"local body = '{payload}'\nlocal n = 0\n"
        "request = function()\n  n = n + 1\n"
        f"  local key = 'bench-key-' .. (n % {tenants})\n"
        '  return wrk.format("POST", nil, {["Content-Type"] = "application/json", '
        '["Authorization"] = "Bearer " .. key}, body)\nend\n'
    )
    return script


def load(base: str, seconds: int, connections: int = 16) -> tuple[float, int]:
    """wrk on core 1 (beside the servers: 2 cores): requests/s and requests completed."""
    argv = pinned(
        LOAD_CPU,
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "-s",
            str(tenants_lua(BODY)),
            base + PATH,
        ],
    )
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"wrk saw errors:\n{out}")
    total = re.search(r"(\d+) requests in", out)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    assert total is not None and rps is not None, out
    return float(rps.group(1)), int(total.group(1))


# (row, server, connections): wrk -t1 -c16 per process (the operator's table): the memory
# engine, one Redis at 1, 2 and 4 processes, a Redis Cluster of 3 masters and 3 replicas at 1
# and 2, and one process on the cluster whose commits WAIT for a replica; then one Redis that
# fsyncs once a second (what the fsync on every write costs Redis), and one process whose
# commits are answered without Redis (bench/instant.py: the process apart from its calls).
LOADS = [
    ("memory", "memory", 16),
    *((f"redis_{n}", f"redis_{n}", 16 * n) for n in PROCESSES),
    ("cluster_1", "cluster_1", 16),
    ("cluster_2", "cluster_2", 32),
    ("cluster_1_wait_1", "cluster_1_wait_1", 16),
    ("redis_1_everysec", "redis_1_everysec", 16),
    ("redis_1_instant", "redis_1_instant", 16),
]


def cpu_per_send(rounds: int = 3, seconds: int = 5) -> dict[str, Any]:
    stack = contextlib.ExitStack()
    with stack:
        urls = {f"redis_{n}": stack.enter_context(redis_server()) for n in PROCESSES}
        urls["redis_1_everysec"] = stack.enter_context(redis_server("everysec"))
        urls["redis_1_instant"] = stack.enter_context(redis_server())
        shards = stack.enter_context(cluster(replicas=1))
        servers: dict[str, Server] = {"memory": Server()}
        for n in PROCESSES:
            servers[f"redis_{n}"] = Server("--state", urls[f"redis_{n}"], "--workers", str(n))
        servers["redis_1_everysec"] = Server("--state", urls["redis_1_everysec"])
        servers["redis_1_instant"] = Server("--state", urls["redis_1_instant"], instant=True)
        # (one state for the three cluster rows: each process is started on it in turn)
        stack.callback(lambda: [s.stop() for s in servers.values()])
        figures: dict[str, dict[str, list[float]]] = {
            row: {"sends_per_s": [], "process_us": [], "redis_us": []} for row, _, _ in LOADS
        }
        for _ in range(rounds):
            for row, name, connections in LOADS:
                if name.startswith("cluster"):
                    workers = "2" if name == "cluster_2" else "1"
                    env = {"RCS_EMULATOR_STATE_WAIT_REPLICAS": "1" if "wait" in name else "0"}
                    server = Server("--state", shards.url, "--workers", workers, env=env)
                    redis_pids = shards.pids()
                else:
                    server = servers[name]
                    redis_pids = [redis_pid(urls[name])] if name in urls else []
                before = server.cpu(), sum(cpu_of(p) for p in redis_pids)
                rps, total = load(server.base, seconds, connections)
                after = server.cpu(), sum(cpu_of(p) for p in redis_pids)
                if name.startswith("cluster"):
                    server.stop()
                figures[row]["sends_per_s"].append(rps)
                figures[row]["process_us"].append((after[0] - before[0]) / total * 1e6)
                figures[row]["redis_us"].append((after[1] - before[1]) / total * 1e6)
    out: dict[str, Any] = {}
    for (row, _, connections), measured in zip(LOADS, figures.values(), strict=True):
        process, in_redis = median(measured["process_us"]), median(measured["redis_us"])
        out[row] = {
            "connections": connections,
            "sends_per_s": round(median(measured["sends_per_s"])),
            "process_us": round(process),
            "redis_us": round(in_redis),
            "total_us": round(process + in_redis),
        }
    base = out["memory"]["total_us"]
    for row, _, _ in LOADS[1:]:
        out[row]["vs_memory"] = round(out[row]["total_us"] / base, 2)
    return {"rounds": rounds, "seconds": seconds, "tenants": TENANTS, **out}


def _on_cpu() -> float:
    """This process's time on a CPU (the scheduler's own count, in seconds)."""
    return int(Path("/proc/self/schedstat").read_text().split()[0]) / 1e9


SPIN = "local x = 0 for i = 1, tonumber(ARGV[1]) do x = x + i end return 1"


def wait_cost(rounds: int = 300) -> dict[str, Any]:
    """What waiting for an answer costs the process that waits, on this machine: the CPU of
    one round trip to Redis answered at once (PING) and answered ~2 ms later (a script that
    counts), from an asyncio stream and from a blocking socket. A send on Redis waits once
    per call its tenant's commits share; where a wait is dear, so is a send."""
    import asyncio
    import socket

    with redis_server() as url:
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        spin = 10_000
        client = redis.Redis(port=port)
        client.eval(SPIN, 0, spin)  # (the first call connects and compiles: not timed)
        while True:  # the count that takes ~2 ms here
            started = time.perf_counter()
            client.eval(SPIN, 0, spin)
            if time.perf_counter() - started >= 0.002:
                break
            spin *= 2
        client.close()

        def command(*args: Any) -> bytes:
            parts = [str(a).encode() for a in args]
            return b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in parts)

        calls = {"at_once": command("PING"), "after_2ms": command("EVAL", SPIN, 0, spin)}
        out: dict[str, Any] = {}

        async def streamed() -> None:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            for name, raw in calls.items():
                cpu, wall = _on_cpu(), time.perf_counter()
                for _ in range(rounds):
                    writer.write(raw)
                    await reader.readline()
                out[f"asyncio_{name}"] = {
                    "cpu_us": round((_on_cpu() - cpu) / rounds * 1e6),
                    "wall_us": round((time.perf_counter() - wall) / rounds * 1e6),
                }
            writer.close()

        asyncio.run(streamed())
        with socket.create_connection(("127.0.0.1", port)) as sock:
            for name, raw in calls.items():
                cpu, wall = _on_cpu(), time.perf_counter()
                for _ in range(rounds):
                    sock.sendall(raw)
                    sock.recv(64)
                out[f"blocking_{name}"] = {
                    "cpu_us": round((_on_cpu() - cpu) / rounds * 1e6),
                    "wall_us": round((time.perf_counter() - wall) / rounds * 1e6),
                }
    return out


def fill(base: str, count: int, per_request: int = 100) -> None:
    """`count` messages, sent `per_request` numbers at a time."""
    with httpx.Client(base_url=base, timeout=60) as client:
        for start in range(0, count, per_request):
            numbers = [f"+4670{n:07d}" for n in range(start, min(start + per_request, count))]
            answer = client.post(
                PATH,
                json={**BODY, "number": numbers},
                headers={"Authorization": "Bearer bench-key"},
            )
            answer.raise_for_status()


def joining(url: str) -> dict[str, float]:
    """One more process on the state: seconds to ready, to its first send answered; its RSS."""
    started = time.perf_counter()
    server = Server("--state", url)
    ready = time.perf_counter() - started
    httpx.post(
        server.base + PATH, json=BODY, headers={"Authorization": "Bearer bench-key"}, timeout=60
    ).raise_for_status()
    answered = time.perf_counter() - started
    rss = rss_mb(server.proc.pid)
    server.stop()
    return {"ready_s": round(ready, 2), "first_send_s": round(answered, 2), "rss_mb": rss}


def join(count: int = 100_000) -> dict[str, Any]:
    with redis_server() as url:
        first = Server("--state", url)
        try:
            empty = joining(url)
            fill(first.base, count)
            held = httpx.get(first.base + "/_emulator/health", timeout=60).json()["messages"]
            full = joining(url)
        finally:
            first.stop()
    return {"messages": held, "on_empty_state": empty, f"on_{count}_messages": full}


def footprint(count: int = 20_000) -> dict[str, Any]:
    """Redis's used memory per message: single-number sends, and sends to 100 numbers."""
    out: dict[str, Any] = {}
    for per_request in (1, 100):
        with redis_server() as url:
            server = Server("--state", url)
            try:
                client = redis.Redis.from_url(url)
                before = int(client.info("memory")["used_memory"])
                if per_request == 1:
                    with httpx.Client(base_url=server.base, timeout=60) as http:
                        for _ in range(count):
                            http.post(
                                PATH, json=BODY, headers={"Authorization": "Bearer k"}
                            ).raise_for_status()
                else:
                    fill(server.base, count, per_request)
                after = int(client.info("memory")["used_memory"])
                client.close()
            finally:
                server.stop()
        out[f"bytes_per_message_{per_request}_per_send"] = round((after - before) / count)
    return {"messages": count, **out}


def scale(rounds: int = 3, seconds: int = 5, joined: int = 100_000) -> dict[str, Any]:
    return {
        "cpu_per_send": cpu_per_send(rounds, seconds),
        "wait_cost": wait_cost(),
        "join": join(joined),
        "bytes_in_redis": footprint(),
    }


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    print("command: .venv/bin/python -m bench.scale " + " ".join(sys.argv[1:]), flush=True)
    print(json.dumps(scale(*args), indent=2))
