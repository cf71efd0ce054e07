"""The shared-state tests start each from an empty Redis (the per-worker redis-server)."""

from __future__ import annotations

import pytest

from tests.redis_server import RedisServer, flush


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    flush(redis_server.url)
    return redis_server.url
