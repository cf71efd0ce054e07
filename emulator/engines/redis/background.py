"""Work a part starts and nobody waits for (what a reset left behind, swept), kept so that
stopping waits for it a moment, then cuts it off. A part the engine hands to the parts that
start such work."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from .link import Link


class Background:
    def __init__(self, link: Link) -> None:
        self.link = link
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, work: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def aclose(self, timeout: float = 1.0) -> None:
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout)
        for task in list(self._tasks):
            task.cancel()
