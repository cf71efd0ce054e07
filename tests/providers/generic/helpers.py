"""Request bodies for Generic tests."""

from __future__ import annotations

import copy
from typing import Any

from tests.conftest import GENERIC_AUTH

# The smallest bytes UploadFile recognises as a PNG.
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
BASE = "/Rcs/api/v1"
AGENT = "test_agent"


def text_message(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "agentId": AGENT,
        "number": ["+46701234567"],
        "messageType": "TextMessage",
        "text": "Hello from the tests",
    }
    body.update(extra)
    return body


def rich_card(**card: Any) -> dict[str, Any]:
    content = {
        "height": "MEDIUM",
        "orientation": "VERTICAL",
        "title": "A card",
        "description": "With a description",
        "fileUrl": "https://example.com/picture.png",
    }
    content.update(card)
    return {
        "agentId": AGENT,
        "number": ["+46701234567"],
        "messageType": "RichCard",
        "richCardContent": content,
    }


def carousel(cards: int = 2, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "agentId": AGENT,
        "number": ["+46701234567"],
        "messageType": "Carousel",
        "carouselContent": {
            "cardWidth": "MEDIUM",
            "richCardContents": [
                {"title": f"Card {i}", "fileUrl": f"https://example.com/{i}.png"}
                for i in range(cards)
            ],
        },
    }
    body.update(extra)
    return body


def action(kind: str, value: Any, text: str = "Tap", postback: str = "pb") -> dict[str, Any]:
    return {"text": text, "postbackData": postback, kind: copy.deepcopy(value)}


def reply(text: str = "Yes", postback: str = "yes") -> dict[str, Any]:
    return {"text": text, "postbackData": postback}


AUTH = GENERIC_AUTH
