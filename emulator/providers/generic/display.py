"""Generic's stored content (the request's own JSON names) as the core's display layout."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...core import display
from ...core.records import Message, StoredFile


def _card(raw: Mapping[str, Any], files: Mapping[str, StoredFile]) -> display.Card:
    url, file_id = raw.get("fileUrl"), raw.get("fileId")
    found = (
        display.media(url=url, file_id=file_id, height=raw.get("height"), files=files)
        if url or file_id
        else None
    )
    return display.card(
        title=raw.get("title"),
        description=raw.get("description"),
        media=found,
        orientation=raw.get("orientation"),
        alignment=raw.get("thumbnailImageAlignment"),
    )


def layout(message: Message, files: Mapping[str, StoredFile]) -> dict[str, Any]:
    content = message.content
    if message.kind == "richcard" and "richCardContent" in content:
        return display.layout([_card(content["richCardContent"], files)])
    if message.kind == "carousel" and "carouselContent" in content:
        carousel = content["carouselContent"]
        cards = [_card(raw, files) for raw in carousel.get("richCardContents", [])]
        return display.layout(cards, carousel.get("cardWidth"))
    return display.layout()
