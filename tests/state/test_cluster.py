"""Several real `rcs-emulator serve --state redis://...` processes on one real redis-server: they
share everything, make each callback once, and lose nothing accepted when one of them, or Redis,
is killed with SIGKILL."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
import redis

from emulator.state.cluster import STATE_FORMAT, ClusterError, check_server
from emulator.state.log import OUTCOME_TTL_S
from tests.conftest import GENERIC_AUTH, SERWERSMS_AUTH
from tests.redis_server import RedisServer, flush
from tests.robustness.process import Served, run_cli

MESSAGE = "/Rcs/api/v1/Message"
AGENT = "cluster_agent"


def generic(phone: str) -> dict[str, object]:
    return {"agentId": AGENT, "number": [phone], "messageType": "TextMessage", "text": "Hi"}


@pytest.fixture
def pair(redis_url: str, tmp_path: Path) -> Iterator[tuple[Served, Served]]:
    """Two processes on one Redis, a manual clock, a short webhook timeout."""
    args = ("--state", redis_url, "--clock", "manual", "--seed", "7")
    env = {"RCS_EMULATOR_WEBHOOK_TIMEOUT": "1"}
    a = Served(tmp_path / "a.log", *args, env=env)
    b = Served(tmp_path / "b.log", *args, env=env)
    yield a, b
    a.stop()
    b.stop()


def send(base: str, phone: str) -> str:
    response = httpx.post(base + MESSAGE, json=generic(phone), headers=GENERIC_AUTH, timeout=10)
    assert response.status_code == 200, response.text
    return str(response.json()["tagId"])


def listed(base: str) -> list[dict[str, object]]:
    """Every message the process holds, a page of 1,000 at a time."""
    items: list[dict[str, object]] = []
    while True:
        answer = httpx.get(base + "/_emulator/messages", timeout=10, params={
            "exchange": "false", "limit": "1000", "offset": str(len(items))})  # fmt: skip
        assert answer.status_code == 200, answer.text
        page = answer.json()
        items += page["items"]
        if len(items) >= page["total"] or not page["items"]:
            return items


def test_two_processes_share_messages_settings_files_and_the_clock(pair, webhook) -> None:
    a, b = pair
    tag = send(a.base_url, "+46700000001")
    # Read your writes on the other process at once: a read catches up first.
    assert [m["batch"] for m in listed(b.base_url)] == [tag]
    assert httpx.get(f"{b.base_url}{MESSAGE}/Tag/{tag}", headers=GENERIC_AUTH).status_code == 200
    serwer = httpx.post(b.base_url + "/messages/send_rcs.json", headers=SERWERSMS_AUTH,
                        json={"rcs_id": "bot", "phone": "+48500100200",
                              "message": {"text": "Cześć"}})  # fmt: skip
    assert serwer.json()["success"] is True, serwer.text
    assert len(listed(a.base_url)) == 2
    # Settings made through one process hold on the other.
    put = httpx.put(f"{b.base_url}/_emulator/agents/generic/{AGENT}",
                    json={"webhook_url": webhook.url})  # fmt: skip
    assert put.status_code == 200
    agents = httpx.get(f"{a.base_url}/_emulator/agents").json()["items"]
    assert [g["webhook_url"] for g in agents if g["agent_id"] == AGENT] == [webhook.url]
    png = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
    upload = httpx.post(f"{a.base_url}/Rcs/api/v1/UploadFile/{AGENT}", headers=GENERIC_AUTH,
                        files={"file": ("p.png", png, "image/png")})  # fmt: skip
    assert upload.status_code == 200, upload.text
    files = httpx.get(f"{b.base_url}/_emulator/files").json()
    assert files["total"] == 1
    content = httpx.get(f"{b.base_url}/_emulator/files/{files['items'][0]['id']}/content")
    assert content.content == png
    # A manual clock advanced on one process is advanced for all.
    before = httpx.get(f"{a.base_url}/_emulator/clock").json()["epoch"]
    httpx.post(f"{b.base_url}/_emulator/clock/advance", json={"seconds": 3600})
    assert httpx.get(f"{a.base_url}/_emulator/clock").json()["epoch"] == before + 3600
    # Both processes hold the same state, not merely answer alike: same views, same health.
    assert listed(a.base_url) == listed(b.base_url)
    health = [httpx.get(f"{s.base_url}/_emulator/health").json() for s in pair]
    assert health[0]["state"]["process"] != health[1]["state"]["process"]
    assert health[0]["state"]["applied"] == health[1]["state"]["applied"]
    assert health[0]["webhooks"] == health[1]["webhooks"]


def test_an_advance_on_one_process_makes_every_callback_once(pair, webhook, redis_url) -> None:
    a, b = pair
    httpx.put(f"{a.base_url}/_emulator/agents/generic/{AGENT}", json={"webhook_url": webhook.url})
    for i in range(10):
        send((a, b)[i % 2].base_url, f"+4670000010{i}")
    ran = httpx.post(f"{b.base_url}/_emulator/clock/advance", json={"seconds": 120}, timeout=30)
    assert ran.json()["events_run"] >= 20
    # advance returns after every callback due was made, whichever process made it
    kinds = Counter((c["json"]["Type"], c["json"]["MessageId"]) for c in webhook.calls)
    assert len(kinds) == 20 and set(kinds.values()) == {1}, kinds
    time.sleep(0.3)  # nothing more comes: no process sends a second copy
    assert len(webhook.calls) == 20
    for served in pair:
        log = httpx.get(f"{served.base_url}/_emulator/webhooks", params={"limit": "100"}).json()
        assert log["total"] == 20
        assert {d["state"] for d in log["items"]} == {"delivered"}
        assert all(len(d["attempts"]) == 1 for d in log["items"])
    # each outcome is kept in Redis for ten minutes, not for good (the log keeps it anyway)
    admin = redis.Redis.from_url(redis_url)
    try:
        held = admin.keys("rcs:outcome:*")
        assert len(held) == 20
        assert all(0 < admin.ttl(key) <= OUTCOME_TTL_S for key in held)
    finally:
        admin.close()


def test_retries_run_once_across_processes(pair, webhook) -> None:
    a, b = pair
    httpx.put(f"{a.base_url}/_emulator/agents/generic/{AGENT}", json={"webhook_url": webhook.url})
    webhook.answer(500, "busy")
    send(a.base_url, "+46700000200")
    httpx.post(f"{b.base_url}/_emulator/clock/advance", json={"seconds": 120}, timeout=30)
    first = len(webhook.calls)
    assert first >= 2  # each callback's first attempt, refused
    webhook.answer(200, "ok")
    httpx.post(f"{a.base_url}/_emulator/clock/advance", json={"seconds": 3600}, timeout=30)
    log = httpx.get(f"{b.base_url}/_emulator/webhooks").json()["items"]
    assert {d["state"] for d in log} == {"delivered"}
    # every attempt the log shows was made once, and the receiver saw exactly those
    assert sum(len(d["attempts"]) for d in log) == len(webhook.calls)


def test_kill_9_of_one_process_mid_traffic_loses_nothing_accepted(pair, webhook) -> None:
    a, b = pair
    httpx.put(f"{a.base_url}/_emulator/agents/generic/{AGENT}", json={"webhook_url": webhook.url})
    accepted: list[str] = []
    stop = threading.Event()

    def traffic(base: str, prefix: str) -> None:
        with httpx.Client(base_url=base, timeout=5) as client:
            i = 0
            while not stop.is_set():
                i += 1
                try:
                    r = client.post(MESSAGE, json=generic(f"+467{prefix}{i:05d}"),
                                    headers=GENERIC_AUTH)  # fmt: skip
                except httpx.HTTPError:
                    continue  # the process died under this request: not accepted
                if r.status_code == 200:
                    accepted.append(r.json()["tagId"])

    threads = [threading.Thread(target=traffic, args=(s.base_url, p))
               for s, p in ((a, "1"), (b, "2"))]  # fmt: skip
    for t in threads:
        t.start()
    time.sleep(1.0)
    a.kill()
    time.sleep(0.5)
    stop.set()
    for t in threads:
        t.join()
    assert len(accepted) > 20
    held = {m["batch"] for m in listed(b.base_url)}
    missing = set(accepted) - held
    assert not missing
    httpx.post(f"{b.base_url}/_emulator/clock/advance", json={"seconds": 120}, timeout=60)
    per_message = Counter((c["json"]["Type"], c["json"]["MessageId"]) for c in webhook.calls)
    assert set(per_message.values()) == {1}
    assert len(per_message) == 2 * len(held)  # DELIVERED and READ for every message held


def test_a_callback_claimed_by_a_process_that_dies_is_made_by_another(pair, webhook) -> None:
    a, b = pair
    httpx.put(f"{a.base_url}/_emulator/agents/generic/{AGENT}", json={"webhook_url": webhook.url})
    send(a.base_url, "+46700000300")
    webhook.answer(200, "slow", delay=0.8)  # the process that claims it is killed meanwhile
    killer = threading.Timer(0.3, a.kill)
    killer.start()
    try:
        httpx.post(f"{a.base_url}/_emulator/clock/advance", json={"seconds": 120}, timeout=30)
    except httpx.HTTPError:
        pass  # a died under its own advance
    killer.join()
    webhook.answer(200, "ok")
    # b applies the advance too, waits for the claims a held to lapse, and makes them itself
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        log = httpx.get(f"{b.base_url}/_emulator/webhooks").json()["items"]
        if len(log) == 2 and {d["state"] for d in log} == {"delivered"}:
            break
        time.sleep(0.1)
    assert {d["state"] for d in log} == {"delivered"}, log
    assert {c["json"]["Type"] for c in webhook.calls} == {"DELIVERED", "READ"}


def test_redis_killed_and_restarted_mid_traffic(redis_server: RedisServer, tmp_path: Path) -> None:
    flush(redis_server.url)
    served = Served(tmp_path / "a.log", "--state", redis_server.url, "--clock", "manual")
    try:
        tags = [send(served.base_url, f"+4670000040{i}") for i in range(5)]
        redis_server.kill()
        down = httpx.post(served.base_url + MESSAGE, json=generic("+46700000499"),
                          headers=GENERIC_AUTH)  # fmt: skip
        assert down.status_code == 503
        assert down.headers["content-type"].startswith("application/problem+json")
        assert down.json()["status"] == 503
        serwer = httpx.post(served.base_url + "/messages/send_rcs.json", headers=SERWERSMS_AUTH,
                            json={"rcs_id": "bot", "phone": "+48500100200",
                                  "message": {"text": "x"}})  # fmt: skip
        assert serwer.status_code == 503 and "error" in serwer.json()
        control = httpx.get(served.base_url + "/_emulator/messages")
        assert control.status_code == 503 and "cannot be reached" in control.json()["error"]
        assert httpx.get(served.base_url + "/_emulator/health").status_code == 503
        redis_server.start()  # the same port and folder: its AOF brings everything back
        deadline = time.monotonic() + 10
        while httpx.get(served.base_url + "/_emulator/health").status_code != 200:
            assert time.monotonic() < deadline, "the emulator did not resume by itself"
            time.sleep(0.1)
        tags.append(send(served.base_url, "+46700000405"))
        assert {m["batch"] for m in listed(served.base_url)} == set(tags)
    finally:
        served.stop()


def test_events_that_came_due_while_redis_was_down_run_in_order(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    flush(redis_server.url)
    served = Served(tmp_path / "a.log", "--state", redis_server.url)  # the real clock
    try:
        tag = send(served.base_url, "+46700000500")  # the default scenario: delivered, read
        redis_server.kill()
        time.sleep(4.0)  # both came due while Redis was down
        redis_server.start()
        deadline = time.monotonic() + 15
        while True:
            items = listed(served.base_url) if _up(served) else []
            events = [e["type"] for e in items[0]["events"]] if items else []
            if "read" in events or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert items[0]["batch"] == tag
        assert events == ["sent", "delivered", "read"]
    finally:
        served.stop()


def _up(served: Served) -> bool:
    return httpx.get(served.base_url + "/_emulator/health").status_code == 200


def test_workers_serve_one_port_over_one_state(redis_url: str, tmp_path: Path) -> None:
    served = Served(tmp_path / "w.log", "--state", redis_url, "--clock", "manual", "--workers", "2")
    try:
        processes = set()
        tags = []
        for i in range(40):
            with httpx.Client(base_url=served.base_url) as client:  # a new connection each
                processes.add(client.get("/_emulator/health").json()["state"]["process"])
                tags.append(send(served.base_url, f"+4670000060{i:02d}"))
        assert len(processes) == 2  # both workers answered
        assert {m["batch"] for m in listed(served.base_url)} == set(tags)
    finally:
        served.stop()


@pytest.mark.parametrize(
    ("info", "said"),
    [({"redis_version": "6.0.16", "redis_mode": "standalone"}, "Redis 6.0.16 found; the shared "
      "state needs Redis 6.2 or later"),
     ({"redis_version": "7.2.4", "redis_mode": "cluster"}, "a Redis Cluster; the shared state "
      "needs a single Redis (its scripts touch keys they compute)"),
     ({"redis_version": "7.0.15", "maxmemory": 10**8, "maxmemory_policy": "allkeys-lru"}, "Redis "
      "evicts keys when full (maxmemory-policy allkeys-lru); the shared state needs "
      "maxmemory-policy noeviction, so that a full Redis refuses new requests instead of "
      "forgetting accepted ones")],
)  # fmt: skip
def test_a_server_the_scripts_cannot_run_on_is_refused_by_name(info, said) -> None:
    with pytest.raises(ClusterError) as refused:
        check_server("redis://:secret@db:6379/0", info)
    assert str(refused.value) == f"state redis://***@db:6379/0: {said}"
    check_server("redis://db", {"redis_version": "6.2.0", "redis_mode": "standalone"})  # enough
    check_server("redis://db", {"redis_version": "8.0.1"})
    # a policy matters only once a limit is set; a full Redis that never evicts is fine
    for memory in ({"maxmemory": 0, "maxmemory_policy": "allkeys-lru"},
                   {"maxmemory": 10**8, "maxmemory_policy": "noeviction"}):  # fmt: skip
        assert check_server("redis://db", {"redis_version": "7.0.15", **memory}) == []


def test_a_redis_without_an_append_only_file_is_joined_with_a_warning() -> None:
    """Debian's redis-server keeps snapshots only: a restart goes back to the last one. Said
    once, at start, by `serve`."""
    info = {"redis_version": "7.0.15", "aof_enabled": 0}
    assert check_server("redis://:pw@db:6379/0", info) == [
        "state redis://***@db:6379/0: Redis keeps no append-only file, so a Redis restart loses "
        "what was accepted since its last snapshot (the processes then answer 503 until "
        "restarted); turn on appendonly to keep it"]  # fmt: skip
    assert check_server("redis://db", {"redis_version": "7.0.15", "aof_enabled": 1}) == []


def test_a_user_not_allowed_info_still_joins(redis_url: str, tmp_path: Path) -> None:
    """An ACL user without INFO (a managed Redis's app user) skips the version check; the
    password never shows in health."""
    import redis

    admin = redis.Redis.from_url(redis_url)
    admin.acl_setuser("app", enabled=True, passwords=["+s3cret"], keys=["*"],
                      commands=["+@all", "-info"])  # fmt: skip
    admin.close()
    limited = redis_url.replace("redis://", "redis://app:s3cret@")
    served = Served(tmp_path / "acl.log", "--state", limited, "--clock", "manual")
    try:
        send(served.base_url, "+46700000950")
        state = httpx.get(served.base_url + "/_emulator/health").json()["state"]
        assert state["reachable"] is True and "s3cret" not in state["url"]
    finally:
        served.stop()


def test_workers_without_a_shared_state_are_refused() -> None:
    done = run_cli("serve", "--workers", "2")
    assert done.returncode == 2
    assert "workers 2 need a shared state" in done.stderr


@pytest.mark.parametrize(
    ("state", "said"),
    [("redis://127.0.0.1:1/0", "Redis cannot be reached"), ("postgres://x", "must be memory or")],
)
def test_a_state_that_cannot_be_used_stops_the_start(state: str, said: str) -> None:
    done = run_cli("serve", "--state", state)
    assert done.returncode == 2
    assert said in done.stderr and "Traceback" not in done.stderr


def test_a_process_with_another_config_is_refused(redis_url: str, tmp_path: Path) -> None:
    served = Served(tmp_path / "a.log", "--state", redis_url, "--clock", "manual")
    try:
        done = run_cli("serve", "--state", redis_url, "--clock", "real", "--port", "0")
        assert done.returncode == 2
        assert "another config (clock differ)" in done.stderr
    finally:
        served.stop()


def test_a_state_written_by_another_version_is_refused(redis_url: str, tmp_path: Path) -> None:
    """A state written before the outcomes and the floor changed (no version in its config, as
    0.1.0 wrote it until then) would be read otherwise: refused by name, not joined."""
    served = Served(tmp_path / "a.log", "--state", redis_url, "--clock", "manual")
    served.stop()
    admin = redis.Redis.from_url(redis_url)
    try:
        config = orjson.loads(admin.hget("rcs:meta", "config"))
        assert config.pop("state_format") == STATE_FORMAT
        del config["emulator_version"]
        admin.hset("rcs:meta", "config", orjson.dumps(config, option=orjson.OPT_SORT_KEYS))
    finally:
        admin.close()
    done = run_cli("serve", "--state", redis_url, "--clock", "manual", "--port", "0")
    assert done.returncode == 2
    assert "written by another version of rcs-emulator (an earlier build, state format 1; " \
        f"this one is 0.1.0, format {STATE_FORMAT})" in done.stderr  # fmt: skip
    assert "Traceback" not in done.stderr


def test_a_page_on_one_process_sees_sends_through_another(pair) -> None:
    a, b = pair
    seen: list[str] = []
    ready = threading.Event()

    def watch() -> None:
        with httpx.stream("GET", f"{b.base_url}/_emulator/stream", timeout=10) as stream:
            ready.set()
            for line in stream.iter_lines():
                if line.startswith("data:") and '"message"' in line:
                    seen.append(line)
                    return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    assert ready.wait(5)
    time.sleep(0.2)
    send(a.base_url, "+46700000700")
    watcher.join(5)
    assert seen and "+46700000700" in seen[0]


def test_a_process_started_later_replays_the_whole_state(redis_url, tmp_path, webhook) -> None:
    first = Served(tmp_path / "a.log", "--state", redis_url, "--clock", "manual")
    try:
        httpx.put(f"{first.base_url}/_emulator/agents/generic/{AGENT}",
                  json={"webhook_url": webhook.url})  # fmt: skip
        for i in range(5):
            send(first.base_url, f"+4670000080{i}")
        httpx.post(f"{first.base_url}/_emulator/clock/advance", json={"seconds": 60}, timeout=30)
        calls = len(webhook.calls)
        assert calls == 10
        later = Served(tmp_path / "b.log", "--state", redis_url, "--clock", "manual")
        try:
            assert listed(later.base_url) == listed(first.base_url)
            hooks = [httpx.get(f"{s.base_url}/_emulator/webhooks").json() for s in (first, later)]
            assert hooks[0] == hooks[1]
            time.sleep(0.3)
            assert len(webhook.calls) == calls  # replaying history sends nothing again
        finally:
            later.stop()
    finally:
        first.stop()


def test_a_redis_that_lost_the_state_is_refused_not_mixed(redis_url, tmp_path) -> None:
    served = Served(tmp_path / "a.log", "--state", redis_url, "--clock", "manual")
    try:
        send(served.base_url, "+46700000900")
        flush(redis_url)  # as a Redis restarted without its data would be
        refused = httpx.post(served.base_url + MESSAGE, json=generic("+46700000901"),
                             headers=GENERIC_AUTH)  # fmt: skip
        assert refused.status_code == 503 and refused.json()["status"] == 503
        control = httpx.get(served.base_url + "/_emulator/messages")
        assert control.status_code == 503 and "restart the emulator" in control.json()["error"]
    finally:
        served.stop()
