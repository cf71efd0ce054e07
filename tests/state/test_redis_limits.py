"""A Redis that is full, went back to an older copy of itself, or keeps no append-only file: each
said plainly; nothing accepted is lost, and two histories are never mixed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from tests.conftest import GENERIC_AUTH, SERWERSMS_AUTH
from tests.redis_server import RedisServer
from tests.robustness.process import Served
from tests.state.test_cluster import MESSAGE, generic, listed, send

SERWERSMS_SEND = {"rcs_id": "cluster_bot", "phone": "500600700", "message": {"text": "Hi"}}


@pytest.fixture
def admin(redis_url: str) -> Iterator[redis.Redis]:
    """The test's Redis, with its limits as they were once the test ends (it serves the next)."""
    client = redis.Redis.from_url(redis_url)
    yield client
    client.config_set("maxmemory", 0)
    client.config_set("appendonly", "yes")
    client.close()


def test_a_full_redis_refuses_new_requests_and_keeps_what_it_accepted(
    redis_url: str, admin: redis.Redis, tmp_path: Path
) -> None:
    served = Served(tmp_path / "a.log", "--state", redis_url, "--clock", "manual")
    try:
        accepted = [send(served.base_url, "+46700000700")]
        admin.config_set("maxmemory", admin.info("memory")["used_memory"] + 300_000)
        body = generic("+46700000701") | {"text": "x" * 1000}
        with httpx.Client(base_url=served.base_url, headers=GENERIC_AUTH, timeout=10) as client:
            for _ in range(2000):
                answer = client.post(MESSAGE, json=body)
                if answer.status_code != 200:
                    break
                accepted.append(answer.json()["tagId"])
            assert answer.status_code == 503  # Generic's own problem details
            assert answer.json()["title"] == "Service Unavailable"
            # Full it stays: at the limit's edge a smaller write could still fit a moment later
            # (Redis's own bookkeeping moves a few KB), so the limit goes below what is held.
            admin.config_set("maxmemory", admin.info("memory")["used_memory"] // 2)
            serwersms = client.post("/messages/send_rcs.json", json=SERWERSMS_SEND,
                                    headers=SERWERSMS_AUTH)  # fmt: skip
            assert serwersms.status_code == 503
            assert serwersms.json()["error"]["message"] == "Overall error"
            control = client.post("/_emulator/reset")
            assert control.status_code == 503
            assert "is full: Redis refuses writes past its maxmemory" in control.json()["error"]
            reads = client.get("/_emulator/health")  # reading needs no room
            assert reads.status_code == 200 and reads.json()["messages"] == len(accepted)
        assert len(accepted) > 10
        admin.config_set("maxmemory", 0)  # room again: the same process goes on by itself
        accepted.append(send(served.base_url, "+46700000702"))
        assert sorted(m["batch"] for m in listed(served.base_url)) == sorted(accepted)
    finally:
        served.stop()


def test_a_redis_that_went_back_to_an_older_copy_is_refused_not_mixed(
    redis_url: str, admin: redis.Redis, tmp_path: Path
) -> None:
    """As after a restart from an older snapshot: the process applied a send Redis no longer
    holds. Going on would reuse its command number (so its ids) and let processes differ."""
    args = ("--state", redis_url, "--clock", "manual", "--seed", "3")
    served = Served(tmp_path / "a.log", *args)
    try:
        kept = send(served.base_url, "+46700000710")
        snapshot = {key: (admin.dump(key), max(admin.pttl(key), 0)) for key in admin.keys()}
        send(served.base_url, "+46700000711")  # accepted after the snapshot: lost with it
        admin.flushdb()
        for key, (value, ttl) in snapshot.items():
            admin.restore(key, ttl, value)
        refused = httpx.post(served.base_url + MESSAGE, json=generic("+46700000712"),
                             headers=GENERIC_AUTH)  # fmt: skip
        assert refused.status_code == 503
        control = httpx.get(served.base_url + "/_emulator/messages")
        assert control.status_code == 503
        error = control.json()["error"]
        assert "went back to an older copy of itself" in error and "restart" in error
        served.stop()
        served = Served(tmp_path / "b.log", *args)  # restarted: goes on from what Redis kept
        assert [m["batch"] for m in listed(served.base_url)] == [kept]
        again = send(served.base_url, "+46700000713")
        assert again != kept and [m["batch"] for m in listed(served.base_url)] == [kept, again]
    finally:
        served.stop()


def test_serve_says_once_that_a_redis_without_an_append_only_file_forgets(
    redis_url: str, admin: redis.Redis, tmp_path: Path
) -> None:
    admin.config_set("appendonly", "no")
    served = Served(tmp_path / "a.log", "--state", redis_url, "--clock", "manual")
    try:
        send(served.base_url, "+46700000720")
    finally:
        served.stop()
    warnings = [line for line in served.text().splitlines() if line.startswith("WARNING:")]
    assert warnings == [f"WARNING:  state {redis_url}: Redis keeps no append-only file, so a "
                        "Redis restart loses what was accepted since its last snapshot (the "
                        "processes then answer 503 until restarted); turn on appendonly to keep "
                        "it"]  # fmt: skip


def test_a_redis_restarted_from_its_last_snapshot_is_refused_until_the_processes_restart(
    tmp_path: Path,
) -> None:
    """The real thing: a Redis that keeps snapshots only (Debian's default), killed with SIGKILL
    after a send it accepted, comes back without it."""
    server = RedisServer(tmp_path / "redis", snapshots_only=True).start()
    args = ("--state", server.url, "--clock", "manual")
    served = Served(tmp_path / "a.log", *args)
    try:
        kept = send(served.base_url, "+46700000730")
        admin = redis.Redis.from_url(server.url)
        admin.save()
        admin.close()
        send(served.base_url, "+46700000731")  # after the snapshot
        server.kill()
        server.start()
        control = httpx.get(served.base_url + "/_emulator/messages")
        assert control.status_code == 503
        assert "went back to an older copy of itself" in control.json()["error"]
        served.stop()
        served = Served(tmp_path / "b.log", *args)
        assert [m["batch"] for m in listed(served.base_url)] == [kept]
    finally:
        served.stop()
        server.stop()
    assert "Redis keeps no append-only file" in served.text()


@pytest.mark.anyio
async def test_a_first_send_while_redis_is_down_is_refused_not_left_waiting(tmp_path: Path) -> None:
    """A process that joined, then lost Redis before its first request: that request (a send,
    which first looks for a checkpoint to begin at) gets its provider's 503."""
    import asyncio

    from emulator import Config, create_app

    server = RedisServer(tmp_path / "redis").start()
    app = create_app(Config(clock="manual", state=server.url))
    server.kill()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as client:
            answer = await asyncio.wait_for(
                client.post(MESSAGE, json=generic("+46700000740"), headers=GENERIC_AUTH), 60
            )
        assert answer.status_code == 503 and answer.json()["status"] == 503
    finally:
        await app.state.emulator.aclose()
        await app.state.shared.aclose()
