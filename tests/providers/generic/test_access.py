"""Strict mode (listed keys and agents) and the per-key rate limit."""

from __future__ import annotations

import pytest

from emulator import Config
from tests.conftest import advance, open_client

from .helpers import BASE, text_message

pytestmark = pytest.mark.anyio

STRICT = Config(
    clock="manual",
    generic={"strict": True, "keys": {"key-a": ["test_agent"], "key-all": "*"}},
)


async def test_strict_mode_admits_listed_keys_for_their_agents(mode, redis_url):
    async with open_client(mode, STRICT, redis_url) as client:
        ok = await client.post(
            f"{BASE}/Message", json=text_message(), headers={"Authorization": "Bearer key-a"}
        )
        assert ok.status_code == 200
        other_agent = await client.post(
            f"{BASE}/Message",
            json=text_message(agentId="someone_else"),
            headers={"Authorization": "Bearer key-a"},
        )
        assert other_agent.status_code == 403
        assert other_agent.json()["title"] == "Forbidden"
        assert "someone_else" in other_agent.json()["detail"]
        wildcard = await client.post(
            f"{BASE}/Message",
            json=text_message(agentId="someone_else"),
            headers={"Authorization": "Bearer key-all"},
        )
        assert wildcard.status_code == 200
        unknown = await client.post(
            f"{BASE}/Message", json=text_message(), headers={"Authorization": "Bearer key-x"}
        )
        assert unknown.status_code == 401
        assert unknown.json()["detail"] == "The API key is not valid."


async def test_rate_limit_answers_429_with_retry_after(mode, redis_url):
    config = Config(clock="manual", generic={"rate_limit": {"requests": 2, "per_seconds": 10}})
    async with open_client(mode, config, redis_url) as client:
        headers = {"Authorization": "Bearer limited"}
        for _ in range(2):
            response = await client.post(f"{BASE}/Message", json=text_message(), headers=headers)
            assert response.status_code == 200
        limited = await client.post(f"{BASE}/Message", json=text_message(), headers=headers)
        assert limited.status_code == 429
        assert limited.headers["retry-after"] == "5"
        assert limited.json()["title"] == "Too Many Requests"
        other = await client.post(
            f"{BASE}/Message", json=text_message(), headers={"Authorization": "Bearer other"}
        )
        assert other.status_code == 200  # per key
        await advance(client, 5)
        again = await client.post(f"{BASE}/Message", json=text_message(), headers=headers)
        assert again.status_code == 200
