"""A request as a cassette keeps it, and the key replay finds it by.

Captured: the method, the path and query as the client spelt them, its headers, and its body
described (JSON, form fields, multipart parts, text, or a digest), with every credential masked
the way its provider carries them (the headers and fields its Upstream names, and each of their
values wherever else it appears). Matched: method, path (without regard to case where the
provider's routing has none), the query's and body's fields without credentials and without
the fields clients add that change nothing, JSON's keys in any order. Pure functions."""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import re
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import parse_qsl, unquote

import orjson

from ..providers.upstream import MASK, Upstream, bearer, scrub
from .format import RecordedRequest

KEPT = 1024 * 1024  # body bytes kept as JSON, form or text; past it, a digest
# Headers that carry credentials whatever the provider (beside those its Upstream names).
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "x-api-key", "cookie"})
# Headers of one hop, never forwarded nor kept.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)
_FORM = re.compile(r"[^=&\s]+=[^&]*(?:&[^=&\s]+=[^&]*)*")


def secrets_of(
    headers: Iterable[tuple[str, str]], fields: Iterable[tuple[str, Any]], upstream: Upstream
) -> set[str]:
    """The credential values a request carries: what its secret headers say after their scheme,
    and the values of its secret fields."""
    found: set[str] = set()
    for name, value in headers:
        if name in SECRET_HEADERS or name in upstream.secret_headers:
            token = bearer(value)
            found.add(token if token is not None else value.partition(" ")[2] or value)
    for name, value in fields:
        if name in upstream.secret_fields and isinstance(value, str | int) and str(value):
            found.add(str(value))
    return {s for s in found if s and s != MASK}


def capture(
    method: str,
    target: str,
    headers: Sequence[tuple[str, str]],
    raw: bytes,
    upstream: Upstream,
) -> tuple[RecordedRequest, set[str]]:
    """The request as kept (credentials masked), and the credential values it carried (so that
    they can be masked wherever else they appear). `target` is the path and query as sent."""
    path, _, query = target.partition("?")
    ctype = next((v for k, v in headers if k == "content-type"), "")
    body = describe(ctype, raw)
    said = fields(body)
    carried = [
        *parse_qsl(query, keep_blank_values=True),
        *(said.items() if isinstance(said, dict) else ()),
    ]
    secrets = secrets_of(headers, carried, upstream)
    kept: dict[str, str] = {}
    for name, value in headers:
        if name in HOP_BY_HOP:
            continue
        if name in SECRET_HEADERS or name in upstream.secret_headers:
            scheme, _, credential = value.partition(" ")
            value = f"{scheme} {MASK}" if credential else MASK
        kept[name] = f"{kept[name]}, {value}" if name in kept else value
    request = RecordedRequest(
        method=method.upper(),
        path=scrub(path, secrets),
        query=scrub(_masked_query(query, upstream), secrets),
        headers={k: scrub(v, secrets) for k, v in kept.items()},
        body=_scrubbed(_masked_body(body, upstream), secrets),
    )
    return request, secrets


def describe(content_type: str, raw: bytes) -> dict[str, Any] | None:
    """A body as one of the cassette's forms (as it came: credentials not yet masked)."""
    if not raw:
        return None
    ctype = content_type.split(";")[0].strip().lower()
    if ctype.startswith("multipart/"):
        parts = _parts(content_type, raw)
        if parts is not None:
            return {"multipart": parts}
    if len(raw) <= KEPT:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is not None:
            if ctype.endswith("json") or text.lstrip()[:1] in ("{", "["):
                try:
                    return {"json": orjson.loads(raw)}
                except orjson.JSONDecodeError:
                    pass
            if ctype == "application/x-www-form-urlencoded" or (
                ctype in ("", "text/plain") and _FORM.fullmatch(text.strip())
            ):
                pairs = parse_qsl(text.strip(), keep_blank_values=True)
                return {"form": [[k, v] for k, v in pairs]}
            return {"text": text}
    return {"sha256": hashlib.sha256(raw).hexdigest(), "size": len(raw)}


def _parts(content_type: str, raw: bytes) -> list[dict[str, Any]] | None:
    head = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1", "replace")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + raw)
    if not message.is_multipart():
        return None
    parts = []
    for part in message.iter_parts():
        content = part.get_payload(decode=True) or b""
        assert isinstance(content, bytes)
        parts.append(
            {
                "name": part.get_param("name", header="content-disposition"),
                "filename": part.get_filename(),
                "content_type": part.get_content_type(),
                "size": len(content),
                "sha256": hashlib.sha256(content).hexdigest(),
            }
        )
    return parts


def _masked_body(body: dict[str, Any] | None, upstream: Upstream) -> dict[str, Any] | None:
    """The body with the values of its credential fields masked."""
    if body is None:
        return None
    if "json" in body:
        return {"json": _masked(body["json"], upstream)}
    if "form" in body:
        return {"form": [[k, MASK if _secret(k, upstream) else v] for k, v in body["form"]]}
    return body


def _secret(name: str, upstream: Upstream) -> bool:
    return name in upstream.secret_fields


def _masked(value: Any, upstream: Upstream) -> Any:
    if isinstance(value, dict):
        return {
            k: MASK if _secret(k, upstream) and v not in (None, "") else _masked(v, upstream)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_masked(v, upstream) for v in value]
    return value


def _masked_query(query: str, upstream: Upstream) -> str:
    if not query:
        return ""
    parts = []
    for part in query.split("&"):
        name = unquote(part.partition("=")[0].replace("+", " "))
        parts.append(f"{part.partition('=')[0]}={MASK}" if _secret(name, upstream) else part)
    return "&".join(parts)


def fields(body: dict[str, Any] | None) -> Any:
    """What a kept body says, as a provider reads it: JSON's value, or form fields by name
    (`phone[]` as `phone`; a repeated one as a list)."""
    if body is None:
        return None
    if "json" in body:
        return body["json"]
    if "form" in body:
        found: dict[str, list[Any]] = {}
        for name, value in body["form"]:
            found.setdefault(name.split("[", 1)[0], []).append(value)
        return {k: v[0] if len(v) == 1 else v for k, v in found.items()}
    return None


def _scrubbed(value: Any, secrets: set[str]) -> Any:
    if not secrets:
        return value
    if isinstance(value, str):
        return scrub(value, secrets)
    if isinstance(value, dict):
        return {scrub(k, secrets): _scrubbed(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrubbed(v, secrets) for v in value]
    return value


# -- matching ---------------------------------------------------------------------------------


def match_key(request: RecordedRequest, upstream: Upstream) -> bytes:
    """What two requests share when replay takes one for the other: method, path, query and
    body without credentials or ignored fields (JSON keys in any order)."""
    path = unquote(request.path)
    if upstream.paths_case_insensitive:
        path = path.lower().rstrip("/") or "/"
    dropped = upstream.secret_fields | upstream.ignored_fields
    query = sorted(
        (k, v) for k, v in parse_qsl(request.query, keep_blank_values=True) if k not in dropped
    )
    return orjson.dumps(
        [request.method, path, query, _canonical_body(request.body, dropped)],
        option=orjson.OPT_SORT_KEYS,
    )


def _canonical_body(body: dict[str, Any] | None, dropped: frozenset[str]) -> Any:
    if body is None:
        return None
    if "json" in body and isinstance(body["json"], dict):
        return {"json": {k: v for k, v in body["json"].items() if k not in dropped}}
    if "form" in body:
        return {"form": [pair for pair in body["form"] if pair[0] not in dropped]}
    return body


def summary(request: RecordedRequest) -> str:
    """A request in a few words, for a line: POST /Rcs/api/v1/Message?x=1."""
    return f"{request.method} {request.path}" + (f"?{request.query}" if request.query else "")
