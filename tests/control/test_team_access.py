"""A deployment shared by teams: each team's control token sees and acts on its own tenants only
(another's records are not found, naming another's tenant is refused, what acts on every tenant
is the admin's), tenants are shown by a label (a configured name, else a short fingerprint of
the key) and their keys never in clear, and the admin's token reaches every tenant. On every
engine (in-process memory, one Redis, a Redis Cluster)."""

from __future__ import annotations

import json

import httpx
import pytest

from emulator import Config
from emulator.config import ConfigError
from emulator.core.notices import Notices
from emulator.labels import fingerprint
from tests.conftest import open_client

pytestmark = pytest.mark.anyio

ADMIN, SHOP, BANK = "admin-secret-token", "shop-team-token", "bank-team-token"
SHOP_KEY, BANK_KEY, LONE_KEY = "shop-api-key-1", "bank-api-key-1", "lone-api-key-1"
CONFIG = Config(
    clock="manual",
    control_token=ADMIN,
    teams=[
        {"name": "shop", "token": SHOP, "tenants": [SHOP_KEY]},
        {"name": "bank", "token": BANK, "tenants": [BANK_KEY, LONE_KEY]},
    ],
    tenant_names={SHOP_KEY: "shop-prod"},
)
KEYS = (SHOP_KEY, BANK_KEY, LONE_KEY, ADMIN, SHOP, BANK)


@pytest.fixture(params=["asgi", "redis", "cluster"])
async def client(request: pytest.FixtureRequest):
    mode = request.param
    url = None
    if mode != "asgi":
        url = request.getfixturevalue("redis_server" if mode == "redis" else "redis_cluster").url
    async with open_client(mode, CONFIG, url) as c:
        yield c


def token(value: str) -> dict[str, str]:
    return {"X-Emulator-Token": value}


async def send(client: httpx.AsyncClient, key: str, phone: str, agent: str = "bot") -> str:
    answer = await client.post(
        "/Rcs/api/v1/Message",
        headers={"Authorization": f"Bearer {key}"},
        json={"agentId": agent, "number": [phone], "messageType": "TextMessage", "text": "hi"},
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["tagId"])


def no_key_in(answer: httpx.Response) -> None:
    for key in KEYS:
        assert key not in answer.text, f"{key} shown in {answer.request.url}"


async def test_a_team_sees_its_own_tenants_only_shown_by_their_labels(client):
    await send(client, SHOP_KEY, "+46701234501")
    await send(client, BANK_KEY, "+46701234502")
    await send(client, LONE_KEY, "+46701234503")
    await client.post("/_emulator/clock/advance", headers=token(ADMIN), json={"seconds": 60})
    shop = await client.get("/_emulator/messages", headers=token(SHOP))
    assert shop.status_code == 200
    assert [(m["phone"], m["tenant"]) for m in shop.json()["items"]] == [
        ("+46701234501", "shop-prod")
    ]
    assert shop.json()["total"] == 1
    bank = await client.get("/_emulator/messages", headers=token(BANK))
    assert [m["phone"] for m in bank.json()["items"]] == ["+46701234502", "+46701234503"]
    assert {m["tenant"] for m in bank.json()["items"]} == {
        fingerprint(BANK_KEY),
        fingerprint(LONE_KEY),
    }
    one = await client.get("/_emulator/messages", headers=token(BANK), params={"tenant": LONE_KEY})
    assert [m["phone"] for m in one.json()["items"]] == ["+46701234503"]
    admin = await client.get("/_emulator/messages", headers=token(ADMIN))
    assert admin.json()["total"] == 3
    for path in (
        "/_emulator/messages",
        "/_emulator/conversations",
        "/_emulator/stats",
        "/_emulator/files",
        "/_emulator/surprises",
        "/_emulator/agents",
    ):
        for who in (SHOP, BANK, ADMIN):
            answer = await client.get(path, headers=token(who))
            assert answer.status_code == 200, (path, answer.text)
            no_key_in(answer)
    conversations = (await client.get("/_emulator/conversations", headers=token(SHOP))).json()
    assert [c["phone"] for c in conversations["items"]] == ["+46701234501"]
    stats = (await client.get("/_emulator/stats", headers=token(BANK))).json()
    assert stats["total"] == 2
    # Another team's record is not found; another's tenant named is refused; no token: 401.
    bank_id = bank.json()["items"][0]["id"]
    assert (
        await client.get(f"/_emulator/messages/{bank_id}", headers=token(SHOP))
    ).status_code == 404
    assert (
        await client.get(f"/_emulator/messages/{bank_id}", headers=token(BANK))
    ).status_code == 200
    refused = await client.get(
        "/_emulator/messages", headers=token(SHOP), params={"tenant": BANK_KEY}
    )
    assert refused.status_code == 403
    assert refused.json()["error"] == "that tenant is not one this token reaches"
    by_name = await client.get(
        "/_emulator/messages", headers=token(ADMIN), params={"tenant": "shop-prod"}
    )
    assert [m["phone"] for m in by_name.json()["items"]] == ["+46701234501"]
    assert (await client.get("/_emulator/messages")).status_code == 401
    assert (await client.get("/_emulator/messages", headers=token("wrong"))).status_code == 401


async def test_a_team_acts_on_its_own_tenants_only(client, webhook):
    await client.put(
        "/_emulator/agents/generic/bot", headers=token(SHOP), json={"webhook_url": webhook.url}
    )  # its only tenant's agent
    shop_tag = await send(client, SHOP_KEY, "+46701234501")
    await send(client, BANK_KEY, "+46701234502")
    agents = (await client.get("/_emulator/agents", headers=token(ADMIN))).json()["items"]
    assert [(a["tenant"], a["webhook_url"]) for a in agents] == [("shop-prod", webhook.url)]
    # Its time and events, only.
    moved = await client.post(
        "/_emulator/clock/advance", headers=token(SHOP), json={"seconds": 3600}
    )
    assert moved.status_code == 200 and moved.json()["tenant"] == "shop-prod"
    read = (
        await client.get("/_emulator/messages", headers=token(ADMIN), params={"status": "read"})
    ).json()
    assert [m["batch"] for m in read["items"]] == [shop_tag]
    assert {c["json"]["Type"] for c in webhook.calls} == {"DELIVERED", "READ"}
    several = await client.post(
        "/_emulator/clock/advance", headers=token(BANK), json={"seconds": 60}
    )
    assert several.status_code == 400
    assert several.json()["error"] == "name the tenant (tenant): this token reaches several"
    # The phone answers: only the team's own messages are acted on.
    bank_ids = [
        m["id"]
        for m in (await client.get("/_emulator/messages", headers=token(BANK))).json()["items"]
    ]
    tap = await client.post(
        "/_emulator/inbound",
        headers=token(SHOP),
        json={
            "provider": "generic",
            "agent_id": "bot",
            "phone": "+46701234502",
            "text": "yo",
            "message_id": bank_ids[0],
        },
    )
    assert tap.status_code == 409
    # What acts on every tenant is the admin's.
    for method, path, body in (
        ("POST", "/_emulator/faults", {"provider": "generic", "status": 500}),
        ("PUT", "/_emulator/phones/+46701234509", {"rcs_capable": False}),
        ("POST", "/_emulator/seed", {"seed": 3}),
    ):
        answer = await client.request(method, path, headers=token(SHOP), json=body)
        assert answer.status_code == 403, (path, answer.text)
        assert "the admin's token only" in answer.json()["error"]
    # A reset without a tenant forgets the team's own tenants.
    reset = await client.post("/_emulator/reset", headers=token(SHOP))
    assert reset.status_code == 200 and reset.json()["tenant"] == "shop-prod"
    left = (await client.get("/_emulator/messages", headers=token(ADMIN))).json()["items"]
    assert [m["phone"] for m in left] == ["+46701234502"]


async def test_notices_reach_the_viewers_of_their_tenant_only() -> None:
    notices = Notices()
    shop, everyone = notices.watch(frozenset({SHOP_KEY})), notices.watch()
    notices.publish("message", "generic", "bot", "+46701234501", "m1", BANK_KEY)
    notices.publish("message", "generic", "bot", "+46701234502", "m2", SHOP_KEY)
    assert [n["message_id"] for n in await shop.take()] == ["m2"]
    assert [n["message_id"] for n in await everyone.take()] == ["m1", "m2"]
    notices.publish("reset")  # (of every tenant: every viewer redraws)
    assert [n["kind"] for n in await shop.take()] == ["reset"]


def test_teams_need_an_admin_token_and_tokens_of_their_own() -> None:
    team = {"name": "shop", "token": SHOP, "tenants": [SHOP_KEY]}
    with pytest.raises(ConfigError, match="teams need an admin: set control_token too"):
        Config(teams=[team])
    with pytest.raises(ConfigError, match="each team needs a name and a token of its own"):
        Config(control_token=SHOP, teams=[team])
    assert json.loads(Config(control_token=ADMIN, teams=[team]).model_dump_json())["teams"]
