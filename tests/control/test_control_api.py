"""The control API: paging and filters, faults, seed, tenants, surprises, OpenAPI."""

from __future__ import annotations

import time

import httpx
import pytest

import emulator
from emulator import Config
from tests.conftest import GENERIC_AUTH, SERWERSMS_AUTH, advance, open_client

pytestmark = pytest.mark.anyio

MESSAGE = "/Rcs/api/v1/Message"


def body(phone: str = "+46701234567", agent: str = "a") -> dict:
    return {"agentId": agent, "number": [phone], "messageType": "Text", "text": "hi"}


async def test_health(client):
    health = (await client.get("/_emulator/health")).json()
    assert health["status"] == "ok" and health["messages"] == 0
    assert health["clock"]["mode"] == "manual" and health["scenario"] == "default"
    assert health["version"] == emulator.__version__  # which one runs, as --version says it


async def test_messages_paging_and_filters(client):
    for i in range(5):
        await client.post(MESSAGE, json=body(f"+4670123450{i}"), headers=GENERIC_AUTH)
    await client.post(
        "/messages/send_rcs",
        json={"rcs_id": "bot", "phone": "500600700", "message": {"text": "x"}},
        headers=SERWERSMS_AUTH,
    )
    everything = (await client.get("/_emulator/messages")).json()
    assert everything["total"] == 6
    page = (await client.get("/_emulator/messages", params={"limit": 2, "offset": 1})).json()
    assert page["total"] == 6 and page["items"] == everything["items"][1:3]
    generic = (await client.get("/_emulator/messages", params={"provider": "generic"})).json()
    assert generic["total"] == 5
    one = (await client.get("/_emulator/messages", params={"phone": "46701234502"})).json()
    assert [m["phone"] for m in one["items"]] == ["+46701234502"]
    sent = (await client.get("/_emulator/messages", params={"status": "sent"})).json()
    assert sent["total"] == 6
    by_agent = await client.get(
        "/_emulator/messages", params={"agent": "bot", "provider": "serwersms"}
    )
    assert by_agent.json()["total"] == 1
    by_id = await client.get(f"/_emulator/messages/{one['items'][0]['id']}")
    assert by_id.json()["phone"] == "+46701234502"
    assert (await client.get("/_emulator/messages/nope")).status_code == 404
    for bad in (
        {"limit": "0"},
        {"offset": "-1"},
        {"status": "lost"},
        {"provider": "x"},
        {"phone": "abc"},
    ):
        response = await client.get("/_emulator/messages", params=bad)
        assert response.status_code in (400, 404) and "error" in response.json()


async def test_bad_control_input_is_400(client):
    cases = [
        ("post", "/_emulator/clock/advance", {"seconds": -1}),
        ("post", "/_emulator/clock/advance", {"seconds": "soon"}),
        ("post", "/_emulator/clock/advance", {}),
        ("put", "/_emulator/phones/+46701234567", {"rcs_capable": "yes"}),
        ("put", "/_emulator/agents/generic/a", {"webhook_url": 5}),
        ("post", "/_emulator/inbound", {"provider": "generic"}),
        ("post", "/_emulator/seed", {"seed": "x"}),
    ]
    for method, path, payload in cases:
        response = await client.request(method, path, json=payload)
        assert response.status_code == 400, (path, payload, response.text)
        assert response.json()["error"]
    raw = await client.post(
        "/_emulator/clock/advance",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert raw.status_code == 400
    assert (await client.put("/_emulator/agents/nobody/a", json={})).status_code == 404


async def test_status_faults_answer_with_the_providers_own_body(client):
    added = await client.post(
        "/_emulator/faults", json={"path": MESSAGE, "status": 503, "count": 2}
    )
    assert added.status_code == 201
    for _ in range(2):
        response = await client.post(MESSAGE, json=body(), headers=GENERIC_AUTH)
        assert response.status_code == 503
        assert response.json()["title"] == "Service Unavailable"
    assert (await client.post(MESSAGE, json=body(), headers=GENERIC_AUTH)).status_code == 200
    await client.post("/_emulator/faults", json={"provider": "serwersms", "status": 500})
    failed = await client.post("/messages/send_rcs.json", json={}, headers=SERWERSMS_AUTH)
    assert failed.status_code == 500
    assert failed.json() == {
        "error": {"code": 6315, "type": "RcsError", "message": "Overall error"}
    }
    listed = (await client.get("/_emulator/faults")).json()
    assert [f["hits"] for f in listed["items"]] == [2, 1]
    assert (await client.delete("/_emulator/faults")).status_code == 200
    assert (await client.get("/_emulator/faults")).json()["total"] == 0


async def test_delay_and_drop_faults(client):
    await client.post(
        "/_emulator/faults", json={"provider": "generic", "delay_ms": 300, "count": 1}
    )
    started = time.monotonic()
    assert (await client.post(MESSAGE, json=body(), headers=GENERIC_AUTH)).status_code == 200
    assert time.monotonic() - started >= 0.3
    fault = (await client.post("/_emulator/faults", json={"path": MESSAGE, "drop": True})).json()
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError, Exception)) as caught:
        response = await client.post(MESSAGE, json=body(), headers=GENERIC_AUTH)
        response.json()
    assert "dropped" in str(caught.value).lower() or isinstance(caught.value, httpx.HTTPError)
    assert (await client.delete(f"/_emulator/faults/{fault['id']}")).status_code == 200
    assert (await client.delete(f"/_emulator/faults/{fault['id']}")).status_code == 404
    assert (await client.post(MESSAGE, json=body(), headers=GENERIC_AUTH)).status_code == 200


async def test_rate_limit_fault_is_per_key_and_stateful(client):
    await client.post(
        "/_emulator/faults",
        json={"provider": "generic", "rate_limit": {"requests": 1, "per_seconds": 60}},
    )
    assert (await client.post(MESSAGE, json=body(), headers=GENERIC_AUTH)).status_code == 200
    limited = await client.post(MESSAGE, json=body(), headers=GENERIC_AUTH)
    assert limited.status_code == 429 and limited.headers["retry-after"] == "60"
    other = await client.post(MESSAGE, json=body(), headers={"Authorization": "Bearer other"})
    assert other.status_code == 200
    await advance(client, 60)
    assert (await client.post(MESSAGE, json=body(), headers=GENERIC_AUTH)).status_code == 200


async def test_probabilistic_faults_repeat_with_the_seed(client):
    outcomes = []
    for _ in range(2):
        await client.post("/_emulator/reset")
        await client.post("/_emulator/seed", json={"seed": 7})
        await client.post(
            "/_emulator/faults", json={"provider": "generic", "status": 500, "probability": 0.5}
        )
        statuses = []
        for _ in range(20):
            statuses.append(
                (await client.post(MESSAGE, json=body(), headers=GENERIC_AUTH)).status_code
            )
        outcomes.append(statuses)
    assert outcomes[0] == outcomes[1]
    assert set(outcomes[0]) == {200, 500}


@pytest.mark.parametrize(
    "spec",
    [
        {},
        {"provider": "generic"},
        {"provider": "nope", "status": 500},
        {"path": "x", "status": 1},
        {"path": "/a", "status": 700},
        {"path": "/a", "drop": "yes"},
        {"path": "/a", "colour": 1},
        {"path": "/a", "rate_limit": {"requests": 0, "per_seconds": 1}},
        {"path": "/a", "status": 500, "probability": 2},
    ],
)
async def test_bad_faults_are_refused(client, spec):
    response = await client.post("/_emulator/faults", json=spec)
    assert response.status_code == 400 and response.json()["error"]


async def test_faults_never_touch_the_control_api_and_reset_clears_them(client):
    await client.post("/_emulator/faults", json={"path": "/_emulator/health", "status": 500})
    assert (await client.get("/_emulator/health")).status_code == 200
    await client.post("/_emulator/reset")
    assert (await client.get("/_emulator/faults")).json()["total"] == 0


async def test_seed_makes_ids_repeat(client):
    ids = []
    for _ in range(2):
        await client.post("/_emulator/reset")
        await client.post("/_emulator/seed", json={"seed": 42})
        ids.append((await client.post(MESSAGE, json=body(), headers=GENERIC_AUTH)).json()["tagId"])
    assert ids[0] == ids[1]


async def test_tenants_are_isolated(client, webhook):
    key_a, key_b = {"Authorization": "Bearer tenant-a"}, {"Authorization": "Bearer tenant-b"}
    await client.put(
        "/_emulator/agents/generic/shared", json={"webhook_url": webhook.url, "tenant": "tenant-a"}
    )
    tag_a = (await client.post(MESSAGE, json=body(agent="shared"), headers=key_a)).json()["tagId"]
    tag_b = (await client.post(MESSAGE, json=body(agent="shared"), headers=key_b)).json()["tagId"]
    await advance(client, 60)
    assert {c["json"]["Type"] for c in webhook.calls} == {"DELIVERED", "READ"}
    assert len(webhook.calls) == 2  # only tenant-a's agent has a webhook
    assert (await client.get(f"/Rcs/api/v1/Message/Tag/{tag_b}", headers=key_a)).status_code == 404
    only_a = (await client.get("/_emulator/messages", params={"tenant": "tenant-a"})).json()
    assert only_a["total"] == 1
    hooks_b = (await client.get("/_emulator/webhooks", params={"tenant": "tenant-b"})).json()
    assert hooks_b["total"] == 0
    await client.post("/_emulator/reset", params={"tenant": "tenant-a"})
    assert (await client.get(f"/Rcs/api/v1/Message/Tag/{tag_a}", headers=key_a)).status_code == 404
    assert (await client.get(f"/Rcs/api/v1/Message/Tag/{tag_b}", headers=key_b)).status_code == 200
    assert (await client.get("/_emulator/messages")).json()["total"] == 1


async def test_a_tenants_reset_voids_its_pending_events(client, webhook):
    key = {"Authorization": "Bearer doomed"}
    await client.put("/_emulator/agents/generic/a", json={"webhook_url": webhook.url})
    await client.post(MESSAGE, json=body(), headers=key)
    await client.post("/_emulator/reset", params={"tenant": "doomed"})
    await advance(client, 60)
    assert webhook.calls == []


async def test_surprises_list_refused_requests_and_failed_webhooks(client):
    await client.post(MESSAGE, json={"agentId": "a"}, headers=GENERIC_AUTH)
    await client.post("/messages/send_rcs", json={"rcs_id": "x"}, headers=SERWERSMS_AUTH)
    await client.put("/_emulator/agents/generic/a", json={"webhook_url": "http://127.0.0.1:9/x"})
    await client.post(MESSAGE, json=body(), headers=GENERIC_AUTH)
    await advance(client, 10)
    items = (await client.get("/_emulator/surprises")).json()["items"]
    kinds = [(s["kind"], s["provider"]) for s in items]
    assert kinds[:2] == [("request", "generic"), ("request", "serwersms")]
    assert items[0]["status"] == 400 and '"agentId"' in items[0]["sent"]
    assert items[1]["answer"]["error"]["code"] == 6303
    assert ("webhook", "generic") in kinds
    await client.post("/_emulator/reset")
    assert (await client.get("/_emulator/surprises")).json()["total"] == 0


async def test_openapi_describes_the_control_api(client):
    spec = (await client.get("/_emulator/openapi.json")).json()
    assert spec["openapi"].startswith("3.")
    paths = spec["paths"]
    for path in (
        "/_emulator/health",
        "/_emulator/reset",
        "/_emulator/messages",
        "/_emulator/webhooks",
        "/_emulator/agents/{provider}/{agent_id}",
        "/_emulator/phones/{phone}",
        "/_emulator/scenarios",
        "/_emulator/clock/advance",
        "/_emulator/inbound",
        "/_emulator/faults",
        "/_emulator/seed",
    ):
        assert path in paths, path
    assert set(paths["/_emulator/faults"]) == {"get", "post", "delete"}
    assert paths["/_emulator/health"]["get"]["summary"]


async def test_config_file_and_agents_from_config(mode, redis_url, tmp_path, webhook):
    config_file = tmp_path / "emulator.yaml"
    config_file.write_text(
        "clock: manual\n"
        "agents:\n"
        f"  - {{provider: generic, agent_id: cfg, webhook_url: '{webhook.url}'}}\n"
    )
    config = Config.from_sources(config_file, env={})
    async with open_client(mode, config, redis_url) as client:
        await client.put("/_emulator/agents/generic/cfg", json={"webhook_url": None})
        await client.post("/_emulator/reset")  # settings back to the file's
        agents = (await client.get("/_emulator/agents")).json()["items"]
        assert agents[0]["webhook_url"] == webhook.url


async def test_control_token_guards_the_control_api_but_not_health(mode, redis_url):
    async with open_client(
        mode, Config(clock="manual", control_token="s3cret"), redis_url
    ) as client:
        assert (await client.get("/_emulator/health")).status_code == 200
        assert (await client.get("/_emulator/ready")).json()["ready"] is True  # probes too
        denied = await client.get("/_emulator/messages")
        assert denied.status_code == 401 and "token" in denied.json()["error"]
        assert (
            await client.get("/_emulator/messages", headers={"X-Emulator-Token": "wrong"})
        ).status_code == 401
        ok = await client.get("/_emulator/messages", headers={"X-Emulator-Token": "s3cret"})
        assert ok.status_code == 200
        assert (await client.get("/_emulator/messages?token=s3cret")).status_code == 200
        provider = await client.post(MESSAGE, json=body(), headers=GENERIC_AUTH)
        assert provider.status_code == 200  # provider APIs keep their own credentials


async def test_retention_evicts_the_oldest_and_says_so(mode, redis_url):
    async with open_client(mode, Config(clock="manual", max_messages=5), redis_url) as client:
        tags = []
        for i in range(8):
            response = await client.post(
                MESSAGE, json=body(f"+4673000000{i}"), headers=GENERIC_AUTH
            )
            tags.append(response.json()["tagId"])
        await advance(client, 60)
        listed = (await client.get("/_emulator/messages")).json()
        assert listed["total"] == 5
        assert [m["phone"] for m in listed["items"]] == [f"+4673000000{i}" for i in range(3, 8)]
        gone = await client.get(f"{MESSAGE}/Tag/{tags[0]}", headers=GENERIC_AUTH)
        assert gone.status_code == 404
        kept = await client.get(f"{MESSAGE}/Tag/{tags[-1]}", headers=GENERIC_AUTH)
        assert kept.json()["readRcs"] == 1
        agent = await client.get("/Rcs/api/v1/Message/Agent/a", headers=GENERIC_AUTH)
        assert {e["from"] for e in agent.json() if e["from"] != "Agent"} == {
            f"+4673000000{i}" for i in range(3, 8)
        }
        retention = (await client.get("/_emulator/health")).json()["retention"]
        assert retention == {
            "max_messages": 5,
            "evicted_messages": 3,
            "max_webhook_log": 100000,
            "webhook_log_dropped": 0,
        }
        await client.post("/_emulator/reset")  # forgets evictions with the messages, as drops
        retention = (await client.get("/_emulator/health")).json()["retention"]
        assert retention["evicted_messages"] == 0
