"""The outermost layer of an emulator on a shared state: what changes state becomes a command of
the log; a read first catches up; the inbox's files are served as they are.

While Redis cannot be reached, a provider's caller gets that provider's own 503 and the control
API a JSON 503; nothing is half-done: a command is either in the log (and applied by every
process) or was never accepted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from .commands import read_body
from .log import Unreachable
from .shared import SharedState

READS = ("GET", "HEAD")
# A probe answers within PROBE_WAIT seconds even while a process that joined a long log is
# still applying it (the Docker HEALTHCHECK's own timeout is 2 s).
PROBES = ("/_emulator/health",)
PROBE_WAIT = 1.0


# Calls that change state only through the requests they make themselves (each a command of
# its own): a conversation run, which plays the phone through the control API.
LOCAL_CALLS = ("/_emulator/conversations/run",)


def kind_of(scope: Scope) -> str:
    """'command' (appended, applied everywhere), 'read' (after a catch-up) or 'local'."""
    path: str = scope["path"]
    if path in LOCAL_CALLS:
        return "local"
    if path.startswith("/_emulator"):
        return "read" if scope["method"] in READS else "command"
    if path == "/" or path.startswith("/ui/"):
        return "local" if scope["method"] in READS else "command"
    return "command"  # a provider's request: even a refused GET is noted, counted, faulted


class Replicated:
    def __init__(
        self,
        app: ASGIApp,
        shared: SharedState,
        unavailable: Callable[[Scope, str], Response],
        max_body: Callable[[Scope], int],
    ) -> None:
        self.app = app
        self.shared = shared
        self.unavailable = unavailable
        self.max_body = max_body
        shared.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        kind = kind_of(scope)
        if kind == "local":
            await self.app(scope, receive, send)
            return
        try:
            if kind == "read" and scope["path"] in PROBES:
                await self.shared.catch_up_within(PROBE_WAIT)
            elif kind == "read":
                await self.shared.catch_up()
            else:
                body = await read_body(receive, self.max_body(scope) + 1)
                answer = await self.shared.submit(dict(scope), body)
        except Unreachable as exc:
            await self.unavailable(scope, str(exc))(scope, receive, send)
            return
        if kind == "read":
            await self.app(scope, receive, send)
            return
        if answer.delay:
            await asyncio.sleep(answer.delay)
        await answer.replay(send)
