"""uvicorn's fastest HTTP/1.1 protocol (httptools) with the bounds it lacks.

httptools buffers a header block of any size and waits for it forever. This subclass keeps:
- a request head (request line and headers) at most MAX_HEAD bytes and MAX_HEADERS headers:
  past either, 431 Request Header Fields Too Large and the connection closes, whether the head
  came in one piece or a byte at a time (a request line that never ends is cut the same way);
- a deadline: a head must be complete within `timeout` seconds of its first byte (or of the
  connection, for one that never sends anything), and a body may not stall longer than
  `timeout` between two chunks: 408 Request Timeout, then the connection closes. Idle
  keep-alive connections are closed by uvicorn's own `timeout_keep_alive`.

Cheap on the hot path: a request costs a few attribute writes. Deadlines are plain numbers that
one sweep per event loop checks a few times per `timeout` (no timer per request), and the exact
head size is summed only when the bytes received could exceed the bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import weakref
from typing import Any, cast

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_HEAD = 32 * 1024
MAX_HEADERS = 100
REQUEST_LINE_EXTRA = 16  # method, spaces, "HTTP/1.1", CRLF: near enough for a bound
SWEEPS_PER_TIMEOUT = 4  # a deadline is acted on within a quarter of the timeout after it passed
# Set in a request's scope by a response that never ends by itself (server-sent events): a
# graceful shutdown closes its connection at once instead of waiting for it to finish.
ENDLESS = "rcs.endless"


class HeadTooLarge(Exception):
    pass


class _Sweeper:
    """One per event loop: checks every open connection's deadline, then sleeps again."""

    def __init__(self, loop: asyncio.AbstractEventLoop, interval: float) -> None:
        self.loop = loop
        self.interval = interval
        self.connections: weakref.WeakSet[BoundedHttpToolsProtocol] = weakref.WeakSet()
        self.handle: asyncio.TimerHandle | None = None

    def add(self, protocol: BoundedHttpToolsProtocol) -> None:
        self.connections.add(protocol)
        if self.handle is None:
            self.handle = self.loop.call_later(self.interval, self.sweep)

    def sweep(self) -> None:
        now = self.loop.time()
        for protocol in list(self.connections):
            if protocol.deadline and now >= protocol.deadline:
                protocol.deadline = 0.0
                protocol.timed_out()
        self.handle = self.loop.call_later(self.interval, self.sweep) if self.connections else None


_sweepers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Sweeper] = (
    weakref.WeakKeyDictionary()
)


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    timeout: float = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_open = True  # waiting for (the rest of) a request head
        self._head_seen = 0  # bytes received since that head began
        self._body_open = False
        self.deadline = 0.0  # loop time after which the connection is cut; 0: none
        sweeper = _sweepers.get(self.loop)
        if sweeper is None:
            interval = min(1.0, self.timeout / SWEEPS_PER_TIMEOUT)
            sweeper = _sweepers[self.loop] = _Sweeper(self.loop, interval)
        self._sweeper = sweeper

    def _arm(self) -> None:
        # acted on by the next sweep after it passes: between timeout and timeout + interval
        self.deadline = self.loop.time() + self.timeout

    def timed_out(self) -> None:
        if self.transport.is_closing():
            return
        if self._body_open and self.flow.read_paused:
            self._arm()  # we stopped reading, not the client: its body is not stalled
            return
        if self._head_open and self._head_seen == 0:
            self.transport.close()  # a connection that never said anything
            return
        if self.cycle is None or not self.cycle.response_started:
            self._refuse(408, "Request Timeout", "The request did not arrive in time.")
        else:
            self.transport.close()

    # -- protocol --------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        _no_delay(transport)
        self._arm()
        self._sweeper.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.deadline = 0.0
        super().connection_lost(exc)

    def shutdown(self) -> None:
        """uvicorn waits for every response under way to complete before it stops; an endless
        one (an inbox's event stream) would hold SIGTERM for ever, so it is cut now (the page
        says "disconnected" and reconnects to whatever serves next)."""
        cycle = self.cycle
        endless = cycle is not None and cast(dict[str, Any], cycle.scope).get(ENDLESS)
        if cycle is not None and endless and not cycle.response_complete:
            self.transport.close()
            return
        super().shutdown()

    def data_received(self, data: bytes) -> None:
        if self._head_open:
            if self._head_seen == 0:
                self._arm()  # one deadline for the whole head, however slowly it comes
            self._head_seen += len(data)
        elif self._body_open:
            self._arm()
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            if isinstance(exc.__context__, HeadTooLarge):
                self._refuse(431, "Request Header Fields Too Large", str(exc.__context__))
            else:
                self._invalid()
            return
        except httptools.HttpParserError:
            self._invalid()
            return
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        if self._head_open and self._head_seen > MAX_HEAD:
            message = f"The request head is over {MAX_HEAD} bytes."
            self._refuse(431, "Request Header Fields Too Large", message)

    def on_headers_complete(self) -> None:
        if len(self.headers) > MAX_HEADERS:
            raise HeadTooLarge(f"The request has over {MAX_HEADERS} header fields.")
        if self._head_seen > MAX_HEAD:  # only then can the head itself be too large
            size = len(self.url) + REQUEST_LINE_EXTRA
            for name, value in self.headers:
                size += len(name) + len(value) + 4
            if size > MAX_HEAD:
                raise HeadTooLarge(f"The request head is over {MAX_HEAD} bytes.")
        self._head_open = False
        self._body_open = True
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._body_open = False
        self.deadline = 0.0
        self._head_open = True
        self._head_seen = 0

    # -- refusals --------------------------------------------------------------------------

    def _invalid(self) -> None:
        self.logger.warning("Invalid HTTP request received.")
        self.send_400_response("Invalid HTTP request received.")

    def _refuse(self, status: int, reason: str, message: str) -> None:
        self.deadline = 0.0
        body = message.encode("ascii")
        head = (
            f"HTTP/1.1 {status} {reason}\r\ncontent-type: text/plain; charset=utf-8\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
        )
        self.transport.write(head.encode("ascii") + body)
        self.transport.close()
        self._head_open = self._body_open = False


def _no_delay(transport: asyncio.BaseTransport) -> None:
    """TCP_NODELAY on the connection. uvloop sets it itself; asyncio's loop does only for a
    socket whose proto is IPPROTO_TCP, which a listening socket made as socket(family,
    SOCK_STREAM) (ours, and uvicorn's) is not: its connections then wait out Nagle against the
    client's delayed ACK, ~40 ms a response written in two parts (bench/loop.py measured it)."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def bounded_protocol(timeout: float) -> type[BoundedHttpToolsProtocol]:
    """The protocol class with this deadline (uvicorn builds one instance per connection)."""
    return type("BoundedHttpToolsProtocol", (BoundedHttpToolsProtocol,), {"timeout": timeout})
