"""Calls out to a provider's real service (verify, record): its base URL as a user gives it,
and why a call got no answer, in one line (never a traceback)."""

from __future__ import annotations

import httpx


def base_url(given: str, base_path: str) -> str:
    """A real service's base URL as requests are joined to it: http(s), a host, no credentials,
    no query; `base_path` (the provider's, such as /Rcs/api/v1) added when only the host is
    given. ValueError, in words, for anything else."""
    try:
        url = httpx.URL(given.strip())
    except httpx.InvalidURL as exc:
        raise ValueError(f"{given!r} is not a URL: {exc}") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(
            f"{given!r} is not an http(s) URL with a host, such as https://host{base_path}"
        )
    if url.userinfo:
        raise ValueError("the URL holds credentials: give them with --credentials instead")
    path = url.path.rstrip("/") or base_path.rstrip("/")
    return str(url.copy_with(path=path or "", query=None, fragment=None)).rstrip("/")


def why_unanswered(exc: httpx.HTTPError, url: str, timeout: float) -> str:
    """Why a call to `url` got no HTTP answer, in one line."""
    where = url.rstrip("/")
    detail = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.ConnectTimeout):
        return f"cannot reach {where}: no connection within {timeout:g} s"
    if isinstance(exc, httpx.ConnectError):
        return f"cannot reach {where}: {detail}"
    if isinstance(exc, httpx.TimeoutException):
        return f"{where} gave no answer within {timeout:g} s"
    if isinstance(exc, httpx.RemoteProtocolError | httpx.DecodingError):
        return f"{where} did not answer as an HTTP server does ({detail})"
    if isinstance(exc, httpx.ReadError | httpx.WriteError):
        return f"{where} closed the connection before answering ({detail})"
    return f"{where}: {type(exc).__name__}: {detail}"
