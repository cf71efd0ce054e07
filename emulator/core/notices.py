"""What the emulator tells about itself: change notices for live viewers (and the periodic
save), and surprises (what a test did not ask for). A part of the Emulator aggregate."""

# mypy: disable-error-code="misc"
# (Methods of the Emulator kept apart by job: `self: Emulator` types every attribute they use;
# mypy would have a mixin's self be a supertype of the mixin itself.)
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .clock import iso
from .webhooks import Attempt, Delivery

if TYPE_CHECKING:
    from .emulator import Emulator

SURPRISES_KEPT = 10_000


class Notices:
    def touch(self: Emulator) -> None:
        """Something that viewers do not draw changed (settings, an upload): save it."""
        self.revision += 1

    def publish(
        self: Emulator,
        kind: str,
        provider: str | None,
        agent_id: str | None,
        phone: str | None,
        message_id: str | None,
    ) -> None:
        """Tell live viewers that something changed; a viewer that lags loses notices, not
        correctness: it reloads what it shows on the next one."""
        self.revision += 1
        if not self.watchers:
            return
        notice = {"kind": kind, "provider": provider, "agent_id": agent_id, "phone": phone,
                  "message_id": message_id}  # fmt: skip
        for queue in self.watchers:
            if not queue.full():
                queue.put_nowait(notice)

    def note_surprise(self: Emulator, kind: str, **details: Any) -> None:
        self.surprises.append({"kind": kind, "time": iso(self.clock.now()), **details})

    def _webhook_surprise(self: Emulator, delivery: Delivery, attempt: Attempt) -> None:
        if attempt.accepted:
            return
        self.note_surprise(
            "webhook",
            provider=delivery.provider,
            tenant=delivery.tenant,
            url=delivery.url,
            payload=delivery.payload,
            status=attempt.status,
            error=attempt.error,
            body=attempt.body,
            attempt=attempt.number,
        )
