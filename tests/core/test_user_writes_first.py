"""A phone that writes first: RCS lets a person open a thread with a business that has sent them
nothing. The agent gets the callback its provider sends for a typed message; the thread is an
ordinary conversation of that phone (a record of kind "user" holds the phone's own message)."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from tests.conftest import GENERIC_AUTH, GENERIC_KEY, SERWERSMS_AUTH, set_agent

pytestmark = pytest.mark.anyio

AGENT = "first_agent"
BOT = "first-bot"
PHONE = "+46701234567"
PL_PHONE = "+48500600700"


async def inbound(client: httpx.AsyncClient, status: int = 200, **body: Any) -> dict[str, Any]:
    response = await client.post("/_emulator/inbound", json=body)
    assert response.status_code == status, response.text
    return dict(response.json())


async def messages(client: httpx.AsyncClient, **query: Any) -> list[dict[str, Any]]:
    response = await client.get("/_emulator/messages", params=query)
    assert response.status_code == 200
    return list(response.json()["items"])


async def test_generic_agent_gets_a_text_callback_naming_the_users_message(client, webhook):
    await set_agent(client, "generic", AGENT, webhook_url=webhook.url)
    opened = await inbound(
        client, provider="generic", agent_id=AGENT, phone=PHONE, text="hi", tenant=GENERIC_KEY
    )
    assert opened["event"] == "message"
    [call] = webhook.wait(lambda calls: len(calls) == 1)
    payload = call["json"]
    assert payload["Type"] == "TEXT" and payload["Text"] == "hi"
    assert payload["AgentId"] == AGENT and payload["SenderPhoneNo"] == PHONE
    assert payload["PostbackData"] is None
    assert payload["MessageId"] == opened["message_id"]  # the user's own message, by its id
    [record] = await messages(client, phone=PHONE)
    assert record["id"] == opened["message_id"] and record["kind"] == "user"
    assert record["tenant"] == GENERIC_KEY and record["text"] == "hi"
    assert [(e["type"], e["inbound"], e["text"]) for e in record["events"]] == [
        ("message", True, "hi")
    ]  # (no sent event, no receipts: nothing was sent)
    assert record["can_answer"] is True
    # The agent's own listing shows the incoming text, as it shows replies.
    listed = await client.get(f"/Rcs/api/v1/Message/Agent/{AGENT}", headers=GENERIC_AUTH)
    assert listed.status_code == 200
    [item] = listed.json()
    assert (item["messageType"], item["from"], item["response"]) == ("TEXT", PHONE, "hi")
    assert item["messageId"] == opened["message_id"]


async def test_serwersms_bot_gets_a_message_notification(client, webhook):
    await set_agent(client, "serwersms", BOT, webhook_url=webhook.url)
    await inbound(
        client,
        provider="serwersms",
        agent_id=BOT,
        phone=PL_PHONE,
        text="Dzień dobry",
        tenant="test-token",
    )
    [call] = webhook.wait(lambda calls: len(calls) == 1)
    [notice] = call["json"]
    assert notice["type"] == "message" and notice["rcs_id"] == BOT
    assert notice["phone"] == PL_PHONE
    assert base64.b64decode(notice["text"]).decode() == "Dzień dobry"
    assert notice["msgid"] and "smsid" not in notice
    # Reports list what the bot sent, never the phone's own message: by date, phone and id.
    reports = await client.post("/messages/reports.json", headers=SERWERSMS_AUTH, json={})
    assert reports.json()["items"] == []
    by_phone = await client.post(
        "/messages/reports.json", headers=SERWERSMS_AUTH, json={"phone": PL_PHONE}
    )
    assert by_phone.json()["items"] == []
    [record] = await messages(client, phone=PL_PHONE)
    view = await client.post(
        "/messages/view.json", headers=SERWERSMS_AUTH, json={"id": record["id"]}
    )
    assert view.json()["error"]["code"] == 1004
    # Once the bot has sent something, reports list it alone (the index view is not used).
    sent = await client.post(
        "/messages/send_rcs.json",
        headers=SERWERSMS_AUTH,
        json={"rcs_id": BOT, "phone": PL_PHONE, "message": {"text": "Witamy"}},
    )
    assert sent.json()["queued"] == 1
    reports = await client.post("/messages/reports.json", headers=SERWERSMS_AUTH, json={})
    assert [i["text"] for i in reports.json()["items"]] == ["Witamy"]


async def test_more_texts_join_the_thread_until_the_agent_answers(client, webhook):
    await set_agent(client, "generic", AGENT, webhook_url=webhook.url)
    first = await inbound(client, provider="generic", agent_id=AGENT, phone=PHONE, text="hi")
    second = await inbound(client, provider="generic", agent_id=AGENT, phone=PHONE, text="anyone?")
    assert second["message_id"] == first["message_id"]
    calls = webhook.wait(lambda calls: len(calls) == 2)
    assert [c["json"]["Text"] for c in calls] == ["hi", "anyone?"]
    assert {c["json"]["MessageId"] for c in calls} == {first["message_id"]}
    sent = await client.post(
        "/Rcs/api/v1/Message",
        headers=GENERIC_AUTH,
        json={"agentId": AGENT, "number": [PHONE], "messageType": "TextMessage", "text": "Hello!"},
    )
    assert sent.status_code == 200
    # Now the phone answers the agent's message, which says delivered and read first.
    third = await inbound(client, provider="generic", agent_id=AGENT, phone=PHONE, text="thanks")
    assert third["message_id"] != first["message_id"]
    calls = webhook.wait(lambda calls: len(calls) == 5)
    assert [c["json"]["Type"] for c in calls[2:]] == ["DELIVERED", "READ", "TEXT"]
    assert calls[-1]["json"]["MessageId"] == third["message_id"]
    kinds = [m["kind"] for m in await messages(client, phone=PHONE)]
    assert kinds == ["user", "text"]


async def test_where_the_thread_lives(client):
    await inbound(client, provider="generic", agent_id="no_tenant", phone=PHONE, text="a")
    await set_agent(client, "generic", "one_tenant", tenant="acme-key", name="Acme")
    await inbound(client, provider="generic", agent_id="one_tenant", phone=PHONE, text="b")
    await inbound(
        client, provider="generic", agent_id="given", phone=PHONE, text="c", tenant="given-key"
    )
    tenants = {m["agent_id"]: m["tenant"] for m in await messages(client, phone=PHONE)}
    assert tenants == {
        "no_tenant": "default",
        "one_tenant": "acme-key",
        "given": "given-key",
    }
    # A tenant's reset forgets its threads.
    reset = await client.post("/_emulator/reset", params={"tenant": "given-key"})
    assert reset.status_code == 200
    assert {m["agent_id"] for m in await messages(client, phone=PHONE)} == {
        "no_tenant",
        "one_tenant",
    }


async def test_a_phone_without_rcs_cannot_write_and_nothing_is_kept(client):
    answer = await inbound(
        client, 409, provider="generic", agent_id=AGENT, phone="+46700000001", text="hi"
    )
    assert answer == {"error": "+46700000001 has no RCS capability: it cannot write over RCS"}
    assert await messages(client, phone="+46700000001") == []


async def test_a_tap_on_the_users_own_message_is_refused(client):
    opened = await inbound(client, provider="generic", agent_id=AGENT, phone=PHONE, text="hi")
    answer = await inbound(
        client,
        409,
        provider="generic",
        agent_id=AGENT,
        phone=PHONE,
        postback="yes",
        message_id=opened["message_id"],
    )
    assert answer == {
        "error": f"message {opened['message_id']} has no suggestion with that postback"
    }


async def test_the_inbound_body_refuses_an_unknown_field(client):
    answer = await inbound(
        client, 400, provider="generic", agent_id=AGENT, phone=PHONE, text="hi", tenat="x"
    )
    assert answer == {"error": "unknown field 'tenat' (did you mean 'tenant'?)", "field": "tenat"}
