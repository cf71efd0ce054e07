"""Reading a request body with a ceiling: a body past the limit is refused after reading at most
limit + one chunk, never buffered whole."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request

from .headers import header
from .validators import is_whole_number

EXCERPT = 4096  # bytes of a refused request kept for the surprise report
BODY_KEY = "rcs_emulator.body"


def excerpt(request: Request) -> str | None:
    """What the client sent, as far as it was read, for reports of refused requests."""
    raw = request.scope.get(BODY_KEY)
    return raw[:EXCERPT].decode("utf-8", "replace") if raw is not None else None


def path_and_query(request: Request) -> str:
    """What the client asked for, query included (a refused GET is told by its query)."""
    query = request.scope.get("query_string", b"").decode("latin-1")
    return request.url.path + (f"?{query}" if query else "")


class BodyTooLarge(Exception):
    pass


class BadJson(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


async def read_limited(request: Request, limit: int) -> bytes:
    """The body, read straight from the ASGI channel (no async generator on the hot path)."""
    declared = header(request, b"content-length")
    if declared and is_whole_number(declared) and int(declared) > limit:
        raise BodyTooLarge()
    chunks: list[bytes] = []
    size = 0
    receive = request.receive
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise BadJson("the client closed the connection before the body was complete")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge()
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    request._body = body  # later reads of request.body() see it (Starlette's own cache)
    request.scope[BODY_KEY] = body  # for reports of refused requests (no State object per request)
    return body


def parse_json(raw: bytes) -> Any:
    """Strict JSON in UTF-8 (a BOM is tolerated): no lone surrogates, NaN or infinities, at most
    1,024 levels deep, as strict parsers such as .NET's refuse them too; errors say where the
    text broke."""
    raw = raw.removeprefix(b"\xef\xbb\xbf")
    if not raw.strip():
        raise BadJson("the body is empty; a JSON document is required")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadJson(
            f"{exc.msg} at line {exc.lineno}, column {exc.colno} (position {exc.pos})"
        ) from None
