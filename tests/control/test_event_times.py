"""Event times as the control API shows them: to the millisecond, and on a running clock stamped
when each event was due (a busy ticker's lag is no part of a scenario's delay), against a live
emulator on a scaled clock."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import httpx

from emulator import Config, EmulatorServer
from tests.conftest import SERWERSMS_AUTH

FIXED = """
name: fixed
default:
  - {after: 1, event: delivered}
  - {after: 0.25, event: read}
"""


def epoch(shown: str) -> float:
    return datetime.fromisoformat(shown.replace("Z", "+00:00")).timestamp()


def test_a_fixed_delay_on_a_scaled_clock_is_recorded_as_configured(tmp_path: Path):
    scenario = tmp_path / "fixed.yaml"
    scenario.write_text(FIXED)
    # x100: a second of emulator time is 10 ms; 500 recipients make the ticker run late.
    config = Config(clock="scaled", speed=100, port=0, scenario=str(scenario), seed=7)
    with EmulatorServer(config) as server, httpx.Client(base_url=server.base_url) as http:
        phones = [f"+4850060{i:04d}" for i in range(500)]
        sent = http.post(
            "/messages/send_rcs.json",
            headers=SERWERSMS_AUTH,
            json={"rcs_id": "bot", "phone": phones, "message": {"text": "Your parcel"}},
        )
        assert sent.status_code == 200, sent.text
        deadline = time.monotonic() + 60
        while True:
            found = http.get("/_emulator/messages", params={"status": "read", "limit": 1})
            if found.json()["total"] == 500:
                break
            assert time.monotonic() < deadline, "the scaled clock never read them all"
            time.sleep(0.05)
        items = http.get("/_emulator/messages", params={"limit": 500, "exchange": "false"})
    gaps = set()
    for message in items.json()["items"]:
        times = {e["type"]: e["time"] for e in message["events"]}
        assert all(t[-5] == "." and t.endswith("Z") for t in times.values()), times
        gaps.add(round(epoch(times["delivered"]) - epoch(times["sent"]), 3))
        gaps.add(round(epoch(times["read"]) - epoch(times["delivered"]), 3))
    assert gaps == {1.0, 0.25}


def test_times_carry_milliseconds_everywhere_the_control_api_shows_them(receiver):
    receiver.clear()
    config = Config(clock="manual", port=0, webhook_url=receiver.url, seed=3)
    with EmulatorServer(config) as server, httpx.Client(base_url=server.base_url) as http:
        sent = http.post(
            "/messages/send_rcs.json",
            headers=SERWERSMS_AUTH,
            json={"rcs_id": "bot", "phone": "+48500600700", "message": {"text": "Hi"}},
        )
        assert sent.status_code == 200, sent.text
        http.post("/_emulator/clock/advance", json={"seconds": 0.5}).raise_for_status()
        http.post("/_emulator/clock/advance", json={"seconds": 86400}).raise_for_status()
        [message] = http.get("/_emulator/messages").json()["items"]
        hooks = http.get("/_emulator/webhooks").json()["items"]
        clock = http.get("/_emulator/clock").json()
    shown = [message["created"], message["send_at"], clock["now"]]
    shown += [e["time"] for e in message["events"]]
    shown += [h["created"] for h in hooks] + [a["time"] for h in hooks for a in h["attempts"]]
    assert hooks and all(len(t) == len("2026-01-01T00:00:00.000Z") and t[-5] == "." for t in shown)
    assert clock["now"].endswith(".500Z")  # half a second the manual clock was moved
