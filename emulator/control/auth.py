"""An optional token in front of the control API (config `control_token`, and the teams' own:
access.py): asked for as `X-Emulator-Token: <token>` or `?token=<token>`; what the token reaches
goes with the request to the operations. Health and readiness stay open for probes such as
Docker's HEALTHCHECK. Provider APIs are never behind it: they have their own credentials."""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from ..http.responses import JSONResponse
from .access import SCOPE_KEY, Access, refusal

OPEN_PATHS = ("/health", "/ready")  # probes carry no token


class ControlToken:
    def __init__(self, app: ASGIApp, access: Callable[[Scope], Access | None]) -> None:
        self.app = app
        self.access = access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _tail(scope) in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        found = self.access(scope)
        if found is None:
            await JSONResponse({"error": refusal(scope, "the control API")}, 401)(
                scope, receive, send
            )
            return
        scope[SCOPE_KEY] = found
        await self.app(scope, receive, send)


def _tail(scope: Scope) -> str:
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path
