"""GET /stream: server-sent change notices (what the inbox listens to)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from ..core.emulator import Emulator
from ..http.operations import Operation

KEEP_ALIVE = 15.0


def operations(emulator: Emulator) -> list[Operation]:
    async def stream(request: Request) -> Response:
        queue = emulator.notices.watch()

        async def events() -> AsyncIterator[str]:
            try:
                yield "retry: 2000\n\n"
                while True:
                    try:
                        notice = await asyncio.wait_for(queue.get(), KEEP_ALIVE)
                    except TimeoutError:
                        yield ": keep-alive\n\n"
                        continue
                    yield f"event: change\ndata: {json.dumps(notice)}\n\n"
            finally:
                emulator.notices.unwatch(queue)

        return StreamingResponse(
            events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
        )

    return [
        Operation("GET", "/stream", "Change notices as server-sent events (event: change).",
                  stream, responses={200: "text/event-stream"}),
    ]  # fmt: skip
