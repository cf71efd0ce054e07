"""How a callback travels: one HTTP POST, its answer, or an error named the same way whatever the
client (ConnectError, Timeout, RemoteProtocolError, ReadError, InvalidURL).

http:// receivers get the small keep-alive client of http1.py; https:// ones aiohttp, which is
about ten times faster than httpx at this (bench/dispatch.py measures all three as plain loops
beside the emulator, in one run). An httpx client given to create_app (tests route callbacks
in-process with it) is used instead of both.
"""

from __future__ import annotations

import asyncio
from types import ModuleType
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, urlsplit

import httpx

from .http1 import DeliveryError, Http1Pool

if TYPE_CHECKING:
    import aiohttp

MAX_BODY_KEPT = 4096  # bytes of a receiver's answer kept in the attempt log
HEADERS = {"Content-Type": "application/json", "User-Agent": "rcs-emulator"}


def _aiohttp() -> ModuleType:
    """aiohttp, imported at the first delivery: it costs ~0.17 s, and most runs of a test
    suite send no callback at all."""
    import aiohttp

    return aiohttp


class Transport:
    def __init__(
        self, concurrency: int, per_host: int, injected: httpx.AsyncClient | None = None
    ) -> None:
        self.concurrency = concurrency
        self.per_host = per_host
        self.injected = injected
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timeouts: dict[float, Any] = {}
        self._plain: Http1Pool | None = None
        self._plain_loop: asyncio.AbstractEventLoop | None = None
        self._urls: dict[str, SplitResult] = {}

    def _client(self) -> aiohttp.ClientSession:
        aiohttp = _aiohttp()
        loop = asyncio.get_running_loop()
        if self._session is None or self._loop is not loop:  # a session belongs to its loop
            # (no limit per host here: the queues bound each tenant's share of a receiver, and
            # a pool's would let one tenant's hung receiver hold another's attempts)
            connector = aiohttp.TCPConnector(
                limit=self.concurrency, limit_per_host=0, enable_cleanup_closed=True
            )
            self._session = aiohttp.ClientSession(
                connector=connector, headers=HEADERS, auto_decompress=False, trust_env=False
            )
            self._loop = loop
        return self._session

    async def post(self, url: str, body: bytes, timeout: float) -> tuple[int, str]:
        if self.injected is not None:
            return await self._post_httpx(url, body, timeout)
        parts = self._urls.get(url)
        if parts is None:
            if len(self._urls) > 10_000:
                self._urls.clear()
            parts = self._urls[url] = urlsplit(url)
        if parts.scheme.lower() == "http" and not parts.username:
            return await self._pool().post(parts, body, timeout)
        aiohttp = _aiohttp()
        limit = self._timeouts.get(timeout)
        if limit is None:
            limit = self._timeouts[timeout] = aiohttp.ClientTimeout(total=timeout)
        try:
            async with self._client().post(url, data=body, timeout=limit) as answer:
                raw = await answer.content.read(MAX_BODY_KEPT)
                return answer.status, raw.decode("utf-8", "replace")
        except TimeoutError:
            raise DeliveryError(f"Timeout: no answer within {timeout:g} s") from None
        except aiohttp.InvalidURL as exc:
            raise DeliveryError(f"InvalidURL: {exc}") from None
        except aiohttp.ClientConnectorError as exc:
            raise DeliveryError(f"ConnectError: {exc}") from None
        except aiohttp.ServerDisconnectedError:
            raise DeliveryError(
                "RemoteProtocolError: the receiver closed the connection without an answer"
            ) from None
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            raise DeliveryError(f"ReadError: {type(exc).__name__}: {exc}") from None

    def _pool(self) -> Http1Pool:
        loop = asyncio.get_running_loop()
        if self._plain is None or self._plain_loop is not loop:  # connections belong to a loop
            self._plain = Http1Pool(self.per_host)
            self._plain_loop = loop
        return self._plain

    async def _post_httpx(self, url: str, body: bytes, timeout: float) -> tuple[int, str]:
        assert self.injected is not None
        try:
            answer = await self.injected.post(url, content=body, headers=HEADERS, timeout=timeout)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            name = type(exc).__name__
            raise DeliveryError(f"{name}: {exc}" if str(exc) else name) from None
        return answer.status_code, answer.text[:MAX_BODY_KEPT]

    async def aclose(self) -> None:
        if self._plain is not None:
            self._plain.close()
            self._plain = None
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()


def receiver_of(url: str) -> str:
    """The receiver a URL names (scheme, host and port), the unit of connection pooling."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"
