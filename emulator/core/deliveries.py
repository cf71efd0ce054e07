"""The webhook log's records: a delivery (one callback to one URL), its attempts, and the retry
policy its provider gave it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .clock import iso


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
    state: str = "pending"  # pending, in_flight, retrying, delivered, failed
    next_attempt_at: float | None = None
    attempts: list[Attempt] = field(default_factory=list)
    manual: bool = False  # the attempt under way was asked for (redeliver): no retries follow

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
            "state": self.state,
            "created": iso(self.created_at),
            "next_attempt_at": iso(self.next_attempt_at) if self.next_attempt_at else None,
            "attempts": [a.to_dict() for a in self.attempts],
            "policy": self.policy.description,
        }
