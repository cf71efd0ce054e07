"""Typed clients (C#, Java, PHP, TypeScript serialisers) write `null` for every property they
leave unset. For both providers an explicit null is "not given", at every nesting level: the
message stored and the answer are those of the same request without the field; a null for a
required field gets the provider's own "required" error."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.conftest import GENERIC_AUTH, SERWERSMS_AUTH

pytestmark = pytest.mark.anyio

URL = "https://www.generic.se/"
IMG = "https://www.generic.se/a.png"
ACTION = {"text": "Visit", "postbackData": "visit", "openUrlAction": {"url": URL}}
REPLY = {"text": "Yes", "postbackData": "yes"}
CARD = {
    "height": "TALL",
    "orientation": "HORIZONTAL",
    "thumbnailImageAlignment": "LEFT",
    "title": "T",
    "description": "D",
    "fileUrl": IMG,
    "suggestedActions": [ACTION],
    "suggestedReplies": [REPLY],
}
GENERIC_TEXT = {
    "agentId": "a",
    "number": ["+46701234567"],
    "tag": "campaign",
    "messageType": "TextMessage",
    "text": "Hi",
    "smsFallbackText": "Hi by SMS",
    "suggestedActions": [
        ACTION,
        {"text": "Call", "postbackData": "call", "dialAction": {"phoneNumber": "+46701234567"}},
        {
            "text": "Map",
            "postbackData": "map",
            "viewLocationAction": {
                "latLong": {"latitude": 59.3, "longitude": 18.0},
                "label": "Office",
                "query": "Office",
            },
        },
        {"text": "Share", "postbackData": "share", "shareLocationAction": {}},
    ],
    "suggestedReplies": [REPLY],
}
GENERIC_CARD = {
    "agentId": "a",
    "number": ["+46701234567"],
    "messageType": "RichCard",
    "richCardContent": CARD,
    "suggestedReplies": [REPLY],
}
GENERIC_CAROUSEL = {
    "agentId": "a",
    "number": ["+46701234567"],
    "messageType": "Carousel",
    "carouselContent": {"cardWidth": "SMALL", "richCardContents": [CARD, dict(CARD, title="T2")]},
    "suggestedActions": [ACTION],
}

# (base request, path of an optional field) for every optional field the Generic document names
GENERIC_OPTIONAL = [
    (GENERIC_TEXT, ("tag",)),
    (GENERIC_TEXT, ("smsFallbackText",)),
    (GENERIC_TEXT, ("suggestedActions",)),
    (GENERIC_TEXT, ("suggestedReplies",)),
    (GENERIC_TEXT, ("suggestedActions", 2, "viewLocationAction", "latLong")),
    (GENERIC_TEXT, ("suggestedActions", 2, "viewLocationAction", "label")),
    (GENERIC_TEXT, ("suggestedActions", 2, "viewLocationAction", "query")),
    (GENERIC_CARD, ("suggestedReplies",)),
    (GENERIC_CARD, ("suggestedActions",)),
    (GENERIC_CARD, ("richCardContent", "height")),
    (GENERIC_CARD, ("richCardContent", "orientation")),
    (GENERIC_CARD, ("richCardContent", "thumbnailImageAlignment")),
    (GENERIC_CARD, ("richCardContent", "title")),
    (GENERIC_CARD, ("richCardContent", "description")),
    (GENERIC_CARD, ("richCardContent", "fileUrl")),
    (GENERIC_CARD, ("richCardContent", "suggestedActions")),
    (GENERIC_CARD, ("richCardContent", "suggestedReplies")),
    (GENERIC_CAROUSEL, ("carouselContent", "cardWidth")),
    (GENERIC_CAROUSEL, ("suggestedActions",)),
    (GENERIC_CAROUSEL, ("carouselContent", "richCardContents", 1, "suggestedReplies")),
    (GENERIC_CAROUSEL, ("carouselContent", "richCardContents", 1, "suggestedActions")),
    (GENERIC_CAROUSEL, ("carouselContent", "richCardContents", 0, "height")),
    (GENERIC_CAROUSEL, ("carouselContent", "richCardContents", 0, "fileUrl")),
]
# Properties a typed client writes as null for a type it did not choose.
GENERIC_ABSENT = [
    (GENERIC_TEXT, ("textMessage",)),
    (GENERIC_TEXT, ("richCardContent",)),
    (GENERIC_TEXT, ("carouselContent",)),
    (GENERIC_CARD, ("text",)),
    (GENERIC_CARD, ("carouselContent",)),
    (GENERIC_CARD, ("richCardContent", "fileId")),
    (GENERIC_TEXT, ("suggestedActions", 0, "dialAction")),
    (GENERIC_TEXT, ("suggestedActions", 0, "viewLocationAction")),
    (GENERIC_TEXT, ("suggestedActions", 0, "createCalendarEventAction")),
    (GENERIC_TEXT, ("suggestedActions", 0, "shareLocationAction")),
    (GENERIC_TEXT, ("suggestedActions", 1, "openUrlAction")),
]

SMS_MEDIA = {
    "url": IMG,
    "size": 26802,
    "type": "image/png",
    "thumbnail": IMG,
    "thumbnailSize": 2802,
    "thumbnailType": "image/jpeg",
    "height": "MEDIUM",
}
SMS_CARD = {
    "title": "RCS",
    "description": "D",
    "media": SMS_MEDIA,
    "suggestions": [{"reply": {"text": "Yes", "postback": "yes"}}],
    "layout": {"imageAlignment": "LEFT", "cardOrientation": "VERTICAL"},
}
SMS_TEXT = {
    "rcs_id": "bot",
    "phone": "+48500600700",
    "details": True,
    "date": "2099-01-01 10:00:00",
    "unique_id": "abc123",
    "message": {
        "text": "Hi",
        "suggestions": [
            {"reply": {"text": "Yes", "postback": "yes"}},
            {"action": {"text": "Go", "postback": "go", "action": "url", "to": URL}},
        ],
    },
}
SMS_CARD_MSG = {
    "rcs_id": "bot",
    "phone": ["+48500600700"],
    "message": {"richcard": [SMS_CARD], "suggestions": []},
}
SMS_CAROUSEL = {
    "rcs_id": "bot",
    "phone": "+48500600700",
    "message": {
        "richcard": [SMS_CARD, dict(SMS_CARD, title="Two")],
        "cardWidth": "SMALL",
        "suggestions": [],
    },
}
SERWERSMS_OPTIONAL = [
    (SMS_TEXT, ("details",)),
    (SMS_TEXT, ("date",)),
    (SMS_TEXT, ("unique_id",)),
    (SMS_TEXT, ("group_id",)),
    (SMS_TEXT, ("message", "suggestions")),
    (SMS_CARD_MSG, ("message", "suggestions")),
    (SMS_CARD_MSG, ("message", "richcard", 0, "suggestions")),
    (SMS_CARD_MSG, ("message", "richcard", 0, "layout")),
    (SMS_CARD_MSG, ("message", "richcard", 0, "layout", "imageAlignment")),
    (SMS_CARD_MSG, ("message", "richcard", 0, "layout", "cardOrientation")),
    (SMS_CARD_MSG, ("message", "richcard", 0, "media", "thumbnail")),
    (SMS_CARD_MSG, ("message", "richcard", 0, "media", "thumbnailSize")),
    (SMS_CARD_MSG, ("message", "richcard", 0, "media", "thumbnailType")),
    (SMS_CARD_MSG, ("message", "richcard", 0, "media", "height")),
    (SMS_CAROUSEL, ("message", "cardWidth")),
    (SMS_CAROUSEL, ("message", "richcard", 1, "suggestions")),
    (SMS_TEXT, ("message", "file")),
    (SMS_TEXT, ("message", "richcard")),
    (SMS_TEXT, ("message", "audio")),
    (SMS_TEXT, ("username",)),
    (SMS_TEXT, ("password",)),
]


def _with(body: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    """The body with `path` set to `value` (None for null), or removed (value is ...)."""
    body = copy.deepcopy(body)
    node: Any = body
    for key in path[:-1]:
        node = node[key]
    if value is ...:
        if isinstance(node, dict):
            node.pop(path[-1], None)
    else:
        node[path[-1]] = value
    return body


async def _stored(client: Any) -> list[dict[str, Any]]:
    items = (await client.get("/_emulator/messages")).json()["items"]
    return [
        {
            k: m[k]
            for k in (
                "kind",
                "text",
                "channel",
                "suggestions",
                "content",
                "display",
                "status",
                "external_id",
            )
        }
        for m in items
    ]


async def _compare(client, path: str, auth: dict[str, str], absent: Any, null: Any) -> None:
    first = await client.post(path, headers=auth, json=absent)
    first_stored = await _stored(client)
    await client.post("/_emulator/reset")
    second = await client.post(path, headers=auth, json=null)
    second_stored = await _stored(client)
    assert second.status_code == first.status_code == 200, second.text
    assert second.json().keys() == first.json().keys(), second.text
    assert "error" not in second.json()
    assert second_stored == first_stored and second_stored


@pytest.mark.parametrize(
    ("base", "where"),
    GENERIC_OPTIONAL + GENERIC_ABSENT,
    ids=lambda v: ".".join(map(str, v)) if isinstance(v, tuple) else None,
)
async def test_generic_null_is_not_given(client, base, where):
    await _compare(
        client,
        "/Rcs/api/v1/Message",
        GENERIC_AUTH,
        _with(base, where, ...),
        _with(base, where, None),
    )


@pytest.mark.parametrize(
    ("base", "where"),
    SERWERSMS_OPTIONAL,
    ids=lambda v: ".".join(map(str, v)) if isinstance(v, tuple) else None,
)
async def test_serwersms_null_is_not_given(client, base, where):
    await _compare(
        client,
        "/messages/send_rcs.json",
        SERWERSMS_AUTH,
        _with(base, where, ...),
        _with(base, where, None),
    )


async def test_a_generic_request_padded_with_null_everywhere(client):
    """What a C# client built from the document's types sends for a rich card."""
    padded = {
        "agentId": "a",
        "number": ["+46701234567"],
        "tag": None,
        "messageType": "RichCard",
        "text": None,
        "textMessage": None,
        "smsFallbackText": None,
        "carouselContent": None,
        "suggestedActions": None,
        "suggestedReplies": None,
        "richCardContent": {
            "height": None,
            "orientation": None,
            "thumbnailImageAlignment": None,
            "title": "Welcome",
            "description": None,
            "fileUrl": IMG,
            "fileId": None,
            "suggestedReplies": None,
            "suggestedActions": [
                {
                    "text": "Visit",
                    "postbackData": "visit",
                    "openUrlAction": {"url": URL},
                    "dialAction": None,
                    "viewLocationAction": None,
                    "createCalendarEventAction": None,
                    "shareLocationAction": None,
                }
            ],
        },
    }
    answer = await client.post("/Rcs/api/v1/Message", headers=GENERIC_AUTH, json=padded)
    assert answer.status_code == 200, answer.text
    [message] = (await client.get("/_emulator/messages")).json()["items"]
    assert message["kind"] == "richcard"
    assert [s["kind"] for s in message["suggestions"]] == ["url"]


async def test_a_serwersms_request_padded_with_null_everywhere(client):
    padded = {
        "username": None,
        "password": None,
        "rcs_id": "bot",
        "phone": "+48500600700",
        "group_id": None,
        "details": None,
        "date": None,
        "unique_id": None,
        "message": {
            "text": None,
            "file": None,
            "audio": None,
            "cardWidth": None,
            "richcard": [
                {
                    "title": "RCS",
                    "description": "D",
                    "media": {
                        "url": IMG,
                        "size": 1,
                        "type": "image/png",
                        "thumbnail": None,
                        "thumbnailSize": None,
                        "thumbnailType": None,
                        "height": None,
                    },
                    "suggestions": None,
                    "layout": None,
                }
            ],
            "suggestions": [{"reply": {"text": "Yes", "postback": "yes"}, "action": None}],
        },
    }
    answer = await client.post("/messages/send_rcs.json", headers=SERWERSMS_AUTH, json=padded)
    assert answer.json() == {"success": True, "queued": 1, "unsent": 0}


@pytest.mark.parametrize("field", ["agentId", "number", "messageType"])
async def test_generic_null_for_a_required_field_is_the_required_error(client, field):
    body = _with(GENERIC_TEXT, (field,), None)
    answer = await client.post("/Rcs/api/v1/Message", headers=GENERIC_AUTH, json=body)
    assert answer.status_code == 400
    assert answer.json()["title"] == "One or more validation errors occurred."
    assert answer.json()["errors"] == {field: [f"The {field} field is required."]}


async def test_generic_null_text_of_a_text_message_is_the_required_error(client):
    answer = await client.post(
        "/Rcs/api/v1/Message", headers=GENERIC_AUTH, json=_with(GENERIC_TEXT, ("text",), None)
    )
    assert answer.status_code == 400
    assert answer.json()["errors"] == {
        "text": ["The text field is required for messageType TextMessage."]
    }


@pytest.mark.parametrize("field", ["rcs_id", "phone", "message"])
async def test_serwersms_null_for_a_required_field_is_6303(client, field):
    body = _with(SMS_TEXT, (field,), None)
    answer = await client.post("/messages/send_rcs.json", headers=SERWERSMS_AUTH, json=body)
    assert answer.status_code == 200
    assert answer.json() == {
        "error": {"code": 6303, "type": "RcsError", "message": "No required parameters"}
    }
