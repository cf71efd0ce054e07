"""The Redis engine's commits: the sends of a tenant that commit together share a call and are
each stored once, whole; an exchange shared by several messages stays until the last of them is
evicted; a call sent again after its answer was lost applies nothing twice."""

from __future__ import annotations

import asyncio
import secrets

import msgpack
import pytest
import redis

from emulator.config import Config
from emulator.engines.redis import keys, scripts
from tests.conftest import GENERIC_AUTH, GENERIC_KEY, open_client, redis_url_for
from tests.redis_server import whole

pytestmark = pytest.mark.anyio
MESSAGE = "/Rcs/api/v1/Message"


def text(number: str, words: str = "hi") -> dict[str, object]:
    return {"agentId": "a", "number": [number], "messageType": "TextMessage", "text": words}


def base_of(tenant: str) -> str:
    """A tenant's base, on a state never reset (keys.py)."""
    return f"{keys.ROOTS[keys.partition_of(tenant)]}0:{keys.tenant_tag(tenant)}:0:"


def script_calls(url: str) -> int:
    """Scripts Redis ran (a call refused NOSCRIPT, sent again after loading, is not one)."""
    client = redis.Redis.from_url(url)
    try:
        stats = client.info("commandstats").get("cmdstat_evalsha", {})
        return int(stats.get("calls", 0)) - int(stats.get("failed_calls", 0))
    finally:
        client.close()


@pytest.mark.parametrize("mode", ["redis", "cluster"])
async def test_concurrent_sends_of_a_tenant_are_each_stored_once(mode, request):
    url = redis_url_for(request, mode)
    assert url is not None
    async with open_client(mode, redis_url=url) as client:
        before = script_calls(url) if mode == "redis" else 0
        sends = 40
        answers = await asyncio.gather(
            *(
                client.post(MESSAGE, headers=GENERIC_AUTH, json=text(f"+467012345{i:02d}", f"m{i}"))
                for i in range(sends)
            )
        )
        assert [a.status_code for a in answers] == [200] * sends
        if mode == "redis":  # each send's unit number (seeded) is a call; the commits share
            assert script_calls(url) - before <= sends + sends // 2
        listed = (await client.get("/_emulator/messages", params={"limit": 100})).json()
        assert listed["total"] == sends
        assert sorted(m["text"] for m in listed["items"]) == sorted(f"m{i}" for i in range(sends))
        assert len({m["id"] for m in listed["items"]}) == sends
        assert all(
            m["status"] == "sent" and [e["type"] for e in m["events"]] == ["sent"]
            for m in listed["items"]
        )
        for answer in answers[:5]:  # each one's own tag, and its own exchange
            tag = answer.json()["tagId"]
            found = await client.get(f"{MESSAGE}/Tag/{tag}", headers=GENERIC_AUTH)
            assert found.status_code == 200
            batch = [m for m in listed["items"] if m["batch"] == tag]
            assert len(batch) == 1
            one = (await client.get(f"/_emulator/messages/{batch[0]['id']}")).json()
            assert one["exchange"]["request"]["body"]["text"] == one["text"]
        by_phone = await client.get("/_emulator/messages", params={"phone": "+46701234507"})
        assert [m["text"] for m in by_phone.json()["items"]] == ["m7"]
        await client.post("/_emulator/clock/advance", json={"seconds": 60})
        read = (await client.get("/_emulator/messages", params={"status": "read"})).json()
        assert read["total"] == sends  # every one's scenario ran, once
        assert all(
            [e["type"] for e in m["events"]] == ["sent", "delivered", "read"] for m in read["items"]
        )


@pytest.mark.parametrize("mode", ["redis", "cluster"])
async def test_a_shared_exchange_stays_until_its_last_message_is_evicted(mode, request):
    url = redis_url_for(request, mode)
    assert url is not None
    config = Config(clock="manual", max_messages=2)
    async with open_client(mode, config, redis_url=url) as client:
        both = {**text("+46701230001"), "number": ["+46701230001", "+46701230002"]}
        assert (await client.post(MESSAGE, headers=GENERIC_AUTH, json=both)).status_code == 200
        exchanges = base_of(GENERIC_KEY) + "x:*"
        store = whole(url)
        try:
            assert len(list(store.scan_iter(match=exchanges))) == 1
            third = await client.post(MESSAGE, headers=GENERIC_AUTH, json=text("+46701230003"))
            assert third.status_code == 200  # evicts the first of the two
            listed = (await client.get("/_emulator/messages")).json()["items"]
            assert [m["phone"] for m in listed] == ["+46701230002", "+46701230003"]
            kept = (await client.get(f"/_emulator/messages/{listed[0]['id']}")).json()
            assert kept["exchange"]["request"]["body"]["number"] == ["+46701230001", "+46701230002"]
            assert len(list(store.scan_iter(match=exchanges))) == 2
            fourth = await client.post(MESSAGE, headers=GENERIC_AUTH, json=text("+46701230004"))
            assert fourth.status_code == 200  # evicts the second: the exchange goes with it
            assert len(list(store.scan_iter(match=exchanges))) == 2  # the third's, the fourth's
            listed = (await client.get("/_emulator/messages")).json()["items"]
            assert [m["phone"] for m in listed] == ["+46701230003", "+46701230004"]
        finally:
            store.close()


async def test_a_commit_sent_again_applies_nothing_twice(request):
    """redis-py sends a call again when its answer was lost (a timeout, a dropped connection);
    the script ran the first time, so the second must only answer. Driven at the script: a
    lost answer cannot be made through HTTP."""
    url = redis_url_for(request, "redis")
    assert url is not None
    store = redis.Redis.from_url(url)
    try:
        store.flushdb()
        commit = store.register_script(scripts.COMMIT.source)
        partition = keys.partition_of("someone")
        root, tag = keys.ROOTS[partition], keys.tenant_tag("someone")
        due = base_of("someone") + "due"

        def call(token: str, packed: bytes) -> list[object]:
            args = [root, tag, token, str(partition), "someone", packed]
            return list(commit(keys=[root + "epoch"], args=args))

        unit = ["", "", [["D", "10.0", b'{"k":"step","r":"m1","s":null}']]]
        packed = msgpack.packb([unit], use_bin_type=False)
        token = secrets.token_hex(8)
        first = call(token, packed)
        again = call(token, packed)
        assert first == again
        assert first[:3] == [[b"OK"], b"10", b""]
        assert store.zcard(due) == 1
        other = call(secrets.token_hex(8), packed)
        assert other[0] == [b"OK"]
        assert store.zcard(due) == 2  # (another call's units are its own)
        # A unit of the wrong shape is refused by itself; the others in its call are applied.
        wrong = ["", "", [["D", "11.0"]]]
        both = msgpack.packb([wrong, unit], use_bin_type=False)
        said = call(secrets.token_hex(8), both)
        assert said[0] == [b"MALFORMED", b"OK"]
        assert store.zcard(due) == 3
    finally:
        store.close()
