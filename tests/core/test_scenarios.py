"""Scenarios drive what happens after a send, for both providers: the magic numbers of the
default scenario, per-number overrides, the run's choice of scenario, and the scenario list."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from emulator import Config
from tests.conftest import GENERIC_AUTH, SERWERSMS_AUTH, advance, open_client

pytestmark = pytest.mark.anyio


async def send_both(client: httpx.AsyncClient, polish: str) -> None:
    """The same number through both providers, each message with one suggestion."""
    generic = {
        "agentId": "a",
        "number": [polish],
        "messageType": "TextMessage",
        "text": "Hi",
        "suggestedReplies": [{"text": "Yes", "postbackData": "yes"}],
    }
    assert (
        await client.post("/Rcs/api/v1/Message", json=generic, headers=GENERIC_AUTH)
    ).status_code == 200
    serwersms = {
        "rcs_id": "bot",
        "phone": polish,
        "message": {"text": "Hi", "suggestions": [{"reply": {"text": "Yes", "postback": "yes"}}]},
    }
    answer = (
        await client.post("/messages/send_rcs", json=serwersms, headers=SERWERSMS_AUTH)
    ).json()
    assert answer.get("success") is True, answer


async def outcome(client: httpx.AsyncClient) -> dict[str, tuple[str, list[str]]]:
    items = (await client.get("/_emulator/messages")).json()["items"]
    return {m["provider"]: (m["status"], [e["type"] for e in m["events"]]) for m in items}


MAGIC: list[tuple[str, float, str, list[str]]] = [
    ("+48500600700", 10, "read", ["sent", "delivered", "read"]),
    ("+48100000001", 10, "no_capability", ["sent", "no_capability"]),
    ("+48100000002", 86400, "sent", ["sent"]),
    ("+48100000003", 86400, "delivered", ["sent", "delivered"]),
    ("+48100000004", 10, "read", ["sent", "delivered", "read", "reply"]),
    ("+48100000005", 10, "read", ["sent", "delivered", "read", "message"]),
    ("+48100000006", 10, "undelivered", ["sent", "undelivered"]),
    ("+48100000007", 86400, "expired", ["sent", "expired"]),
    ("+48100000008", 7200, "read", ["sent", "delivered", "read"]),
]


@pytest.mark.parametrize(("phone", "wait", "status", "events"), MAGIC, ids=[m[0] for m in MAGIC])
async def test_magic_numbers_drive_both_providers(client, phone, wait, status, events):
    await send_both(client, phone)
    await advance(client, wait)
    result = await outcome(client)
    assert result == {"generic": (status, events), "serwersms": (status, events)}


async def test_slow_number_is_not_delivered_early(client):
    await send_both(client, "+48100000008")
    await advance(client, 3599)
    assert {s for s, _ in (await outcome(client)).values()} == {"sent"}


async def test_per_number_scenario_override(client):
    phone = "+48500600701"
    response = await client.put(f"/_emulator/phones/{phone}", json={"scenario": "chatty"})
    assert response.status_code == 200
    await send_both(client, phone)
    await advance(client, 5)
    assert (await outcome(client))["generic"][1] == ["sent", "delivered", "read", "reply"]
    unknown = await client.put(f"/_emulator/phones/{phone}", json={"scenario": "nope"})
    assert unknown.status_code == 400 and "unknown scenario 'nope'" in unknown.json()["error"]


async def test_phone_override_of_capability_and_reset_restores_it(client):
    phone = "+48500600702"
    await client.put(f"/_emulator/phones/{phone}", json={"rcs_capable": False})
    await send_both(client, phone)
    assert {s for s, _ in (await outcome(client)).values()} == {"no_capability"}
    await client.post("/_emulator/reset")
    await send_both(client, phone)
    assert {s for s, _ in (await outcome(client)).values()} == {"sent"}


async def test_run_wide_scenario_choice(mode, redis_url):
    async with open_client(mode, Config(clock="manual", scenario="no-rcs"), redis_url) as client:
        await send_both(client, "+48500600700")
        assert {s for s, _ in (await outcome(client)).values()} == {"no_capability"}
        listing = (await client.get("/_emulator/scenarios")).json()
        assert listing["active"] == "no-rcs"


async def test_scenario_listing_is_self_describing(client):
    listing = (await client.get("/_emulator/scenarios")).json()
    assert listing["active"] == "default"
    default = next(s for s in listing["items"] if s["name"] == "default")
    rules = {r["name"]: r for r in default["rules"]}
    assert rules["no-rcs"]["capable"] is False
    assert "+48100000001" in rules["no-rcs"]["match"]["numbers"]
    assert rules["taps-first-suggestion"]["timeline"][-1]["if"] == {"has_suggestions": True}
    assert listing["total"] == len(listing["items"]) >= 3


async def test_scenario_file_given_by_path(mode, redis_url, tmp_path):
    path = tmp_path / "quick.yaml"
    path.write_text(
        "name: quick\ndefault:\n  - {after: 1, event: delivered}\n"
        "  - {after: 1, event: message, text: Hej}\n"
    )
    async with open_client(mode, Config(clock="manual", scenario=str(path)), redis_url) as client:
        await send_both(client, "+48500600700")
        await advance(client, 2)
        items = (await client.get("/_emulator/messages")).json()["items"]
        assert all(m["events"][-1]["text"] == "Hej" for m in items)


async def test_seeded_fake_text_repeats(mode, redis_url):
    texts: list[Any] = []
    for _ in range(2):
        async with open_client(mode, Config(clock="manual", seed=99), redis_url) as client:
            await send_both(client, "+48100000005")
            await advance(client, 10)
            items = (await client.get("/_emulator/messages")).json()["items"]
            texts.append([m["events"][-1]["text"] for m in items])
    assert texts[0] == texts[1] and texts[0][0]
