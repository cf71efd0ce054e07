"""Surprises: what a test did not ask for (refused requests, webhooks not accepted), the newest
10,000 of them (a long demo must not grow them without end). A part the Emulator owns."""

from __future__ import annotations

from collections import deque
from enum import StrEnum
from typing import Any

from .clock import Clock, iso
from .records import Attempt, Delivery

KEPT = 10_000


class SurpriseKind(StrEnum):
    REQUEST = "request"  # a request the emulator refused (a provider's error, the control API's)
    WEBHOOK = "webhook"  # a callback's attempt the receiver did not accept


class Surprises:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._items: deque[dict[str, Any]] = deque(maxlen=KEPT)

    def note(self, kind: SurpriseKind, **details: Any) -> None:
        self._items.append({"kind": kind, "time": iso(self.clock.now()), **details})

    def webhook_attempt(self, delivery: Delivery, attempt: Attempt) -> None:
        """A delivery listener: an attempt the receiver did not accept is a surprise."""
        if not attempt.accepted:
            self.note(SurpriseKind.WEBHOOK, **unaccepted(delivery, attempt))

    async def forget(self, tenant: str | None = None) -> None:
        """Every surprise, or one tenant's."""
        if tenant is None:
            self._items = deque(maxlen=KEPT)
        else:
            kept = (s for s in self._items if s.get("tenant") != tenant)
            self._items = deque(kept, maxlen=KEPT)

    async def items(self) -> list[dict[str, Any]]:
        return list(self._items)


def unaccepted(delivery: Delivery, attempt: Attempt) -> dict[str, Any]:
    """What a surprise says of an attempt its receiver did not accept (on every engine)."""
    return {
        "provider": delivery.provider,
        "tenant": delivery.tenant,
        "url": delivery.url,
        "payload": delivery.payload,
        "status": attempt.status,
        "error": attempt.error,
        "body": attempt.body,
        "attempt": attempt.number,
    }
