"""Uploaded files through the control API: their records, and their bytes (which the inbox shows
where a card names a fileId)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Route

from ..core.clock import iso
from ..core.emulator import Emulator
from ..core.models import StoredFile
from ..http.responses import JSONResponse
from .params import ControlError, page

# Uploaded bytes were sniffed on the way in, but they are still a client's: never let a browser
# treat them as a page of this origin.
CONTENT_HEADERS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox"}


def file_view(stored: StoredFile, now: float) -> dict[str, Any]:
    return {
        "id": stored.id,
        "tenant": stored.tenant,
        "agent_id": stored.agent_id,
        "name": stored.name,
        "mime": stored.mime,
        "size": stored.size,
        "uploaded": iso(stored.uploaded_at),
        "expires": iso(stored.expires_at),
        "expired": now >= stored.expires_at,
        "content_url": f"/_emulator/files/{stored.id}/content",
    }


def file_routes(emulator: Emulator) -> list[BaseRoute]:
    def found(request: Request) -> StoredFile:
        stored = emulator.stores.file(request.path_params["file_id"])
        if stored is None:
            raise ControlError(404, "no uploaded file with that id")
        return stored

    async def files(request: Request) -> Response:
        """
        summary: Uploaded files, oldest first, with name, type, size and expiry.
        parameters:
          - {name: tenant, in: query, schema: {type: string}}
          - {name: agent, in: query, schema: {type: string}}
        responses: {200: {description: '{"items": [...], "total": N}'}}
        """
        agent = request.query_params.get("agent")
        items = emulator.stores.files(emulator.tenant(request.query_params.get("tenant")))
        if agent:
            items = [f for f in items if f.agent_id == agent]
        now = emulator.clock.now()
        return page(request, items, lambda f: file_view(f, now))

    async def one_file(request: Request) -> Response:
        """
        summary: One uploaded file's record.
        responses: {200: {description: The file.}, 404: {description: No such file.}}
        """
        return JSONResponse(file_view(found(request), emulator.clock.now()))

    async def content(request: Request) -> Response:
        """
        summary: The bytes of an uploaded file, with the type they were recognised as.
        responses:
          200: {description: The bytes.}
          404: {description: No such file.}
          410: {description: The record is kept but the bytes are gone.}
        """
        stored = found(request)
        if not Path(stored.path).is_file():  # a restored state whose files folder was removed
            raise ControlError(410, "the file's record is kept but its bytes are gone")
        return FileResponse(
            stored.path,
            media_type=stored.mime,
            filename=stored.name,
            content_disposition_type="inline",
            headers=CONTENT_HEADERS,
        )

    return [
        Route("/files", files, methods=["GET"]),
        Route("/files/{file_id:path}/content", content, methods=["GET"]),
        Route("/files/{file_id:path}", one_file, methods=["GET"]),
    ]
