"""A soak: an hour of emulator time under a steady load of both providers with callbacks on.
Once the retention limits are reached, memory stays flat, nothing is lost and every callback
arrives once. The work is counted, never timed (a busy machine only makes it slower): the suite
runs a short form, whose first half already reaches both limits; `make soak` a long one
(RCS_SOAK_SENDS=60000)."""

from __future__ import annotations

import gc
import os

import httpx

from emulator import Config, EmulatorServer
from emulator.testing import WebhookReceiver
from tests.conftest import GENERIC_AUTH, SERWERSMS_AUTH

SENDS = int(os.environ.get("RCS_SOAK_SENDS", "1600"))
MAX_MESSAGES, MAX_WEBHOOK_LOG = 600, 1200  # reached within the first 800 sends (2 callbacks each)
BATCH = 40  # sends between two clock advances
HOUR = 3600.0
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    gc.collect()
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE / 2**20


def _send(c: httpx.Client, i: int) -> int:
    if i % 2:
        return c.post(
            "/Rcs/api/v1/Message",
            headers=GENERIC_AUTH,
            json={
                "agentId": "soak",
                "number": [f"+4673{i % 5000:07d}"],
                "messageType": "Text",
                "text": f"message {i}",
                "suggestedReplies": [{"text": "Yes", "postbackData": "yes"}],
            },
        ).status_code
    return c.post(
        "/messages/send_rcs",
        headers=SERWERSMS_AUTH,
        json={
            "rcs_id": "soak",
            "phone": f"+4850{i % 5000:07d}",
            "message": {"text": f"message {i}"},
        },
    ).status_code


def test_an_hour_of_emulator_time_stays_flat() -> None:
    receiver = WebhookReceiver(keep=100).start()  # counts every call, remembers the last 100
    config = Config(
        port=0,
        clock="manual",
        max_messages=MAX_MESSAGES,
        max_webhook_log=MAX_WEBHOOK_LOG,
        webhook_url=receiver.url,
    )
    statuses: dict[int, int] = {}
    samples: list[float] = []
    batches = SENDS // BATCH
    with EmulatorServer(config) as server, httpx.Client(base_url=server.base_url) as c:
        start_clock = c.get("/_emulator/clock").json()["epoch"]
        for batch in range(batches):
            for i in range(batch * BATCH, (batch + 1) * BATCH):
                status = _send(c, i)
                statuses[status] = statuses.get(status, 0) + 1
            # the hour, spread over the batches; advance returns once every callback due is out
            c.post("/_emulator/clock/advance", json={"seconds": HOUR / batches}).raise_for_status()
            samples.append(rss_mb())
        c.post("/_emulator/clock/advance", json={"seconds": 60}).raise_for_status()  # the tail
        health = c.get("/_emulator/health").json()
    receiver.stop()

    assert statuses == {200: batches * BATCH}  # never an error, never a 5xx
    assert health["clock"]["epoch"] - start_clock >= HOUR
    assert health["messages"] == MAX_MESSAGES and health["retention"]["evicted_messages"] > 0
    assert health["retention"]["webhook_log_dropped"] > 0
    webhooks = health["webhooks"]
    assert webhooks["failed"] == 0 and webhooks["pending"] == webhooks["in_flight"] == 0
    assert webhooks["retrying"] == 0
    # every callback the emulator counts as delivered reached the receiver, once
    assert receiver.count == webhooks["delivered"] + health["retention"]["webhook_log_dropped"]
    # flat once the limits are reached: the second half grows by less than 15 MB
    half = samples[len(samples) // 2 :]
    print(
        f"soak: {batches * BATCH} sends, {receiver.count} callbacks, RSS {samples[0]:.1f} MB "
        f"after the first batch, {half[0]:.1f} at half way, {samples[-1]:.1f} at the end"
    )
    assert max(half) - half[0] < 15, samples
