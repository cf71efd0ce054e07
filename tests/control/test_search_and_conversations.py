"""What the inbox asks the server since v3: search (`q=`, every word must appear) on messages and
webhook deliveries, and the conversations with how many messages each holds."""

from __future__ import annotations

import pytest

from tests.conftest import GENERIC_AUTH, SERWERSMS_AUTH, advance, set_agent

pytestmark = pytest.mark.anyio

MESSAGE = "/Rcs/api/v1/Message"


async def send(client, phone: str, text: str, agent: str = "shop") -> str:
    body = {"agentId": agent, "number": [phone], "messageType": "Text", "text": text}
    response = await client.post(MESSAGE, json=body, headers=GENERIC_AUTH)
    response.raise_for_status()
    return str(response.json()["tagId"])


async def found(client, path: str, **params) -> list[dict]:
    response = await client.get(path, params=params)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def test_search_finds_messages_by_every_word_in_any_field(client):
    await set_agent(client, "generic", "shop", name="Acme Shop")
    await send(client, "+46701000001", "The blue parcel is on its way")
    await send(client, "+46701000002", "The red parcel is on its way")
    await send(client, "+46701000002", "Blue skies", agent="weather")
    sent = await client.post(
        "/messages/send_rcs",
        json={"rcs_id": "bot", "phone": "500600700", "message": {"text": "Paczka"}},
        headers=SERWERSMS_AUTH,
    )
    assert sent.status_code == 200

    def texts(items: list[dict]) -> list[str]:
        return [m["text"] for m in items]

    messages = "/_emulator/messages"
    assert texts(await found(client, messages, q="BLUE parcel")) == [
        "The blue parcel is on its way"
    ]
    assert texts(await found(client, messages, q="blue")) == [
        "The blue parcel is on its way",
        "Blue skies",
    ]
    # Phone (any part), agent id and name, provider name and title, message id.
    assert texts(await found(client, messages, q="000002 parcel")) == [
        "The red parcel is on its way"
    ]
    assert texts(await found(client, messages, q="acme blue")) == ["The blue parcel is on its way"]
    assert texts(await found(client, messages, q="weather")) == ["Blue skies"]
    assert texts(await found(client, messages, q="serwersms.pl")) == ["Paczka"]
    one = (await found(client, messages, q="red"))[0]
    assert texts(await found(client, messages, q=one["id"][:13])) == [
        "The red parcel is on its way"
    ]
    assert await found(client, messages, q="blue green") == []
    # What the user typed back is searched too; totals count the matches.
    answer = {
        "provider": "generic",
        "agent_id": "weather",
        "phone": "+46701000002",
        "text": "Sunny tomorrow?",
    }
    assert (await client.post("/_emulator/inbound", json=answer)).status_code == 200
    response = (await client.get(messages, params={"q": "sunny", "limit": 1})).json()
    assert response["total"] == 1 and response["items"][0]["text"] == "Blue skies"
    # An empty search is no filter; the other filters still apply.
    assert len(await found(client, messages, q="", provider="generic")) == 3


async def test_search_finds_webhook_deliveries(client, webhook):
    await set_agent(client, "generic", "shop", webhook_url=webhook.url + "/hook")
    first = await send(client, "+46701000003", "One")
    await send(client, "+46701000004", "Two")
    await advance(client, 60)
    deliveries = "/_emulator/webhooks"
    assert len(await found(client, deliveries)) == 4
    to_three = await found(client, deliveries, q="+46701000003 read")
    assert [(d["phone"], d["event"]) for d in to_three] == [("+46701000003", "read")]
    messages = await found(client, "/_emulator/messages", phone="+46701000003")
    assert messages[0]["id"] and first
    by_message = await found(client, deliveries, q=messages[0]["id"])
    assert {d["message_id"] for d in by_message} == {messages[0]["id"]}
    assert len(by_message) == 2
    assert len(await found(client, deliveries, q="generic /hook")) == 4
    assert await found(client, deliveries, q="nothing-like-this") == []


async def test_a_search_too_long_or_an_unknown_filter_is_refused(client):
    response = await client.get("/_emulator/messages", params={"q": "x" * 501})
    assert response.status_code == 400
    assert response.json()["field"] == "q"
    assert "at most 500 characters" in response.json()["error"]
    response = await client.get("/_emulator/conversations", params={"q": "x"})
    assert response.status_code == 400
    assert response.json() == {
        "error": "unknown filter 'q' (this one takes: limit, offset, "
        "provider, agent, phone, tenant)",
        "field": "q",
    }


async def test_conversations_count_their_messages_newest_last(client):
    await set_agent(client, "generic", "shop", name="Acme Shop")
    for text in ("one", "two", "three"):
        await send(client, "+46701000005", text)
    await send(client, "+46701000006", "other phone")
    last = await send(client, "+46701000005", "four", agent="other")
    await send(client, "+46701000006", "newest")
    conversations = (await client.get("/_emulator/conversations")).json()
    assert conversations["total"] == 3
    shown = [(c["agent_id"], c["phone"], c["messages"]) for c in conversations["items"]]
    assert shown == [
        ("shop", "+46701000005", 3),
        ("other", "+46701000005", 1),
        ("shop", "+46701000006", 2),
    ]
    first = conversations["items"][0]
    assert first["agent_name"] == "Acme Shop" and first["provider"] == "generic"
    newest = await found(client, "/_emulator/messages", phone="+46701000006")
    assert conversations["items"][2]["latest_id"] == newest[-1]["id"]
    assert conversations["items"][2]["latest"] == newest[-1]["created"]
    assert last
    only = await found(client, "/_emulator/conversations", phone="+46701000006", agent="shop")
    assert [c["messages"] for c in only] == [2]
    page = (await client.get("/_emulator/conversations", params={"limit": 1, "offset": 2})).json()
    assert page["total"] == 3 and [c["phone"] for c in page["items"]] == ["+46701000006"]
