"""Status read-back: messages/reports with its filters and paging, messages/view, error/{code}."""

from __future__ import annotations

import pytest

from tests.conftest import advance

from .helpers import AUTH, error, params, send

pytestmark = pytest.mark.anyio


async def call(client, action, body=None, headers=AUTH):
    response = await client.post(f"/{action}.json", json=body or {}, headers=headers)
    assert response.status_code == 200
    return response.json()


async def test_reports_follow_the_timeline(client):
    sent = await send(client, params(phone=["500600700", "100000003", "100000006"], details=True))
    ids = {i["phone"]: i["id"] for i in sent["items"]}
    report = await call(client, "messages/reports")
    assert report["paging"] == {"page": 1, "count": 1}
    assert {i["status"] for i in report["items"]} == {"sent"}
    await advance(client, 60)
    report = await call(client, "messages/reports")
    by_phone = {i["phone"]: i for i in report["items"]}
    assert by_phone["+48500600700"]["status"] == "displayed"
    assert by_phone["+48100000003"]["status"] == "delivered"
    assert by_phone["+48100000006"]["status"] == "undelivered"
    assert by_phone["+48100000006"]["reason"] == "message_rejected"
    item = by_phone["+48500600700"]
    assert item["id"] == ids["+48500600700"]
    assert item["delivered"] and item["sent"] and item["queued"] and item["displayed"]
    assert item["type"] == "rcs" and item["text"] == "Text example"


async def test_report_filters(client):
    await send(client, params(phone=["500600700", "600700800"], unique_id=["first1", "second2"]))
    await advance(client, 3600)
    await send(client, params(phone="700800900"))  # stays "sent": the clock stands still
    everything = (await call(client, "messages/reports"))["items"]
    assert [i["phone"] for i in everything][0] == "+48700800900"  # newest first
    asc = (await call(client, "messages/reports", {"order": "asc"}))["items"]
    assert asc == list(reversed(everything))
    by_id = await call(client, "messages/reports", {"id": everything[1]["id"]})
    assert [i["id"] for i in by_id["items"]] == [everything[1]["id"]]
    by_ids = await call(client, "messages/reports", {"id": [i["id"] for i in everything[:2]]})
    assert len(by_ids["items"]) == 2
    by_uid = await call(client, "messages/reports", {"unique_id": "second2"})
    assert [i["phone"] for i in by_uid["items"]] == ["+48600700800"]
    by_phone = await call(client, "messages/reports", {"phone": "600700800"})
    assert [i["unique_id"] for i in by_phone["items"]] == ["second2"]
    displayed = await call(client, "messages/reports", {"status": "displayed"})
    assert len(displayed["items"]) == 2
    sent = await call(client, "messages/reports", {"status": "sent"})
    assert [i["phone"] for i in sent["items"]] == ["+48700800900"]
    cutoff = everything[0]["queued"]
    recent = await call(client, "messages/reports", {"date_from": cutoff})
    assert [i["phone"] for i in recent["items"]] == ["+48700800900"]
    older = await call(client, "messages/reports", {"date_to": everything[1]["queued"]})
    assert len(older["items"]) == 2
    paged = await call(client, "messages/reports", {"limit": 2, "page": 2})
    assert paged["paging"] == {"page": 2, "count": 2}
    assert [i["id"] for i in paged["items"]] == [everything[2]["id"]]


async def test_reports_are_per_account(client):
    await send(client, params())
    other = await call(client, "messages/reports", headers={"Authorization": "Bearer other"})
    assert other["items"] == []


async def test_view_by_id_and_unique_id(client):
    sent = await send(client, params(unique_id="mine123", details=True))
    message_id = sent["items"][0]["id"]
    viewed = await call(client, "messages/view", {"id": message_id})
    assert viewed["id"] == message_id and viewed["unique_id"] == "mine123"
    assert (await call(client, "messages/view", {"unique_id": "mine123"}))["id"] == message_id
    assert await call(client, "messages/view", {"id": "0000000000"}) == error(1004)
    assert await call(client, "messages/view", {}) == error(2000)


async def test_scheduled_message_reports_saved(client):
    await send(client, params(date="2099-01-01 10:00:00"))
    report = await call(client, "messages/reports")
    assert report["items"][0]["status"] == "saved"
    pending = await call(client, "messages/reports", {"status": "pending"})
    assert len(pending["items"]) == 1


async def test_error_lookup_and_unknown_actions(client):
    assert await call(client, "error/6309") == error(6309)
    assert (await client.get("/error/1001")).json() == error(1001)
    assert await call(client, "error/9999") == error(2002)
    assert await call(client, "messages/send_pigeon") == error(1000)
    assert (await client.get("/nothing/here.xml")).text.count("<code>1000</code>") == 1


# The general page's codes (beside RCS's 6300-6317), with their types.
GENERAL = {
    1000: "InvalidAction",
    1001: "InvalidUser",
    1002: "InvalidRole",
    1003: "InvalidIP",
    1004: "InvalidID",
    1005: "InvalidRole",
    1006: "InvalidData",
    1007: "InvalidRole",
    1008: "InvalidRole",
    2000: "ValidationRequiredError",
    2001: "ValidationPhoneError",
    2002: "ValidationCodeError",
    **dict.fromkeys(range(3000, 3010), "SendError"),
    3100: "SendError",
    3101: "SendError",
    3102: "SendError",
}


@pytest.mark.parametrize("code", sorted(GENERAL))
async def test_error_lookup_answers_every_general_code(client, code):
    for form in ("", ".json"):
        answer = (await client.get(f"/error/{code}{form}")).json()["error"]
        assert (answer["code"], answer["type"]) == (code, GENERAL[code])
        assert answer["message"]
    xml = (await client.get(f"/error/{code}.xml")).text
    assert f"<code>{code}</code><type>{GENERAL[code]}</type>" in xml
