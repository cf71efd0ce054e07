"""Uploaded files through the control API: their records, and their bytes (which the inbox shows
where a card names a fileId)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from pydantic import Field
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from ..core.clock import iso
from ..core.emulator import Emulator
from ..core.records import StoredFile
from ..http.operations import ApiError, Operation, Page, page
from ..http.responses import JSONResponse
from .access import Tenants

# Uploaded bytes were sniffed on the way in, but they are still a client's: never let a browser
# treat them as a page of this origin.
CONTENT_HEADERS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox"}


def file_view(stored: StoredFile, now: float, label: str | None) -> dict[str, Any]:
    return {
        "id": stored.id,
        "tenant": label,
        "agent_id": stored.agent_id,
        "name": stored.name,
        "mime": stored.mime,
        "size": stored.size,
        "uploaded": iso(stored.uploaded_at),
        "expires": iso(stored.expires_at),
        "expired": now >= stored.expires_at,
        "content_url": f"/_emulator/files/{stored.id}/content",
    }


class FileQuery(Page):
    tenant: str | None = None
    agent: str | None = Field(None, description="The agent the file was uploaded for.")


def operations(emulator: Emulator, tenants: Tenants) -> list[Operation]:
    async def found(request: Request) -> StoredFile:
        stored = await emulator.file(None, request.path_params["file_id"])
        if stored is None or not tenants.sees(request, stored.tenant):
            raise ApiError(404, "no uploaded file with that id")
        return stored

    async def files(request: Request, query: FileQuery) -> Response:
        reach = tenants.reach(request, query.tenant)
        if isinstance(reach, frozenset):
            items = [f for t in sorted(reach) for f in await emulator.files(t)]
            items.sort(key=lambda f: f.uploaded_at)
        else:
            items = await emulator.files(reach)
        if query.agent:
            items = [f for f in items if f.agent_id == query.agent]
        now = emulator.clock.now()
        return page(items, lambda f: file_view(f, now, tenants.label(f.tenant)), query)

    async def one_file(request: Request) -> Response:
        stored = await found(request)
        return JSONResponse(file_view(stored, emulator.clock.now(), tenants.label(stored.tenant)))

    async def content(request: Request) -> Response:
        stored = await found(request)
        kept = await emulator.file_content(stored)
        if kept is None:  # a restored state whose files folder was removed
            raise ApiError(410, "the file's record is kept but its bytes are gone")
        if isinstance(kept, Path):
            return FileResponse(
                kept,
                media_type=stored.mime,
                filename=stored.name,
                content_disposition_type="inline",
                headers=CONTENT_HEADERS,
            )
        # Bytes from a shared state's store, named as FileResponse names a file.
        quoted = quote(stored.name)
        named = (
            f"inline; filename*=utf-8''{quoted}"
            if quoted != stored.name
            else f'inline; filename="{stored.name}"'
        )
        return Response(
            kept, media_type=stored.mime, headers=CONTENT_HEADERS | {"Content-Disposition": named}
        )

    return [
        Operation(
            "GET",
            "/files",
            "Uploaded files, oldest first, with name, type, size and expiry.",
            files,
            query=FileQuery,
            responses={200: '{"items": [...], "total": N}'},
        ),
        Operation(
            "GET",
            "/files/{file_id:path}/content",
            "The bytes of an uploaded file, with the type they were recognised as.",
            content,
            responses={
                200: "The bytes.",
                404: "No such file.",
                410: "The record is kept but the bytes are gone.",
            },
        ),
        Operation(
            "GET",
            "/files/{file_id:path}",
            "One uploaded file's record.",
            one_file,
            responses={200: "The file.", 404: "No such file."},
        ),
    ]
