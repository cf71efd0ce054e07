"""The Redis engine for a config: join the shared state (join.py), open this process's link to
it, and give the clock every process reads alike."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

from ...core.clock import Clock, ManualClock, RealClock, ScaledClock
from .engine import RedisEngine
from .join import fingerprint, join
from .link import Link

if TYPE_CHECKING:
    from ...config import Config


def connect(
    config: Config, clock: Clock | None, http_client: httpx.AsyncClient | None
) -> tuple[RedisEngine, Clock]:
    joined = join(config)
    link = Link(joined, fingerprint(config), config.state_wait_replicas)
    if clock is None:
        if config.clock == "manual":
            clock = ManualClock(joined.epoch)  # every process starts where the state began
        elif config.clock == "scaled" or config.speed != 1.0:
            clock = ScaledClock(config.speed, start=joined.epoch, began=joined.epoch)
        else:
            clock = RealClock()
    engine = RedisEngine(
        link,
        clock,
        max_messages=config.max_messages,
        http_client=http_client,
        webhook_concurrency=config.webhook_concurrency,
        webhook_per_host=config.webhook_per_host,
        max_webhook_log=config.max_webhook_log,
        webhook_timeout=config.webhook_timeout,
    )
    return engine, clock
