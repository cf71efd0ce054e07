"""Change notices: what live viewers (the inbox) are told. A part the Emulator owns.

A viewer is told every change, never fewer: notices waiting for a slow viewer are merged (the
same notice twice is one), and past `PENDING` distinct ones they collapse into one `resync`
notice (reload what you show), so a burst of thousands of changes (an advance over a big state)
costs the viewer one reload instead of thousands of notices, and none is dropped unsaid."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from enum import StrEnum
from typing import Any

PENDING = 1000  # distinct notices held for a viewer before they collapse into one resync


class NoticeKind(StrEnum):
    MESSAGE = "message"  # a message was stored (sent, or a thread a phone opened)
    EVENT = "event"  # an event happened to a message
    WEBHOOK = "webhook"  # a callback's attempt ended
    RESET = "reset"  # records were forgotten: redraw
    SETTLED = "settled"  # an advance that answered before its callbacks: they are done now
    RESYNC = "resync"  # too many changes to say one by one: reload what you show


RESYNC: dict[str, Any] = {
    "kind": NoticeKind.RESYNC,
    "provider": None,
    "agent_id": None,
    "phone": None,
    "message_id": None,
    "tenant": None,
}
NoticeKey = tuple[Any, ...]


class Viewer(asyncio.Queue[dict[str, Any]]):
    """One live viewer's notices, merged while they wait (never full: the emulator publishes
    into it as into any queue, and it never refuses)."""

    def __init__(self, tenants: frozenset[str] | None = None) -> None:
        super().__init__()
        self.tenants = tenants  # what it is told of (None: every tenant)
        self._waiting: dict[NoticeKey, dict[str, Any]] = {}
        self._overflowed = False
        self._ready = asyncio.Event()

    def full(self) -> bool:
        return False

    def put_nowait(self, item: dict[str, Any]) -> None:
        self._ready.set()
        if item.get("kind") == NoticeKind.RESET:
            self._waiting.clear()  # a reset redraws everything: what came before is moot
            self._overflowed = False
        elif self._overflowed:
            return
        elif len(self._waiting) >= PENDING:
            self._overflowed = True
            self._waiting.clear()
            return
        self._waiting.setdefault(tuple(item.values()), item)

    async def take(self) -> list[dict[str, Any]]:
        """Every notice waiting (at least one), oldest first; a viewer that fell too far
        behind gets one resync instead."""
        await self._ready.wait()
        self._ready.clear()
        taken = [RESYNC] if self._overflowed else list(self._waiting.values())
        self._waiting = {}
        self._overflowed = False
        return taken


class Notices:
    def __init__(self) -> None:
        self.watchers: set[Viewer] = set()
        # Where a notice goes beyond this process's viewers (other processes' viewers).
        self.relays: list[Callable[[dict[str, Any]], None]] = []

    def publish(
        self,
        kind: NoticeKind,
        provider: str | None = None,
        agent_id: str | None = None,
        phone: str | None = None,
        message_id: str | None = None,
        tenant: str | None = None,
    ) -> None:
        """Tell live viewers that something changed (of a tenant's, or of every one's)."""
        if not self.watchers and not self.relays:
            return
        notice = {
            "kind": kind,
            "provider": provider,
            "agent_id": agent_id,
            "phone": phone,
            "message_id": message_id,
            "tenant": tenant,
        }
        for relay in self.relays:
            relay(notice)
        self.show(notice)

    def show(self, notice: dict[str, Any]) -> None:
        """A notice for this process's viewers (of a change here, or another process's)."""
        tenant = notice.get("tenant")
        for viewer in self.watchers:
            if viewer.tenants is None or tenant is None or tenant in viewer.tenants:
                viewer.put_nowait(notice)

    def watch(self, tenants: frozenset[str] | None = None) -> Viewer:
        """A new viewer's notices (of these tenants only, and of every one's; stop with
        `unwatch`)."""
        viewer = Viewer(tenants)
        self.watchers.add(viewer)
        return viewer

    def unwatch(self, viewer: Viewer) -> None:
        self.watchers.discard(viewer)
