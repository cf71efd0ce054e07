"""The store's change tracker, read by the periodic save."""

from __future__ import annotations

from .models import Message


class Changes:
    """What changed since the last save (only with a state file): messages added, changed or
    evicted, and tenants dropped, so a save rewrites only those."""

    __slots__ = ("messages", "dropped", "cleared")

    def __init__(self) -> None:
        self.messages: dict[tuple[str, str], Message] = {}
        self.dropped: set[str] = set()
        self.cleared = False
