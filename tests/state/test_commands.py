"""What a shared state appends of a request: at most one byte past what the path's routes take,
so a hostile body is refused alike everywhere and neither the log nor a process holds it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import redis
import redis.asyncio as aioredis

from emulator import Config, create_app
from emulator.state.archive import Archive, MissingChunk, encode
from emulator.state.log import Behind, CommandLog
from tests.conftest import GENERIC_AUTH, SERWERSMS_AUTH, open_client
from tests.redis_server import RedisServer

pytestmark = pytest.mark.anyio


def newest_body(url: str) -> bytes:
    client = redis.Redis.from_url(url)
    try:
        (_, fields), *_ = client.xrevrange("rcs:log", count=1)
        return bytes(fields[b"b"])
    finally:
        client.close()


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    """A client of an emptied Redis that holds a state of generation "g" (as a joining process
    would have written): the log's scripts run against it directly."""
    redis_client = aioredis.Redis.from_url(redis_url)
    await redis_client.hset("rcs:meta", "generation", "g")
    yield redis_client
    await redis_client.aclose()


async def test_a_body_past_the_limit_is_refused_and_cut_in_the_log(redis_server: RedisServer):
    async with open_client("redis", Config(clock="manual"), redis_server.url) as client:
        huge = b'{"phone": "' + b"1" * (9 * 1024 * 1024) + b'"}'
        answer = await client.post("/messages/send_rcs.json", content=huge,
                                   headers=SERWERSMS_AUTH | {"Content-Type": "application/json"})  # fmt: skip
        assert answer.json()["error"]["type"] == "InvalidData"  # as one process answers
        assert len(newest_body(redis_server.url)) == 8 * 1024 * 1024 + 1
        big = b'{"agentId": "' + b"a" * (300 * 1024) + b'"}'
        answer = await client.post("/Rcs/api/v1/Message", content=big,
                                   headers=GENERIC_AUTH | {"Content-Type": "application/json"})  # fmt: skip
        assert answer.status_code == 400  # Generic's own "payload too large" problem details
        assert len(newest_body(redis_server.url)) == len(big)  # under its upload limit: whole
        control = await client.post("/_emulator/seed", content=b"{" + b" " * (2 * 1024 * 1024),
                                    headers={"Content-Type": "application/json"})  # fmt: skip
        assert control.status_code in (400, 413)
        assert len(newest_body(redis_server.url)) == 1024 * 1024 + 1


async def test_the_log_hands_back_whole_entries_and_appends_a_resent_batch_once(
    client: aioredis.Redis,
):
    """A process gets its own requests back as complete entries (Redis sends their ids, the
    process adds what it sent), another's whole; a batch sent again is not appended again."""
    one, two = CommandLog(client, "rcs:", "g", "one"), CommandLog(client, "rcs:", "g", "two")
    first = await one.append("1", b"0-0", [(b"1", b'{"m":"POST"}', b"a"), (b"2", b"{}", b"")])
    assert [f[b"r"] for _, f in first] == [b"1", b"2"]
    assert first[0][1][b"h"] == b'{"m":"POST"}' and first[0][1][b"b"] == b"a"
    assert [(f[b"o"], f[b"n"]) for _, f in first] == [(b"one", b"1"), (b"one", b"2")]
    again = await one.append("1", b"0-0", [(b"1", b'{"m":"POST"}', b"a"), (b"2", b"{}", b"")])
    assert again == first  # the same entries, read back whole: nothing appended twice
    assert await client.xlen("rcs:log") == 2
    theirs = await two.append("1", b"0-0", [(b"7", b"{}", b"b")])
    assert theirs[:2] == first and theirs[2][1][b"o"] == b"two" and theirs[2][1][b"b"] == b"b"
    assert (await two.read(b"0-0")) == theirs  # what a catch-up reads: the same entries


async def test_archived_entries_come_back_whole_and_a_sender_behind_them_appends_nothing(
    client: aioredis.Redis,
):
    """Once the oldest entries are compressed into chunks, a process whose place is before them
    is told so (it reads the chunks first) and its batch is not appended until it has; reading
    the chunks from any place gives every later entry, bytes as they were."""
    log = CommandLog(client, "rcs:", "g", "one")
    bodies = [bytes([i]) * i + b"\x00\xff" for i in range(35)]
    written = await log.append("1", b"0-0", [(b"%d" % i, b"{}", b) for i, b in enumerate(bodies)])
    archive = Archive(log, chunk=10)
    assert await archive.maybe() and await archive.maybe()
    assert not await archive.maybe()  # 15 left: under two chunks
    assert await client.xlen("rcs:log") == 15 and await client.llen("rcs:chunks") == 2
    with pytest.raises(Behind):
        await log.append("2", b"0-0", [(b"x", b"{}", b"")])
    with pytest.raises(Behind):
        await log.read(b"0-0")
    assert await client.xlen("rcs:log") == 15  # nothing appended by the one behind
    assert await archive.after(b"0-0") == written[:10]  # a chunk at a time
    assert await archive.after(written[3][0]) == written[4:10]
    assert await archive.after(written[9][0]) == written[10:20]
    assert await archive.after(written[19][0]) == []  # the rest is in the stream
    assert await log.read(written[19][0]) == written[20:]
    # A second archiver with the same oldest entries finds them gone and changes nothing.
    stale = [(entry_id, fields) for entry_id, fields in written[:10]]
    keys = ["rcs:log", "rcs:meta", "rcs:archived", "rcs:chunks", "rcs:chunk:x"]
    args = ["g", stale[0][0], stale[-1][0], encode(stale)]
    assert await archive._script(keys=keys, args=args) == 0
    assert await client.llen("rcs:chunks") == 2 and await client.xlen("rcs:log") == 15
    # A chunk gone from under the list (a flush, a hand) is said, never read as "nothing".
    await client.delete(f"rcs:chunk:{written[9][0].decode()}")
    with pytest.raises(MissingChunk):
        await archive.after(b"0-0")


async def test_a_chunk_of_big_commands_ends_at_its_byte_bound(client: aioredis.Redis):
    """Uploads ride in the log (up to 100 MB each): a chunk ends past 16 MB, so an archiver
    never gathers thousands of them at once; their bytes come back as they were."""
    log = CommandLog(client, "rcs:", "g", "one")
    big = [bytes(range(256)) * (7 * 4096) for _ in range(3)]  # 7 MB each, every byte value
    bodies = [*big, *(b"small" for _ in range(22))]
    written = await log.append("1", b"0-0", [(b"%d" % i, b"{}", b) for i, b in enumerate(bodies)])
    archive = Archive(log, chunk=10)
    assert await archive.maybe()  # the three big ones reach the bound: a chunk of three
    assert await archive.maybe()  # then ten small ones
    assert not await archive.maybe()
    assert await client.llen("rcs:chunks") == 2 and await client.xlen("rcs:log") == 12
    assert await archive.after(b"0-0") == written[:3]
    assert await archive.after(written[2][0]) == written[3:13]


async def test_a_health_probe_answers_while_a_joining_process_still_applies_the_log(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process that joins a long log replays it first; a liveness probe that waited for all
    of it would time out, and the process would be restarted to replay again. The probe waits
    PROBE_WAIT at most (0 here, so the replay cannot be done yet) and says so; every other read
    still waits for all of it."""
    from emulator.state import middleware

    config = Config(clock="manual")
    async with open_client("redis", config, redis_server.url) as first:
        for i in range(30):
            sent = await first.post("/Rcs/api/v1/Message", headers=GENERIC_AUTH, json={
                "agentId": "a", "number": [f"+4670000{i:04d}"], "messageType": "TextMessage",
                "text": "hi"})  # fmt: skip
            assert sent.status_code == 200
        monkeypatch.setattr(middleware, "PROBE_WAIT", 0)
        joining = create_app(config.with_overrides(state=redis_server.url))
        transport = httpx.ASGITransport(app=joining)
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://e") as late:
                probe = (await late.get("/_emulator/health")).json()
                assert probe["status"] == "ok" and probe["state"]["catching_up"] is True
                assert probe["messages"] < 30
                listed = (await late.get("/_emulator/messages")).json()
                assert listed["total"] == 30  # a read waits for every command before it
                monkeypatch.setattr(middleware, "PROBE_WAIT", 1.0)  # as served
                probe = (await late.get("/_emulator/health")).json()
                assert probe["state"]["catching_up"] is False and probe["messages"] == 30
        finally:
            await joining.state.emulator.aclose()
            await joining.state.shared.aclose()
