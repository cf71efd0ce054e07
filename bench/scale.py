"""The shared state's cost and reach: one memory process, one process on Redis, and two workers
on Redis, under the same wrk load, in alternating rounds; and what a message costs in Redis.

The ceiling beside them: two memory workers that share nothing (each its own state: not a
product configuration, `serve` refuses it) show what two processes can serve on this machine at
all, with wrk on the same cores; no shared design can beat it.

All three run on both cores (wrk has core 1 to itself as well: on a 2-core machine the servers,
Redis and the load generator share the cores, so this is where the figures come from).
Redis runs as the compose example ships it: AOF on, fsync'd on every write; one more pair of
workers runs on a Redis that fsyncs once a second (Redis's default for AOF), to show what the
fsync on every write costs.
    python -m bench.scale
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import redis

from .common import BIN, emulator, free_port, median, redis_argv, serving, wrk
from .send import CASES, lua

BOTH_CORES = "0,1"


@contextlib.contextmanager
def redis_server(fsync: str = "always") -> Iterator[str]:
    folder = Path(tempfile.mkdtemp(prefix="bench-redis-"))
    port = free_port()
    proc = subprocess.Popen(redis_argv(port, folder, fsync=fsync), stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis(port=port)
    for _ in range(200):
        with contextlib.suppress(redis.RedisError):
            client.ping()
            break
        time.sleep(0.02)
    try:
        yield url
    finally:
        client.close()
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


def unshared_workers(count: int = 2) -> contextlib.AbstractContextManager[str]:
    """`count` memory workers on one port, each with its own state (uvicorn's workers over the
    emulator's own worker app and protocol, as `serve --workers` runs them)."""
    from emulator.config import Config

    port = free_port()
    config = Config(port=port, clock="manual")
    argv = [str(BIN / "uvicorn"), "emulator.workers:worker_app", "--factory", "--workers",
            str(count), "--port", str(port), "--log-level", "warning", "--no-access-log",
            "--http", "emulator.workers:WorkerProtocol", "--loop", "uvloop"]  # fmt: skip
    env = {"RCS_EMULATOR_WORKER_CONFIG": config.model_dump_json()}
    return serving(argv, port, "/_emulator/health", BOTH_CORES, env)


def scale(rounds: int = 5, seconds: int = 4) -> dict[str, Any]:
    path, body = CASES["generic"]
    script = lua(body)
    rps: dict[str, list[float]] = {"memory": [], "redis_1": [], "redis_2_workers": [],
                                   "redis_2_workers_everysec": [],
                                   "memory_2_unshared": []}  # fmt: skip
    with (
        redis_server() as one,
        redis_server() as two,
        redis_server("everysec") as lazy,
        unshared_workers() as ceiling,
        emulator("--clock", "manual", cpu=BOTH_CORES) as memory,
        emulator("--clock", "manual", "--state", one, cpu=BOTH_CORES) as redis_1,
        emulator(
            "--clock", "manual", "--state", two, "--workers", "2", cpu=BOTH_CORES
        ) as redis_2,  # fmt: skip
        emulator(
            "--clock", "manual", "--state", lazy, "--workers", "2", cpu=BOTH_CORES
        ) as redis_2_everysec,  # fmt: skip
    ):
        servers = {"memory": memory, "redis_1": redis_1, "redis_2_workers": redis_2,
                   "redis_2_workers_everysec": redis_2_everysec,
                   "memory_2_unshared": ceiling}  # fmt: skip
        for base in servers.values():  # a first second of load warms each (workers are lazy)
            wrk(base + path, script, 1)
        for _ in range(rounds):
            for name, base in servers.items():
                httpx.post(base + "/_emulator/reset").raise_for_status()
                rps[name].append(wrk(base + path, script, seconds))
    medians = {name: round(median(values)) for name, values in rps.items()}

    def ratio(name: str) -> float:
        return round(median([r / m for r, m in zip(rps[name], rps["memory"], strict=True)]), 3)

    ratios = {"redis_1_vs_memory": ratio("redis_1"),
              "redis_2_workers_vs_memory": ratio("redis_2_workers"),
              "redis_2_workers_everysec_vs_memory": ratio("redis_2_workers_everysec"),
              "memory_2_unshared_vs_memory": ratio("memory_2_unshared")}  # fmt: skip
    return {"sends_per_s": medians, **ratios, "rounds": rounds, "bytes_in_redis": footprint()}


def footprint(count: int = 20_000, chunk: int = 5000) -> dict[str, Any]:
    """Redis's memory per single-number send once the log's oldest commands are archived (the
    stream keeps under two chunks' worth; the rest is compressed), and what an archived command
    takes; sent one at a time, so every command is a batch with its own resend guard."""
    path, body = CASES["generic"]
    env = {"RCS_EMULATOR_STATE_CHUNK": str(chunk)}
    with redis_server() as url, emulator("--clock", "manual", "--state", url, env=env) as base:
        empty = first_answer(url, env)  # a process's start on a state with nothing to replay
        client = redis.Redis.from_url(url)
        before = int(client.info("memory")["used_memory"])
        with httpx.Client(base_url=base) as http:
            for _ in range(count):
                http.post(path, json=body, headers={"Authorization": "Bearer k"})
        deadline = time.monotonic() + 60
        while client.xlen("rcs:log") >= 2 * chunk and time.monotonic() < deadline:
            time.sleep(0.2)  # the archiver looks every 2 s
        after = int(client.info("memory")["used_memory"])
        ends = client.lrange("rcs:chunks", 0, -1)
        chunks = sum(int(client.memory_usage(f"rcs:chunk:{e.decode()}", samples=0) or 0)
                     for e in ends)  # fmt: skip
        stream = int(client.memory_usage("rcs:log", samples=0) or 0)
        kept = int(client.xlen("rcs:log"))
        client.close()
        joiner = first_answer(url, env)  # replays every command (chunks, then the stream) first
    archived = len(ends) * chunk
    return {"messages": count, "bytes_per_send": round((after - before) / count),
            "archived_bytes_per_send": round(chunks / archived) if archived else None,
            "stream_bytes_per_send": round(stream / kept) if kept else None,
            "late_joiner_first_answer_s": round(joiner, 2),
            "catch_up_us_per_command": round((joiner - empty) / count * 1e6, 1)}  # fmt: skip


def first_answer(url: str, env: dict[str, str]) -> float:
    """Seconds from starting one more process on the state to its first health answer (which
    applies everything the log holds first)."""
    port = free_port()
    argv = [str(BIN / "rcs-emulator"), "serve", "--port", str(port), "--log-level", "warning",
            "--clock", "manual", "--state", url]  # fmt: skip
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env={**os.environ, **env}, stdout=subprocess.DEVNULL)
    try:
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/_emulator/health", timeout=300).is_success:
                    return time.perf_counter() - started
            if proc.poll() is not None or time.perf_counter() - started > 300:
                raise RuntimeError("the joining process did not answer")
            time.sleep(0.005)
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    print(json.dumps(scale(), indent=2))
