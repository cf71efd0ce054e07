"""The webhook log's records: a delivery (one callback to one URL), its attempts, its state, and
the retry policy its provider gave it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ..core.clock import iso


class DeliveryState(StrEnum):
    PENDING = "pending"  # waiting for its recipient's lane or a free connection
    IN_FLIGHT = "in_flight"  # an attempt is under way
    RETRYING = "retrying"  # an attempt failed; the next is scheduled on the emulator clock
    DELIVERED = "delivered"  # the receiver accepted it
    FAILED = "failed"  # every attempt failed (or a redelivery did): nothing more is owed

    @property
    def finished(self) -> bool:
        return self in (DeliveryState.DELIVERED, DeliveryState.FAILED)

    @property
    def failing(self) -> bool:
        """Not accepted (yet): what the webhook log's "failures only" shows."""
        return self in (DeliveryState.RETRYING, DeliveryState.FAILED)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    delays: tuple[float, ...]  # emulator seconds before each retry; attempts = len + 1
    accepts: Callable[[int, str], bool]  # (status, body) -> the delivery counts as done
    timeout: float = 10.0
    description: str = ""

    @property
    def max_attempts(self) -> int:
        return len(self.delays) + 1


@dataclass(slots=True)
class Attempt:
    number: int
    time: float
    status: int | None = None
    body: str | None = None
    error: str | None = None
    duration_ms: float = 0.0
    accepted: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "attempt": self.number,
            "time": iso(self.time),
            "status": self.status,
            "body": self.body,
            "error": self.error,
            "duration_ms": round(self.duration_ms, 2),
            "accepted": self.accepted,
        }


@dataclass(frozen=True, slots=True)
class Callback:
    """A callback a rule asks for: one payload to one URL, about one recipient's message."""

    provider: str
    tenant: str
    agent_id: str
    phone: str
    message_id: str | None
    event: str
    url: str
    payload: Any
    policy: RetryPolicy
    created_at: float  # the event's time: its first attempt is due then


@dataclass(slots=True)
class Delivery:
    id: int
    provider: str
    tenant: str
    agent_id: str
    phone: str
    message_id: str | None
    event: str
    url: str
    payload: Any
    policy: RetryPolicy
    created_at: float
    state: DeliveryState = DeliveryState.PENDING
    next_attempt_at: float | None = None
    attempts: list[Attempt] = field(default_factory=list)
    manual: bool = False  # the attempt under way was asked for (redeliver): no retries follow
    # The emulator time its next attempt is due: its event's time, a retry's, a redelivery's.
    # On a manual clock the attempt is stamped with it (an advance runs each at its own time).
    due_at: float = 0.0

    @property
    def lane(self) -> tuple[str, str, str, str]:
        """Its recipient: callbacks to one go out in event order."""
        return (self.url, self.tenant, self.agent_id, self.phone)

    def outcome(self, attempt: Attempt, ended: float) -> tuple[DeliveryState, float | None]:
        """What its latest attempt (already among its attempts) makes of it: delivered, failed
        for good (every attempt made, or a redelivery's one), or a retry at an emulator time
        (`ended`: when the attempt ended, on the emulator clock)."""
        if attempt.accepted:
            return DeliveryState.DELIVERED, None
        if self.manual or len(self.attempts) >= self.policy.max_attempts:
            return DeliveryState.FAILED, None
        return DeliveryState.RETRYING, ended + self.policy.delays[len(self.attempts) - 1]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "provider": self.provider,
            "agent_id": self.agent_id,
            "phone": self.phone,
            "message_id": self.message_id,
            "event": self.event,
            "url": self.url,
            "payload": self.payload,
            "state": self.state.value,
            "created": iso(self.created_at),
            "next_attempt_at": iso(self.next_attempt_at) if self.next_attempt_at else None,
            "attempts": [a.to_dict() for a in self.attempts],
            "policy": self.policy.description,
        }
