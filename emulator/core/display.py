"""How an RCS client lays a message out, in one shape for every provider: each provider's
adapter turns its own content into this, so the inbox (and anyone reading the control API)
renders messages without knowing which provider sent them.

    {"cards": [Card, ...], "card_width": "SMALL" | "MEDIUM" | None, "file": Media | None}

A rich card is one card, a carousel several (with a width), a file or audio message a `file`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .records import StoredFile

Card = dict[str, Any]
Media = dict[str, Any]


def media(
    *,
    url: str | None = None,
    file_id: str | None = None,
    type: str | None = None,  # noqa: A002 - the documents' name for a MIME type
    name: str | None = None,
    size: int | None = None,
    height: str | None = None,
    thumbnail: str | None = None,
    files: Mapping[str, StoredFile] | None = None,
) -> Media:
    """A media reference; an uploaded file (`file_id`) lends its own type, name and size."""
    stored = files.get(file_id) if files is not None and file_id is not None else None
    return {
        "url": url,
        "file_id": file_id,
        "type": stored.mime if stored else type,
        "name": stored.name if stored else name,
        "size": stored.size if stored else size,
        "height": height.upper() if height else None,
        "thumbnail": thumbnail,
    }


def card(
    *,
    title: str | None,
    description: str | None,
    media: Media | None,
    orientation: str | None,
    alignment: str | None,
) -> Card:
    if media is not None and media["height"] is None:
        media = {**media, "height": "MEDIUM"}  # a card's media height when none is asked for
    return {
        "title": title,
        "description": description,
        "media": media,
        "orientation": (orientation or "VERTICAL").upper(),
        "alignment": (alignment or "LEFT").upper(),
    }


def layout(
    cards: list[Card] | None = None, card_width: str | None = None, file: Media | None = None
) -> dict[str, Any]:
    """With no arguments: a text or an SMS, nothing beyond the record's text and chips."""
    width = (card_width or "MEDIUM").upper() if cards and len(cards) > 1 else None
    return {"cards": cards or [], "card_width": width, "file": file}
