"""A state file written by an earlier version (2: agents and phones apart, deliveries without
their retry policy, due events in words of their own) is read: nothing it held is lost on an
upgrade, and the next save writes the current version."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx
import pytest

from emulator import Config, create_app
from tests.conftest import GENERIC_AUTH

pytestmark = pytest.mark.anyio
V2 = Path(__file__).with_name("data") / "state-v2.json"


async def test_a_version_2_file_is_read_whole_and_saved_as_version_3(tmp_path):
    state = tmp_path / "state.json"
    shutil.copy(V2, state)
    saved = json.loads(V2.read_text())
    app = create_app(Config(clock="manual", state_file=str(state)))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as c:
        listed = (await c.get("/_emulator/messages")).json()
        assert sorted(m["id"] for m in listed["items"]) == sorted(
            m["id"] for m in saved["messages"]
        )
        agent = (await c.get("/_emulator/agents")).json()["items"]
        assert ("demo", "http://127.0.0.1:9/down") in [
            (a["agent_id"], a["webhook_url"]) for a in agent
        ]
        phones = (await c.get("/_emulator/phones")).json()["items"]
        assert {"phone": "+46705550001", "rcs_capable": False, "scenario": None} in phones
        # The retrying delivery kept its place and got its agent's policy (Generic's).
        (delivery,) = (await c.get("/_emulator/webhooks")).json()["items"]
        assert delivery["state"] == "retrying" and "10 s, 1 min" in delivery["policy"]
        # The scheduled SerwerSMS send and the steps still run at their times.
        ran = (await c.post("/_emulator/clock/advance", json={"seconds": 60})).json()
        assert ran["events_run"] >= 1
        sent = await c.post(
            "/Rcs/api/v1/Message",
            headers=GENERIC_AUTH,
            json={
                "agentId": "demo",
                "number": ["+46701234560"],
                "messageType": "TextMessage",
                "text": "after the upgrade",
            },
        )
        assert sent.status_code == 200
    await app.state.emulator.aclose()  # a clean stop saves
    rewritten = json.loads(state.read_text())
    assert rewritten["version"] == 3 and rewritten["clean"] is True
    assert {e["kind"] for e in rewritten["scheduled"]} <= {"send", "step", "retry"}
    assert all("policy" in d for d in rewritten["deliveries"])
    assert len(rewritten["messages"]) == len(saved["messages"]) + 1
