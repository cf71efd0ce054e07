"""A/B of two checkouts of the emulator under the same wrk load: alternating rounds, medians.

    git worktree add /tmp/base <commit>
    .venv/bin/python -m bench.ab /tmp/base          # base vs this checkout
    .venv/bin/python -m bench.ab /tmp/base --redis [--workers 2]   # both on a shared state

Both servers are pinned to the same core (one is loaded at a time) and reset before each round;
the ratio new/base says what a change cost or saved on the send path. With --redis each has its
own Redis (as bench.scale runs it) and both cores, like bench.scale's shared-state rows."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from .common import BIN, SERVER_CPU, free_port, median, pinned, wait_healthy, wrk
from .send import CASES, lua

HERE = Path(__file__).resolve().parents[1]


@contextmanager
def served(checkout: Path, flags: list[str], redis: bool) -> Iterator[str]:
    port = free_port()
    with contextlib.ExitStack() as stack:
        if redis:
            from .scale import BOTH_CORES, redis_server

            flags = [*flags, "--state", stack.enter_context(redis_server())]
        cpu = BOTH_CORES if redis else SERVER_CPU
        yield stack.enter_context(_serving(checkout, port, flags, cpu))


@contextmanager
def _serving(checkout: Path, port: int, flags: list[str], cpu: str) -> Iterator[str]:
    argv = [
        str(BIN / "python"),
        "-m",
        "emulator.cli",
        "serve",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--clock",
        "manual",
        *flags,
    ]
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    proc = subprocess.Popen(pinned(cpu, argv), env=env, cwd=checkout)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def main(
    base: Path, flags: list[str], rounds: int = 5, seconds: int = 4
) -> dict[str, dict[str, float]]:
    shown = " ".join([str(base), *flags])
    print(f"command: python -m bench.ab {shown}  ({rounds} alternating rounds of {seconds} s)")
    redis = "--redis" in flags
    flags = [f for f in flags if f != "--redis"]
    results = {}
    with served(base, flags, redis) as old, served(HERE, flags, redis) as new:
        for provider, (path, body) in CASES.items():
            script = lua(body)
            olds, news = [], []
            for _ in range(rounds):
                httpx.post(old + "/_emulator/reset").raise_for_status()
                olds.append(wrk(old + path, script, seconds))
                httpx.post(new + "/_emulator/reset").raise_for_status()
                news.append(wrk(new + path, script, seconds))
            ratio = round(median(news) / median(olds), 3)
            results[provider] = {
                "base_rps": round(median(olds)),
                "new_rps": round(median(news)),
                "new_over_base": ratio,
            }
            print(json.dumps({provider: results[provider]}), flush=True)
    return results


if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve(), sys.argv[2:])
