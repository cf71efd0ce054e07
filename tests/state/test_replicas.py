"""Every process on one shared state holds the same state field by field, and so does one that
joins late and reads the archive: compared whole (deep_state.py), not only through what the
endpoints show, after traffic through both processes that touches every kind of command."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
import redis

from emulator import Config, create_app
from emulator.state.log import order
from tests.conftest import GENERIC_AUTH, SERWERSMS_AUTH
from tests.state.deep_state import differences, flattened

pytestmark = pytest.mark.anyio

CONFIG = Config(
    clock="manual", seed=5, webhook_url="http://127.0.0.1:9/hook", state_chunk=10, max_messages=12
)  # retention evicts too


@asynccontextmanager
async def process(
    url: str, config: Config = CONFIG
) -> AsyncIterator[tuple[httpx.AsyncClient, object]]:
    app = create_app(config.with_overrides(state=url))
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as client:
            yield client, app
    finally:
        await app.state.emulator.aclose()
        await app.state.shared.aclose()


def state(app: object) -> dict[str, object]:
    return flattened(("emulator", app.state.emulator), ("faults", app.state.faults))  # type: ignore[attr-defined]


def generic(phone: str, text: str = "Hi") -> dict[str, object]:
    return {"agentId": "ag", "number": [phone], "messageType": "TextMessage", "text": text,
            "suggestedReplies": [{"text": "Yes", "postbackData": "yes"}]}  # fmt: skip


async def traffic(a: httpx.AsyncClient, b: httpx.AsyncClient) -> None:
    """Sends, an upload, advances with callbacks (to a receiver that refuses connections, so
    retries), an inbound tap, faults (counted and by chance), settings, a reseed, a tenant's
    reset: through both processes, interleaved."""
    ok = []
    for i in range(6):
        client = (a, b)[i % 2]
        ok.append(await client.post("/Rcs/api/v1/Message", headers=GENERIC_AUTH,
                                    json=generic(f"+4670000{i:04d}")))  # fmt: skip
        ok.append(await client.post("/messages/send_rcs.json", headers=SERWERSMS_AUTH, json={
            "rcs_id": "bot", "phone": f"50060070{i}", "details": True,
            "message": {"text": "x"}}))  # fmt: skip
    ok.append(await a.post("/Rcs/api/v1/UploadFile/ag", headers=GENERIC_AUTH,
                           files={"file": ("a.png", b"\x89PNG" + bytes(range(256)), "image/png")}))  # fmt: skip
    ok.append(await b.post("/_emulator/clock/advance", json={"seconds": 30}))
    ok.append(await a.post("/_emulator/inbound", json={
        "provider": "generic", "agent_id": "ag", "phone": "+46700000000", "postback": "yes"}))  # fmt: skip
    ok.append(await b.post("/_emulator/faults", json={"provider": "generic", "status": 500,
                                                      "count": 1}))  # fmt: skip
    assert (await a.post("/Rcs/api/v1/Message", headers=GENERIC_AUTH,
                         json=generic("+46700000100"))).status_code == 500  # fmt: skip
    ok.append(await b.post("/_emulator/faults", json={"provider": "serwersms", "status": 503,
                                                      "probability": 0.5}))  # fmt: skip
    answers = [
        await (a, b)[i % 2].post(
            "/messages/send_rcs.json",
            headers=SERWERSMS_AUTH,
            json={"rcs_id": "bot", "phone": f"50060071{i}", "message": {"text": "y"}},
        )  # fmt: skip
        for i in range(8)
    ]
    assert {r.status_code for r in answers} <= {200, 503}
    ok.append(await a.put("/_emulator/phones/+46700000003", json={"rcs_capable": False}))
    ok.append(
        await b.put("/_emulator/agents/generic/ag", json={"webhook_url": "http://127.0.0.1:9/x"})
    )
    ok.append(await a.post("/_emulator/seed", json={"seed": 11}))
    ok.append(
        await b.post("/Rcs/api/v1/Message", headers=GENERIC_AUTH, json=generic("+46700000003"))
    )
    ok.append(await b.post("/_emulator/clock/advance", json={"seconds": 3600}))
    ok.append(
        await a.post("/_emulator/reset", params={"tenant": GENERIC_AUTH["Authorization"][7:]})
    )
    ok.append(
        await b.post("/Rcs/api/v1/Message", headers=GENERIC_AUTH, json=generic("+46700000004"))
    )
    assert all(r.is_success for r in ok), [r.text for r in ok if not r.is_success]


async def test_every_process_and_a_late_one_hold_the_same_state_field_by_field(redis_url) -> None:
    async with process(redis_url) as (a, first), process(redis_url) as (b, second):
        await traffic(a, b)
        admin = redis.Redis.from_url(redis_url)
        try:
            deadline = time.monotonic() + 30
            while admin.llen("rcs:chunks") < 2:  # the archivers look every 2 s
                assert time.monotonic() < deadline, "the log was not archived"
                await asyncio.sleep(0.1)
        finally:
            admin.close()
        async with process(redis_url) as (late, third):
            for client in (a, b, late):  # a read applies everything before it
                assert (await client.get("/_emulator/messages")).status_code == 200
            ours = state(first)
            assert len(ours) > 1000  # messages, events, deliveries, settings, draws...
            assert ours["emulator.engine.evicted"] > 0
            assert differences(ours, state(second)) == []
            assert differences(ours, state(third)) == []


@pytest.mark.parametrize("keep_settings", ["true", "false"])
async def test_a_process_that_joins_after_a_full_reset_begins_there_alike(
    redis_url: str, keep_settings: str
) -> None:
    """The newest full reset is recorded with what it left (state/checkpoint.py); a process
    that joins begins there. Everything before it is dropped from Redis here, so the joiner
    cannot have replayed it, and it still holds what the others hold, field by field."""
    config = CONFIG.with_overrides(state_chunk=5000)  # the whole log stays in the stream
    async with process(redis_url, config) as (a, first), process(redis_url, config) as (b, second):
        await traffic(a, b)
        group = await b.put("/_emulator/serwersms/groups/7", json={"phones": ["500600700"]})
        assert group.status_code == 200  # a provider's own setting: kept with keep_settings
        reset = await a.post("/_emulator/reset", params={"keep_settings": keep_settings})
        assert reset.status_code == 200
        after = [await b.post("/Rcs/api/v1/Message", headers=GENERIC_AUTH,
                              json=generic("+46700000200")),
                 await a.post("/messages/send_rcs.json", headers=SERWERSMS_AUTH,
                              json={"rcs_id": "bot", "group_id": "7", "message": {"text": "z"}}),
                 await b.post("/_emulator/clock/advance", json={"seconds": 60})]  # fmt: skip
        assert [r.status_code for r in after] == [200, 200, 200]
        admin = redis.Redis.from_url(redis_url)
        try:
            reset_at = admin.hget("rcs:checkpoint", "id")
            assert reset_at is not None
            dropped = admin.xtrim("rcs:log", minid=reset_at.decode())  # all before the reset
            assert dropped > 30
        finally:
            admin.close()
        async with process(redis_url, config) as (late, third):
            for client in (a, b, late):
                assert (await client.get("/_emulator/messages")).status_code == 200
            assert differences(state(first), state(third)) == []
            assert differences(state(first), state(second)) == []
            sent = await late.post("/Rcs/api/v1/Message", headers=GENERIC_AUTH,
                                   json=generic("+46700000201"))  # fmt: skip
            assert sent.status_code == 200
            await a.get("/_emulator/messages")
            assert differences(state(first), state(third)) == []


async def alike(*processes: tuple[httpx.AsyncClient, object]) -> None:
    """Every process holds the same state once each has read the log to its end (webhook
    attempts settle through it meanwhile: each read is followed by a comparison, until equal)."""
    deadline = time.monotonic() + 10
    while True:
        for client, _ in processes:
            assert (await client.get("/_emulator/messages")).status_code == 200
        ours = state(processes[0][1])
        gaps = [gap for _, app in processes[1:] for gap in differences(ours, state(app))]
        if not gaps:
            return
        assert time.monotonic() < deadline, "\n".join(g[:300] for g in gaps)
        await asyncio.sleep(0.2)


async def pause(app: object) -> None:
    """As if the process were stopped: its loops end, and it reads nothing until its next
    request starts them again."""
    shared = app.state.shared  # type: ignore[attr-defined]
    shared._stop.set()
    await asyncio.wait(shared._tasks)
    shared._tasks, shared._started = [], False


async def dropped_up_to_the_reset(url: str) -> bytes:
    """Wait for an archiver to drop the log before the newest full reset (they look every 2 s);
    the reset's entry id."""
    admin = redis.Redis.from_url(url)
    try:
        deadline = time.monotonic() + 30
        while (reset_at := admin.hget("rcs:checkpoint", "id")) is None or admin.get(
            "rcs:floor"
        ) != reset_at:
            assert time.monotonic() < deadline, "the log was not dropped up to the reset"
            await asyncio.sleep(0.1)
        ends = admin.lrange("rcs:chunks", 0, -1)
        assert all(order(end) > order(reset_at) for end in ends)  # chunks before it are gone
        assert len(admin.keys("rcs:chunk:*")) == len(ends)
        first = admin.xrange("rcs:log", count=1)[0][0]
        assert order(first) >= order(reset_at)  # and so is the stream before it
        return reset_at
    finally:
        admin.close()


@pytest.mark.parametrize("first_call", ["read", "send"])
async def test_a_process_stopped_while_the_log_was_dropped_up_to_a_reset_begins_there(
    redis_url: str, first_call: str
) -> None:
    """Redis keeps only what came since the newest full reset. A process that was stopped
    before it (so its place is among the dropped commands) begins at the reset when it comes
    back, whether its first call reads or sends, and holds what the others hold, field by
    field."""
    async with (
        process(redis_url) as (a, first),
        process(redis_url) as (b, second),
        process(redis_url) as (c, stopped),
    ):
        assert (await c.get("/_emulator/messages")).status_code == 200
        await pause(stopped)
        await traffic(a, b)
        admin = redis.Redis.from_url(redis_url)
        try:
            deadline = time.monotonic() + 30
            while admin.llen("rcs:chunks") < 2:  # chunks before the reset, to be dropped
                assert time.monotonic() < deadline, "the log was not archived"
                await asyncio.sleep(0.1)
        finally:
            admin.close()
        assert (await a.post("/_emulator/reset")).status_code == 200
        for client, phone in ((b, "+46700000300"), (a, "+46700000301")):
            sent = await client.post("/Rcs/api/v1/Message", headers=GENERIC_AUTH,
                                     json=generic(phone))  # fmt: skip
            assert sent.status_code == 200
        await dropped_up_to_the_reset(redis_url)
        if first_call == "read":
            assert (await c.get("/_emulator/messages")).status_code == 200
        else:
            sent = await c.post("/Rcs/api/v1/Message", headers=GENERIC_AUTH,
                                json=generic("+46700000302"))  # fmt: skip
            assert sent.status_code == 200, sent.text
        await alike((a, first), (b, second), (c, stopped))
        held = (await c.get("/_emulator/messages")).json()["items"]
        assert len(held) == (2 if first_call == "read" else 3)


async def test_a_request_whose_answer_was_on_its_way_when_its_process_stopped_gets_a_503(
    redis_url: str,
) -> None:
    """The rare end of a jump: a process stops after its request was appended but before the
    reply reached it, and a full reset plus the drop go by meanwhile. It begins at the reset,
    past its own request, so it cannot know the answer: the caller gets a 503 rather than
    waiting for ever (the request was applied, before the reset, by every other process)."""
    async with (
        process(redis_url) as (a, first),
        process(redis_url) as (c, stopped),
    ):
        assert (await c.get("/_emulator/messages")).status_code == 200
        shared = stopped.state.shared  # type: ignore[attr-defined]
        await pause(stopped)
        shared._started = True  # its loops stay stopped: nothing reads the log but the request
        appended = asyncio.Event()
        release = asyncio.Event()
        append = shared.log.append

        async def held_reply(*args: object) -> object:
            entries = await append(*args)  # in Redis now; the reply is held back
            appended.set()
            await release.wait()
            return entries

        shared.log.append = held_reply
        request = asyncio.create_task(c.post("/Rcs/api/v1/Message", headers=GENERIC_AUTH,
                                             json=generic("+46700000400")))  # fmt: skip
        await appended.wait()
        assert (await a.post("/_emulator/reset")).status_code == 200
        sent = await a.post("/Rcs/api/v1/Message", headers=GENERIC_AUTH,
                            json=generic("+46700000401"))  # fmt: skip
        assert sent.status_code == 200
        await dropped_up_to_the_reset(redis_url)
        shared._started = False
        await shared.catch_up()  # back: it reads the log first, and begins at the reset
        release.set()
        answer = await request
        assert answer.status_code == 503  # Generic's own problem details
        assert answer.json()["title"] == "Service Unavailable"
        listed = (await a.get("/_emulator/messages")).json()["items"]
        assert [m["phone"] for m in listed] == ["+46700000401"]  # the reset came after it
        await alike((a, first), (c, stopped))


async def test_a_checkpoint_that_cannot_be_read_is_refused_with_503s(redis_url: str) -> None:
    """A checkpoint rewritten by hand (or cut short) cannot be begun at: a process that joins
    answers 503s that say so, in each caller's own form, rather than a traceback."""
    async with process(redis_url) as (a, _):
        assert (await a.post("/_emulator/reset")).status_code == 200
        admin = redis.Redis.from_url(redis_url)
        try:
            deadline = time.monotonic() + 10
            while admin.hget("rcs:checkpoint", "id") is None:
                assert time.monotonic() < deadline, "the reset was not recorded"
                await asyncio.sleep(0.05)
            admin.hset("rcs:checkpoint", "data", b"{not json")
        finally:
            admin.close()
        async with process(redis_url) as (late, _):
            read = await late.get("/_emulator/messages")
            assert read.status_code == 503
            assert "newest checkpoint cannot be read" in read.json()["error"]
            sent = await late.post("/Rcs/api/v1/Message", headers=GENERIC_AUTH,
                                   json=generic("+46700000500"))  # fmt: skip
            assert sent.status_code == 503 and sent.json()["title"] == "Service Unavailable"
