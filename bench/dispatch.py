"""Webhook dispatch: sustained callbacks/s of one emulator process against a fast local receiver
(a bare Starlette endpoint on httptools + uvloop), beside the fastest plain Python client loops
against the same receiver, in one run, rounds alternating.

- plain loops: LOOPS concurrent `POST` loops in one process, each posting a callback-sized JSON
  body and reading the answer, nothing else: with the emulator's own keep-alive client
  (emulator/core/http1.py), with aiohttp, and with httpx for scale. The ratio is against the
  fastest of them in each round;
- the emulator: messages sent on a manual clock with a scenario that delivers and reads at once
  (two callbacks per message); one clock advance makes every event due; the emulator renders
  the callbacks (reported apart as `generation_s`: events, not dispatch) and delivers them,
  every one through the dispatcher with its retry policy, per-recipient ordering (each READ
  waits for its DELIVERED) and attempt log, `webhook_per_host` = LOOPS so both sides may keep
  as many requests in flight. The rate is the receiver's count between 10% and 90% of the
  expected callbacks (sustained, without the start and the tail).

Senders run on core 0, the receiver on core 1."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from .common import (
    BIN,
    LOAD_CPU,
    SERVER_CPU,
    cpu_seconds,
    emulator,
    median,
    pinned,
    server_pid,
    uvicorn_app,
)

LOOPS = 16
AUTH = {"Authorization": "Bearer bench-token"}
BODY = json.dumps(
    [
        {
            "type": "report",
            "status": "delivered",
            "smsid": "7HydhfmN",
            "rcs_id": "bench-bot",
            "phone": "+48500600700",
            "date": "2026-05-04 16:55:45",
        }
    ]
).encode()
SCENARIO = """name: instant
description: Delivered and read at once (two callbacks a message).
default:
  - {after: 0, event: delivered}
  - {after: 0, event: read}
"""


async def _loops(library: str, url: str, seconds: float) -> float:
    done = 0
    stop = time.perf_counter() + seconds
    headers = {"Content-Type": "application/json"}
    if library == "http1":
        from urllib.parse import urlsplit

        from emulator.delivery.http1 import Http1Pool

        pool = Http1Pool(LOOPS)
        parts = urlsplit(url)

        async def one_raw() -> None:
            nonlocal done
            while time.perf_counter() < stop:
                await pool.post(parts, BODY, 10.0)
                done += 1

        started = time.perf_counter()
        await asyncio.gather(*(one_raw() for _ in range(LOOPS)))
        pool.close()
    elif library == "aiohttp":
        import aiohttp

        connector = aiohttp.TCPConnector(limit=LOOPS)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def one() -> None:
                nonlocal done
                while time.perf_counter() < stop:
                    async with session.post(url, data=BODY, headers=headers) as answer:
                        await answer.read()
                    done += 1

            started = time.perf_counter()
            await asyncio.gather(*(one() for _ in range(LOOPS)))
    else:
        limits = httpx.Limits(max_connections=LOOPS)
        async with httpx.AsyncClient(limits=limits) as client:

            async def one() -> None:
                nonlocal done
                while time.perf_counter() < stop:
                    (await client.post(url, content=BODY, headers=headers)).read()
                    done += 1

            started = time.perf_counter()
            await asyncio.gather(*(one() for _ in range(LOOPS)))
    return done / (time.perf_counter() - started)


def plain_loops(library: str, url: str, seconds: float) -> float:
    """The loops in their own process on the senders' core (uvloop, as the emulator runs)."""
    argv = [str(BIN / "python"), "-m", "bench.dispatch", "loops", library, url, str(seconds)]
    out = subprocess.run(pinned(SERVER_CPU, argv), capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def emulator_rate(base: str, receiver: str, messages: int) -> dict[str, Any]:
    """Messages sent on a manual clock (their scenario steps wait); then one advance makes every
    event due at once: the emulator generates the callbacks (timed apart: `generation_s`),
    then delivers them, which is the rate measured."""
    before = httpx.get(receiver + "/count").json()["received"]
    expected = messages * 2
    phones = [f"+4850{i:07d}" for i in range(messages)]
    answer = httpx.post(
        base + "/messages/send_rcs.json",
        timeout=120,
        headers=AUTH,
        json={"rcs_id": "bench-bot", "phone": phones, "message": {"text": "bench"}},
    )
    answer.raise_for_status()
    if "error" in answer.json():
        raise RuntimeError(answer.text)
    started = time.perf_counter()
    advance = threading.Thread(
        target=lambda: httpx.post(
            base + "/_emulator/clock/advance", json={"seconds": 1}, timeout=300
        )
    )
    advance.start()
    marks: list[tuple[float, int]] = []
    cpu: list[tuple[float, int, float]] = []  # time, count, emulator CPU seconds so far
    pid = server_pid(base)
    deadline = time.perf_counter() + 300
    # One client, polled every 50 ms: a new client per poll (an SSL context each) costs the
    # two busy cores more than the emulator's own work, and the count would measure the poller.
    with httpx.Client() as poll:
        while time.perf_counter() < deadline:
            got = poll.get(receiver + "/count").json()["received"] - before
            marks.append((time.perf_counter(), got))
            cpu.append((marks[-1][0], got, cpu_seconds(pid)))
            if got >= expected:
                break
            time.sleep(0.05)
    advance.join(300)
    first = next(m for m in marks if m[1] > 0)
    low = next(m for m in marks if m[1] >= expected * 0.1)
    high = next(m for m in marks if m[1] >= expected * 0.9)
    busy = [c for t, _, c in cpu if low[0] <= t <= high[0]]
    hooks = httpx.get(base + "/_emulator/health").json()["webhooks"]
    httpx.post(base + "/_emulator/reset?keep_settings=true").raise_for_status()
    return {
        "callbacks_per_s": round((high[1] - low[1]) / (high[0] - low[0])),
        # the emulator's share of its core while delivering (1.0: it is the bottleneck)
        "emulator_cpu_share": round((busy[-1] - busy[0]) / (high[0] - low[0]), 2)
        if len(busy) > 1
        else None,
        "callbacks": marks[-1][1],
        "expected": expected,
        "failed": hooks["failed"],
        "generation_s": round(first[0] - started, 2),
        "seconds_overall": round(marks[-1][0] - started, 2),
    }


def dispatch(rounds: int = 3, seconds: float = 4.0, messages: int = 20_000) -> dict[str, Any]:
    scenario = Path(tempfile.mkdtemp()) / "instant.yaml"
    scenario.write_text(SCENARIO)
    env = {"RCS_EMULATOR_WEBHOOK_PER_HOST": str(LOOPS), "RCS_EMULATOR_MAX_MESSAGES": "1000000"}
    flags = ("--clock", "manual", "--scenario", str(scenario))
    raw, aio, plain_httpx, emu, runs = [], [], [], [], []
    with (
        uvicorn_app("bench.bare_app:app", cpu=LOAD_CPU) as receiver,
        emulator(*flags, "--webhook-url", receiver + "/hook", env=env) as base,
    ):
        emulator_rate(base, receiver, 2_000)  # warm-up: connections, caches
        for _ in range(rounds):
            raw.append(plain_loops("http1", receiver + "/hook", seconds))
            aio.append(plain_loops("aiohttp", receiver + "/hook", seconds))
            plain_httpx.append(plain_loops("httpx", receiver + "/hook", seconds))
            run = emulator_rate(base, receiver, messages)
            runs.append(run)
            emu.append(run["callbacks_per_s"])
    fastest = [max(r, a) for r, a in zip(raw, aio, strict=True)]
    ratios = [e / f for e, f in zip(emu, fastest, strict=True)]
    return {
        "fastest_loops_per_s": round(median(fastest)),
        "http1_loops_per_s": round(median(raw)),
        "aiohttp_loops_per_s": round(median(aio)),
        "httpx_loops_per_s": round(median(plain_httpx)),
        "emulator_callbacks_per_s": round(median(emu)),
        "ratio_to_fastest_loop": round(median(ratios), 3),
        "emulator_cpu_share": median([r["emulator_cpu_share"] or 0.0 for r in runs]),
        "all_delivered": all(r["callbacks"] == r["expected"] and not r["failed"] for r in runs),
        "loops": LOOPS,
        "rounds": rounds,
        "runs": runs,
    }


if __name__ == "__main__":
    if sys.argv[1] == "loops":
        import uvloop

        print(uvloop.run(_loops(sys.argv[2], sys.argv[3], float(sys.argv[4]))))
    else:
        print(json.dumps(dispatch(), indent=2))
