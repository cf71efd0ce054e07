"""Start-up of `rcs-emulator serve` to its first healthy answer, and the pytest plugin's per-test
reset (the control call its fixture makes before each test)."""

from __future__ import annotations

import statistics
import subprocess
import time
from typing import Any

import httpx

from emulator.client import EmulatorHandle

from .common import BIN, free_port, wait_healthy


def startup(rounds: int = 5) -> dict[str, Any]:
    samples = []
    for _ in range(rounds):
        port = free_port()
        started = time.perf_counter()
        proc = subprocess.Popen(
            [str(BIN / "rcs-emulator"), "serve", "--port", str(port), "--log-level", "warning"],
            stdout=subprocess.DEVNULL,
        )
        try:
            wait_healthy(f"http://127.0.0.1:{port}/_emulator/health")
            samples.append(time.perf_counter() - started)
        finally:
            proc.terminate()
            proc.wait(10)
    return {"median_s": round(statistics.median(samples), 3), "rounds": rounds}


def plugin_reset(base: str, rounds: int = 300) -> dict[str, Any]:
    """The fixture's reset after a typical test: a few messages sent, events run."""
    handle = EmulatorHandle(base)
    body = {
        "agentId": "a",
        "number": ["+46701234567", "+46702345678"],
        "messageType": "Text",
        "text": "hi",
        "suggestedReplies": [{"text": "Yes", "postbackData": "yes"}],
    }
    samples = []
    with httpx.Client(base_url=base) as client:
        for _ in range(rounds):
            for _ in range(3):
                client.post("/Rcs/api/v1/Message", json=body, headers={"Authorization": "Bearer k"})
            handle.advance(60)
            started = time.perf_counter()
            handle.reset()
            samples.append(time.perf_counter() - started)
    handle.close()
    return {"median_ms": round(statistics.median(samples) * 1000, 2), "rounds": rounds}
