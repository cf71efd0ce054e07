"""Full resets while sends go through three processes, one of them stopped and continued again
and again (SIGSTOP/SIGCONT): the log is dropped up to each reset while that process is behind it,
so it begins at a reset again and again. Nothing a caller was told was accepted is refused or
lost, and every process ends with the same messages as the others."""

from __future__ import annotations

import os
import random
import signal
import threading
import time

import httpx
import redis

from emulator.state.log import order
from tests.conftest import GENERIC_AUTH
from tests.robustness.process import Served
from tests.state.test_archive import dropped_up_to_the_reset
from tests.state.test_cluster import MESSAGE, generic, listed

SECONDS = float(os.environ.get("RCS_FLOOR_LOAD_S", "8"))


def test_resets_while_a_process_keeps_stopping_and_sends_go_on(redis_url, tmp_path) -> None:
    args = ("--state", redis_url, "--clock", "manual", "--seed", "3")
    env = {"RCS_EMULATOR_STATE_CHUNK": "10"}
    processes = [Served(tmp_path / f"{n}.log", *args, env=env) for n in "abc"]
    a, b, c = processes
    stop = threading.Event()
    refused: list[object] = []
    sent = [0]

    def sender(k: int) -> None:
        with httpx.Client(timeout=30) as client:
            n = 0
            while not stop.is_set():
                n += 1
                base = processes[n % 3].base_url
                try:
                    answer = client.post(base + MESSAGE, json=generic(f"+4670{k}{n:05d}"),
                                         headers=GENERIC_AUTH)  # fmt: skip
                except httpx.HTTPError as exc:
                    refused.append(repr(exc))
                    continue
                if answer.status_code == 200:
                    sent[0] += 1
                else:
                    refused.append((answer.status_code, answer.text[:300]))

    def resetter() -> None:
        while not stop.wait(random.uniform(0.4, 1.2)):
            answer = httpx.post(random.choice((a, b)).base_url + "/_emulator/reset", timeout=30)
            if answer.status_code != 200:
                refused.append(("reset", answer.status_code, answer.text[:300]))

    def stopper() -> None:
        while not stop.is_set():
            os.kill(c.proc.pid, signal.SIGSTOP)
            try:
                stop.wait(random.uniform(1.0, 3.0))  # past an archiver's turn (every 2 s)
            finally:
                os.kill(c.proc.pid, signal.SIGCONT)
            stop.wait(random.uniform(0.2, 0.8))

    threads = [threading.Thread(target=sender, args=(k,)) for k in range(3)]
    threads += [threading.Thread(target=resetter), threading.Thread(target=stopper)]
    try:
        for thread in threads:
            thread.start()
        started = time.monotonic()
        time.sleep(SECONDS)
        while sent[0] < 30 and time.monotonic() - started < 120:  # some traffic, however slow
            time.sleep(0.1)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        os.kill(c.proc.pid, signal.SIGCONT)
    try:
        assert refused == []
        assert sent[0] >= 30  # else sends were stuck for two minutes
        held = [listed(p.base_url) for p in processes]  # a read applies the log first
        assert held[0] == held[1] == held[2]
        admin = redis.Redis.from_url(redis_url)
        try:  # once an archiver's turn came, Redis holds nothing from before the newest reset
            floor = dropped_up_to_the_reset(admin)
            assert all(order(end) > order(floor) for end in admin.lrange("rcs:chunks", 0, -1))
            assert order(admin.xrange("rcs:log", count=1)[0][0]) >= order(floor)
        finally:
            admin.close()
        jumps = (tmp_path / "c.log").read_text().count("behind the log's floor")
        assert jumps >= 1  # the stopped process did begin at a reset it had not applied
    finally:
        for p in processes:
            p.stop()
