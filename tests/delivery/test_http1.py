"""The callbacks' own HTTP/1.1 client against real sockets answering the ways receivers do:
keep-alive, chunked, close-delimited, 100 Continue, huge, garbage, never, and connections the
receiver closes while they sit idle."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import pytest

from emulator.delivery.http1 import DeliveryError, Http1Pool

pytestmark = pytest.mark.anyio

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class _Server:
    """A raw socket server whose every connection is closed when the test ends."""

    def __init__(self, server: asyncio.Server, writers: list[asyncio.StreamWriter]) -> None:
        self.server, self.writers = server, writers
        self.sockets = server.sockets

    def close(self) -> None:
        self.server.close()
        for writer in self.writers:
            writer.close()


async def _serve(handler: Handler) -> tuple[_Server, str]:
    writers: list[asyncio.StreamWriter] = []

    async def tracked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        try:
            await handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(tracked, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return _Server(server, writers), f"http://127.0.0.1:{port}/hook?x=1"


async def _read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
    return head, await reader.readexactly(length)


async def test_keep_alive_reuses_one_connection_and_sends_a_proper_request():
    connections, requests = [], []

    async def handler(reader, writer):
        connections.append(writer)
        while True:
            try:
                requests.append(await _read_request(reader))
            except asyncio.IncompleteReadError:
                return
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK")

    server, url = await _serve(handler)
    pool = Http1Pool(4)
    for _ in range(3):
        assert await pool.post(urlsplit(url), b'{"a":1}', 5) == (200, "OK")
    pool.close()
    server.close()
    await asyncio.sleep(0.01)  # let the closes land before the loop ends
    assert len(connections) == 1
    head, body = requests[0]
    assert head.startswith(b"POST /hook?x=1 HTTP/1.1\r\n")
    assert b"\r\nContent-Type: application/json\r\n" in head and body == b'{"a":1}'
    assert f"\r\nHost: 127.0.0.1:{url.split(':')[2].split('/')[0]}\r\n".encode() in head


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
            (201, "abcde"),
        ),
        (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n", (204, "")),
        (b"HTTP/1.0 500 Oops\r\n\r\nclose-delimited", (500, "close-delimited")),
        (b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\nyes", (200, "yes")),
    ],
)
async def test_the_ways_an_answer_is_delimited(answer, expected):
    async def handler(reader, writer):
        await _read_request(reader)
        writer.write(answer)
        if b"HTTP/1.0" in answer or b"close" in answer:
            await writer.drain()
            writer.close()

    server, url = await _serve(handler)
    pool = Http1Pool(4)
    assert await pool.post(urlsplit(url), b"{}", 5) == expected
    pool.close()
    server.close()
    await asyncio.sleep(0.01)  # let the closes land before the loop ends


async def test_a_connection_closed_while_idle_is_retried_on_a_fresh_one():
    served = 0

    async def handler(reader, writer):
        nonlocal served
        await _read_request(reader)
        served += 1
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK")
        await writer.drain()
        writer.close()  # keep-alive promised, then closed: the next use finds it dead

    server, url = await _serve(handler)
    pool = Http1Pool(4)
    for _ in range(3):
        assert await pool.post(urlsplit(url), b"{}", 5) == (200, "OK")
    assert served == 3
    pool.close()
    server.close()
    await asyncio.sleep(0.01)  # let the closes land before the loop ends


async def test_a_huge_answer_is_kept_in_part_and_its_connection_dropped():
    async def handler(reader, writer):
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10000000\r\n\r\n" + b"x" * 200_000)
        await writer.drain()

    server, url = await _serve(handler)
    pool = Http1Pool(4)
    status, text = await pool.post(urlsplit(url), b"{}", 5)
    assert status == 200 and text == "x" * 4096
    assert pool._idle.get(("127.0.0.1", server.sockets[0].getsockname()[1]), []) == []
    pool.close()
    server.close()
    await asyncio.sleep(0.01)  # let the closes land before the loop ends


@pytest.mark.parametrize(
    ("behaviour", "error"),
    [
        ("garbage", "ReadError: the answer is not HTTP"),
        ("close-now", "RemoteProtocolError: the receiver closed the connection without an answer"),
        ("half", "RemoteProtocolError: the receiver closed the connection in the middle"),
        ("silent", "Timeout: no answer within 0.3 s"),
    ],
)
async def test_receivers_that_do_not_answer_properly(behaviour, error):
    async def handler(reader, writer):
        await _read_request(reader)
        if behaviour == "garbage":
            writer.write(b"SSH-2.0-OpenSSH\r\n\r\n")
        elif behaviour == "half":
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
        elif behaviour == "silent":
            await reader.read()  # until the client gives up and closes
        await writer.drain()
        writer.close()

    server, url = await _serve(handler)
    pool = Http1Pool(4)
    with pytest.raises(DeliveryError) as failed:
        await pool.post(urlsplit(url), b"{}", 0.3)
    assert str(failed.value).startswith(error)
    pool.close()
    server.close()
    await asyncio.sleep(0.01)  # let the closes land before the loop ends


async def test_nobody_listening_and_a_url_without_host():
    pool = Http1Pool(4)
    with pytest.raises(DeliveryError, match=r"^ConnectError: cannot connect to 127\.0\.0\.1:9"):
        await pool.post(urlsplit("http://127.0.0.1:9/hook"), b"{}", 2)
    with pytest.raises(DeliveryError, match="^InvalidURL"):
        await pool.post(urlsplit("http:///hook"), b"{}", 2)
    with pytest.raises(DeliveryError, match="^InvalidURL"):
        await pool.post(urlsplit("http://127.0.0.1:99999/hook"), b"{}", 2)
