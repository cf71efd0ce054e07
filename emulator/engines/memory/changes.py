"""What changed since the last save: an observer of the memory engine's stores and schedule, so
that a periodic save rewrites only what changed (no write path asks whether anyone saves)."""

from __future__ import annotations

from ...core.records import Message
from .schedule import Entry


class ChangeTracker:
    """Messages added, changed or evicted, tenants dropped, everything cleared; due events
    scheduled and taken. Installed as an observer of the stores and of the schedule."""

    def __init__(self) -> None:
        self.messages: dict[tuple[str, str], Message] = {}
        self.dropped: set[str] = set()
        self.cleared_all = False
        self.added: list[Entry] = []
        self.ran: list[int] = []
        self.schedule_was_cleared = False

    # -- the stores (engines.store.StoreObserver) -------------------------------------------

    def message_changed(self, message: Message) -> None:
        self.messages[(message.tenant, message.id)] = message

    def tenant_dropped(self, tenant: str) -> None:
        self.dropped.add(tenant)

    def records_cleared(self) -> None:
        self.cleared_all = True
        self.messages.clear()
        self.dropped.clear()

    # -- the schedule (engines.schedule.ScheduleObserver) -----------------------------------

    def scheduled(self, entry: Entry) -> None:
        self.added.append(entry)

    def taken(self, seq: int) -> None:
        self.ran.append(seq)

    def schedule_cleared(self) -> None:
        self.schedule_was_cleared = True
        self.added.clear()
        self.ran.clear()
