"""SerwerSMS's stored content (file, audio, cards with media and layout) as the core's display
layout."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...core import display
from ...core.records import Message, StoredFile


def _media(raw: Mapping[str, Any]) -> display.Media:
    return display.media(
        url=raw.get("url"),
        type=raw.get("type"),
        name=raw.get("name"),
        size=raw.get("size"),
        height=raw.get("height"),
        thumbnail=raw.get("thumbnail"),
    )


def _card(raw: Mapping[str, Any]) -> display.Card:
    layout = raw.get("layout") or {}
    return display.card(
        title=raw.get("title"),
        description=raw.get("description"),
        media=_media(raw["media"]) if raw.get("media") else None,
        orientation=layout.get("cardOrientation"),
        alignment=layout.get("imageAlignment"),
    )


def layout(message: Message, files: Mapping[str, StoredFile]) -> dict[str, Any]:
    content = message.content
    if message.kind in ("file", "audio") and content.get(message.kind):
        return display.layout(file=_media(content[message.kind]))
    cards = [_card(raw) for raw in content.get("cards", ())]
    if cards:
        return display.layout(cards, content.get("card_width"))
    return display.layout()
