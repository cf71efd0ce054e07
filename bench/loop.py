"""Whether uvloop earns its place in the runtime install: the emulator on uvloop against the same
emulator on asyncio's own event loop (what it falls back to when uvloop is not installed), under
the same load. Each round is bench/lifecycle.py's emulator round: saturated Generic sends to
fresh numbers (wrk), then the advance that makes every callback (delivered, read) to a bare
Starlette receiver. Rounds alternate between the two; figures are medians, ratios uvloop/asyncio.

Both emulators run pinned to core 0 (one is loaded at a time), wrk and the receiver on core 1.
Run: .venv/bin/python -m bench.loop [seconds_of_sends] [rounds]
"""

from __future__ import annotations

import json
import sys
from typing import Any

from .common import BIN, LOAD_CPU, SERVER_CPU, free_port, median, serving, uvicorn_app
from .lifecycle import ENV, emulator_round

COMMAND = "python -m bench.loop"
# The emulator as installed without uvloop: server.uvicorn_options finds no uvloop and serves on
# asyncio's loop (find_spec answers None for a module blocked in sys.modules).
WITHOUT_UVLOOP = (
    "import sys; sys.modules['uvloop'] = None; from emulator.cli import main; sys.exit(main())"
)


def _emulator(receiver: str, uvloop: bool) -> Any:
    port = free_port()
    flags = ["serve", "--port", str(port), "--log-level", "warning", "--clock", "manual"]
    flags += ["--webhook-url", receiver + "/hook"]
    if uvloop:
        argv = [str(BIN / "rcs-emulator"), *flags]
    else:
        argv = [str(BIN / "python"), "-c", WITHOUT_UVLOOP, *flags]
    return serving(argv, port, "/_emulator/health", SERVER_CPU, ENV)


def compare(seconds: float = 4.0, rounds: int = 5) -> dict[str, Any]:
    print(f"command: {COMMAND} {seconds:g} {rounds}  ({rounds} alternating rounds)", flush=True)
    runs: dict[str, list[dict[str, Any]]] = {"uvloop": [], "asyncio": []}
    with (
        uvicorn_app("bench.bare_app:app", cpu=LOAD_CPU) as receiver,
        _emulator(receiver, uvloop=True) as fast,
        _emulator(receiver, uvloop=False) as plain,
    ):
        emulator_round(fast, receiver, 1)  # warm-up: connections, caches
        emulator_round(plain, receiver, 1)
        for _ in range(rounds):
            runs["uvloop"].append(emulator_round(fast, receiver, seconds))
            runs["asyncio"].append(emulator_round(plain, receiver, seconds))
    assert all(r["all_delivered"] for rs in runs.values() for r in rs), "a callback was lost"

    def mid(loop: str, key: str) -> float:
        return median([r[key] for r in runs[loop] if r[key] is not None])

    result: dict[str, Any] = {}
    for key in ("send_rps", "callbacks_per_s", "lifecycle_rps"):
        result[key] = {
            "uvloop": round(mid("uvloop", key)),
            "asyncio": round(mid("asyncio", key)),
            "uvloop_over_asyncio": round(mid("uvloop", key) / mid("asyncio", key), 3),
        }
    return result


if __name__ == "__main__":
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 4.0
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    print(json.dumps(compare(seconds, rounds), indent=2))
