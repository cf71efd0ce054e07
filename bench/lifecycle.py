"""The whole job at the stack's speed: saturated Generic sends to many different numbers with the
default scenario, then the one advance that runs every step and makes every callback (delivered,
read: two per message); beside it, the same HTTP traffic made by a bare Starlette app
(bench/bare_lifecycle.py: one send in, two callbacks out, delivered with the fastest plain
client loop), and the plain client loops of bench/dispatch.py alone. Rounds alternate in one run;
figures are medians.

- raw send rate: wrk's requests/s into the emulator (manual clock: no callback yet);
- lifecycle rate: messages / (send time + advance time), and its ratio to the raw send rate;
- callbacks/s during the advance (between 10% and 90% of them), and its ratio to the fastest
  plain loop's;
- on a real clock, saturated sends for a few seconds: how long after the last send the last
  callback lands (the default scenario's longest delay is 3 + 5 = 8 s).

The emulator and the bare app run on core 0; wrk and the receiver on core 1.
Run: .venv/bin/python -m bench.lifecycle [seconds_of_sends] [rounds]
"""

from __future__ import annotations

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
    LOAD_CPU,
    SERVER_CPU,
    emulator,
    free_port,
    median,
    pinned,
    serving,
    uvicorn_app,
    uvicorn_argv,
)
from .dispatch import LOOPS, plain_loops

PATH = "/Rcs/api/v1/Message"
LONGEST_DELAY = 8.0  # the default scenario: delivered 1-3 s after the send, read 2-5 s later
ENV = {"RCS_EMULATOR_WEBHOOK_PER_HOST": str(LOOPS), "RCS_EMULATOR_MAX_MESSAGES": "10000000"}

# Each request goes to a number of its own (+4671..., clear of the scenario's magic numbers).
LUA = """wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer bench-key"
local n = 0
request = function()
  n = n + 1
  local body = string.format('{"agentId":"bench","number":["+4671%07d"],'
    .. '"messageType":"TextMessage","text":"Hello from the benchmark"}', n)
  return wrk.format(nil, nil, nil, body)
end
"""


def _script() -> Path:
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    script.write_text(LUA)
    return script


def _wrk(url: str, seconds: float) -> float:
    duration = f"-d{round(seconds)}s"
    argv = pinned(LOAD_CPU, ["wrk", "-t1", "-c16", duration, "-s", str(_script()), url])
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"wrk saw errors:\n{out}")
    return float(out.split("Requests/sec:")[1].split()[0])


def _count(receiver: str) -> dict[str, Any]:
    return dict(httpx.get(receiver + "/count").json())


def _advance(
    url: str, body: dict[str, Any] | None, receiver: str, expected: int, before: int
) -> dict[str, Any]:
    """POST `url` (it answers once every callback is made) while counting what arrives."""
    done: list[float] = []
    started = time.perf_counter()

    def call() -> None:
        httpx.post(url, json=body, timeout=600).raise_for_status()
        done.append(time.perf_counter())

    thread = threading.Thread(target=call)
    thread.start()
    marks: list[tuple[float, int]] = []
    with httpx.Client() as poll:
        while thread.is_alive():
            got = poll.get(receiver + "/count").json()["received"] - before
            marks.append((time.perf_counter(), got))
            time.sleep(0.05)
    thread.join()
    got = _count(receiver)["received"] - before
    marks.append((done[0], got))
    low = next((m for m in marks if m[1] >= expected * 0.1), marks[0])
    high = next((m for m in marks if m[1] >= expected * 0.9), marks[-1])
    span = high[0] - low[0]
    return {
        "seconds": done[0] - started,
        "callbacks": got,
        "callbacks_per_s": (high[1] - low[1]) / span if span > 0 else None,
    }


def emulator_round(base: str, receiver: str, seconds: float) -> dict[str, Any]:
    httpx.post(base + "/_emulator/reset").raise_for_status()
    rps = _wrk(base + PATH, seconds)
    sent = httpx.get(base + "/_emulator/health").json()["messages"]
    before = _count(receiver)["received"]
    advanced = _advance(
        base + "/_emulator/clock/advance", {"seconds": 60}, receiver, sent * 2, before
    )
    hooks = httpx.get(base + "/_emulator/health").json()["webhooks"]
    send_s = sent / rps
    return {
        "messages": sent,
        "send_rps": rps,
        "send_s": send_s,
        "advance_s": advanced["seconds"],
        "lifecycle_rps": sent / (send_s + advanced["seconds"]),
        "callbacks_per_s": advanced["callbacks_per_s"],
        "all_delivered": advanced["callbacks"] == sent * 2
        and hooks["failed"] == 0
        and hooks["delivered"] == sent * 2,
    }


def bare_round(bare: str, receiver: str, seconds: float) -> dict[str, Any]:
    httpx.post(bare + "/reset").raise_for_status()
    rps = _wrk(bare + PATH, seconds)
    sent = _count(bare)["received"]
    before = _count(receiver)["received"]
    advanced = _advance(bare + "/advance", None, receiver, sent * 2, before)
    send_s = sent / rps
    return {
        "messages": sent,
        "send_rps": rps,
        "send_s": send_s,
        "advance_s": advanced["seconds"],
        "lifecycle_rps": sent / (send_s + advanced["seconds"]),
        "callbacks_per_s": advanced["callbacks_per_s"],
        "all_delivered": advanced["callbacks"] == sent * 2,
    }


def real_clock(receiver: str, seconds: float = 5.0) -> dict[str, Any]:
    """Saturated sends on a real clock: when does the last callback land after the last send?"""
    with emulator("--webhook-url", receiver + "/hook", env=ENV) as base:
        before = _count(receiver)["received"]
        rps = _wrk(base + PATH, seconds)
        last_send = time.time()
        sent = httpx.get(base + "/_emulator/health").json()["messages"]
        expected = before + sent * 2
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and _count(receiver)["received"] < expected:
            time.sleep(0.1)
        landed = _count(receiver)
        hooks = httpx.get(base + "/_emulator/health").json()["webhooks"]
    lag = landed["last"] - last_send
    return {
        "send_rps": round(rps),
        "messages": sent,
        "all_arrived": landed["received"] == expected and hooks["failed"] == 0,
        "last_callback_after_last_send_s": round(lag, 2),
        "target_s": LONGEST_DELAY + 1,
        "met": lag <= LONGEST_DELAY + 1,
    }


def lifecycle(seconds: float = 8.0, rounds: int = 3) -> dict[str, Any]:
    port = free_port()
    argv = uvicorn_argv("bench.bare_lifecycle:app", port)
    emus, bares, loops = [], [], []
    with uvicorn_app("bench.bare_app:app", cpu=LOAD_CPU) as receiver:
        env = {"RECEIVER": receiver + "/hook"}
        with (
            emulator("--clock", "manual", "--webhook-url", receiver + "/hook", env=ENV) as base,
            serving(argv, port, "/count", SERVER_CPU, env) as bare,
        ):
            emulator_round(base, receiver, 1)  # warm-up: connections, caches, Faker
            bare_round(bare, receiver, 1)
            for _ in range(rounds):
                loops.append(
                    max(
                        plain_loops("http1", receiver + "/hook", 4),
                        plain_loops("aiohttp", receiver + "/hook", 4),
                    )
                )
                emus.append(emulator_round(base, receiver, seconds))
                bares.append(bare_round(bare, receiver, seconds))
        real = real_clock(receiver)

    def mid(runs: list[dict[str, Any]], key: str) -> float:
        return median([r[key] for r in runs if r[key] is not None])

    lifecycle_ratios = [r["lifecycle_rps"] / r["send_rps"] for r in emus]
    callback_ratios = [r["callbacks_per_s"] / f for r, f in zip(emus, loops, strict=True)]
    return {
        "raw_send_rps": round(mid(emus, "send_rps")),
        "lifecycle_rps": round(mid(emus, "lifecycle_rps")),
        "lifecycle_to_raw_send": round(median(lifecycle_ratios), 3),
        "advance_callbacks_per_s": round(mid(emus, "callbacks_per_s")),
        "fastest_plain_loop_per_s": round(median(loops)),
        "advance_callbacks_to_fastest_loop": round(median(callback_ratios), 3),
        "messages_per_round": round(mid(emus, "messages")),
        "advance_s": round(mid(emus, "advance_s"), 2),
        "bare": {
            "send_rps": round(mid(bares, "send_rps")),
            "lifecycle_rps": round(mid(bares, "lifecycle_rps")),
            "advance_s": round(mid(bares, "advance_s"), 2),
            "callbacks_per_s": round(mid(bares, "callbacks_per_s")),
        },
        "emulator_lifecycle_to_bare_lifecycle": round(
            median(
                [e["lifecycle_rps"] / b["lifecycle_rps"] for e, b in zip(emus, bares, strict=True)]
            ),
            3,
        ),
        "all_delivered": all(r["all_delivered"] for r in emus + bares),
        "real_clock": real,
        "rounds": rounds,
        "seconds_of_sends": seconds,
    }


if __name__ == "__main__":
    args = [float(a) for a in sys.argv[1:]]
    print(json.dumps(lifecycle(*args[:1], *(int(a) for a in args[1:2])), indent=2))
