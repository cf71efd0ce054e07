"""The exact exchange behind a provider request: what the client sent and what it got back.

Recorded once the request is answered, as one immutable byte string of exactly its size, shared
by every message the request created (a send to 100,000 numbers keeps one): the request's length
in digits and a newline, then the request as "METHOD /path?query", its head lines, a blank line
and the body, then the answer as its status, head lines, a blank line and the body. Nothing is
parsed until a view asks for it; the view shows the body as received (JSON parsed, a form as its
fields) with credentials masked."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, unquote

import orjson
from starlette.requests import Request
from starlette.responses import Response

from .body import BODY_KEY

MAX_KEPT = 1024 * 1024  # body bytes kept per request (a 100,000-number send is ~1.5 MB)
MASK = "***"
_SECRET = re.compile(r"pass(word)?|token|secret|api[-_]?key|auth", re.IGNORECASE)
_SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "x-api-key", "cookie", "x-emulator-token"}
)


def _joined(
    first: bytes, headers: Iterable[tuple[bytes, bytes]], body: bytes | memoryview | None
) -> bytes:
    kept = b"" if not body else body if len(body) <= MAX_KEPT else body[:MAX_KEPT]
    head = b"\n".join(map(b": ".join, headers))
    return b"".join((first, b"\n", head, b"\n\n", kept)) if head else first + b"\n\n" + kept


def record(request: Request, response: Response) -> bytes:
    """The exchange of an answered request (the body as far as the endpoint read it). The
    answer's body is copied by the join: orjson's output keeps its whole working buffer (~4 KB),
    which holding it would keep too."""
    scope = request.scope
    method = scope["method"].encode("latin-1")
    raw_path = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
    query = scope.get("query_string", b"")  # the target as the client spelt it
    first = b"".join((method, b" ", raw_path, b"?", query)) if query else method + b" " + raw_path
    asked = _joined(first, scope["headers"], scope.get(BODY_KEY))
    answer = _joined(b"%d" % response.status_code, response.raw_headers, response.body)
    return b"".join((b"%d\n" % len(asked), asked, answer))


def exchange_view(exchange: bytes | None) -> dict[str, Any] | None:
    return None if exchange is None else _view(exchange)


@functools.lru_cache(maxsize=64)  # a page of one big send's messages parses its body once
def _view(exchange: bytes) -> dict[str, Any]:
    split = exchange.index(b"\n")
    end = split + 1 + int(exchange[:split])
    first, headers, body = _split(exchange[split + 1 : end])
    method, _, target = first.partition(" ")
    path, _, query = target.partition("?")
    path = unquote(path)
    status, response_headers, response_body = _split(exchange[end:])
    return {
        "request": {
            "method": method,
            "path": path,
            "query": _masked(_fields(query)),
            "headers": _header_map((k, _masked_header(k, v)) for k, v in headers),
            "body": _body(body, _content_type(headers)),
        },
        "response": {
            "status": int(status) if status else None,
            "headers": _header_map(response_headers),
            "body": _body(response_body, _content_type(response_headers)),
        },
    }


def _split(record: bytes) -> tuple[str, list[tuple[str, str]], bytes]:
    head, _, body = record.partition(b"\n\n")
    lines = head.decode("latin-1").split("\n") if head else [""]
    headers = [(k, v) for k, _, v in (line.partition(": ") for line in lines[1:])]
    return lines[0], headers, body


def _header_map(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Names as received (lower case over HTTP/1.1 in ASGI); a repeated one joined by ", "."""
    found: dict[str, str] = {}
    for name, value in headers:
        found[name] = f"{found[name]}, {value}" if name in found else value
    return found


def _content_type(headers: list[tuple[str, str]]) -> str:
    value = next((v for k, v in headers if k.lower() == "content-type"), "")
    return value.split(";")[0].strip().lower()


def _fields(text: str) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        if key in fields:
            held = fields[key]
            fields[key] = [*held, value] if isinstance(held, list) else [held, value]
        else:
            fields[key] = value
    return fields


def _body(raw: bytes | None, ctype: str) -> Any:
    """As received: JSON parsed, a form as its fields, other text as text; nothing if none."""
    if not raw:
        return None
    if ctype.startswith("multipart/"):
        return {"multipart": True, "bytes": len(raw)}  # an upload: its bytes are in /files
    if ctype == "application/json" or ctype.endswith("+json") or raw.lstrip()[:1] in (b"{", b"["):
        try:
            return _masked(orjson.loads(raw))
        except orjson.JSONDecodeError:
            pass
    text = raw.decode("utf-8", "replace")
    if ctype == "application/x-www-form-urlencoded":
        return _masked(_fields(text))
    return text


def _masked(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: MASK
            if isinstance(k, str) and _SECRET.search(k) and v not in (None, "")
            else _masked(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


def _masked_header(name: str, value: str) -> str:
    if name.lower() not in _SECRET_HEADERS:
        return value
    scheme, _, credential = value.partition(" ")
    return f"{scheme} {MASK}" if credential else MASK
