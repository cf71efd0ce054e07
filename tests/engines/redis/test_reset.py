"""A tenant's reset on the Redis engine leaves what it held behind at once and sweeps it from
Redis (on a Redis Cluster, from the node of the tenant's slot)."""

from __future__ import annotations

import asyncio

import pytest

from emulator.engines.redis import keys
from tests.conftest import GENERIC_AUTH, GENERIC_KEY, open_client, redis_url_for
from tests.redis_server import whole

pytestmark = pytest.mark.anyio


def held(url: str, pattern: str) -> list[bytes]:
    every = whole(url)
    try:
        return list(every.scan_iter(match=pattern, count=1000))
    finally:
        every.close()


@pytest.mark.parametrize("mode", ["redis", "cluster"])
async def test_a_tenant_reset_sweeps_what_it_held(mode, request, caplog):
    url = redis_url_for(request, mode)
    assert url is not None
    async with open_client(mode, redis_url=url) as client:
        for i in range(5):
            answer = await client.post(
                "/Rcs/api/v1/Message",
                headers=GENERIC_AUTH,
                json={
                    "agentId": "a",
                    "number": [f"+4670123450{i}"],
                    "messageType": "TextMessage",
                    "text": "hi",
                },
            )
            assert answer.status_code == 200
        before = (
            f"{keys.ROOTS[keys.partition_of(GENERIC_KEY)]}0:{keys.tenant_tag(GENERIC_KEY)}"
            ":0:*"
        )  # (its base before the reset: keys.py)
        assert held(url, before)
        reset = await client.post("/_emulator/reset", params={"tenant": GENERIC_KEY})
        assert reset.status_code == 200
        assert (await client.get("/_emulator/messages")).json()["total"] == 0
        for _ in range(100):  # the sweep runs in the background
            if not held(url, before):
                break
            await asyncio.sleep(0.05)
        assert held(url, before) == []
    # (a cluster-wide SCAN's cursors, one per node, taken for one cursor failed as an outage)
    assert "cannot be reached" not in caplog.text
