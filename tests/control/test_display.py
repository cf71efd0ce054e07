"""`display` in the control API's message views: each provider's content as one
provider-neutral layout (what the inbox draws)."""

from __future__ import annotations

import pytest

from tests.conftest import GENERIC_AUTH, SERWERSMS_AUTH
from tests.providers.generic.helpers import PNG

pytestmark = pytest.mark.anyio

NOTHING = {"cards": [], "card_width": None, "file": None}


async def only_message(client) -> dict:
    (message,) = (await client.get("/_emulator/messages")).json()["items"]
    assert (await client.get(f"/_emulator/messages/{message['id']}")).json() == message
    return message


async def generic(client, **body) -> dict:
    body = {"agentId": "a", "number": ["+46701234567"], **body}
    response = await client.post("/Rcs/api/v1/Message", json=body, headers=GENERIC_AUTH)
    assert response.status_code == 200, response.text
    return await only_message(client)


async def serwersms(client, message: dict) -> dict:
    body = {"rcs_id": "bot", "phone": "+48500600700", "message": message}
    response = await client.post("/messages/send_rcs.json", json=body, headers=SERWERSMS_AUTH)
    assert response.json()["success"] is True, response.text
    return await only_message(client)


async def test_text_and_sms_fallback_have_nothing_beyond_their_text(client):
    assert (await generic(client, messageType="TextMessage", text="hi"))["display"] == NOTHING
    await client.post("/_emulator/reset")
    sms = await generic(
        client, messageType="TextMessage", text="hi", smsFallbackText="sms", number=["+46700000001"]
    )
    assert sms["channel"] == "SMS" and sms["display"] == NOTHING


async def test_generic_rich_card_with_an_uploaded_file(client):
    files = {"file": ("logo.png", PNG, "image/png")}
    upload = await client.post("/Rcs/api/v1/UploadFile/a", files=files, headers=GENERIC_AUTH)
    file_id = upload.json()["fileId"]
    message = await generic(
        client,
        messageType="RichCard",
        richCardContent={
            "title": "T",
            "description": "D",
            "fileId": file_id,
            "height": "tall",
            "orientation": "HORIZONTAL",
            "thumbnailImageAlignment": "RIGHT",
        },
    )
    assert message["display"] == {
        "cards": [
            {
                "title": "T",
                "description": "D",
                "orientation": "HORIZONTAL",
                "alignment": "RIGHT",
                "media": {
                    "url": None,
                    "file_id": file_id,
                    "type": "image/png",
                    "name": "logo.png",
                    "size": len(PNG),
                    "height": "TALL",
                    "thumbnail": None,
                },
            }
        ],
        "card_width": None,
        "file": None,
    }


async def test_generic_carousel_defaults(client):
    message = await generic(
        client,
        messageType="Carousel",
        carouselContent={
            "cardWidth": "SMALL",
            "richCardContents": [
                {"title": "One", "fileUrl": "https://img.example/1.png"},
                {"title": "Two"},
            ],
        },
    )
    one, two = message["display"]["cards"]
    assert message["display"]["card_width"] == "SMALL"
    assert (one["orientation"], one["alignment"]) == ("VERTICAL", "LEFT")
    assert one["media"]["url"] == "https://img.example/1.png"
    assert one["media"]["height"] == "MEDIUM" and one["media"]["type"] is None
    assert two["media"] is None and two["description"] is None


async def test_serwersms_file_audio_card_and_carousel(client):
    pdf = {
        "name": "a.pdf",
        "url": "https://x.example/a.pdf",
        "type": "application/pdf",
        "size": 100,
    }
    message = await serwersms(client, {"file": pdf})
    assert message["display"]["file"] == {**pdf, "file_id": None, "height": None, "thumbnail": None}
    assert message["display"]["cards"] == []
    await client.post("/_emulator/reset")
    audio = {"name": "a.mp3", "url": "https://x.example/a.mp3", "type": "audio/mp3", "size": 9}
    assert (await serwersms(client, {"audio": audio}))["display"]["file"]["type"] == "audio/mp3"
    await client.post("/_emulator/reset")
    media = {
        "url": "https://x.example/p.png",
        "size": 1,
        "type": "image/png",
        "height": "SHORT",
        "thumbnail": "https://x.example/t.jpg",
    }
    card = {
        "title": "T",
        "description": "D",
        "media": media,
        "layout": {"imageAlignment": "RIGHT", "cardOrientation": "HORIZONTAL"},
    }
    (shown,) = (await serwersms(client, {"richcard": [card]}))["display"]["cards"]
    assert (shown["orientation"], shown["alignment"]) == ("HORIZONTAL", "RIGHT")
    assert shown["media"]["height"] == "SHORT"
    assert shown["media"]["thumbnail"] == "https://x.example/t.jpg"
    await client.post("/_emulator/reset")
    carousel = await serwersms(client, {"richcard": [card, card], "cardWidth": "SMALL"})
    assert carousel["display"]["card_width"] == "SMALL"
    assert len(carousel["display"]["cards"]) == 2
