"""Change notices: what live viewers (the inbox) are told, and the count of changes a periodic
save watches. A part the Emulator owns."""

from __future__ import annotations

import asyncio
from typing import Any

QUEUE = 1000  # notices a slow viewer may fall behind by before it misses some


class Notices:
    def __init__(self) -> None:
        self.revision = 0  # counts changes, so a periodic save can skip when nothing changed
        self.watchers: set[asyncio.Queue[dict[str, Any]]] = set()

    def touch(self) -> None:
        """Something that viewers do not draw changed (settings, an upload): save it."""
        self.revision += 1

    def publish(
        self,
        kind: str,
        provider: str | None = None,
        agent_id: str | None = None,
        phone: str | None = None,
        message_id: str | None = None,
    ) -> None:
        """Tell live viewers that something changed; a viewer that lags loses notices, not
        correctness: it reloads what it shows on the next one."""
        self.revision += 1
        if not self.watchers:
            return
        notice = {"kind": kind, "provider": provider, "agent_id": agent_id, "phone": phone,
                  "message_id": message_id}  # fmt: skip
        for queue in self.watchers:
            if not queue.full():
                queue.put_nowait(notice)

    def watch(self) -> asyncio.Queue[dict[str, Any]]:
        """A new viewer's queue of notices (stop with `unwatch`)."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=QUEUE)
        self.watchers.add(queue)
        return queue

    def unwatch(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        self.watchers.discard(queue)
