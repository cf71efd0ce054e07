"""SIGTERM to every process at once, under load, with callbacks under way: each real `rcs-emulator
serve` process exits by itself (none hangs), every send answered 200 is kept and none answered
503 is, and no callback is made twice (a receiver counting per message): the processes that come
next finish what was under way. (That each exits within 10 s, 20 trials of 20, is measured by
bench/shutdown.py: a test asserts no duration, only that nothing hangs.)"""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from emulator.testing import WebhookReceiver
from tests.redis_server import RedisServer, flush
from tests.robustness.process import Served
from tests.scale.deployment import MESSAGE, auth, callbacks, listed, put_agent, until

HANG = 30  # seconds after which a process that has not exited is taken for hung
TRIALS = 1  # (bench/shutdown.py makes 20)
KEY = "stopping-tenant-key"


def load(bases: list[str], stop: threading.Event, answers: list[tuple[str, int, str]]) -> None:
    """Sends, each to its own number, round the processes, until told to stop: (phone, status,
    tag) of each answered one."""
    n = 0
    with httpx.Client(timeout=10) as client:
        while not stop.is_set():
            n += 1
            phone = f"+4671{threading.get_ident() % 1000:03d}{n:05d}"
            body = {"agentId": "bot", "number": [phone], "messageType": "TextMessage", "text": "Hi"}
            try:
                answer = client.post(bases[n % len(bases)] + MESSAGE, json=body, headers=auth(KEY))
            except httpx.HTTPError:
                continue  # its process went away under this request: not answered
            tag = answer.json().get("tagId", "") if answer.status_code == 200 else ""
            answers.append((phone, answer.status_code, tag))


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    flush(redis_server.url)
    return redis_server.url


@pytest.mark.parametrize("trial", range(TRIALS))
def test_every_process_stopped_at_once_under_load_exits_and_keeps_its_word(
    redis_url: str, tmp_path: Path, trial: int
) -> None:
    flush(redis_url)
    with WebhookReceiver() as hooks:
        hooks.default.delay = 0.05  # (attempts are under way when the stop comes)
        first = [Served(tmp_path / f"{n}.log", "--state", redis_url) for n in ("a", "b")]
        put_agent(first[0].base_url, "bot", hooks.url, tenant=KEY)
        answers: list[tuple[str, int, str]] = []
        stop = threading.Event()
        senders = [
            threading.Thread(target=load, args=([s.base_url for s in first], stop, answers))
            for _ in range(4)
        ]
        for sender in senders:
            sender.start()
        try:  # the real clock: callbacks go out 1-5 s after each send, beside the sends
            until(lambda: len(answers) >= 150 and len(hooks.calls) >= 20, "load and callbacks")
            for served in first:  # at once
                served.proc.send_signal(signal.SIGTERM)
            for served in first:
                served.proc.wait(HANG)  # (raises if it hangs)
        finally:
            stop.set()
            for sender in senders:
                sender.join(HANG)
            for served in first:
                served.stop()
        said = [s.text() for s in first]
        assert all("Finished server process" in text for text in said), said
        ok = {tag for _, status, tag in answers if status == 200}
        refused = {phone for phone, status, _ in answers if status == 503}
        # The next processes find everything kept, and finish what was under way.
        after = [Served(tmp_path / f"{n}2.log", "--state", redis_url) for n in ("c", "d")]
        try:
            held: list[dict[str, Any]] = until(
                lambda: (found := listed(after[0].base_url, KEY)) and found, "the state read"
            )
            assert ok <= {m["batch"] for m in held}  # every send answered 200 was kept
            assert not refused & {m["phone"] for m in held}  # none answered 503 was
            ids = {m["id"] for m in held if m["status"] not in ("scheduled", "queued")}
            until(
                lambda: {mid for (kind, mid) in callbacks(hooks.calls) if kind == "READ"} >= ids,
                "every message's callbacks",
                wait=HANG * 2,  # (a lease to run out, a beat to be missed, on a busy machine)
            )
            counted = callbacks(hooks.calls)
            twice = {k: n for k, n in counted.items() if n > 1}
            assert not twice, twice
        finally:
            for served in after:
                served.stop()
