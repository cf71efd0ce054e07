"""GET /stream: server-sent change notices (what the inbox listens to).

A viewer is told every change, never fewer: notices waiting for a slow viewer are merged (the
same notice twice is one), and past `PENDING` distinct ones they collapse into one `resync`
notice (reload what you show), so a burst of thousands of changes (an advance over a big state)
costs the viewer one reload instead of thousands of notices, and none is dropped unsaid."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from ..core.emulator import Emulator
from ..http.operations import Operation
from ..http.protocol import ENDLESS

KEEP_ALIVE = 15.0
PENDING = 1000  # distinct notices held for a viewer before they collapse into one resync
RESYNC: dict[str, Any] = {"kind": "resync", "provider": None, "agent_id": None, "phone": None,
                          "message_id": None}  # fmt: skip
NoticeKey = tuple[Any, ...]


class Viewer(asyncio.Queue[dict[str, Any]]):
    """One live viewer's notices, merged while they wait (never full: the emulator publishes
    into it as into any queue, and it never refuses)."""

    def __init__(self) -> None:
        super().__init__()
        self._waiting: dict[NoticeKey, dict[str, Any]] = {}
        self._overflowed = False
        self._ready = asyncio.Event()

    def full(self) -> bool:
        return False

    def put_nowait(self, item: dict[str, Any]) -> None:
        self._ready.set()
        if item.get("kind") == "reset":
            self._waiting.clear()  # a reset redraws everything: what came before is moot
            self._overflowed = False
        elif self._overflowed:
            return
        elif len(self._waiting) >= PENDING:
            self._overflowed = True
            self._waiting.clear()
            return
        self._waiting.setdefault(tuple(item.values()), item)

    async def take(self) -> list[dict[str, Any]]:
        """Every notice waiting (at least one), oldest first; a viewer that fell too far
        behind gets one resync instead."""
        await self._ready.wait()
        self._ready.clear()
        taken = [RESYNC] if self._overflowed else list(self._waiting.values())
        self._waiting = {}
        self._overflowed = False
        return taken


def operations(emulator: Emulator) -> list[Operation]:
    async def stream(request: Request) -> Response:
        viewer = Viewer()
        emulator.watchers.add(viewer)
        request.scope[ENDLESS] = True  # a shutdown cuts it instead of waiting for its end

        async def events() -> AsyncIterator[str]:
            try:
                yield "retry: 2000\n\n"
                while True:
                    try:
                        notices = await asyncio.wait_for(viewer.take(), KEEP_ALIVE)
                    except TimeoutError:
                        yield ": keep-alive\n\n"
                        continue
                    yield "".join(f"event: change\ndata: {json.dumps(n)}\n\n" for n in notices)
            finally:
                emulator.watchers.discard(viewer)

        return StreamingResponse(
            events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
        )

    return [
        Operation("GET", "/stream", "Change notices as server-sent events (event: change).",
                  stream, description="Each notice names what changed: `{\"kind\": \"message\" | "
                  "\"event\" | \"webhook\" | \"reset\" | \"resync\", \"provider\", \"agent_id\", "
                  "\"phone\", \"message_id\"}`. Notices waiting for a slow reader are merged; past "
                  f"{PENDING} they become one `resync` (reload everything you show).",
                  responses={200: "text/event-stream"}),
    ]  # fmt: skip
