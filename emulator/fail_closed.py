"""While the pytest plugin is active, no test reaches a real provider host by accident.

The guard sits where every httpx request ends (httpcore's connection pools, below respx, so
`rcs_mock` still routes those hosts to the emulator) and at `requests`' adapter. A call to a
provider host that nothing routed raises RealProviderCalled and is remembered, so the test fails
even if the code under test swallows the exception. Opt out with `-p no:rcs_emulator`."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from .providers import REGISTRY

HOW = (
    "use the rcs_mock fixture (it routes httpx calls for the real hosts to the emulator), or "
    "point the client's base URL at rcs_emulator.base_url (requests and other clients)"
)


class RealProviderCalled(RuntimeError):
    pass


class Guard:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self._undo: list[Callable[[], None]] = []

    def check(self, host: str, method: str, url: str) -> None:
        if host.lower().rstrip(".") in REGISTRY.hosts():
            self.calls.append(f"{method} {url}")
            raise RealProviderCalled(
                f"rcs-emulator: this test called the real provider ({method} {url}); the plugin "
                f"never lets a test reach it. To reach the emulator instead, {HOW}."
            )

    def install(self) -> None:
        import httpcore  # httpx's own transport: always there

        self._wrap(httpcore.ConnectionPool, "handle_request", self._httpcore_sync)
        self._wrap(httpcore.AsyncConnectionPool, "handle_async_request", self._httpcore_async)
        try:
            from requests.adapters import HTTPAdapter
        except ImportError:
            return
        self._wrap(HTTPAdapter, "send", self._requests)

    def uninstall(self) -> None:
        while self._undo:
            self._undo.pop()()

    def _wrap(self, owner: type, name: str, make: Callable[[Any], Any]) -> None:
        original = getattr(owner, name)
        setattr(owner, name, functools.wraps(original)(make(original)))
        self._undo.append(lambda: setattr(owner, name, original))

    def _httpcore_sync(self, original: Any) -> Any:
        def handle_request(pool: Any, request: Any) -> Any:
            self.check(request.url.host.decode("ascii", "replace"), _method(request),
                       _url(request))  # fmt: skip
            return original(pool, request)

        return handle_request

    def _httpcore_async(self, original: Any) -> Any:
        async def handle_async_request(pool: Any, request: Any) -> Any:
            self.check(request.url.host.decode("ascii", "replace"), _method(request),
                       _url(request))  # fmt: skip
            return await original(pool, request)

        return handle_async_request

    def _requests(self, original: Any) -> Any:
        def send(adapter: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
            from urllib.parse import urlsplit

            self.check(urlsplit(request.url).hostname or "", request.method, request.url)
            return original(adapter, request, *args, **kwargs)

        return send


def _method(request: Any) -> str:
    method = request.method
    return method.decode("ascii") if isinstance(method, bytes) else str(method)


def _url(request: Any) -> str:
    url = request.url
    host = url.host.decode("ascii", "replace")
    target = url.target.decode("ascii", "replace")
    return f"{url.scheme.decode('ascii', 'replace')}://{host}{target}"
