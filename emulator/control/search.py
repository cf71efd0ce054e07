"""Search as the inbox asks it of the server (`q=`): every word typed must appear, in any case,
somewhere in what a record says about itself (ids, phone, agent, provider, texts)."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import Field

from ..providers import REGISTRY

QUERY_FIELD = Field(
    None,
    max_length=500,
    description="Words that must each appear (case-insensitive, anywhere) in the item's ids, "
    "phone, agent, provider or texts.",
)


def words_of(query: str | None) -> list[str]:
    return query.lower().split() if query else []


def title_of(provider: str) -> str:
    """The provider's title as people read it (the inbox shows it; search finds it)."""
    entry = REGISTRY.get(provider)
    return entry.title if entry is not None else provider


def matches(words: list[str], fields: Iterable[str | None]) -> bool:
    text = " ".join(f for f in fields if f).lower()
    return all(word in text for word in words)
