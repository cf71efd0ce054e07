"""Several real `rcs-emulator serve --state redis://...` processes on one real redis-server (and on
a three-master Redis Cluster): they share everything, make each callback once across joins,
restarts and kill -9, keep each tenant's waits to itself, and lose nothing accepted when a
process, or Redis, is killed with SIGKILL."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import redis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from emulator import Config, EmulatorServer
from emulator.engines.redis import keys
from emulator.engines.redis.join import STATE_FORMAT, JoinError, check_server
from emulator.testing import WebhookReceiver
from tests.conftest import GENERIC_AUTH, SERWERSMS_AUTH
from tests.redis_server import RedisCluster, RedisServer, flush, masters, whole
from tests.robustness.process import Served, run_cli

MESSAGE = "/Rcs/api/v1/Message"
AGENT = "cluster_agent"
KEY_A, KEY_B = "tenant-a-key", "tenant-b-key"
WAIT = 15  # seconds a call may take before the test calls it a hang (never a measured figure)


def generic(phone: str, agent: str = AGENT) -> dict[str, object]:
    return {"agentId": agent, "number": [phone], "messageType": "TextMessage", "text": "Hi"}


def send(base: str, phone: str, key: str | None = None, agent: str = AGENT) -> str:
    headers = GENERIC_AUTH if key is None else {"Authorization": f"Bearer {key}"}
    response = httpx.post(base + MESSAGE, json=generic(phone, agent), headers=headers, timeout=WAIT)
    assert response.status_code == 200, response.text
    return str(response.json()["tagId"])


def put_agent(base: str, agent: str, url: str, tenant: str | None = None) -> None:
    body: dict[str, Any] = {"webhook_url": url}
    if tenant is not None:
        body["tenant"] = tenant
    answer = httpx.put(f"{base}/_emulator/agents/generic/{agent}", json=body, timeout=WAIT)
    assert answer.status_code == 200, answer.text


def advance(base: str, seconds: float, tenant: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"seconds": seconds}
    if tenant is not None:
        body["tenant"] = tenant
    answer = httpx.post(f"{base}/_emulator/clock/advance", json=body, timeout=60)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def listed(base: str, **filters: str) -> list[dict[str, Any]]:
    """Every message the process holds, a page of 1,000 at a time."""
    items: list[dict[str, Any]] = []
    while True:
        answer = httpx.get(
            base + "/_emulator/messages",
            timeout=WAIT,
            params={"exchange": "false", "limit": "1000", "offset": str(len(items)), **filters},
        )
        assert answer.status_code == 200, answer.text
        page = answer.json()
        items += page["items"]
        if len(items) >= page["total"] or not page["items"]:
            return items


def deliveries(base: str) -> list[dict[str, Any]]:
    """Every webhook delivery in the log, a page of 1,000 at a time."""
    items: list[dict[str, Any]] = []
    while True:
        params = {"limit": "1000", "offset": str(len(items))}
        answer = httpx.get(f"{base}/_emulator/webhooks", params=params, timeout=WAIT)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        items += page["items"]
        if len(items) >= page["total"] or not page["items"]:
            return items


def once_each(calls: list[dict[str, Any]]) -> Counter[tuple[str, str]]:
    counted = Counter((c["json"]["Type"], c["json"]["MessageId"]) for c in calls)
    assert set(counted.values()) <= {1}, counted
    return counted


def made_once(calls: list[dict[str, Any]], log: list[dict[str, Any]]) -> int:
    """Each callback is one delivery, made by one process. Only an attempt the log shows as
    failed (a receiver slower than the webhook timeout, on a busy machine) may have reached the
    receiver before the attempt that answered. Answers how many callbacks were made."""
    made = Counter((c["json"]["Type"], c["json"]["MessageId"]) for c in calls)
    assert {d["state"] for d in log} == {"delivered"}, log
    attempts: Counter[tuple[str, str]] = Counter()
    for d in log:
        attempts[d["payload"]["Type"], d["payload"]["MessageId"]] += len(d["attempts"])
    deliveries = Counter((d["payload"]["Type"], d["payload"]["MessageId"]) for d in log)
    assert set(deliveries.values()) == {1}, [k for k, n in deliveries.items() if n > 1]
    assert set(made) == set(deliveries), set(made) ^ set(deliveries)
    assert not made - attempts, made - attempts  # no callback reached it more often than tried
    return len(made)


@pytest.fixture(params=["redis", "cluster"])
def shared_url(request: pytest.FixtureRequest) -> str:
    """An empty Redis, or an empty three-master Redis Cluster."""
    server: RedisServer | RedisCluster = request.getfixturevalue(
        "redis_server" if request.param == "redis" else "redis_cluster"
    )
    flush(server.url)
    return server.url


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    flush(redis_server.url)
    return redis_server.url


@pytest.fixture
def durable_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis of its own, as the scale example ships it (AOF fsync'd on every write), for the
    tests that kill it."""
    server = RedisServer(tmp_path / "redis", fsync="always").start()
    yield server
    server.stop()


ARGS = ("--clock", "manual", "--seed", "7")
ENV = {"RCS_EMULATOR_WEBHOOK_TIMEOUT": "1"}


@pytest.fixture
def pair(shared_url: str, tmp_path: Path) -> Iterator[tuple[Served, Served]]:
    """Two processes on one shared state, a manual clock, a short webhook timeout; started
    side by side, as a deployment starts its replicas."""
    a = Served(tmp_path / "a.log", "--state", shared_url, *ARGS, env=ENV, wait=False)
    b = Served(tmp_path / "b.log", "--state", shared_url, *ARGS, env=ENV, wait=False)
    try:
        a.ready()
        b.ready()
    except RuntimeError:
        a.stop()
        b.stop()
        raise
    yield a, b
    Served.stop_all(a, b)


class HeldReceiver:
    """A receiver that holds every callback until released (a slow or hung bot), saying when
    the first one came."""

    def __init__(self) -> None:
        self.came = threading.Event()
        self.released = threading.Event()
        self.calls: list[dict[str, Any]] = []
        app = Starlette(routes=[Route("/hook", self._handle, methods=["POST"])])
        self._server = EmulatorServer(Config(port=0), app=app)

    async def _handle(self, request: Request) -> PlainTextResponse:
        self.calls.append(orjson.loads(await request.body()))
        self.came.set()
        while not self.released.is_set():
            await asyncio.sleep(0.01)
        return PlainTextResponse("OK")

    @property
    def url(self) -> str:
        return self._server.base_url + "/hook"

    def __enter__(self) -> HeldReceiver:
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.released.set()
        self._server.stop()


class CallingBackReceiver:
    """A bot that, on each callback, first calls the emulator (a read and a send, through the
    other process too) and only then answers."""

    def __init__(self, bases: list[str]) -> None:
        self.bases = bases
        self.calls: list[dict[str, Any]] = []
        self.answers: list[int] = []
        app = Starlette(routes=[Route("/hook", self._handle, methods=["POST"])])
        self._server = EmulatorServer(Config(port=0), app=app)

    async def _handle(self, request: Request) -> PlainTextResponse:
        payload = orjson.loads(await request.body())
        self.calls.append(payload)
        base = self.bases[len(self.calls) % len(self.bases)]
        async with httpx.AsyncClient(base_url=base, timeout=WAIT) as emulator:
            read = await emulator.get(f"{MESSAGE}/{payload['MessageId']}", headers=GENERIC_AUTH)
            self.answers.append(read.status_code)
            if payload["Type"] == "READ":  # the bot answers the phone
                sent = await emulator.post(
                    MESSAGE,
                    headers=GENERIC_AUTH,
                    json={
                        "agentId": "echo",
                        "number": [payload["SenderPhoneNo"]],
                        "messageType": "TextMessage",
                        "text": "thanks",
                    },
                )
                self.answers.append(sent.status_code)
        return PlainTextResponse("OK")

    @property
    def url(self) -> str:
        return self._server.base_url + "/hook"

    def __enter__(self) -> CallingBackReceiver:
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()


def test_two_processes_share_messages_settings_files_and_the_clock(pair, webhook) -> None:
    a, b = pair
    tag = send(a.base_url, "+46700000001")
    # Read your writes on the other process at once: the state is in Redis, not in a process.
    assert [m["batch"] for m in listed(b.base_url)] == [tag]
    assert httpx.get(f"{b.base_url}{MESSAGE}/Tag/{tag}", headers=GENERIC_AUTH).status_code == 200
    serwer = httpx.post(
        b.base_url + "/messages/send_rcs.json",
        headers=SERWERSMS_AUTH,
        json={"rcs_id": "bot", "phone": "+48500100200", "message": {"text": "Cześć"}},
    )
    assert serwer.json()["success"] is True, serwer.text
    assert len(listed(a.base_url)) == 2
    # Settings made through one process hold on the other.
    put_agent(b.base_url, AGENT, webhook.url)
    agents = httpx.get(f"{a.base_url}/_emulator/agents").json()["items"]
    assert [g["webhook_url"] for g in agents if g["agent_id"] == AGENT] == [webhook.url]
    png = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
    upload = httpx.post(
        f"{a.base_url}/Rcs/api/v1/UploadFile/{AGENT}",
        headers=GENERIC_AUTH,
        files={"file": ("p.png", png, "image/png")},
    )
    assert upload.status_code == 200, upload.text
    files = httpx.get(f"{b.base_url}/_emulator/files").json()
    assert files["total"] == 1
    content = httpx.get(f"{b.base_url}/_emulator/files/{files['items'][0]['id']}/content")
    assert content.content == png
    # A manual clock advanced on one process is advanced for all.
    before = httpx.get(f"{a.base_url}/_emulator/clock").json()["epoch"]
    advance(b.base_url, 3600)
    assert httpx.get(f"{a.base_url}/_emulator/clock").json()["epoch"] == before + 3600
    # Both processes answer from the same state: same views, same webhooks, same counts.
    assert listed(a.base_url) == listed(b.base_url)
    assert deliveries(a.base_url) == deliveries(b.base_url)
    health = [httpx.get(f"{s.base_url}/_emulator/health").json() for s in pair]
    assert health[0]["state"]["process"] != health[1]["state"]["process"]
    assert health[0]["messages"] == health[1]["messages"] == 2


def clock_of(served: Served) -> float:
    return float(httpx.get(f"{served.base_url}/_emulator/clock", timeout=WAIT).json()["epoch"])


def hearing(url: str) -> int:
    """How many processes beat in `rcs:heard` (each hears the changes channel)."""
    store = whole(url)
    try:
        heard = keys.ROOTS[0] + "heard"  # (every partition holds the beats: keys.py)
        return len([f for f in store.hkeys(heard) if f.startswith(b"b:")])
    finally:
        store.close()


def test_a_change_through_one_process_holds_on_the_next_request_to_another(
    pair, shared_url, webhook
) -> None:
    """Settings and the clock are taken in by every live process before the change answers:
    whichever process the next request reaches sees it, with no request asking Redis first;
    a process that lost its subscription asks instead, and a dead one is waited for no longer
    than it beat."""
    a, b = pair
    deadline = time.monotonic() + WAIT
    while hearing(shared_url) < 2:  # both subscribed and beating
        assert time.monotonic() < deadline, "the processes never said they hear changes"
        time.sleep(0.05)
    start = httpx.get(f"{b.base_url}/_emulator/clock", timeout=WAIT).json()["epoch"]
    for i in range(1, 11):
        writer, reader = (a, b) if i % 2 else (b, a)
        advance(writer.base_url, 60)
        clock = httpx.get(f"{reader.base_url}/_emulator/clock", timeout=WAIT).json()
        assert clock["epoch"] == start + 60 * i
        put_agent(writer.base_url, AGENT, f"{webhook.url}?n={i}")
        agents = httpx.get(f"{reader.base_url}/_emulator/agents", timeout=WAIT).json()["items"]
        assert [g["webhook_url"] for g in agents if g["agent_id"] == AGENT] == [
            f"{webhook.url}?n={i}"
        ]
    # A notice lost on the way (a subscription that reconnected in between): each process
    # catches up before it beats, so the change is taken in (and only then acknowledged).
    store = whole(shared_url)
    try:
        for root in keys.ROOTS:  # (every partition holds the clock: keys.py)
            store.hset(root + "clock", "now", repr(float(start + 630)))
            store.hincrby(root + "versions", "clock", 1)
    finally:
        store.close()
    deadline = time.monotonic() + WAIT
    for served in (b, a):  # both: the advance below reads a's own clock
        while clock_of(served) != start + 630:
            assert time.monotonic() < deadline, "a change whose notice was lost was never taken in"
            time.sleep(0.05)
    start += 30  # (the hand-made change moved the clock 30 s past the ten advances)
    for node in masters(shared_url):  # every subscription cut: both fall back to asking
        node.client_kill_filter(_type="pubsub")
        node.close()
    advance(a.base_url, 60)
    assert httpx.get(f"{b.base_url}/_emulator/clock", timeout=WAIT).json()["epoch"] == (start + 660)
    b.kill()  # a dead process stops beating: a change waits for it no longer than that
    advance(a.base_url, 60)
    assert httpx.get(f"{a.base_url}/_emulator/clock", timeout=WAIT).json()["epoch"] == (start + 720)


def test_an_advance_on_one_process_makes_every_callback_once(pair, webhook) -> None:
    a, b = pair
    put_agent(a.base_url, AGENT, webhook.url)
    for i in range(10):
        send((a, b)[i % 2].base_url, f"+4670000010{i}")
    ran = advance(b.base_url, 120)
    assert ran["events_run"] >= 20
    # advance returns after every callback due was made, whichever process made it
    assert len(once_each(webhook.calls)) == 20
    for served in pair:  # each makes what it holds ready now: no process has a second copy
        advance(served.base_url, 0)
    assert len(webhook.calls) == 20
    for served in pair:
        log = deliveries(served.base_url)
        assert len(log) == 20
        assert {d["state"] for d in log} == {"delivered"}
        assert all(len(d["attempts"]) == 1 for d in log)


def test_retries_run_once_across_processes(pair, webhook) -> None:
    a, b = pair
    put_agent(a.base_url, AGENT, webhook.url)
    webhook.answer(500, "busy", times=2)
    send(a.base_url, "+46700000200")
    advance(b.base_url, 120)
    assert len(webhook.calls) >= 2  # each callback's first attempt, refused
    advance(a.base_url, 3600)
    log = deliveries(b.base_url)
    assert {d["state"] for d in log} == {"delivered"}
    # every attempt the log shows was made once, and the receiver saw exactly those
    assert sum(len(d["attempts"]) for d in log) == len(webhook.calls)


def test_a_tenant_waiting_on_its_slow_receiver_delays_no_other_tenant(pair, webhook) -> None:
    """Tenant A's bot holds its callback; meanwhile tenant B sends, reads, advances its own
    clock and gets its callbacks, on both processes, and A's advance is still waiting."""
    a, b = pair
    with HeldReceiver() as held:
        put_agent(a.base_url, "slow_bot", held.url, tenant=KEY_A)
        put_agent(a.base_url, "quick_bot", webhook.url, tenant=KEY_B)
        send(a.base_url, "+46700000301", KEY_A, "slow_bot")
        outcome: list[Any] = []
        waiting = threading.Thread(target=lambda: outcome.append(advance(a.base_url, 120, KEY_A)))
        waiting.start()
        assert held.came.wait(WAIT), "A's callback never came"
        for served in (b, a):  # the other process, and the one running A's advance
            tag = send(served.base_url, f"+4670000031{len(webhook.calls)}", KEY_B, "quick_bot")
            mine = listed(served.base_url, tenant=KEY_B)
            assert tag in {m["batch"] for m in mine}
            advance(served.base_url, 120, KEY_B)
        assert len(once_each(webhook.calls)) == 4  # B's two messages, delivered and read
        assert waiting.is_alive()  # A's advance waits for A's own receiver only
        held.released.set()
        waiting.join(WAIT)
    assert outcome and outcome[0]["tenant"] == KEY_A
    a_log = [d for d in deliveries(b.base_url) if d["agent_id"] == "slow_bot"]
    assert {d["state"] for d in a_log} == {"delivered"} and len(a_log) == 2


def test_a_receiver_that_calls_the_emulator_before_answering_is_served(pair) -> None:
    a, b = pair
    with CallingBackReceiver([a.base_url, b.base_url]) as bot:
        put_agent(a.base_url, AGENT, bot.url)
        for i in range(3):
            send(a.base_url, f"+4670000040{i}")
        advance(b.base_url, 120)
        assert set(bot.answers) == {200}  # each read and send the bot made was answered
        assert len(bot.calls) == 6
    log = [d for d in deliveries(a.base_url) if d["agent_id"] == AGENT]
    assert {d["state"] for d in log} == {"delivered"}
    assert all(len(d["attempts"]) == 1 for d in log)  # none timed out waiting on the bot
    assert len([m for m in listed(b.base_url) if m["agent_id"] == "echo"]) == 3


def test_joining_and_restarting_processes_send_nothing_again(shared_url, tmp_path, webhook):
    first = Served(tmp_path / "a.log", "--state", shared_url, *ARGS, env=ENV)
    try:
        put_agent(first.base_url, AGENT, webhook.url)
        for i in range(4):
            send(first.base_url, f"+4670000050{i}")
        advance(first.base_url, 60)
        assert len(once_each(webhook.calls)) == 8
        views = listed(first.base_url), deliveries(first.base_url)
        joined = Served(tmp_path / "b.log", "--state", shared_url, *ARGS, env=ENV)
        first.stop()
        again = Served(tmp_path / "c.log", "--state", shared_url, *ARGS, env=ENV)
        try:
            for served in (joined, again):
                assert (listed(served.base_url), deliveries(served.base_url)) == views
                # Whatever it would find due or ready (its sweeps and reclaims look for lost
                # work on a timer), a drain makes now: nothing is made again.
                advance(served.base_url, 0)
            assert len(webhook.calls) == 8
            send(again.base_url, "+46700000599")  # and they go on as one
            advance(joined.base_url, 60)
            assert len(once_each(webhook.calls)) == 10
        finally:
            joined.stop()
            again.stop()
    finally:
        first.stop()


def test_kill_9_of_one_process_mid_traffic_loses_nothing_accepted(pair, webhook) -> None:
    a, b = pair
    put_agent(a.base_url, AGENT, webhook.url)
    accepted: list[str] = []
    stop = threading.Event()

    def traffic(base: str, prefix: str) -> None:
        with httpx.Client(base_url=base, timeout=5) as client:
            i = 0
            while not stop.is_set():
                i += 1
                try:
                    r = client.post(
                        MESSAGE, json=generic(f"+467{prefix}{i:05d}"), headers=GENERIC_AUTH
                    )
                except httpx.HTTPError:
                    continue  # the process died under this request: not accepted
                if r.status_code == 200:
                    accepted.append(r.json()["tagId"])

    def until(enough: int) -> None:
        deadline = time.monotonic() + WAIT
        while len(accepted) < enough:
            assert time.monotonic() < deadline, f"only {len(accepted)} sends were accepted"
            time.sleep(0.01)

    threads = [
        threading.Thread(target=traffic, args=(s.base_url, p)) for s, p in ((a, "1"), (b, "2"))
    ]
    for t in threads:
        t.start()
    try:
        until(40)  # traffic through both
        a.kill()
        until(len(accepted) + 20)  # and on through the other after the kill
    finally:
        stop.set()
        for t in threads:
            t.join()
    held = {m["batch"] for m in listed(b.base_url)}
    assert not set(accepted) - held
    advance(b.base_url, 120)
    # DELIVERED and READ of each, each one delivery made once
    assert made_once(webhook.calls, deliveries(b.base_url)) == 2 * len(held)


def test_a_callback_claimed_by_a_process_that_dies_is_made_by_another(pair, webhook) -> None:
    a, b = pair
    put_agent(a.base_url, AGENT, webhook.url)
    send(a.base_url, "+46700000600")
    webhook.answer(200, "slow", delay=0.8)  # the process that claims it is killed meanwhile
    killer = threading.Timer(0.3, a.kill)
    killer.start()
    try:
        advance(a.base_url, 120)
    except (httpx.HTTPError, AssertionError):
        pass  # a died under its own advance
    killer.join()
    # b finds the lapsed leases (the due events' and the attempt's) and finishes the work
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        advance(b.base_url, 1)
        log = deliveries(b.base_url)
        if len(log) == 2 and {d["state"] for d in log} == {"delivered"}:
            break
        time.sleep(0.2)
    assert {d["state"] for d in log} == {"delivered"}, log
    assert {c["json"]["Type"] for c in webhook.calls} == {"DELIVERED", "READ"}


def test_redis_killed_and_restarted_mid_traffic(durable_redis: RedisServer, tmp_path: Path) -> None:
    redis_server = durable_redis
    served = Served(tmp_path / "a.log", "--state", redis_server.url, "--clock", "manual")
    try:
        tags = [send(served.base_url, f"+4670000070{i}") for i in range(5)]
        redis_server.kill()
        down = httpx.post(
            served.base_url + MESSAGE, json=generic("+46700000799"), headers=GENERIC_AUTH
        )
        assert down.status_code == 503
        assert down.headers["content-type"].startswith("application/problem+json")
        assert down.json()["status"] == 503
        serwer = httpx.post(
            served.base_url + "/messages/send_rcs.json",
            headers=SERWERSMS_AUTH,
            json={"rcs_id": "bot", "phone": "+48500100200", "message": {"text": "x"}},
        )
        assert serwer.status_code == 503 and "error" in serwer.json()
        control = httpx.get(served.base_url + "/_emulator/messages")
        assert control.status_code == 503 and "cannot be reached" in control.json()["error"]
        # Liveness holds (restarting the process would not bring Redis back); readiness does not.
        health = httpx.get(served.base_url + "/_emulator/health")
        assert health.status_code == 200 and health.json()["state"]["reachable"] is False
        assert httpx.get(served.base_url + "/_emulator/ready").status_code == 503
        redis_server.start()  # the same port and folder: its AOF brings everything back
        deadline = time.monotonic() + WAIT
        while httpx.get(served.base_url + "/_emulator/ready").status_code != 200:
            assert time.monotonic() < deadline, "the emulator did not resume by itself"
            time.sleep(0.1)
        tags.append(send(served.base_url, "+46700000705"))
        assert {m["batch"] for m in listed(served.base_url)} == set(tags)
    finally:
        served.stop()
    said = served.text()
    assert said.count("cannot be reached") == 1, said  # one line when lost, one when back
    assert said.count("answers again") == 1, said


def test_events_that_came_due_while_redis_was_down_run_in_order(
    durable_redis: RedisServer, tmp_path: Path
) -> None:
    redis_server = durable_redis
    scenario = tmp_path / "quick.yaml"
    scenario.write_text(
        "name: quick\ndescription: Delivered after 1 s, read 1 s later.\n"
        "default: [{after: 1, event: delivered}, {after: 1, event: read}]\n"
    )
    served = Served(tmp_path / "a.log", "--state", redis_server.url, "--scenario", str(scenario))
    try:
        tag = send(served.base_url, "+46700000800")  # the real clock: delivered, then read
        read_due = time.monotonic() + 2
        redis_server.kill()
        while time.monotonic() < read_due:  # both come due while Redis is down
            time.sleep(0.05)
        redis_server.start()
        deadline = time.monotonic() + WAIT
        while True:
            ready = httpx.get(served.base_url + "/_emulator/ready").status_code == 200
            items = listed(served.base_url) if ready else []
            events = [e["type"] for e in items[0]["events"]] if items else []
            if "read" in events or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert items[0]["batch"] == tag
        assert events == ["sent", "delivered", "read"]
    finally:
        served.stop()


def test_workers_serve_one_port_over_one_state(shared_url: str, tmp_path: Path) -> None:
    """Each child answers only once it is ready: every request from the first healthy answer
    on is served."""
    served = Served(
        tmp_path / "w.log", "--state", shared_url, "--clock", "manual", "--workers", "2"
    )
    try:
        processes = set()
        tags = []
        while len(processes) < 2:  # until both workers answered (the kernel picks at random)
            assert len(tags) < 200, f"only {processes} answered {len(tags)} connections"
            with httpx.Client(base_url=served.base_url) as client:  # a new connection each
                processes.add(client.get("/_emulator/health").json()["state"]["process"])
                tags.append(send(served.base_url, f"+467000090{len(tags):03d}"))
        assert {m["batch"] for m in listed(served.base_url)} == set(tags)
    finally:
        served.stop()


def test_a_page_on_one_process_sees_sends_through_another(pair, shared_url) -> None:
    a, b = pair
    seen: list[str] = []
    ready = threading.Event()

    def watch() -> None:
        with httpx.stream("GET", f"{b.base_url}/_emulator/stream", timeout=10) as stream:
            for line in stream.iter_lines():
                ready.set()  # the stream's first line comes once the page is watching
                if line.startswith("data:") and '"message"' in line:
                    seen.append(line)
                    return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    assert ready.wait(WAIT)
    deadline = time.monotonic() + WAIT
    while hearing(shared_url) < 2:  # both processes hear each other's changes
        assert time.monotonic() < deadline, "the processes never said they hear changes"
        time.sleep(0.05)
    send(a.base_url, "+46700001000")
    watcher.join(WAIT)
    assert seen and "+46700001000" in seen[0]


def test_a_redis_that_lost_the_state_is_said_and_served_afresh(redis_url, tmp_path) -> None:
    served = Served(tmp_path / "a.log", "--state", redis_url, "--clock", "manual")
    try:
        send(served.base_url, "+46700001100")
        flush(redis_url)  # as a Redis restarted without its data would be
        deadline = time.monotonic() + WAIT
        while "is not the one this process joined" not in served.text():
            assert time.monotonic() < deadline, served.text()
            time.sleep(0.1)
        tag = send(served.base_url, "+46700001101")
        assert [m["batch"] for m in listed(served.base_url)] == [tag]  # nothing of before mixed
    finally:
        served.stop()


@pytest.mark.parametrize(
    ("info", "said"),
    [
        (
            {"redis_version": "6.2.14", "redis_mode": "standalone"},
            "Redis 6.2.14 found; the shared state needs Redis 7.0 or later",
        ),
        (
            {"redis_version": "7.0.15", "maxmemory": 10**8, "maxmemory_policy": "allkeys-lru"},
            "Redis "
            "evicts keys when full (maxmemory-policy allkeys-lru); the shared state needs "
            "maxmemory-policy noeviction, so that a full Redis refuses new requests instead of "
            "forgetting accepted ones",
        ),
    ],
)
def test_a_server_the_scripts_cannot_run_on_is_refused_by_name(info, said) -> None:
    with pytest.raises(JoinError) as refused:
        check_server("redis://:secret@db:6379/0", info)
    assert str(refused.value) == f"state redis://***@db:6379/0: {said}"
    check_server("redis://db", {"redis_version": "7.0.0", "redis_mode": "standalone"})  # enough
    check_server("redis://db", {"redis_version": "7.2.4", "redis_mode": "cluster"})
    for memory in (
        {"maxmemory": 0, "maxmemory_policy": "allkeys-lru"},
        {"maxmemory": 10**8, "maxmemory_policy": "noeviction"},
    ):
        assert check_server("redis://db", {"redis_version": "7.0.15", **memory}) == []


def test_a_redis_without_an_append_only_file_is_joined_with_a_caution() -> None:
    info = {"redis_version": "7.0.15", "aof_enabled": 0}
    [caution] = check_server("redis://:pw@db:6379/0", info)
    assert caution.startswith("state redis://***@db:6379/0: Redis keeps no append-only file")
    assert check_server("redis://db", {"redis_version": "7.0.15", "aof_enabled": 1}) == []


def test_a_user_not_allowed_info_still_joins(redis_url: str, tmp_path: Path) -> None:
    """An ACL user without INFO (a managed Redis's app user) skips the version check; the
    password never shows in health."""
    admin = redis.Redis.from_url(redis_url)
    admin.acl_setuser(
        "app",
        enabled=True,
        passwords=["+s3cret"],
        keys=["*"],
        channels=["*"],
        commands=["+@all", "-info"],
    )
    admin.close()
    limited = redis_url.replace("redis://", "redis://app:s3cret@")
    served = Served(tmp_path / "acl.log", "--state", limited, "--clock", "manual")
    try:
        send(served.base_url, "+46700001200")
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
    """A state written by the replicated log (format 3 and before) would be read otherwise:
    refused by name, not joined."""
    served = Served(tmp_path / "a.log", "--state", redis_url, "--clock", "manual")
    served.stop()
    admin = redis.Redis.from_url(redis_url)
    try:
        for root in keys.ROOTS:  # (every partition holds what processes agree on: keys.py)
            config = orjson.loads(admin.hget(root + "meta", "config"))
            assert config["state_format"] == STATE_FORMAT
            config["state_format"] = 3
            admin.hset(root + "meta", "config", orjson.dumps(config, option=orjson.OPT_SORT_KEYS))
    finally:
        admin.close()
    done = run_cli("serve", "--state", redis_url, "--clock", "manual", "--port", "0")
    assert done.returncode == 2
    assert "written by another version of rcs-emulator" in done.stderr
    assert "state format 3; this one is" in done.stderr and "Traceback" not in done.stderr


def test_a_state_an_earlier_layout_wrote_is_refused_with_how_to_start(
    redis_server: RedisServer,
) -> None:
    """A state of format 6 or before (one shared `rcs:meta`, no partitions) sits in keys this
    release never reads: refused by name, rather than served as if empty beside it."""
    flush(redis_server.url)
    admin = redis.Redis.from_url(redis_server.url)
    try:
        admin.hset("rcs:meta", mapping={"generation": "1", "config": "{}"})
    finally:
        admin.close()
    done = run_cli("serve", "--state", redis_server.url, "--clock", "manual", "--port", "0")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "holds a state an earlier rcs-emulator wrote (rcs:meta" in done.stderr
    assert "redis-cli FLUSHDB" in done.stderr
    flush(redis_server.url)


def test_one_receiver_for_everyone_sees_each_tenant_in_its_own_order(pair) -> None:
    """Per-recipient order holds across processes: each phone's DELIVERED before its READ."""
    a, b = pair
    with WebhookReceiver() as hooks:
        for key in (KEY_A, KEY_B):
            put_agent(a.base_url, AGENT, hooks.url, tenant=key)
        for i in range(6):
            send((a, b)[i % 2].base_url, f"+4670000130{i}", (KEY_A, KEY_B)[i % 2])
        advance(b.base_url, 120)
        by_phone: dict[str, list[str]] = {}
        for call in hooks.calls:
            by_phone.setdefault(call["json"]["SenderPhoneNo"], []).append(call["json"]["Type"])
    assert len(by_phone) == 6
    assert all(types == ["DELIVERED", "READ"] for types in by_phone.values()), by_phone


def test_attempts_waiting_for_a_slot_past_their_lease_are_made_once(shared_url, tmp_path):
    """One slot per receiver and a slow one: the last callbacks wait in the process longer than
    a lease (the webhook timeout + 5 s); they are still made once each, not again by a reclaim."""
    env = {"RCS_EMULATOR_WEBHOOK_TIMEOUT": "1", "RCS_EMULATOR_WEBHOOK_PER_HOST": "1"}
    delivered = tmp_path / "delivered.yaml"  # one callback per message: the waits are the point
    delivered.write_text(
        "name: delivered\ndescription: Delivered, never read.\n"
        "default: [{after: 1, event: delivered}]\n"
    )
    scenario = ("--scenario", str(delivered))
    served = Served(tmp_path / "a.log", "--state", shared_url, *ARGS, *scenario, env=env)
    try:
        with WebhookReceiver() as hooks:
            hooks.default.delay = 0.5
            put_agent(served.base_url, AGENT, hooks.url)
            for i in range(14):
                send(served.base_url, f"+467000014{i:02d}")
            # 14 callbacks claimed at once, made one at a time: the last waits ~6.5 s, past
            # its lease of 6 s (the webhook timeout + 5 s)
            advance(served.base_url, 120)
            # advance returned with none in flight: no lease is left for a reclaim to retake
            assert len(once_each(hooks.calls)) == 14
        log = deliveries(served.base_url)
        assert {d["state"] for d in log} == {"delivered"}
        assert all(len(d["attempts"]) == 1 for d in log)
    finally:
        served.stop()


def test_two_tenants_advanced_at_once_through_two_processes_both_keep_their_time(pair) -> None:
    a, b = pair
    start = httpx.get(f"{a.base_url}/_emulator/clock").json()["epoch"]
    moved: list[dict[str, Any]] = []
    threads = [
        threading.Thread(target=lambda s=s, k=k: moved.append(advance(s.base_url, 60, k)))
        for s, k in ((a, KEY_A), (b, KEY_B))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT)
    assert len(moved) == 2
    for served in pair:
        for key in (KEY_A, KEY_B):
            clock = httpx.get(f"{served.base_url}/_emulator/clock", params={"tenant": key}).json()
            assert clock["epoch"] == start + 60, (served.base_url, key, clock)
