"""Reading a request body with a ceiling: a body past the limit is refused after reading at most
limit + one chunk, never buffered whole."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import ClientDisconnect, Request

EXCERPT = 4096  # bytes of a refused request kept for the surprise report


def excerpt(request: Request) -> str | None:
    """What the client sent, as far as it was read, for reports of refused requests."""
    raw = getattr(request.state, "body_excerpt", None)
    return raw.decode("utf-8", "replace") if raw is not None else None


class BodyTooLarge(Exception):
    pass


class BadJson(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


async def read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge()
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge()
            chunks.append(chunk)
    except ClientDisconnect:
        raise BadJson("the client closed the connection before the body was complete") from None
    body = b"".join(chunks)
    request.state.body_excerpt = body[:EXCERPT]
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
