"""The control API and the inbox answer only their own user, never a web page on another origin.

- `Host` must be an IP literal, `localhost` (or `*.localhost`), a single-label name (a docker
  compose service such as `emulator`), or a name in `allowed_hosts`: a DNS-rebinding page
  reaches us under its own dotted name and is refused before it can read anything.
- A state-changing request (anything but GET, HEAD, OPTIONS) whose `Origin` is not the
  emulator's own, or that a browser marks `Sec-Fetch-Site: cross-site`, is refused (403).
- Bodies are JSON only as `application/json` (415 otherwise): a page's simple cross-site POST
  (`text/plain`, forms) cannot carry JSON past it.

Provider APIs are not behind it: their clients send whatever Host their base URL names.
Refusals are logged and kept as surprises, like every request nobody asked for."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from ..http.responses import JSONResponse

log = logging.getLogger("rcs_emulator.control")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
GUARDED = ("/_emulator", "/ui/")
# Probes (Docker, Kubernetes, load balancers) come under any name.
OPEN = ("/_emulator/health", "/_emulator/ready")
Refusal = Callable[[Scope, int, dict[str, str]], None]  # scope, status, answer


def host_allowed(host: str, allowed: tuple[str, ...]) -> bool:
    name = host_name(host)
    if not name or "*" in allowed or name in allowed:
        return True
    if name == "localhost" or name.endswith(".localhost") or "." not in name and ":" not in name:
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return any(a.startswith(".") and name.endswith(a) for a in allowed)  # ".example.com"
    return True


def host_name(host: str) -> str:
    """`[::1]:8080` -> `::1`, `Emulator:8080` -> `emulator`."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json"


class ControlGuard:
    """The guard of the control API and the inbox. Provider requests pass with one prefix
    test."""

    def __init__(self, app: ASGIApp, allowed_hosts: tuple[str, ...], refused: Refusal) -> None:
        self.app = app
        self.allowed = tuple(h.lower() for h in allowed_hosts)
        self.refused = refused

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if not (path == "/" or path.startswith(GUARDED)) or scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = None if path in OPEN else self.check(scope)
        if problem is None:
            await self.app(scope, receive, send)
            return
        status, message = problem
        answer = {"error": message}
        self.refused(scope, status, answer)
        log.warning("refused %s %s: %s", scope["method"], path, message)
        await JSONResponse(answer, status)(scope, receive, send)

    def check(self, scope: Scope) -> tuple[int, str] | None:
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "")
        if not host_allowed(host, self.allowed):
            return 403, (
                f"host {host_name(host)!r} is not allowed to use the control API or the inbox; "
                "list it in allowed_hosts (RCS_EMULATOR_ALLOWED_HOSTS) if it is yours"
            )
        if scope["method"] in SAFE_METHODS:
            return None
        origin = headers.get("origin")
        if origin is not None and (
            origin == "null" or urlsplit(origin).netloc.lower() != host.lower()
        ):
            return 403, (
                f"origin {origin!r} is not the emulator's own: the control API takes state "
                "changes only from its own pages and from clients that are not web pages"
            )
        if origin is None and headers.get("sec-fetch-site") == "cross-site":
            return 403, "a cross-site request may not change the emulator's state"
        has_body = headers.get("content-length", "0") not in ("", "0") or (
            "transfer-encoding" in headers
        )
        content_type = headers.get("content-type", "")
        if has_body and not is_json(content_type):
            shown = content_type or "none"
            return 415, f"the control API takes JSON bodies as application/json (not {shown})"
        return None
