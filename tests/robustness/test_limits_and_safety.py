"""Limits that protect the process, and safety defaults."""

from __future__ import annotations

import socket

import httpx
import pytest

from emulator import Config
from tests.conftest import GENERIC_AUTH

pytestmark = pytest.mark.anyio


def raw_request(port: int, head: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(head)
        return sock.recv(200)


@pytest.mark.parametrize("size", [33_000, 40_000, 70_000, 1_000_000, 8_000_000])
def test_header_blocks_past_32_kb_are_431_and_the_server_stays_up(live_server, size):
    """Written in one piece, as the reliability check does: the bound holds whatever the read
    size (httptools itself would buffer any amount)."""
    head = b"GET /_emulator/health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * size + b"\r\n\r\n"
    try:
        answer = raw_request(live_server.port, head)
    except (ConnectionResetError, BrokenPipeError):
        answer = b""  # the refusal may reset before a huge write completes
    if size < 1_000_000 or answer:
        assert answer.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n")
    assert httpx.get(live_server.base_url + "/_emulator/health").status_code == 200


def test_a_header_block_just_under_the_limit_is_served(live_server):
    head = b"GET /_emulator/health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 32_000 + b"\r\n\r\n"
    assert raw_request(live_server.port, head).startswith(b"HTTP/1.1 200 ")


def test_a_header_block_sent_a_line_at_a_time_is_bounded_too(live_server):
    with socket.create_connection(("127.0.0.1", live_server.port), timeout=5) as sock:
        sock.sendall(b"GET /_emulator/health HTTP/1.1\r\nHost: x\r\n")
        try:
            for i in range(100):
                sock.sendall(b"X-Line-%d: " % i + b"b" * 1000 + b"\r\n")
        except (ConnectionResetError, BrokenPipeError):
            pass
        assert sock.recv(200).startswith(b"HTTP/1.1 431 ")


def test_too_many_header_fields_are_431(live_server):
    fields = b"".join(b"X-%d: 1\r\n" % i for i in range(101))
    answer = raw_request(live_server.port, b"GET / HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n")
    assert answer.startswith(b"HTTP/1.1 431 ")
    assert b"over 100 header fields" in answer


def test_a_request_line_that_never_ends_is_cut(live_server):
    answer = raw_request(live_server.port, b"GET /" + b"a" * 40_000)
    assert answer.startswith(b"HTTP/1.1 431 ")


def _read_all(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(4096):
        data += chunk
    return data


def test_slow_and_idle_connections_are_closed(tmp_path):
    from emulator import EmulatorServer

    with EmulatorServer(Config(port=0, clock="manual", request_timeout=0.3)) as server:
        # slowloris: a head that trickles in never completes within the deadline
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(b"GET /_emulator/health HTTP/1.1\r\n")
            for _ in range(3):
                sock.sendall(b"X-A: b\r\n")
                try:
                    sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
                    break  # the server already answered
                except BlockingIOError:
                    pass
                select_wait(sock, 0.2)
            assert _read_all(sock).startswith(b"HTTP/1.1 408 Request Timeout\r\n")
        # a connection that never says anything
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            assert _read_all(sock) == b""
        # a body that stalls
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(
                b"POST /_emulator/clock/advance HTTP/1.1\r\nHost: x\r\n"
                b"Content-Type: application/json\r\nContent-Length: 40\r\n\r\n{"
            )
            assert _read_all(sock).startswith(b"HTTP/1.1 408 ")
        assert httpx.get(server.base_url + "/_emulator/health").status_code == 200


def select_wait(sock: socket.socket, seconds: float) -> None:
    import select

    select.select([sock], [], [], seconds)


def test_max_messages_has_a_default_that_health_shows(live_server):
    assert Config().max_messages == 200_000
    health = httpx.get(live_server.base_url + "/_emulator/health").json()
    assert health["retention"]["max_messages"] == 200_000


def test_binds_loopback_unless_told_otherwise() -> None:
    assert Config().host == "127.0.0.1"
    assert Config.from_sources(env={}).host == "127.0.0.1"


async def test_uploaded_file_names_never_become_paths(client, tmp_path):
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64
    for name in ("../../../../tmp/evil.png", "/etc/passwd", "..\\..\\x.png", "a\x00b.png"):
        response = await client.post(
            "/Rcs/api/v1/UploadFile/agent",
            headers=GENERIC_AUTH,
            files={"file": (name, png, "image/png")},
        )
        assert response.status_code == 200
        assert response.json()["fileId"].startswith("files/")
    assert not (tmp_path / "evil.png").exists()
    import pathlib

    assert not pathlib.Path("/tmp/evil.png").exists()


async def test_control_bodies_are_bounded(client):
    response = await client.post(
        "/_emulator/inbound",
        content=b'{"text": "' + b"x" * (2 * 1024 * 1024) + b'"}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413
