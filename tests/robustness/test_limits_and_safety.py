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


@pytest.mark.parametrize("size", [1_000_000, 8_000_000])
def test_absurd_header_sizes_are_refused_and_the_server_stays_up(live_server, size):
    """h11 buffers at most 32 KB of unfinished headers beyond one network read."""
    head = b"GET /_emulator/health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * size + b"\r\n\r\n"
    try:
        answer = raw_request(live_server.port, head)
    except (ConnectionResetError, BrokenPipeError):
        answer = b""  # a closed connection is an acceptable refusal too
    assert not answer.startswith(b"HTTP/1.1 2") and not answer.startswith(b"HTTP/1.1 5")
    assert httpx.get(live_server.base_url + "/_emulator/health").status_code == 200


def test_binds_loopback_unless_told_otherwise() -> None:
    assert Config().host == "127.0.0.1"
    assert Config.from_sources(env={}).host == "127.0.0.1"


async def test_uploaded_file_names_never_become_paths(client, tmp_path):
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64
    for name in ("../../../../tmp/evil.png", "/etc/passwd", "..\\..\\x.png", "a\x00b.png"):
        response = await client.post(
            "/Rcs/api/v1/UploadFile/agent", headers=GENERIC_AUTH,
            files={"file": (name, png, "image/png")},
        )  # fmt: skip
        assert response.status_code == 200
        assert response.json()["fileId"].startswith("files/")
    assert not (tmp_path / "evil.png").exists()
    import pathlib

    assert not pathlib.Path("/tmp/evil.png").exists()


async def test_control_bodies_are_bounded(client):
    response = await client.post(
        "/_emulator/inbound", content=b'{"text": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    )
    assert response.status_code == 413
