"""Callbacks as each document gives them, reaching a real local receiver, with each provider's
retry rule, and every attempt visible in /_emulator/webhooks."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from emulator import Config
from tests.conftest import GENERIC_AUTH, SERWERSMS_AUTH, advance, open_client, set_agent

pytestmark = pytest.mark.anyio

AGENT = "hook_agent"
BOT = "c6dyuf34-abYh-oPlo-jusYqPl9IkNs"
DOWN = "http://127.0.0.1:9/webhook"  # nothing listens on the discard port


async def generic_send(client: httpx.AsyncClient, phone: str, **extra: Any) -> str:
    body = {
        "agentId": AGENT,
        "number": [phone],
        "messageType": "TextMessage",
        "text": "Hi",
        "suggestedReplies": [{"text": "Yes please", "postbackData": "yes"}],
    } | extra
    response = await client.post("/Rcs/api/v1/Message", json=body, headers=GENERIC_AUTH)
    assert response.status_code == 200, response.text
    stats = await client.get(
        f"/Rcs/api/v1/Message/Tag/{response.json()['tagId']}", headers=GENERIC_AUTH
    )
    return str(stats.json()["rcs"][0]["messageId"])


async def serwersms_send(client: httpx.AsyncClient, phone: str, **message: Any) -> str:
    message = message or {
        "text": "Hi",
        "suggestions": [
            {
                "action": {
                    "text": "Service",
                    "postback": "my_service",
                    "action": "url",
                    "to": "https://example.pl",
                }
            }
        ],
    }
    body = {"rcs_id": BOT, "phone": phone, "message": message, "details": True}
    response = await client.post("/messages/send_rcs.json", json=body, headers=SERWERSMS_AUTH)
    return str(response.json()["items"][0]["id"])


async def attempts(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    return list((await client.get("/_emulator/webhooks")).json()["items"])


async def test_generic_callbacks_exactly_as_documented(client, webhook):
    await set_agent(client, "generic", AGENT, webhook_url=webhook.url)
    message_id = await generic_send(client, "+46700000004")
    await advance(client, 60)
    payloads = [c["json"] for c in webhook.calls]
    assert [p["Type"] for p in payloads] == ["DELIVERED", "READ", "REPLY"]
    reply = payloads[-1]
    assert list(reply) == [
        "AgentId",
        "MessageId",
        "Time",
        "SenderPhoneNo",
        "PostbackData",
        "Text",
        "Type",
    ]
    assert reply["AgentId"] == AGENT and reply["MessageId"] == message_id
    assert reply["SenderPhoneNo"] == "+46700000004"
    assert (reply["PostbackData"], reply["Text"]) == ("yes", "Yes please")
    assert reply["Time"].endswith("Z") and "T" in reply["Time"]
    assert payloads[0]["PostbackData"] is None and payloads[0]["Text"] is None
    assert all(c["headers"]["content-type"] == "application/json" for c in webhook.calls)


async def test_generic_action_and_typed_text(client, webhook):
    await set_agent(client, "generic", AGENT, webhook_url=webhook.url)
    body = {
        "suggestedReplies": [],
        "suggestedActions": [
            {
                "text": "Track package",
                "postbackData": "trackPackage",
                "viewLocationAction": {"query": "Stockholm"},
            }
        ],
    }
    await generic_send(client, "+46701234567", **body)
    tap = await client.post(
        "/_emulator/inbound",
        json={
            "provider": "generic",
            "agent_id": AGENT,
            "phone": "+46701234567",
            "postback": "trackPackage",
        },
    )
    assert tap.status_code == 200 and tap.json()["event"] == "action"
    typed = await client.post(
        "/_emulator/inbound",
        json={
            "provider": "generic",
            "agent_id": AGENT,
            "phone": "+46701234567",
            "text": "I'd like to track my package",
        },
    )
    assert typed.json()["event"] == "message"
    action, text = webhook.calls[-2]["json"], webhook.calls[-1]["json"]
    assert (action["Type"], action["PostbackData"], action["Text"]) == (
        "ACTION",
        "trackPackage",
        "Track package",
    )
    assert (text["Type"], text["Text"], text["PostbackData"]) == (
        "TEXT",
        "I'd like to track my package",
        None,
    )


async def test_serwersms_notifications_exactly_as_documented(client, webhook):
    await set_agent(client, "serwersms", BOT, webhook_url=webhook.url)
    sms_id = await serwersms_send(client, "+48100000004")
    await advance(client, 60)
    payloads = [c["json"] for c in webhook.calls]
    assert all(isinstance(p, list) and len(p) == 1 for p in payloads)
    delivered, displayed, action = (p[0] for p in payloads)
    assert delivered == {
        "type": "report",
        "status": "delivered",
        "smsid": sms_id,
        "rcs_id": BOT,
        "phone": "+48100000004",
        "date": delivered["date"],
    }
    assert displayed["status"] == "displayed"
    assert list(action) == ["type", "data", "text", "rcs_id", "phone", "msgid", "date"]
    assert action["type"] == "action" and action["data"] == "my_service"
    assert base64.b64decode(action["text"]).decode() == "Service"
    assert len(delivered["date"]) == 19 and delivered["date"][10] == " "


async def test_serwersms_reply_and_typed_message(client, webhook):
    await set_agent(client, "serwersms", BOT, webhook_url=webhook.url)
    await serwersms_send(
        client,
        "+48500600700",
        text="Pick",
        suggestions=[{"reply": {"text": "Usługi", "postback": "uslugi"}}],
    )
    await client.post(
        "/_emulator/inbound",
        json={
            "provider": "serwersms",
            "agent_id": BOT,
            "phone": "+48500600700",
            "postback": "uslugi",
        },
    )
    await client.post(
        "/_emulator/inbound",
        json={
            "provider": "serwersms",
            "agent_id": BOT,
            "phone": "+48500600700",
            "text": "Text message",
        },
    )
    reply, typed = webhook.calls[-2]["json"][0], webhook.calls[-1]["json"][0]
    assert reply["type"] == "reply" and reply["data"] == "uslugi"
    assert base64.b64decode(reply["text"]).decode() == "Usługi"
    assert typed["type"] == "message" and typed["text"] == "VGV4dCBtZXNzYWdl"
    assert list(typed) == ["type", "text", "rcs_id", "phone", "msgid", "date"]
    assert typed["msgid"] != reply["msgid"]


async def test_serwersms_answer_tag_retries_every_30_minutes_5_times(client, webhook):
    await set_agent(client, "serwersms", BOT, webhook_url=webhook.url, answer_tag="RCS-ACK")
    await serwersms_send(client, "+48100000003")  # delivered after 2 s, never read
    await advance(client, 2)
    [delivery] = await attempts(client)
    assert delivery["state"] == "retrying" and len(delivery["attempts"]) == 1
    await advance(client, 30 * 60 - 1)
    assert len((await attempts(client))[0]["attempts"]) == 1
    await advance(client, 1)
    assert len((await attempts(client))[0]["attempts"]) == 2
    await advance(client, 3 * 30 * 60)
    [delivery] = await attempts(client)
    assert delivery["state"] == "failed" and len(delivery["attempts"]) == 5
    times = [a["time"] for a in delivery["attempts"]]
    assert len(set(times)) == 5
    await advance(client, 24 * 3600)
    assert len((await attempts(client))[0]["attempts"]) == 5
    assert len(webhook.calls) == 5


async def test_serwersms_answer_tag_in_the_body_counts(client, webhook):
    await set_agent(client, "serwersms", BOT, webhook_url=webhook.url, answer_tag="RCS-ACK")
    webhook.answer(200, "ok RCS-ACK ok")
    await serwersms_send(client, "+48100000003")
    await advance(client, 2)
    [delivery] = await attempts(client)
    assert delivery["state"] == "delivered" and len(delivery["attempts"]) == 1
    assert delivery["attempts"][0]["body"] == "ok RCS-ACK ok"


async def test_serwersms_without_tag_retries_failures_only(client, webhook):
    await set_agent(client, "serwersms", BOT, webhook_url=webhook.url)
    webhook.answer(500, "boom")
    await serwersms_send(client, "+48100000003")
    await advance(client, 2)
    assert (await attempts(client))[0]["attempts"][0]["status"] == 500
    await advance(client, 30 * 60)
    [delivery] = await attempts(client)
    assert delivery["state"] == "delivered"
    assert [a["status"] for a in delivery["attempts"]] == [500, 200]


async def test_generic_retry_rule(client, webhook):
    await set_agent(client, "generic", AGENT, webhook_url=webhook.url)
    webhook.answer(503, "busy", times=2)
    await generic_send(client, "+46700000003")
    await advance(client, 2)
    await advance(client, 10)
    await advance(client, 60)
    [delivery] = await attempts(client)
    assert [a["status"] for a in delivery["attempts"]] == [503, 503, 200]
    assert delivery["state"] == "delivered"


async def test_receiver_that_is_down_keeps_deliveries_visible_and_retried(client):
    await set_agent(client, "generic", AGENT, webhook_url=DOWN)
    await generic_send(client, "+46700000003")
    await advance(client, 2)
    [delivery] = await attempts(client)
    assert delivery["state"] == "retrying"
    assert delivery["attempts"][0]["status"] is None
    assert "ConnectError" in delivery["attempts"][0]["error"]
    health = (await client.get("/_emulator/health")).json()
    assert health["webhooks"]["retrying"] == 1
    await advance(client, 10 + 60 + 300 + 1800)
    [delivery] = await attempts(client)
    assert delivery["state"] == "failed" and len(delivery["attempts"]) == 5


async def test_hanging_receiver_times_out_and_the_emulator_keeps_serving(mode, redis_url, webhook):
    config = Config(clock="manual", webhook_timeout=0.3)
    async with open_client(mode, config, redis_url) as client:
        await set_agent(client, "generic", AGENT, webhook_url=webhook.url)
        webhook.answer(200, "late", delay=2.0)
        await generic_send(client, "+46700000003")
        await advance(client, 2)
        [delivery] = await attempts(client)
        assert "Timeout" in delivery["attempts"][0]["error"]
        assert (await client.get("/_emulator/health")).status_code == 200


async def test_default_webhook_url_from_config(mode, redis_url, webhook):
    async with open_client(
        mode, Config(clock="manual", webhook_url=webhook.url), redis_url
    ) as client:
        await generic_send(client, "+46700000003")
        await advance(client, 5)
        assert webhook.wait(lambda calls: len(calls) == 1, timeout=5)[0]["json"]["Type"] == (
            "DELIVERED"
        )


async def test_a_tap_needs_a_message_to_tap_on(client):
    response = await client.post(
        "/_emulator/inbound",
        json={
            "provider": "generic",
            "agent_id": "nobody",
            "phone": "+46701234567",
            "postback": "yes",
        },
    )
    assert response.status_code == 409
    assert response.json()["error"] == (
        "generic agent nobody has sent nothing to +46701234567: there is no suggestion to tap "
        "(a phone may write first, with text)"
    )
    await generic_send(client, "+46701234567")
    bad_postback = await client.post(
        "/_emulator/inbound",
        json={
            "provider": "generic",
            "agent_id": AGENT,
            "phone": "+46701234567",
            "postback": "nope",
        },
    )
    assert bad_postback.status_code == 409
    both = await client.post(
        "/_emulator/inbound",
        json={
            "provider": "generic",
            "agent_id": AGENT,
            "phone": "+46701234567",
            "postback": "yes",
            "text": "x",
        },
    )
    assert both.status_code == 400


async def test_inbound_can_act_on_an_earlier_message(client, webhook):
    await set_agent(client, "generic", AGENT, webhook_url=webhook.url)
    first = await generic_send(client, "+46701234567")  # its chip: "Yes please" / yes
    latest = await generic_send(
        client, "+46701234567", suggestedReplies=[{"text": "Other", "postbackData": "other"}]
    )
    inbound = {"provider": "generic", "agent_id": AGENT, "phone": "+46701234567"}
    on_latest = await client.post("/_emulator/inbound", json=inbound | {"postback": "yes"})
    assert on_latest.status_code == 409  # the newest message has no such chip
    tap = await client.post(
        "/_emulator/inbound", json=inbound | {"postback": "yes", "message_id": first}
    )
    assert tap.status_code == 200 and tap.json()["message_id"] == first
    callback = webhook.wait()[-1]["json"]
    assert (callback["MessageId"], callback["PostbackData"]) == (first, "yes")
    assert latest != first
    # The message must be this agent's, to this phone.
    for wrong in (
        {"message_id": "no-such-id"},
        {"message_id": first, "phone": "+46709999999"},
        {"message_id": first, "agent_id": "someone_else"},
    ):
        refused = await client.post("/_emulator/inbound", json=inbound | {"text": "hi"} | wrong)
        assert refused.status_code == 409
        assert "sent no message" in refused.json()["error"]


async def test_inbound_acts_on_what_the_phone_has_received_not_on_a_scheduled_message(client):
    sent = await serwersms_send(client, "+48500600700")  # its chip: my_service
    body = {
        "rcs_id": BOT,
        "phone": "+48500600700",
        "date": "2099-01-01 10:00:00",
        "message": {"text": "Later", "suggestions": [{"reply": {"text": "Hi", "postback": "hi"}}]},
    }
    response = await client.post("/messages/send_rcs.json", json=body, headers=SERWERSMS_AUTH)
    assert response.json()["success"] is True
    inbound = {"provider": "serwersms", "agent_id": BOT, "phone": "+48500600700"}
    tap = await client.post("/_emulator/inbound", json=inbound | {"postback": "my_service"})
    assert tap.status_code == 200
    assert tap.json()["message_id"] == sent
    not_yet = await client.post("/_emulator/inbound", json=inbound | {"postback": "hi"})
    assert not_yet.status_code == 409
