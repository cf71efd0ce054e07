"""Send throughput against a bare Starlette endpoint, and sends with scenarios and webhooks on."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from .common import emulator, median, uvicorn_app, wrk

GENERIC_BODY = {
    "agentId": "bench",
    "number": ["+46701234567"],
    "messageType": "TextMessage",
    "text": "Hello from the benchmark",
    "suggestedReplies": [{"text": "Yes", "postbackData": "yes"}],
}
SERWERSMS_BODY = {
    "rcs_id": "bench-bot",
    "phone": "+48500600700",
    "message": {
        "text": "Hello from the benchmark",
        "suggestions": [{"reply": {"text": "Yes", "postback": "yes"}}],
    },
    "details": True,
}
CASES = {
    "generic": ("/Rcs/api/v1/Message", GENERIC_BODY),
    "serwersms": ("/messages/send_rcs.json", SERWERSMS_BODY),
}


def lua(body: dict[str, Any], pause_ms: int = 0) -> Path:
    """A wrk script posting `body`; with pause_ms each connection waits between requests."""
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    payload = json.dumps(body).replace("\\", "\\\\").replace("'", "\\'")
    text = (
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        'wrk.headers["Authorization"] = "Bearer bench-key"\n'
        f"wrk.body = '{payload}'\n"
    )
    if pause_ms:
        text += f"function delay()\n  return {pause_ms}\nend\n"
    script.write_text(text)
    return script


def send_ratio(rounds: int = 5, seconds: int = 4) -> dict[str, Any]:
    """Rounds alternate bare and emulator; the emulator is reset before each of its rounds."""
    results: dict[str, Any] = {}
    with uvicorn_app("bench.bare_app:app") as bare, emulator("--clock", "manual") as emu:
        for provider, (path, body) in CASES.items():
            script = lua(body)
            bares, emus, ratios = [], [], []
            for _ in range(rounds):
                b = wrk(bare + path, script, seconds)
                httpx.post(emu + "/_emulator/reset").raise_for_status()
                e = wrk(emu + path, script, seconds)
                bares.append(b)
                emus.append(e)
                ratios.append(e / b)
            results[provider] = {
                "bare_rps": round(median(bares)),
                "emulator_rps": round(median(emus)),
                "ratio": round(median(ratios), 3),
                "rounds": rounds,
            }
    return results


def with_webhooks(seconds: int = 15, connections: int = 10, pause_ms: int = 8) -> dict[str, Any]:
    """Default scenario on a real clock, every callback to a local receiver. wrk paces sends
    (each connection pauses between requests) a little over 1,000/s; then it waits until every
    callback has arrived and checks the count on both sides. Callbacks must keep up: the last
    one should land within the scenario's own delays (up to 8 s) of the last send."""
    path, body = CASES["generic"]
    with (
        uvicorn_app("bench.bare_app:app", cpu="1") as receiver,
        emulator("--webhook-url", receiver + "/hook") as emu,
    ):
        started = time.perf_counter()
        rps = wrk(emu + path, lua(body, pause_ms), seconds, connections)
        sends_done = time.perf_counter()
        at_end = httpx.get(receiver + "/count").json()["received"]
        sent = httpx.get(emu + "/_emulator/health").json()["messages"]
        expected = sent * 2  # DELIVERED and READ for every message
        deadline = time.perf_counter() + 120
        while time.perf_counter() < deadline:
            hooks = httpx.get(emu + "/_emulator/health").json()["webhooks"]
            if hooks["delivered"] >= expected:
                break
            time.sleep(0.2)
        finished = time.perf_counter()
        received = httpx.get(receiver + "/count").json()["received"]
        hooks = httpx.get(emu + "/_emulator/health").json()["webhooks"]
    return {
        "sends_per_s": round(rps),
        "messages": sent,
        "callbacks_expected": expected,
        "callbacks_received": received,
        "callbacks_failed": hooks["failed"],
        "callbacks_per_s_while_sending": round(at_end / (sends_done - started)),
        "callbacks_per_s_overall": round(received / (finished - started)),
        "all_arrived": received == expected and hooks["failed"] == 0,
        "last_callback_after_last_send_s": round(finished - sends_done, 1),
    }
