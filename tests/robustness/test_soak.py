"""A soak: an hour of emulator time (scaled clock) under steady load of both providers with
callbacks on. Once the retention limits are reached, memory stays flat. CI runs a short form;
`make soak` runs the long one (RCS_SOAK_SECONDS=300)."""

from __future__ import annotations

import gc
import os
import threading
import time

import httpx

from emulator import Config, EmulatorServer
from emulator.testing import WebhookReceiver
from tests.conftest import GENERIC_AUTH, SERWERSMS_AUTH

SECONDS = float(os.environ.get("RCS_SOAK_SECONDS", "12"))
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    gc.collect()
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE / 2**20


def test_an_hour_of_emulator_time_stays_flat() -> None:
    speed = 3600 / SECONDS
    receiver = WebhookReceiver(keep=100).start()  # counts every call, remembers the last 100
    config = Config(port=0, clock="scaled", speed=speed, max_messages=1500,
                    max_webhook_log=3000, webhook_url=receiver.url)  # fmt: skip
    statuses: dict[int, int] = {}
    samples: list[tuple[float, float]] = []
    stop = threading.Event()
    with EmulatorServer(config) as server:
        start_clock = httpx.get(server.base_url + "/_emulator/clock").json()["epoch"]

        def load() -> None:
            with httpx.Client(base_url=server.base_url) as c:
                i = 0
                while not stop.is_set():
                    i += 1
                    if i % 2:
                        r = c.post("/Rcs/api/v1/Message", headers=GENERIC_AUTH, json={
                            "agentId": "soak", "number": [f"+4673{i % 5000:07d}"],
                            "messageType": "Text", "text": f"message {i}",
                            "suggestedReplies": [{"text": "Yes", "postbackData": "yes"}]})  # fmt: skip
                    else:
                        r = c.post("/messages/send_rcs", headers=SERWERSMS_AUTH, json={
                            "rcs_id": "soak", "phone": f"+4850{i % 5000:07d}",
                            "message": {"text": f"message {i}"}})  # fmt: skip
                    statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
                    time.sleep(0.002)  # steady, not flat out

        worker = threading.Thread(target=load, daemon=True)
        started = time.monotonic()
        worker.start()
        while time.monotonic() - started < SECONDS:
            time.sleep(SECONDS / 20)
            samples.append((time.monotonic() - started, rss_mb()))
        stop.set()
        worker.join(10)
        health = httpx.get(server.base_url + "/_emulator/health").json()
        end_clock = health["clock"]["epoch"]
    receiver.stop()

    assert set(statuses) == {200}, statuses  # never an error, never a 5xx
    assert end_clock - start_clock >= 3500  # an hour of emulator time went by
    assert health["messages"] == 1500 and health["retention"]["evicted_messages"] > 0
    assert health["webhooks"]["failed"] == 0
    assert receiver.count > 1000
    # flat once limits are reached: the second half grows by less than 15 MB
    half = [mb for t, mb in samples if t >= SECONDS / 2]
    print(f"soak: {sum(statuses.values())} sends, {receiver.count} callbacks, RSS "
          f"{samples[0][1]:.1f} MB at start, {half[0]:.1f} at half time, {samples[-1][1]:.1f} "
          f"at the end (max {max(mb for _, mb in samples):.1f})")  # fmt: skip
    assert max(half) - half[0] < 15, samples
