"""The state engines (core/engine.py's contract): `memory`, this process's own, and `redis`, the
state in Redis itself for processes and replicas that share it. `open_engine` picks the one a
config names; nothing above this package knows which it got."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from ..core.clock import Clock, make_clock
from ..core.engine import Engine

if TYPE_CHECKING:
    from ..config import Config


def open_engine(
    config: Config, clock: Clock | None = None, http_client: httpx.AsyncClient | None = None
) -> tuple[Engine, Clock]:
    """The engine the config names, with the clock it runs on (processes sharing a state read
    one clock: its start is the state's). StateRefused: a shared state that cannot be joined."""
    if config.state == "memory":
        from .memory import MemoryEngine

        clock = clock or make_clock(config.clock, config.speed)
        engine = MemoryEngine(
            clock,
            state_file=Path(config.state_file) if config.state_file else None,
            save_interval=config.state_save_interval,
            max_messages=config.max_messages,
            http_client=http_client,
            webhook_concurrency=config.webhook_concurrency,
            webhook_per_host=config.webhook_per_host,
            webhook_backlog=config.webhook_backlog,
            max_webhook_log=config.max_webhook_log,
        )
        return engine, clock
    # redis-py is imported only for a shared state: start-up stays short
    from .redis.connect import connect

    return connect(config, clock, http_client)
