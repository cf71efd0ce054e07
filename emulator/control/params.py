"""Reading control-API input: JSON bodies, paging, phone numbers; errors are ControlError."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..http.body import BadJson, BodyTooLarge, parse_json, read_limited
from ..http.responses import JSONResponse
from ..http.validators import is_e164, is_whole_number


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error_response(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ControlError)
    return JSONResponse({"error": exc.message}, exc.status)


MAX_BODY = 1024 * 1024


async def json_body(request: Request) -> dict[str, Any]:
    try:
        raw = await read_limited(request, MAX_BODY)
        data = parse_json(raw) if raw.strip() else {}
    except BodyTooLarge:
        raise ControlError(413, "the body is over 1 MB") from None
    except BadJson as exc:
        raise ControlError(400, f"the body is not valid JSON: {exc.message}") from None
    if not isinstance(data, dict):
        raise ControlError(400, "the body must be a JSON object")
    return data


def page(request: Request, items: Iterable[Any], view: Callable[[Any], Any]) -> Response:
    limit = int_param(request, "limit", 100, 1, 10_000)
    offset = int_param(request, "offset", 0, 0, None)
    collected = items if isinstance(items, list) else list(items)
    chosen = collected[offset : offset + limit]
    return JSONResponse({"items": [view(i) for i in chosen], "total": len(collected)})


def int_param(request: Request, name: str, default: int, low: int, high: int | None) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not is_whole_number(raw) or int(raw) < low or (high is not None and int(raw) > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ControlError(400, f"{name} must be a whole number {bound}")
    return int(raw)


def phone(raw: str) -> str:
    value = raw.strip()
    if value and not value.startswith("+"):
        value = "+" + value
    if not is_e164(value):
        raise ControlError(400, f"{raw!r} is not a phone number in E.164 format (+46701234567)")
    return value


def bool_or_none(data: dict[str, Any], key: str) -> bool | None:
    value = data.get(key)
    if value is not None and not isinstance(value, bool):
        raise ControlError(400, f"{key} must be true, false or null")
    return value


def str_or_none(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise ControlError(400, f"{key} must be a string or null")
    return value or None
