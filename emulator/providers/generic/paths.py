"""ASP.NET's path matching: routes match without regard to case or a trailing slash, so
/rcs/API/v1/message/ reaches POST /Message."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

PREFIX = "/Rcs/api/v1"
_CANONICAL_PATHS = frozenset({PREFIX + "/Message"})
_CANONICAL_PREFIXES = (
    PREFIX + "/Message/Tag/",
    PREFIX + "/Message/Agent/",
    PREFIX + "/UploadFile/",
    PREFIX + "/Capability/",
)


class CaseInsensitivePaths:
    _CANON = {
        "rcs": "Rcs",
        "api": "api",
        "v1": "v1",
        "message": "Message",
        "uploadfile": "UploadFile",
        "capability": "Capability",
        "tag": "Tag",
        "agent": "Agent",
    }

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if path in _CANONICAL_PATHS or path.startswith(_CANONICAL_PREFIXES):
            await self.app(scope, receive, send)  # already as the routes spell it
            return
        if scope["type"] == "http" and scope["path"][:4].lower() == "/rcs":
            parts = scope["path"].rstrip("/").split("/")  # a trailing slash changes nothing
            fixed = parts[:]
            for i in range(1, min(5, len(parts))):
                fixed[i] = self._CANON.get(parts[i].lower(), parts[i])
            if len(parts) > 6 and fixed[4] == "Message" and parts[5].lower() in ("tag", "agent"):
                fixed[5] = self._CANON[parts[5].lower()]
            scope = dict(scope, path="/".join(fixed))
        await self.app(scope, receive, send)
