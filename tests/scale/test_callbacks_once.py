"""No callback is made twice, whatever Redis does meanwhile: killed with SIGKILL while attempts are
on the wire (and kept down past their leases), or full (at its maxmemory). Two real processes, a
receiver counting each (callback type, message). The one exception the README states, an attempt
whose own process died while its POST was on the wire, is not provoked here."""

from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path

import httpx
import redis

from emulator.testing import WebhookReceiver
from tests.redis_server import RedisServer
from tests.robustness.process import Served
from tests.scale.deployment import advance, callbacks, listed, put_agent, send, sent, until

KEY = "counted-tenant-key"
ENV = {"RCS_EMULATOR_WEBHOOK_TIMEOUT": "1"}  # a lease of 6 s: the timeout and 5 s


def settled(url: str) -> bool:
    """Nothing under way or waiting in the state (no attempt left that a reclaim could make
    again): every partition counts no delivery pending or in flight."""
    from emulator.engines.redis import keys

    store = redis.Redis.from_url(url)
    try:
        for root in keys.ROOTS:
            base = root + (store.get(root + "epoch") or b"0").decode() + ":"
            counts = store.hgetall(base + "counts")
            if int(counts.get(b"pending", 0)) or int(counts.get(b"in_flight", 0)):
                return False
        return True
    finally:
        store.close()


def test_redis_killed_while_attempts_are_on_the_wire_makes_none_twice(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "redis").start()
    processes: list[Served] = []
    try:
        processes = [
            Served(tmp_path / f"{n}.log", "--state", server.url, "--clock", "manual", env=ENV)
            for n in ("a", "b")
        ]
        a, b = processes
        with WebhookReceiver() as hooks:
            hooks.default.delay = 0.4  # (several attempts under way when Redis dies)
            put_agent(a.base_url, "bot", hooks.url, tenant=KEY)
            for i in range(12):
                sent((a, b)[i % 2].base_url, KEY, f"+467012{i:05d}")
            moving = threading.Thread(target=lambda: advance(b.base_url, 120, KEY), daemon=True)
            moving.start()
            until(lambda: len(hooks.calls) >= 3, "attempts on the wire")
            server.kill()
            killed = time.time()
            # Down past every lease of what was under way (6 s), then back with its AOF.
            until(lambda: time.time() > killed + 7, "the leases run out", wait=30)
            server.start()
            moving.join(60)
            for served in processes:
                until(
                    lambda s=served: httpx.get(s.base_url + "/_emulator/ready").status_code == 200,
                    "ready again",
                )
            advance(a.base_url, 120, KEY)
            ids = {m["id"] for m in listed(a.base_url, KEY)}
            assert len(ids) == 12
            until(
                lambda: {mid for (kind, mid) in callbacks(hooks.calls) if kind == "READ"} >= ids,
                "every message's callbacks",
                wait=60,
            )
            until(lambda: settled(server.url), "nothing left under way", wait=60)
            counted = callbacks(hooks.calls)
            assert {n for n in counted.values()} == {1}, counted
    finally:
        for served in processes:
            served.stop()
        server.stop()


def test_a_full_redis_refuses_sends_keeps_ready_and_makes_each_callback_once(
    tmp_path: Path,
) -> None:
    """Callbacks asked for before Redis filled up are made while it is full, and their outcomes
    kept (settling an attempt may take memory a send may not)."""
    server = RedisServer(tmp_path / "redis").start()
    processes: list[Served] = []
    admin = redis.Redis(port=server.port)
    try:
        processes = [
            Served(tmp_path / f"{n}.log", "--state", server.url, "--clock", "manual", env=ENV)
            for n in ("a", "b")
        ]
        a, b = processes
        with WebhookReceiver() as hooks:
            hooks.default.delay = 0.3
            put_agent(a.base_url, "bot", hooks.url, tenant=KEY)
            for i in range(10):
                sent((a, b)[i % 2].base_url, KEY, f"+467013{i:05d}")
            moving = threading.Thread(target=lambda: advance(b.base_url, 120, KEY), daemon=True)
            moving.start()
            until(lambda: len(hooks.calls) >= 2, "attempts on the wire")
            used = int(admin.info("memory")["used_memory"])
            admin.config_set("maxmemory", str(used + 2 * 1024 * 1024))
            for n in range(1000):  # filled from outside, until Redis refuses a send
                with contextlib.suppress(redis.OutOfMemoryError):
                    admin.set(f"filler:{n}", b"x" * 64 * 1024)
                refused = send(a.base_url, KEY, "+46701400001")
                if refused.status_code == 503:
                    break
            assert refused.status_code == 503 and refused.json()["status"] == 503
            assert listed(b.base_url, KEY)  # reads still answer
            for _ in range(20):  # readiness holds while full (it serves reads)
                assert httpx.get(a.base_url + "/_emulator/ready").status_code == 200
            moving.join(60)
            made = httpx.get(a.base_url + "/_emulator/webhooks", params={"limit": 1000}).json()
            assert made["total"] >= 2
            until(lambda: settled(server.url), "every attempt settled while full", wait=60)
            logged = httpx.get(a.base_url + "/_emulator/webhooks", params={"limit": 1000}).json()
            assert all(len(d["attempts"]) == 1 for d in logged["items"]), logged
            counted = callbacks(hooks.calls)
            assert set(counted.values()) == {1}, counted
            assert sum(counted.values()) == logged["total"]
            admin.config_set("maxmemory", "0")  # room again: sends are taken again
            assert send(a.base_url, KEY, "+46701500001").status_code == 200
    finally:
        for served in processes:
            served.stop()
        admin.close()
        server.stop()
    said = processes[0].text()
    assert "could not be kept" not in said
    assert len([line for line in said.splitlines() if "is full at" in line]) == 1, said
    assert len([line for line in said.splitlines() if "takes writes again" in line]) == 1, said
