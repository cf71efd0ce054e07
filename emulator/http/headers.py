"""Request headers as one dict built once per request: Starlette's Headers scans the raw list on
every lookup, which the hot send path does several times."""

from __future__ import annotations

from starlette.requests import Request

_KEY = "rcs_emulator.headers"


def header(request: Request, name: bytes) -> str | None:
    """The value of header `name` (lower-case bytes, as ASGI gives names), or None."""
    table = request.scope.get(_KEY)
    if table is None:
        table = request.scope[_KEY] = dict(request.scope["headers"])
    value = table.get(name)
    return value.decode("latin-1") if value is not None else None
