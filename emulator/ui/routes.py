"""The inbox page at `/`, its static assets (served by the emulator: demos may be offline) and a
server-sent-events stream of change notices at `/_emulator/stream`."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Route

from ..control.auth import token_ok
from ..core.emulator import Emulator
from ..http.responses import JSONResponse

STATIC = Path(__file__).with_name("static")
ASSETS = {
    "inbox.js": "text/javascript",
    "messages.js": "text/javascript",
    "carousel.js": "text/javascript",
    "api.js": "text/javascript",
    "webhooks.js": "text/javascript",
    "detail.js": "text/javascript",
    "state.js": "text/javascript",
    "threads.js": "text/javascript",
    "inbox.css": "text/css",
}
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src * data:; media-src *",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}
KEEP_ALIVE = 15.0


def ui_routes(emulator: Emulator, token: str | None) -> list[BaseRoute]:
    def denied(request: Request) -> Response | None:
        if token_ok(request.scope, token):
            return None
        return JSONResponse({"error": "the inbox needs the control token (?token=)"}, 401)

    async def page(request: Request) -> Response:
        return denied(request) or FileResponse(STATIC / "index.html", headers=HEADERS)

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in ASSETS:  # a fixed list: no path from the client reaches the disk
            return JSONResponse({"error": "no such asset"}, 404)
        return FileResponse(STATIC / name, media_type=ASSETS[name], headers=HEADERS)

    return [
        Route("/", page, methods=["GET"]),
        Route("/ui/{name}", asset, methods=["GET"]),
    ]
