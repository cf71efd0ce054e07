"""Receivers that misbehave, a full backlog, and a 100 MB upload read with flat memory."""

from __future__ import annotations

import os
import socket
import threading

import httpx
import pytest

from emulator import Config, EmulatorServer
from tests.conftest import GENERIC_AUTH, advance, open_client, set_agent

pytestmark = pytest.mark.anyio
TEXT = {"agentId": "a", "number": ["+46700000003"], "messageType": "Text", "text": "x"}


class SlammingReceiver:
    """Accepts connections, reads the request, and closes without answering."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/hook"
        self.hits = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.recv(65536)
            self.hits += 1
            conn.close()

    def close(self) -> None:
        self.sock.close()


async def test_receiver_closing_the_connection_is_an_attempt_that_failed(client):
    receiver = SlammingReceiver()
    try:
        await set_agent(client, "generic", "a", webhook_url=receiver.url)
        await client.post("/Rcs/api/v1/Message", json=TEXT, headers=GENERIC_AUTH)
        await advance(client, 2)
        [delivery] = (await client.get("/_emulator/webhooks")).json()["items"]
        assert delivery["state"] == "retrying"
        assert delivery["attempts"][0]["status"] is None
        assert delivery["attempts"][0]["error"].startswith(("RemoteProtocolError", "ReadError"))
        assert receiver.hits == 1
        assert (await client.get("/_emulator/health")).status_code == 200
    finally:
        receiver.close()


@pytest.mark.parametrize("mode", ["asgi", "live"])
async def test_a_full_backlog_fails_visibly_instead_of_growing(mode, webhook):
    """A process's own queue of attempts is bounded (the memory engine). On Redis the waiting
    deliveries are records in Redis and a process claims only what its free slots can make, so
    its memory holds no backlog to bound."""
    config = Config(
        clock="manual", scenario="chatty", webhook_backlog=2, webhook_per_host=1, webhook_timeout=2
    )
    async with open_client(mode, config) as client:
        await set_agent(client, "generic", "a", webhook_url=webhook.url)
        webhook.answer(200, "slow", delay=0.5, times=10)
        numbers = [f"+4673000000{i}" for i in range(6)]
        await client.post(
            "/Rcs/api/v1/Message", headers=GENERIC_AUTH, json={**TEXT, "number": numbers}
        )
        # "chatty" delivers all six at once: six callbacks contend for one slot and two places
        await advance(client, 0)
        hooks = (await client.get("/_emulator/webhooks")).json()["items"]
        failed = [h for h in hooks if h["state"] == "failed"]
        assert failed and all("backlog full" in h["attempts"][0]["error"] for h in failed)
        assert len(hooks) == 6  # none dropped silently: every one is listed
        assert len(failed) == 3  # one in flight, two waiting, three refused
        health = (await client.get("/_emulator/health")).json()
        assert health["webhooks"]["failed"] == len(failed)


def test_a_100_mb_upload_is_read_with_flat_memory() -> None:
    page = os.sysconf("SC_PAGE_SIZE")

    def rss_mb() -> float:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * page / 2**20

    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
    size = 100 * 1024 * 1024 - 4096
    head = (
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\n'
        b"Content-Type: image/png\r\n\r\n" + png
    )
    tail = b"\r\n--b--\r\n"
    chunk = b"\x00" * (1024 * 1024)
    peak = [0.0]

    def body():
        yield head
        sent = len(png)
        while sent < size:
            piece = chunk[: min(len(chunk), size - sent)]
            sent += len(piece)
            peak[0] = max(peak[0], rss_mb())
            yield piece
        yield tail

    with EmulatorServer(Config(port=0, clock="manual")) as server:
        before = rss_mb()
        response = httpx.post(
            server.base_url + "/Rcs/api/v1/UploadFile/a",
            content=body(),
            timeout=60,
            headers={**GENERIC_AUTH, "Content-Type": "multipart/form-data; boundary=b"},
        )
        assert response.status_code == 200, response.text
    assert peak[0] - before < 40, (before, peak[0])  # 100 MB went through ~1 MB at a time
