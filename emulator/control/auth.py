"""An optional token in front of the control API (config `control_token`): asked for as
`X-Emulator-Token: <token>` or `?token=<token>`. Health stays open for probes such as Docker's
HEALTHCHECK. Provider APIs are never behind it: they have their own credentials."""

from __future__ import annotations

import hmac
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Receive, Scope, Send

from ..http.responses import JSONResponse

OPEN_PATHS = ("/health", "/ready")  # probes carry no token


class ControlToken:
    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.token is None or scope["type"] != "http" or _tail(scope) in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        refusal = token_refusal(scope, self.token, "the control API")
        if refusal is not None:
            await JSONResponse({"error": refusal}, 401)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def token_refusal(scope: Scope, token: str | None, what: str) -> str | None:
    """Why the request may not use `what` (the control API, the inbox), or None: no token is
    configured, or the request carries it (header or query). A token that is not the one
    configured is said apart from none at all (a stale variable, another emulator's)."""
    if token is None:
        return None
    given = dict(scope["headers"]).get(b"x-emulator-token", b"").decode("latin-1")
    if not given:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        given = (query.get("token") or [""])[0]
    if not given:
        return f"{what} needs its token (X-Emulator-Token header or ?token=)"
    if hmac.compare_digest(given.encode(), token.encode()):
        return None
    return f"{what} refuses this token: it is not the emulator's control_token"


def _tail(scope: Scope) -> str:
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path
