"""messages/send_rcs: encodings, structures, phone handling, unique_id, groups, dates."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from urllib.parse import urlencode

import pytest

from emulator import Config
from emulator.labels import fingerprint
from tests.conftest import advance, open_client

from .helpers import AUTH, BOT, card, error, media, params, send

pytestmark = pytest.mark.anyio


async def stored(client, **filters):
    response = await client.get("/_emulator/messages", params={"provider": "serwersms", **filters})
    return response.json()["items"]


async def test_text_message_answers_as_documented(client):
    assert await send(client, params()) == {"success": True, "queued": 1, "unsent": 0}
    [message] = await stored(client)
    assert message["agent_id"] == BOT and message["phone"] == "+48500600700"
    assert re.fullmatch(r"[0-9a-f]{10}", message["id"])


@pytest.mark.parametrize("path", ["/messages/send_rcs", "/messages/send_rcs.json"])
async def test_details_lists_items(client, path):
    body = await send(client, params(details=True, phone=["500600700", "+48600700800"]), path)
    assert body["success"] is True and (body["queued"], body["unsent"]) == (2, 0)
    first = body["items"][0]
    assert list(first) == ["id", "phone", "status", "queued", "text"]
    assert first["phone"] == "+48500600700"
    assert first["status"] == "queued"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", first["queued"])
    assert first["text"] == "Text example"


@pytest.mark.parametrize("flag", [True, "true", "1", 1])
async def test_booleans_in_every_form(client, flag):
    assert "items" in await send(client, params(details=flag))


@pytest.mark.parametrize("flag", [False, "false", "0", ""])
async def test_false_booleans(client, flag):
    assert "items" not in await send(client, params(details=flag))


@pytest.mark.parametrize(
    "raw", ["500600700", "48500600700", "+48500600700", "+48 500 600 700", "0048500600700",
            "500-600-700"],
)  # fmt: skip
async def test_polish_numbers_are_corrected(client, raw):
    body = await send(client, params(phone=raw, details=True))
    assert body["items"][0]["phone"] == "+48500600700"


async def test_mixed_numbers_queue_the_valid_and_report_the_rest(client):
    body = await send(client, params(phone=["500600700", "12345", "+46701234567"], details=True))
    assert (body["queued"], body["unsent"]) == (1, 2)
    unsent = [i for i in body["items"] if i["status"] == "unsent"]
    assert {(i["phone"], i["error_code"]) for i in unsent} == {
        ("12345", 6306),
        ("+46701234567", 6317),
    }
    assert len(await stored(client)) == 1


async def test_form_encoded_bodies_as_older_clients_send_them(client):
    form = [
        ("username", "demo"), ("password", "secret"), ("rcs_id", BOT),
        ("phone[]", "500600700"), ("phone[]", "600700800"),
        ("message[richcard][0][title]", "Card"), ("message[richcard][0][description]", "Desc"),
        ("message[richcard][0][media][url]", "https://example.pl/a.png"),
        ("message[richcard][0][media][size]", "100"),
        ("message[richcard][0][media][type]", "image/png"),
        ("message[richcard][0][layout][cardOrientation]", "HORIZONTAL"),
        ("message[richcard][0][suggestions][0][reply][text]", "Yes"),
        ("message[richcard][0][suggestions][0][reply][postback]", "yes"),
        ("message[suggestions][0][action][text]", "Call"),
        ("message[suggestions][0][action][postback]", "call"),
        ("message[suggestions][0][action][action]", "dial"),
        ("message[suggestions][0][action][to]", "+48100100100"),
        ("details", "1"), ("system", "client_php"),
    ]  # fmt: skip
    response = await client.post(
        "/messages/send_rcs",
        content=urlencode(form),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    body = response.json()
    assert (body["queued"], body["unsent"]) == (2, 0), body
    message = (await stored(client))[0]
    assert message["kind"] == "richcard" and message["tenant"] == fingerprint("demo")
    assert [(s["kind"], s["postback"], s["card"]) for s in message["suggestions"]] == [
        ("reply", "yes", 0),
        ("dial", "call", None),
    ]


async def test_indexed_form_arrays(client):
    form = {"rcs_id": BOT, "phone[0]": "500600700", "phone[1]": "600700800",
            "message[text]": "Hi", "unique_id[0]": "abc1", "unique_id[1]": "abc2"}  # fmt: skip
    response = await client.post("/messages/send_rcs", data=form, headers=AUTH)
    assert response.json()["queued"] == 2
    assert sorted(m["external_id"] for m in await stored(client)) == ["abc1", "abc2"]


async def test_xml_answers_in_xml(client):
    response = await client.post("/messages/send_rcs.xml", json=params(details=True), headers=AUTH)
    assert response.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(response.content)
    assert root.findtext("success") == "true"
    assert root.findtext("queued") == "1"
    assert root.find("items/item/phone").text == "+48500600700"
    failed = await client.post("/messages/send_rcs.xml", json=params(message={}), headers=AUTH)
    root = ET.fromstring(failed.content)
    assert root.findtext("error/code") == "6307"
    assert root.findtext("error/message") == "Empty message structure"


async def test_missing_credentials_are_invalid_user(client):
    assert await send(client, params(), headers={}) == error(1001)
    assert await send(client, params(username="only-user"), headers={}) == error(1001)
    assert (await send(client, params(username="u", password="p"), headers={}))["success"]


async def test_every_structure_of_the_document(client):
    file_msg = {"file": {"name": "Filename", "url": "https://example.pl/v.mp4",
                         "type": "video/mp4", "size": 1489039}, "suggestions": []}  # fmt: skip
    single = {"richcard": [card(layout={"imageAlignment": "LEFT", "cardOrientation": "HORIZONTAL"},
                                suggestions=[])], "suggestions": []}  # fmt: skip
    carousel = {"richcard": [card(media=media(height="TALL")), card(media=media(height="SHORT"))],
                "cardWidth": "SMALL", "suggestions": []}  # fmt: skip
    audio = {"audio": {"name": "Jingle", "url": "https://example.pl/a.mp3", "type": "audio/mp3"}}
    for message, kind in [(file_msg, "file"), (single, "richcard"), (carousel, "carousel"),
                          (audio, "audio")]:  # fmt: skip
        body = await send(client, params(message=message))
        assert body.get("success") is True, (kind, body)
    assert [m["kind"] for m in await stored(client)] == ["file", "richcard", "carousel", "audio"]


async def test_unique_ids_follow_the_phones(client):
    body = await send(client, params(phone=["500600700", "600700800"], unique_id=["aaa", "bbb"]))
    assert body["queued"] == 2
    by_phone = {m["phone"]: m["external_id"] for m in await stored(client)}
    assert by_phone == {"+48500600700": "aaa", "+48600700800": "bbb"}


@pytest.mark.parametrize(
    "unique_id",
    [["ab"], ["a" * 51], ["has space"], ["ąęł"], ["ok1", "ok2"], "single-for-two", ["x1y", "x1y"]],
)
async def test_bad_unique_id_refuses_the_request(client, unique_id):
    phones = ["500600700", "600700800"] if unique_id in (["x1y", "x1y"],) else ["500600700"]
    if unique_id == "single-for-two":
        phones, unique_id = ["500600700", "600700800"], "abc"
    assert await send(client, params(phone=phones, unique_id=unique_id)) == error(1006)
    assert await stored(client) == []


async def test_groups_from_config_and_control_api(mode, redis_url):
    config = Config(clock="manual", serwersms={"groups": {"123456789": ["500600700", "600700800"]}})
    async with open_client(mode, config, redis_url) as client:
        body = await send(client, params(phone=None, group_id="123456789", details=True))
        assert [i["phone"] for i in body["items"]] == ["+48500600700", "+48600700800"]
        put = await client.put("/_emulator/serwersms/groups/42", json={"phones": ["700800900"]})
        assert put.status_code == 200
        body = await send(client, params(group_id=["42"], phone="500600700"))
        assert body["queued"] == 2
        assert await send(client, params(group_id="nope")) == error(1004)


async def test_scheduled_date_waits_for_the_clock(client):
    now = (await client.get("/_emulator/clock")).json()["epoch"]
    from datetime import datetime
    from zoneinfo import ZoneInfo

    later = datetime.fromtimestamp(now + 3600, ZoneInfo("Europe/Warsaw"))
    await send(client, params(date=later.strftime("%Y-%m-%d %H:%M:%S")))
    [message] = await stored(client)
    assert message["status"] == "scheduled" and message["events"] == []
    await advance(client, 3599)
    assert (await stored(client))[0]["status"] == "scheduled"
    await advance(client, 1)
    assert (await stored(client))[0]["status"] == "sent"
    await advance(client, 30)
    assert (await stored(client))[0]["status"] == "read"


@pytest.mark.parametrize("date", ["tomorrow", "2022-02-30 10:00:00", "22-02-2015 12:25"])
async def test_bad_date_is_invalid_data(client, date):
    assert await send(client, params(date=date)) == error(1006)


async def test_past_date_sends_now(client):
    await send(client, params(date="2015-02-22 12:25:55"))
    assert (await stored(client))[0]["status"] == "sent"


async def test_system_parameter_is_ignored(client):
    body = await send(client, params(system="client_python", details=True))
    assert body["queued"] == 1
