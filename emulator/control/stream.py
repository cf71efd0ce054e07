"""GET /stream: server-sent change notices (what the inbox listens to; see core/notices.py for
how a slow viewer's notices are merged)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from ..core.emulator import Emulator
from ..core.notices import PENDING
from ..http.operations import Operation
from ..http.protocol import ENDLESS
from .access import Tenants, of

KEEP_ALIVE = 15.0


def operations(emulator: Emulator, tenants: Tenants) -> list[Operation]:
    async def stream(request: Request) -> Response:
        viewer = emulator.notices.watch(of(request).tenants)  # (a team: its own tenants')
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
                    yield "".join(
                        f"event: change\ndata: {json.dumps(_shown(n))}\n\n" for n in notices
                    )
            finally:
                emulator.notices.unwatch(viewer)

        return StreamingResponse(
            events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
        )

    def _shown(notice: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in notice.items() if k != "tenant"}  # (whose: the reads say)

    return [
        Operation(
            "GET",
            "/stream",
            "Change notices as server-sent events (event: change).",
            stream,
            description='Each notice names what changed: `{"kind": "message" | '
            '"event" | "webhook" | "reset" | "resync" | "settled", "provider", '
            '"agent_id", "phone", "message_id"}`. Notices waiting for a slow reader '
            f"are merged; past {PENDING} they become one `resync` (reload everything you "
            "show). `settled`: the callbacks of an advance that answered before them are "
            "done.",
            responses={200: "text/event-stream"},
        ),
    ]
