"""A minimal HTTP/1.1 client for callbacks to plain-http receivers: POST over keep-alive
connections, answers parsed by httptools (uvicorn's own parser).

Why not a library: a callback is one small POST; aiohttp spends ~75 us of CPU on it, this
~15 us (bench/dispatch.py runs both, as plain loops, against the same receiver), and delivery is
what limits callbacks per second. https receivers still go through aiohttp (transport.py).

What it does: reuses an idle connection or opens one (a connection the receiver closed while
idle is retried once on a fresh one, before any answer byte); sends Content-Length bodies;
reads Content-Length, chunked and close-delimited answers; keeps the first MAX_KEPT bytes and
closes a connection whose answer runs past MAX_READ; honours `Connection: close`; skips 1xx.
"""

from __future__ import annotations

import asyncio
from urllib.parse import SplitResult

import httptools

MAX_KEPT = 4096  # bytes of an answer kept in the attempt log
MAX_READ = 64 * 1024  # past this the rest of an answer is not read: the connection is dropped


class DeliveryError(Exception):
    """An attempt that got no HTTP answer; str() is what the attempt log shows."""


class _Exchange(asyncio.Protocol):
    """One connection; one request and its answer at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.answer: asyncio.Future[None] | None = None
        self.status = 0
        self.body = bytearray()
        self.read = 0
        self.heard = False  # any byte of the current answer arrived
        self.headers_done = False
        self.reusable = True
        self.closed = False
        self.deadline = 0.0  # loop time the current answer must come by; 0: none awaited

    # -- asyncio.Protocol --------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self.heard = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._finish(DeliveryError(f"ReadError: the answer is not HTTP: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.reusable = False
        if self.answer is None or self.answer.done():
            return
        if self.headers_done and not self.parser.should_keep_alive():
            self._finish(None)  # an answer delimited by the close: complete
        elif not self.heard:
            self._finish(_Unanswered())
        else:
            self._finish(
                DeliveryError(
                    "RemoteProtocolError: the receiver closed the "
                    "connection in the middle of its answer"
                )
            )

    # -- httptools callbacks ----------------------------------------------------------------

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()
        self.headers_done = self.status >= 200

    def on_body(self, body: bytes) -> None:
        if len(self.body) < MAX_KEPT:
            self.body += body[: MAX_KEPT - len(self.body)]
        self.read += len(body)
        if self.read > MAX_READ:
            self.reusable = False
            self._finish(None)  # enough of it: the rest is dropped with the connection

    def on_message_complete(self) -> None:
        if self.status < 200:  # 100 Continue and the like: the real answer follows
            self.headers_done = False
            return
        if not self.parser.should_keep_alive():
            self.reusable = False
        self._finish(None)

    # -- use --------------------------------------------------------------------------------

    def _finish(self, error: BaseException | None) -> None:
        self.deadline = 0.0
        if self.answer is not None and not self.answer.done():
            if error is None:
                self.answer.set_result(None)
            else:
                self.answer.set_exception(error)

    async def exchange(self, request: bytes, deadline: float) -> tuple[int, str]:
        assert self.transport is not None
        self.deadline = deadline
        self.answer = asyncio.get_running_loop().create_future()
        self.status, self.read, self.heard, self.headers_done = 0, 0, False, False
        self.body = bytearray()
        self.transport.write(request)
        await self.answer
        return self.status, self.body.decode("utf-8", "replace")

    def close(self) -> None:
        self.reusable = False
        if self.transport is not None:
            self.transport.close()


class _Unanswered(Exception):
    """The receiver closed the connection before any byte of an answer."""


class Http1Pool:
    """Connections per receiver. Answer deadlines are checked by one sweep (a timer per request
    costs more than the rest of the exchange): an answer is cut between its timeout and a
    quarter of it (at most a second) later."""

    def __init__(self, per_host: int) -> None:
        self.per_host = per_host
        self._idle: dict[tuple[str, int], list[_Exchange]] = {}
        self._busy: set[_Exchange] = set()
        self._sweep: asyncio.TimerHandle | None = None
        self._interval = 1.0
        self._prepared: dict[SplitResult, tuple[tuple[str, int], bytes]] = {}

    async def post(self, url: SplitResult, body: bytes, timeout: float) -> tuple[int, str]:
        prepared = self._prepared.get(url)
        if prepared is None:
            prepared = self._prepare(url)
        key, head = prepared
        request = b"%s%d\r\n\r\n%s" % (head, len(body), body)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        if timeout / 4 < self._interval:
            self._interval = max(timeout / 4, 0.01)
        if self._sweep is None:
            self._sweep = loop.call_later(self._interval, self._expire)
        try:
            return await self._send(key, request, deadline, timeout)
        except TimeoutError:
            raise DeliveryError(f"Timeout: no answer within {timeout:g} s") from None

    def _prepare(self, url: SplitResult) -> tuple[tuple[str, int], bytes]:
        """Where a URL's requests go and their head up to the body's length, made once per URL
        (parsing the host and port is a third of a callback's own CPU otherwise)."""
        try:
            host, port = url.hostname or "", url.port or 80
        except ValueError as exc:
            raise DeliveryError(f"InvalidURL: {exc}") from None
        if not host:
            raise DeliveryError(f"InvalidURL: no host in {url.geturl()!r}")
        target = url.path or "/"
        if url.query:
            target += "?" + url.query
        authority = url.netloc.rpartition("@")[2]
        head = (
            f"POST {target} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\n"
            "User-Agent: rcs-emulator\r\nContent-Length: "
        ).encode("latin-1")
        if len(self._prepared) >= 10_000:
            self._prepared.clear()
        prepared = self._prepared[url] = ((host, port), head)
        return prepared

    def _expire(self) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        for connection in list(self._busy):
            if connection.deadline and now >= connection.deadline:
                connection._finish(TimeoutError())
        self._sweep = loop.call_later(self._interval, self._expire) if self._busy else None

    async def _send(
        self, key: tuple[str, int], request: bytes, deadline: float, timeout: float
    ) -> tuple[int, str]:
        idle = self._idle.get(key)
        while idle:
            connection = idle.pop()
            if connection.closed:
                continue
            try:
                return await self._use(key, connection, request, deadline)
            except _Unanswered:
                continue  # closed by the receiver while idle: try another, then a fresh one
        async with asyncio.timeout(timeout):  # a new connection only: rare, a timer is fine
            connection = await self._open(key)
        try:
            return await self._use(key, connection, request, deadline)
        except _Unanswered:
            raise DeliveryError(
                "RemoteProtocolError: the receiver closed the connection without an answer"
            ) from None

    async def _use(
        self, key: tuple[str, int], conn: _Exchange, request: bytes, deadline: float
    ) -> tuple[int, str]:
        self._busy.add(conn)
        if self._sweep is None:
            self._sweep = asyncio.get_running_loop().call_later(self._interval, self._expire)
        try:
            answer = await conn.exchange(request, deadline)
        except BaseException:
            conn.close()  # a failed or cancelled exchange leaves the connection unusable
            raise
        finally:
            self._busy.discard(conn)
        if conn.reusable and not conn.closed:
            idle = self._idle.setdefault(key, [])
            if len(idle) < self.per_host:
                idle.append(conn)
                return answer
        conn.close()
        return answer

    async def _open(self, key: tuple[str, int]) -> _Exchange:
        loop = asyncio.get_running_loop()
        try:
            _, protocol = await loop.create_connection(_Exchange, key[0], key[1])
        except OSError as exc:
            raise DeliveryError(
                f"ConnectError: cannot connect to {key[0]}:{key[1]}: {exc.strerror or exc}"
            ) from None
        return protocol

    def close(self) -> None:
        if self._sweep is not None:
            self._sweep.cancel()
            self._sweep = None
        for connections in self._idle.values():
            for connection in connections:
                connection.close()
        self._idle = {}
