"""POST /Message: every message type and form the document uses, and every rule it states."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from .helpers import AGENT, AUTH, BASE, action, carousel, reply, rich_card, text_message

pytestmark = pytest.mark.anyio


async def send(client: httpx.AsyncClient, body: Any, **kw: Any) -> httpx.Response:
    return await client.post(f"{BASE}/Message", json=body, headers=kw.pop("headers", AUTH), **kw)


async def stored(client: httpx.AsyncClient, **filters: str) -> list[dict[str, Any]]:
    response = await client.get("/_emulator/messages", params={"provider": "generic", **filters})
    return list(response.json()["items"])


async def test_text_message_answers_a_tag_and_stores_one_message_per_recipient(client):
    body = text_message(number=["+46701234567", "+46702345678"], tag="campaign-1")
    response = await send(client, body)
    assert response.status_code == 200
    tag_id = response.json()["tagId"]
    assert str(uuid.UUID(tag_id)) == tag_id
    assert list(response.json()) == ["tagId"]
    messages = await stored(client)
    assert sorted(m["phone"] for m in messages) == ["+46701234567", "+46702345678"]
    assert len({m["id"] for m in messages}) == 2
    assert all(str(uuid.UUID(m["id"])) == m["id"] for m in messages)
    assert {m["batch"] for m in messages} == {tag_id}
    assert {m["status"] for m in messages} == {"sent"}
    assert messages[0]["content"]["tag"] == "campaign-1"


async def test_a_number_listed_twice_gets_one_message(client):
    await send(client, text_message(number=["+46701234567", "+46701234567"]))
    assert len(await stored(client)) == 1


@pytest.mark.parametrize("message_type", ["TextMessage", "textMessage", "Text", "text", "TEXT"])
async def test_message_type_forms_of_the_examples(client, message_type):
    response = await send(client, text_message(messageType=message_type))
    assert response.status_code == 200
    assert (await stored(client))[0]["kind"] == "text"


async def test_text_may_come_as_text_message_object(client):
    body = text_message(textMessage={"text": "Was this helpful?"})
    del body["text"]
    assert (await send(client, body)).status_code == 200
    assert (await stored(client))[0]["text"] == "Was this helpful?"


async def test_property_names_and_enum_values_match_without_case(client):
    body = {
        "AgentId": AGENT,
        "NUMBER": ["+46701234567"],
        "messagetype": "richcard",
        "RichCardContent": {
            "Height": "short",
            "orientation": "horizontal",
            "ThumbnailImageAlignment": "left",
            "TITLE": "Hi",
            "fileurl": "https://example.com/a.png",
            "SuggestedReplies": [{"Text": "Ok", "PostbackData": "ok"}],
        },
        "suggestedactions": [
            {"TEXT": "Call", "postbackdata": "call", "DialAction": {"PhoneNumber": "+46701234567"}},
            {"text": "Here", "postbackData": "loc", "ShareLocationAction": {}},
            {
                "text": "Map",
                "postbackData": "map",
                "viewLocationAction": {"LatLng": {"Longitude": "15.081701", "Latitude": 59.36}},
            },
            {
                "text": "Meet",
                "postbackData": "meet",
                "createCalendarEventAction": {
                    "title": "Meeting",
                    "description": "Agenda",
                    "startTime": "2024-11-30T10:00:00Z",
                    "EndTime": "2024-11-30T11:00:00Z",
                },
            },
        ],
    }
    response = await send(client, body)
    assert response.status_code == 200, response.text
    message = (await stored(client))[0]
    assert message["kind"] == "richcard"
    assert [s["kind"] for s in message["suggestions"]] == [
        "reply",
        "dial",
        "share_location",
        "map",
        "calendar",
    ]


async def test_rich_card_and_carousel_are_accepted(client):
    assert (await send(client, rich_card())).status_code == 200
    assert (await send(client, carousel(10))).status_code == 200
    kinds = sorted(m["kind"] for m in await stored(client))
    assert kinds == ["carousel", "richcard"]


LONG = "x" * 26
TOO_MANY = [reply(f"R{i}", f"r{i}") for i in range(12)]


RULES: list[tuple[str, dict[str, Any], str, str]] = [
    ("text too long", text_message(text="a" * 3073), "text", "maximum length of 3072"),
    ("no text", text_message(text=None), "text", "required for messageType TextMessage"),
    ("no agent", {**text_message(), "agentId": None}, "agentId", "The agentId field is required."),
    ("agent of the wrong type", {**text_message(), "agentId": 5}, "agentId", "must be a string"),
    (
        "agent missing",
        {k: v for k, v in text_message().items() if k != "agentId"},
        "agentId",
        "The agentId field is required.",
    ),
    ("no numbers", text_message(number=[]), "number", "at least 1 items"),
    ("number not E.164", text_message(number=["0701234567"]), "number[0]", "E.164"),
    ("number without plus", text_message(number=["46701234567"]), "number[0]", "E.164"),
    ("number as a string", text_message(number="+46701234567"), "number", "JSON array"),
    (
        "unknown message type",
        text_message(messageType="Video"),
        "messageType",
        "TextMessage, RichCard, Carousel",
    ),
    (
        "twelve suggestions",
        text_message(suggestedReplies=TOO_MANY),
        "suggestedReplies",
        "At most 11",
    ),
    (
        "label over 25",
        text_message(suggestedReplies=[reply(LONG)]),
        "suggestedReplies[0].text",
        "maximum length of 25",
    ),
    (
        "postback over 2048",
        text_message(suggestedReplies=[reply("ok", "p" * 2049)]),
        "suggestedReplies[0].postbackData",
        "maximum length of 2048",
    ),
    (
        "empty postback",
        text_message(suggestedReplies=[reply("ok", "")]),
        "suggestedReplies[0].postbackData",
        "minimum length of 1",
    ),
    (
        "action without action",
        text_message(suggestedActions=[reply()]),
        "suggestedActions[0]",
        "exactly one of",
    ),
    (
        "action with two actions",
        text_message(
            suggestedActions=[
                {
                    **action("dialAction", {"phoneNumber": "+46701234567"}),
                    "openUrlAction": {"url": "https://example.com"},
                }
            ]
        ),
        "suggestedActions[0]",
        "exactly one of",
    ),
    (
        "dial not E.164",
        text_message(suggestedActions=[action("dialAction", {"phoneNumber": "123"})]),
        "suggestedActions[0].dialAction.phoneNumber",
        "E.164",
    ),
    (
        "url not a URL",
        text_message(suggestedActions=[action("openUrlAction", {"url": "not a url"})]),
        "suggestedActions[0].openUrlAction.url",
        "RFC 3986",
    ),
    (
        "url not web",
        text_message(suggestedActions=[action("openUrlAction", {"url": "ftp://x.se/"})]),
        "suggestedActions[0].openUrlAction.url",
        "http or https",
    ),
    (
        "url too long",
        text_message(
            suggestedActions=[action("openUrlAction", {"url": "https://example.com/" + "a" * 2030})]
        ),
        "suggestedActions[0].openUrlAction.url",
        "at most 2048",
    ),
    (
        "calendar time not RFC 3339",
        text_message(
            suggestedActions=[
                action(
                    "createCalendarEventAction",
                    {
                        "title": "t",
                        "description": "d",
                        "startTime": "2024-11-30 10:00",
                        "endTime": "2024-11-30T11:00:00Z",
                    },
                )
            ]
        ),
        "suggestedActions[0].createCalendarEventAction.startTime",
        "RFC 3339",
    ),
    (
        "calendar title over 100",
        text_message(
            suggestedActions=[
                action(
                    "createCalendarEventAction",
                    {
                        "title": "t" * 101,
                        "description": "d",
                        "startTime": "2024-11-30T10:00:00Z",
                        "endTime": "2024-11-30T11:00:00Z",
                    },
                )
            ]
        ),
        "suggestedActions[0].createCalendarEventAction.title",
        "maximum length of 100",
    ),
    (
        "calendar description over 500",
        text_message(
            suggestedActions=[
                action(
                    "createCalendarEventAction",
                    {
                        "title": "t",
                        "description": "d" * 501,
                        "startTime": "2024-11-30T10:00:00Z",
                        "endTime": "2024-11-30T11:00:00Z",
                    },
                )
            ]
        ),
        "suggestedActions[0].createCalendarEventAction.description",
        "maximum length of 500",
    ),
    (
        "calendar ends before it starts",
        text_message(
            suggestedActions=[
                action(
                    "createCalendarEventAction",
                    {
                        "title": "t",
                        "description": "d",
                        "startTime": "2024-11-30T12:00:00Z",
                        "endTime": "2024-11-30T11:00:00Z",
                    },
                )
            ]
        ),
        "suggestedActions[0].createCalendarEventAction",
        "endTime must be after startTime",
    ),
    (
        "calendar without title",
        text_message(
            suggestedActions=[
                action(
                    "createCalendarEventAction",
                    {
                        "description": "d",
                        "startTime": "2024-11-30T10:00:00Z",
                        "endTime": "2024-11-30T11:00:00Z",
                    },
                )
            ]
        ),
        "suggestedActions[0].createCalendarEventAction.title",
        "required",
    ),
    (
        "location without place",
        text_message(suggestedActions=[action("viewLocationAction", {"label": "x"})]),
        "suggestedActions[0].viewLocationAction",
        "latLong or query",
    ),
    (
        "latitude out of range",
        text_message(
            suggestedActions=[
                action("viewLocationAction", {"latLong": {"latitude": 91, "longitude": 0}})
            ]
        ),
        "suggestedActions[0].viewLocationAction.latLong.latitude",
        "at most 90",
    ),
    (
        "latitude not a number",
        text_message(
            suggestedActions=[
                action("viewLocationAction", {"latLong": {"latitude": "north", "longitude": 0}})
            ]
        ),
        "suggestedActions[0].viewLocationAction.latLong.latitude",
        "must be a number",
    ),
    (
        "rich card without content",
        rich_card(title=None, description=None, fileUrl=None),
        "richCardContent",
        "at least one of title, description, media",
    ),
    (
        "rich card without richCardContent",
        {**rich_card(), "richCardContent": None},
        "richCardContent",
        "required for messageType RichCard",
    ),
    (
        "five chips on a card",
        rich_card(suggestedReplies=[reply(f"r{i}", f"r{i}") for i in range(5)]),
        "richCardContent",
        "at most 4",
    ),
    ("bad height", rich_card(height="HUGE"), "richCardContent.height", "SHORT"),
    (
        "bad orientation",
        rich_card(orientation="DIAGONAL"),
        "richCardContent.orientation",
        "VERTICAL",
    ),
    (
        "bad alignment",
        rich_card(thumbnailImageAlignment="CENTER"),
        "richCardContent.thumbnailImageAlignment",
        "LEFT",
    ),
    (
        "title over 200",
        rich_card(title="t" * 201),
        "richCardContent.title",
        "maximum length of 200",
    ),
    (
        "description over 2000",
        rich_card(description="d" * 2001),
        "richCardContent.description",
        "maximum length of 2000",
    ),
    ("fileUrl and fileId", rich_card(fileId="files/abc"), "richCardContent", "not both"),
    ("bad fileUrl", rich_card(fileUrl="picture.png"), "richCardContent.fileUrl", "RFC 3986"),
    (
        "unknown fileId",
        rich_card(fileUrl=None, fileId="files/doesnotexist"),
        "richCardContent.fileId",
        "unknown or has expired",
    ),
    ("carousel of one", carousel(1), "carouselContent.richCardContents", "at least 2 items"),
    ("carousel of eleven", carousel(11), "carouselContent.richCardContents", "at most 10 items"),
    (
        "carousel width",
        {**carousel(), "carouselContent": {**carousel()["carouselContent"], "cardWidth": "LARGE"}},
        "carouselContent.cardWidth",
        "SMALL",
    ),
    (
        "carousel missing",
        {**carousel(), "carouselContent": None},
        "carouselContent",
        "required for messageType Carousel",
    ),
]


@pytest.mark.parametrize(
    ("body", "field", "fragment"), [r[1:] for r in RULES], ids=[r[0] for r in RULES]
)
async def test_every_rule_answers_400_naming_field_and_rule(client, body, field, fragment):
    response = await send(client, body)
    assert response.status_code == 400, response.text
    problem = response.json()
    assert problem["title"] == "One or more validation errors occurred."
    assert problem["status"] == 400
    assert field in problem["errors"], problem["errors"]
    assert any(fragment in m for m in problem["errors"][field]), problem["errors"][field]
    assert await stored(client) == []  # a refused request stores nothing


async def test_payload_over_250_kb_is_refused(client):
    body = text_message(tag="t" * 100, padding="x" * (250 * 1024))
    response = await send(client, body)
    assert response.status_code == 400
    assert response.json()["errors"]["$"] == ["The request payload must not exceed 250 KB."]


async def test_invalid_json_is_a_400_that_says_where(client):
    response = await client.post(
        f"{BASE}/Message",
        content=b'{"agentId": "a" "number": []}',
        headers={**AUTH, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert "line 1, column 17" in response.json()["errors"]["$"][0]


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Basic dXNlcjpwYXNz", "Token abc", "Bearer two words"],
)
async def test_missing_or_malformed_key_is_401(client, header):
    headers = {} if header is None else {"Authorization": header}
    response = await send(client, text_message(), headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["title"] == "Unauthorized"


@pytest.mark.parametrize("accept", ["text/html", "application/xml", "image/png"])
async def test_accept_without_json_is_406(client, accept):
    response = await send(client, text_message(), headers={**AUTH, "Accept": accept})
    assert response.status_code == 406
    assert response.json()["title"] == "Not Acceptable"


@pytest.mark.parametrize(
    "accept", ["application/json", "*/*", "application/*", "text/html, application/json;q=0.9"]
)
async def test_accept_with_json_is_served(client, accept):
    response = await send(client, text_message(), headers={**AUTH, "Accept": accept})
    assert response.status_code == 200


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
async def test_body_that_is_not_json_is_415(client, content_type):
    headers = dict(AUTH)
    if content_type:
        headers["Content-Type"] = content_type
    response = await client.post(f"{BASE}/Message", content=b"agentId=a", headers=headers)
    assert response.status_code == 415
    assert response.json()["title"] == "Unsupported Media Type"


async def test_wrong_method_is_405_and_unknown_path_404(client):
    response = await client.get(f"{BASE}/Message", headers=AUTH)
    assert response.status_code == 405
    assert response.json()["title"] == "Method Not Allowed"
    response = await client.get(f"{BASE}/Nothing", headers=AUTH)
    assert response.status_code == 404
    assert response.json()["title"] == "Not Found"


async def test_paths_match_without_case_as_asp_net_does(client):
    response = await client.post("/rcs/API/v1/message", json=text_message(), headers=AUTH)
    assert response.status_code == 200
    tag = response.json()["tagId"]
    assert (await client.get(f"/RCS/api/V1/MESSAGE/tag/{tag}", headers=AUTH)).status_code == 200


async def test_recipient_without_rcs_records_no_capability(client):
    response = await send(client, text_message(number=["+46700000001"]))
    assert response.status_code == 200
    message = (await stored(client))[0]
    assert message["channel"] == "RCS"
    assert message["status"] == "no_capability"
    thread = (await client.get(f"{BASE}/Message/{message['id']}", headers=AUTH)).json()
    assert [e["messageType"] for e in thread] == ["NO_CAPABILITY", "TextMessage"]


async def test_recipient_without_rcs_gets_the_sms_fallback(client):
    body = text_message(
        number=["+46700000001", "+46701234567"], smsFallbackText="Plain SMS for you"
    )
    tag = (await send(client, body)).json()["tagId"]
    by_phone = {m["phone"]: m for m in await stored(client)}
    assert by_phone["+46700000001"]["channel"] == "SMS"
    assert by_phone["+46700000001"]["text"] == "Plain SMS for you"
    assert by_phone["+46701234567"]["channel"] == "RCS"
    stats = (await client.get(f"{BASE}/Message/Tag/{tag}", headers=AUTH)).json()
    assert (stats["smsNumbers"], stats["rcsNumbers"], stats["totalNumberMessages"]) == (1, 1, 2)
    assert stats["sms"] == [{"number": "+46700000001", "messageId": by_phone["+46700000001"]["id"]}]


async def test_capability_set_through_the_control_api_drives_fallback(client):
    phone = "+46709999999"
    await client.put(f"/_emulator/phones/{phone}", json={"rcs_capable": False})
    await send(client, text_message(number=[phone], smsFallbackText="sms"))
    assert (await stored(client))[0]["channel"] == "SMS"
