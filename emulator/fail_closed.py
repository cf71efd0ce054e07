"""While the pytest plugin (or `emulator.mock()`) is active, nothing reaches a real provider
host by accident.

The guard sits where each client's requests end: httpx's (httpcore's connection pools, below
respx, so `rcs_mock` still routes those hosts to the emulator), `requests`' adapter, aiohttp's
connector (every session's connections, redirects included) and urllib's HTTP(S) handlers. A
call to a provider host that nothing routed raises RealProviderCalled and is remembered, so the
test fails even if the code under test swallows the exception. Opt out with
`-p no:rcs_emulator`."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from .providers import REGISTRY

HOW = (
    "use the rcs_mock fixture (it routes httpx calls for the real hosts to the emulator), or "
    "point the client's base URL at rcs_emulator.base_url (requests, aiohttp, urllib and other "
    "clients)"
)


class RealProviderCalled(RuntimeError):
    pass


class Guard:
    """Installed, it wraps each client's last step before the network. Its refusal is worded
    for where it runs: the plugin's (a test) by default, `emulator.mock()`'s (a mocked block)."""

    def __init__(
        self,
        who: str = "this test",
        rule: str = "the plugin never lets a test reach it",
        how: str = HOW,
    ) -> None:
        self.calls: list[str] = []
        self.who, self.rule, self.how = who, rule, how
        self._undo: list[Callable[[], None]] = []

    def check(self, host: str, method: str, url: str) -> None:
        if host.lower().rstrip(".") in REGISTRY.hosts():
            self.calls.append(f"{method} {url}")
            raise RealProviderCalled(
                f"rcs-emulator: {self.who} called the real provider ({method} {url}); "
                f"{self.rule}. To reach the emulator instead, {self.how}."
            )

    def install(self) -> None:
        import httpcore  # httpx's own transport: always there

        self._wrap(httpcore.ConnectionPool, "handle_request", self._httpcore_sync)
        self._wrap(httpcore.AsyncConnectionPool, "handle_async_request", self._httpcore_async)
        import urllib.request

        self._wrap(urllib.request.AbstractHTTPHandler, "do_open", self._urllib)
        try:
            from requests.adapters import HTTPAdapter
        except ImportError:
            pass
        else:
            self._wrap(HTTPAdapter, "send", self._requests)
        try:
            from aiohttp.connector import BaseConnector
        except ImportError:
            pass
        else:
            self._wrap(BaseConnector, "connect", self._aiohttp)

    def uninstall(self) -> None:
        while self._undo:
            self._undo.pop()()

    def _wrap(self, owner: type, name: str, make: Callable[[Any], Any]) -> None:
        original = getattr(owner, name)
        setattr(owner, name, functools.wraps(original)(make(original)))
        self._undo.append(lambda: setattr(owner, name, original))

    def _httpcore_sync(self, original: Any) -> Any:
        def handle_request(pool: Any, request: Any) -> Any:
            self.check(request.url.host.decode("ascii", "replace"), _method(request), _url(request))
            return original(pool, request)

        return handle_request

    def _httpcore_async(self, original: Any) -> Any:
        async def handle_async_request(pool: Any, request: Any) -> Any:
            self.check(request.url.host.decode("ascii", "replace"), _method(request), _url(request))
            return await original(pool, request)

        return handle_async_request

    def _requests(self, original: Any) -> Any:
        def send(adapter: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
            from urllib.parse import urlsplit

            self.check(urlsplit(request.url).hostname or "", request.method, request.url)
            return original(adapter, request, *args, **kwargs)

        return send

    def _aiohttp(self, original: Any) -> Any:
        async def connect(connector: Any, req: Any, *args: Any, **kwargs: Any) -> Any:
            self.check(req.url.host or "", req.method, str(req.url))
            return await original(connector, req, *args, **kwargs)

        return connect

    def _urllib(self, original: Any) -> Any:
        def do_open(handler: Any, http_class: Any, req: Any, **kwargs: Any) -> Any:
            from urllib.parse import urlsplit

            # full_url, not req.host: behind a proxy the host is the proxy's.
            self.check(urlsplit(req.full_url).hostname or "", req.get_method(), req.full_url)
            return original(handler, http_class, req, **kwargs)

        return do_open


def _method(request: Any) -> str:
    method = request.method
    return method.decode("ascii") if isinstance(method, bytes) else str(method)


def _url(request: Any) -> str:
    url = request.url
    host = url.host.decode("ascii", "replace")
    target = url.target.decode("ascii", "replace")
    return f"{url.scheme.decode('ascii', 'replace')}://{host}{target}"
