"""What a shared state appends of a request: at most one byte past what the path's routes take,
so a hostile body is refused alike everywhere and neither the log nor a process holds it."""

from __future__ import annotations

import pytest
import redis

from emulator import Config
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
