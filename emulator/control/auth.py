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
        if not token_ok(scope, self.token):
            answer = JSONResponse(
                {"error": "the control API needs its token (X-Emulator-Token header or ?token=)"},
                401,
            )
            await answer(scope, receive, send)
            return
        await self.app(scope, receive, send)


def token_ok(scope: Scope, token: str | None) -> bool:
    """No token configured, or the request carries it (header or query)."""
    if token is None:
        return True
    given = dict(scope["headers"]).get(b"x-emulator-token", b"").decode("latin-1")
    if not given:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        given = (query.get("token") or [""])[0]
    return hmac.compare_digest(given.encode(), token.encode())


def _tail(scope: Scope) -> str:
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path
