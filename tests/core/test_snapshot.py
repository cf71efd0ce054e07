"""The incremental snapshot (only changed records serialised again) always writes what a full
dump of the same moment writes, through sends, events, retries, evictions and resets."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

from emulator import Config, create_app
from emulator.core import snapshot
from emulator.core.statefile import parse
from tests.conftest import GENERIC_AUTH

pytestmark = pytest.mark.anyio


def _comparable(raw: bytes) -> dict[str, Any]:
    data = orjson.loads(raw)
    data.pop("saved_at")
    return dict(data)


async def test_incremental_saves_equal_a_full_dump_at_every_step():
    app = create_app(Config(clock="manual", seed=7, max_messages=25,
                            webhook_url="http://127.0.0.1:9/down"))  # fmt: skip
    emulator = app.state.emulator
    snapshotter = snapshot.Snapshotter(emulator)

    async def check() -> None:
        taken = await snapshotter.take(False, size=3)  # tiny slices: yielding is exercised
        incremental = b"".join(taken.chunks())
        parse(incremental)  # every save is a valid state file
        assert _comparable(incremental) == _comparable(snapshot.dump(emulator, False))

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as c:
        await check()
        for round_ in range(6):
            for key in ("key-a", "key-b"):
                numbers = [f"+467012{round_}{i:04d}" for i in range(5)]
                answer = await c.post("/Rcs/api/v1/Message", json={
                    "agentId": "a", "number": numbers, "messageType": "TextMessage",
                    "text": "hi", "suggestedReplies": [{"text": "Yes", "postbackData": "y"}]},
                    headers={"Authorization": f"Bearer {key}"})  # fmt: skip
                assert answer.status_code == 200
            await check()
            await c.post("/_emulator/clock/advance", json={"seconds": 4})  # events, retries
            await check()
            if round_ == 2:
                await c.post("/_emulator/reset", params={"tenant": "key-a"})
                await check()
            if round_ == 4:
                await c.post("/Rcs/api/v1/UploadFile/a", headers=GENERIC_AUTH,
                             files={"file": ("a.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64,
                                             "image/png")})  # fmt: skip
                await c.post("/_emulator/reset")
                await check()
        assert emulator.stores.evicted > 0
    await emulator.dispatcher.aclose()
    emulator.vault.close()
