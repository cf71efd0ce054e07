"""Tag statistics, message events, agent messages and capability, as events happen."""

from __future__ import annotations

import pytest

from tests.conftest import advance

from .helpers import AGENT, AUTH, BASE, reply, text_message

pytestmark = pytest.mark.anyio


async def send(client, body):
    response = await client.post(f"{BASE}/Message", json=body, headers=AUTH)
    assert response.status_code == 200, response.text
    return response.json()["tagId"]


async def ids_by_phone(client, tag):
    stats = (await client.get(f"{BASE}/Message/Tag/{tag}", headers=AUTH)).json()
    return {r["number"]: r["messageId"] for r in stats["rcs"] + stats["sms"]}


async def test_tag_statistics_follow_the_timeline(client):
    numbers = ["+46701234567", "+46700000003", "+46700000004", "+46700000001"]
    body = text_message(number=numbers, suggestedReplies=[reply()], smsFallbackText="sms")
    tag = await send(client, body)
    stats = (await client.get(f"{BASE}/Message/Tag/{tag}", headers=AUTH)).json()
    assert stats["totalNumberMessages"] == 4
    assert (stats["rcsNumbers"], stats["smsNumbers"]) == (3, 1)
    assert (stats["deliveredRcs"], stats["readRcs"], stats["repliedRcs"]) == (0, 0, 0)
    await advance(client, 60)
    stats = (await client.get(f"{BASE}/Message/Tag/{tag}", headers=AUTH)).json()
    # default number: delivered+read; ...03 delivered only; ...04 read and tapped; ...01 SMS
    assert stats["deliveredRcs"] == 3
    assert stats["readRcs"] == 2
    assert stats["repliedRcs"] == 1
    assert stats["deliveredSms"] == 1
    assert list(stats) == [
        "totalNumberMessages",
        "smsNumbers",
        "rcsNumbers",
        "deliveredSms",
        "deliveredRcs",
        "readRcs",
        "repliedRcs",
        "rcs",
        "sms",
    ]


async def test_message_events_newest_first(client):
    tag = await send(client, text_message(number=["+46700000004"], suggestedReplies=[reply()]))
    message_id = (await ids_by_phone(client, tag))["+46700000004"]
    await advance(client, 60)
    thread = (await client.get(f"{BASE}/Message/{message_id}", headers=AUTH)).json()
    assert [e["messageType"] for e in thread] == ["REPLY", "READ", "DELIVERED", "TextMessage"]
    assert thread[0] == {
        "from": "+46700000004",
        "to": "Agent",
        "time": thread[0]["time"],
        "messageType": "REPLY",
        "reply": "Yes",
    }
    assert thread[-1]["from"] == "Agent" and thread[-1]["to"] == "+46700000004"
    times = [e["time"] for e in thread]
    assert times == sorted(times, reverse=True)
    assert all(len(t) == 19 and t[10] == "T" for t in times)  # 2025-05-05T11:35:07


async def test_sms_message_has_the_sms_shape(client):
    tag = await send(client, text_message(number=["+46700000001"], smsFallbackText="fallback"))
    message_id = (await ids_by_phone(client, tag))["+46700000001"]
    await advance(client, 10)
    thread = (await client.get(f"{BASE}/Message/{message_id}", headers=AUTH)).json()
    assert len(thread) == 1
    assert thread[0]["messageType"] == "SMS"
    assert thread[0]["status"] == "delivered"
    assert thread[0]["to"] == "46700000001"
    assert set(thread[0]) == {"from", "to", "time", "messageType", "status"}


async def test_unknown_tag_or_message_is_404(client):
    for path in (
        "Message/Tag/deadc0de-2bad-c4fe-feed-beefca1ff001",
        "Message/deadc0de-2bad-c4fe-feed-beefca1ff001",
        "Message/not-a-guid",
        "Message/Tag/not-a-guid",
    ):
        response = await client.get(f"{BASE}/{path}", headers=AUTH)
        assert response.status_code == 404, path
        assert response.json()["status"] == 404


async def test_another_key_does_not_see_the_tag(client):
    tag = await send(client, text_message())
    other = {"Authorization": "Bearer another-key"}
    assert (await client.get(f"{BASE}/Message/Tag/{tag}", headers=other)).status_code == 404
    listing = await client.get(f"{BASE}/Message/Agent/{AGENT}", headers=other)
    assert listing.json() == []


async def test_agent_messages_filters(client):
    await send(client, text_message(number=["+46701234567", "+46702345678"]))
    start = (await client.get("/_emulator/clock")).json()["now"]
    await advance(client, 3600)
    await send(client, text_message(number=["+46701234567"], text="later"))
    await advance(client, 60)
    url = f"{BASE}/Message/Agent/{AGENT}"
    everything = (await client.get(url, headers=AUTH)).json()
    assert len(everything) == 9  # 3 sent + 3 delivered + 3 read
    assert everything[0]["time"] >= everything[-1]["time"]
    assert set(everything[0]) >= {"agentId", "time", "messageId", "messageType", "to", "from"}
    limited = (await client.get(url, params={"limit": 2}, headers=AUTH)).json()
    assert limited == everything[:2]
    for padded in (" 2 ", "2\x1f", "2\t"):  # what str.strip() removes, int() must not see
        answer = await client.get(url, params={"limit": padded}, headers=AUTH)
        assert answer.status_code == 200 and answer.json() == everything[:2], padded
    for phone in ("46702345678", "+46702345678"):
        only = (await client.get(url, params={"phoneNumber": phone}, headers=AUTH)).json()
        assert len(only) == 3
        assert {e["from"] for e in only if e["messageType"] != "TextMessage"} == {"+46702345678"}
    early = (await client.get(url, params={"endTime": start}, headers=AUTH)).json()
    assert len(early) == 2 and {e["messageType"] for e in early} == {"TextMessage"}
    late = (
        await client.get(url, params={"startTime": everything[2]["time"] + "Z"}, headers=AUTH)
    ).json()
    assert {e["messageId"] for e in late} == {everything[0]["messageId"]}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "ten"}, "limit"),
        ({"limit": "-1"}, "limit"),
        ({"startTime": "yesterday"}, "startTime"),
        ({"endTime": "2024-13-01"}, "endTime"),
        ({"phoneNumber": "abc"}, "phoneNumber"),
    ],
)
async def test_agent_messages_bad_filters_are_400(client, params, field):
    response = await client.get(f"{BASE}/Message/Agent/{AGENT}", params=params, headers=AUTH)
    assert response.status_code == 400
    assert field in response.json()["errors"]


async def test_user_reply_through_control_api_shows_in_reads(client):
    tag = await send(client, text_message(suggestedReplies=[reply("Sure", "sure")]))
    response = await client.post(
        "/_emulator/inbound",
        json={
            "provider": "generic",
            "agent_id": AGENT,
            "phone": "+46701234567",
            "postback": "sure",
        },
    )
    assert response.status_code == 200
    stats = (await client.get(f"{BASE}/Message/Tag/{tag}", headers=AUTH)).json()
    assert stats["repliedRcs"] == 1
    listing = (await client.get(f"{BASE}/Message/Agent/{AGENT}", headers=AUTH)).json()
    assert listing[0]["messageType"] == "REPLY"
    assert listing[0]["postbackData"] == "sure" and listing[0]["response"] == "Sure"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('{"+46701234567"}', True),
        ('{\n  "+46701234567"\n }', True),
        ('"+46701234567"', True),
        ("+46701234567", True),
        ("46701234567", True),
        ('{"+46700000001"}', False),
    ],
)
async def test_capability_reads_the_number_in_any_documented_form(client, body, expected):
    response = await client.request(
        "GET",
        f"{BASE}/Capability/{AGENT}",
        content=body,
        headers={**AUTH, "Content-Type": "application/json"},
    )
    assert response.status_code == 200
    assert response.json() is expected
    assert response.text == ("true" if expected else "false")


async def test_capability_follows_phone_settings(client):
    await client.put("/_emulator/phones/+46705550000", json={"rcs_capable": False})
    response = await client.request(
        "GET", f"{BASE}/Capability/{AGENT}", content='"+46705550000"', headers=AUTH
    )
    assert response.json() is False


@pytest.mark.parametrize("body", ["", "{}", '{"phone"}', '"0701"', "not a number"])
async def test_capability_without_a_valid_number_is_400(client, body):
    response = await client.request("GET", f"{BASE}/Capability/{AGENT}", content=body, headers=AUTH)
    assert response.status_code == 400
    assert response.json()["title"] == "One or more validation errors occurred."
