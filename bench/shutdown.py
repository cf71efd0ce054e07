"""SIGTERM to every process at once, under load, `trials` times: two processes on one Redis, each
under `wrk -t1 -c16`, callbacks under way (a receiver answering after 50 ms), both sent SIGTERM
at the same instant; how long each took to exit (the target: within 10 s, every trial), and,
once two fresh processes finished what was under way, how many callbacks the receiver got twice.

    .venv/bin/python -m bench.shutdown [trials]
"""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import time
from collections import Counter
from typing import Any

import httpx

from emulator.testing import WebhookReceiver

from .common import LOAD_CPU, pinned
from .scale import BODY, PATH, Server, redis_server, tenants_lua

LOAD_SECONDS = 4  # wrk runs this long; the stop comes halfway through
STOP_AT = 2.0
HANG = 60.0  # seconds after which a process that has not exited is called hung
# (the receiver answers at once: make them; a process that hangs says where, on SIGABRT)
FAST = {"RCS_EMULATOR_WEBHOOK_PER_HOST": "16", "PYTHONFAULTHANDLER": "1"}


def trial(url: str, hooks: WebhookReceiver) -> dict[str, Any]:
    servers = [
        Server("--state", url, "--webhook-url", hooks.url, clock="real", env=FAST) for _ in range(2)
    ]
    loads = [
        subprocess.Popen(
            pinned(
                LOAD_CPU,
                [
                    "wrk",
                    "-t1",
                    "-c16",
                    f"-d{LOAD_SECONDS}s",
                    "-s",
                    str(tenants_lua(BODY, 8)),
                    s.base + PATH,
                ],
            ),
            stdout=subprocess.DEVNULL,
        )
        for s in servers
    ]
    time.sleep(STOP_AT)  # (a benchmark's phases are times: a test waits for conditions)
    sent = time.monotonic()
    for server in servers:
        server.proc.send_signal(signal.SIGTERM)
    exits: list[float | None] = [None] * len(servers)
    while None in exits and time.monotonic() - sent < HANG:
        for i, server in enumerate(servers):
            if exits[i] is None and server.proc.poll() is not None:
                exits[i] = round(time.monotonic() - sent, 2)
        time.sleep(0.01)
    for server in servers:
        if server.proc.poll() is None:  # hung: its threads' stacks said, killed, counted
            server.proc.send_signal(signal.SIGABRT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                server.proc.wait(5)
            server.proc.kill()
            server.proc.wait()
    for load in loads:
        load.wait(30)
    return {"exit_s": exits}


def duplicates(url: str, hooks: WebhookReceiver) -> dict[str, int]:
    """Fresh processes finish what was under way (until no delivery is pending or in flight);
    then how many callbacks came twice."""
    servers = [
        Server("--state", url, "--webhook-url", hooks.url, clock="real", env=FAST) for _ in range(2)
    ]
    try:
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            health = httpx.get(servers[0].base + "/_emulator/health", timeout=10).json()
            owed = health["webhooks"]["pending"] + health["webhooks"]["in_flight"]
            due = health["scheduled_events"]
            if not owed and not due:
                break
            time.sleep(1)
    finally:
        for server in servers:
            server.stop()
    counted = Counter((c["json"]["Type"], c["json"]["MessageId"]) for c in hooks.calls)
    return {
        "callbacks": len(hooks.calls),
        "twice_or_more": sum(n > 1 for n in counted.values()),
        "messages": health.get("messages", 0),
        "still_owed": owed,
    }


def shutdown(trials: int = 20) -> dict[str, Any]:
    runs = []
    with redis_server() as url, WebhookReceiver() as hooks:
        hooks.default.delay = 0.01
        for _ in range(trials):
            runs.append(trial(url, hooks))
            print(json.dumps(runs[-1]), flush=True)
        counted = duplicates(url, hooks)
    exits = [e for run in runs for e in run["exit_s"]]
    done = [e for e in exits if e is not None]
    return {
        "trials": trials,
        "processes": len(exits),
        "exited_within_10_s": sum(e <= 10 for e in done),
        "hung": exits.count(None),
        "slowest_exit_s": max(done, default=None),
        **counted,
    }


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    print("command: .venv/bin/python -m bench.shutdown " + " ".join(sys.argv[1:]), flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        print(json.dumps(shutdown(*args), indent=2))
