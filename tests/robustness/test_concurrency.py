"""Many clients at once against the live server: every accepted send is one stored message with
its own id, statistics agree, and reads during writes see whole messages only."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from tests.conftest import GENERIC_AUTH, SERWERSMS_AUTH

pytestmark = pytest.mark.anyio
N = 200


async def test_concurrent_sends_and_reads(live_server):
    limits = httpx.Limits(max_connections=50)
    # A generous timeout: on a busy machine a page of 1,000 messages under this load may take
    # seconds; what is checked is what comes back, not how soon.
    async with httpx.AsyncClient(
        base_url=live_server.base_url, limits=limits, timeout=120
    ) as client:
        await client.post("/_emulator/reset")

        async def generic(i: int) -> str:
            body = {
                "agentId": "busy",
                "number": [f"+4673{i:07d}", f"+4674{i:07d}"],
                "messageType": "Text",
                "text": f"hello {i}",
            }
            response = await client.post("/Rcs/api/v1/Message", json=body, headers=GENERIC_AUTH)
            assert response.status_code == 200
            return str(response.json()["tagId"])

        async def serwersms(i: int) -> list[str]:
            body = {
                "rcs_id": "busy",
                "phone": [f"5006{i:05d}"],
                "message": {"text": "x"},
                "details": True,
                "unique_id": [f"uid{i}"],
            }
            response = await client.post("/messages/send_rcs", json=body, headers=SERWERSMS_AUTH)
            return [item["id"] for item in response.json()["items"]]

        async def reader(writing: asyncio.Future[list[object]]) -> None:
            """Pages read while the sends go on (at least two), whole messages in each."""
            reads = 0
            while not writing.done() or reads < 2:
                page = (await client.get("/_emulator/messages", params={"limit": 1000})).json()
                for message in page["items"]:
                    assert message["id"] and message["phone"] and message["events"]
                    assert message["status"] == "sent"
                reads += 1
                await asyncio.sleep(0)

        sends = [*(generic(i) for i in range(N)), *(serwersms(i) for i in range(N))]
        writing = asyncio.gather(*sends)
        await asyncio.gather(*(reader(writing) for _ in range(4)))
        tags = (await writing)[:N]
        assert len(set(tags)) == N
        everything = (await client.get("/_emulator/messages", params={"limit": 10000})).json()
        assert everything["total"] == 3 * N
        assert len({m["id"] for m in everything["items"]}) == 3 * N
        for tag in tags[:20]:
            stats = await client.get(f"/Rcs/api/v1/Message/Tag/{tag}", headers=GENERIC_AUTH)
            assert stats.json()["rcsNumbers"] == 2
        uids = {m["external_id"] for m in everything["items"] if m["provider"] == "serwersms"}
        assert uids == {f"uid{i}" for i in range(N)}
        await client.post("/_emulator/reset")


def test_a_100000_number_send_lets_other_clients_in(tmp_path):
    """The send is stored a slice at a time: health answers while it runs, not after it.
    (How long others wait is measured in bench/, not asserted here.)"""
    import threading

    import orjson

    from tests.robustness.process import Served

    server = Served(tmp_path / "server.log", "--clock", "manual")
    phones = [f"+4850{i:07d}" for i in range(100_000)]
    body = orjson.dumps({"rcs_id": "bot", "phone": phones, "message": {"text": "hi"}})
    answered: list[tuple[float, float]] = []
    sending = threading.Event()
    done = threading.Event()

    def poll() -> None:
        with httpx.Client(base_url=server.base_url, timeout=30) as c:
            sending.wait()
            while not done.is_set():
                asked = time.monotonic()
                c.get("/_emulator/health").raise_for_status()
                answered.append((asked, time.monotonic()))

    poller = threading.Thread(target=poll)
    poller.start()
    try:
        with httpx.Client(base_url=server.base_url, timeout=120) as c:
            sending.set()
            started = time.monotonic()
            answer = c.post(
                "/messages/send_rcs.json",
                content=body,
                headers={"Authorization": "Bearer t", "Content-Type": "application/json"},
            )
            finished = time.monotonic()
        done.set()
        poller.join(30)
        assert answer.json() == {"success": True, "queued": 100_000, "unsent": 0}
        during = [a for a in answered if a[0] > started and a[1] < finished]
        assert len(during) >= 5, f"{len(during)} health answers while the send ran"
    finally:
        done.set()
        server.stop()
