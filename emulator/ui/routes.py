"""The inbox page at `/`, its static assets (served by the emulator: demos may be offline) and a
server-sent-events stream of change notices at `/_emulator/stream`."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Route

from ..control.access import SCOPE_KEY, Tenants, refusal
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
    "conversations.js": "text/javascript",
    "names.js": "text/javascript",
    "work.js": "text/javascript",
    "inbox.css": "text/css",
}
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src * data:; media-src *",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}
# A colour emoji font the page may fall back on (the Docker image installs it): a viewer whose
# browser has none still sees 🎉, not a box. Looked for where Debian and Fedora put it.
EMOJI_FONTS = (
    Path("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf"),
    Path("/usr/share/fonts/google-noto-color-emoji-fonts/NotoColorEmoji.ttf"),
)


def ui_routes(emulator: Emulator, tenants: Tenants) -> list[BaseRoute]:
    def denied(request: Request) -> Response | None:
        found = tenants.access(request.scope)
        if found is not None:
            request.scope[SCOPE_KEY] = found
            return None
        return JSONResponse({"error": refusal(request.scope, "the inbox")}, 401)

    async def page(request: Request) -> Response:
        return denied(request) or FileResponse(STATIC / "index.html", headers=HEADERS)

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if name == "emoji.ttf":
            font = next((f for f in EMOJI_FONTS if f.is_file()), None)
            if font is None:
                return JSONResponse({"error": "no emoji font on this machine"}, 404)
            cached = HEADERS | {"Cache-Control": "public, max-age=86400"}
            return FileResponse(font, media_type="font/ttf", headers=cached)
        if name not in ASSETS:  # a fixed list: no path from the client reaches the disk
            return JSONResponse({"error": "no such asset"}, 404)
        return FileResponse(STATIC / name, media_type=ASSETS[name], headers=HEADERS)

    return [
        Route("/", page, methods=["GET"]),
        Route("/ui/{name}", asset, methods=["GET"]),
    ]
