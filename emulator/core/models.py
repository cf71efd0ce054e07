"""The core's vocabulary: where a message stands, what can happen to it, and the settings of
agents and phones. The records themselves (messages, events, deliveries...) are in records.py."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any

NO_CONTENT: Mapping[str, Any] = MappingProxyType({})


class Status(StrEnum):
    """Where one recipient's message stands; providers render these in their own words."""

    SCHEDULED = "scheduled"  # accepted with a send time still in the future
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    UNDELIVERED = "undelivered"
    EXPIRED = "expired"
    NO_CAPABILITY = "no_capability"
    FAILED = "failed"


class Channel(StrEnum):
    RCS = "RCS"
    SMS = "SMS"


class EventType(StrEnum):
    SENT = "sent"  # the business message left the agent
    DELIVERED = "delivered"
    READ = "read"
    REPLY = "reply"  # the user tapped a suggested reply
    ACTION = "action"  # the user tapped a suggested action
    MESSAGE = "message"  # the user typed a message
    NO_CAPABILITY = "no_capability"
    UNDELIVERED = "undelivered"
    EXPIRED = "expired"
    FAILED = "failed"


# The status each event moves a message to; user reactions imply the message was read.
EVENT_STATUS: dict[EventType, Status] = {
    EventType.SENT: Status.SENT,
    EventType.DELIVERED: Status.DELIVERED,
    EventType.READ: Status.READ,
    EventType.NO_CAPABILITY: Status.NO_CAPABILITY,
    EventType.UNDELIVERED: Status.UNDELIVERED,
    EventType.EXPIRED: Status.EXPIRED,
    EventType.FAILED: Status.FAILED,
}

# Later statuses never move back to earlier ones (a late "delivered" after "read" changes nothing).
STATUS_RANK: dict[Status, int] = {
    Status.SCHEDULED: 0,
    Status.QUEUED: 1,
    Status.SENT: 2,
    Status.DELIVERED: 3,
    Status.READ: 4,
    Status.UNDELIVERED: 5,
    Status.EXPIRED: 5,
    Status.NO_CAPABILITY: 5,
    Status.FAILED: 5,
}


# The kind of the record a phone's own message makes when it writes to an agent that has sent it
# nothing (RCS lets a person open a thread with a business): the user's message, not the agent's.
# It is never sent, so it has no SENT event, no scenario timeline and no receipts.
USER_MESSAGE = "user"


@dataclass(slots=True)
class AgentSettings:
    provider: str
    agent_id: str
    webhook_url: str | None = None
    answer_tag: str | None = None
    name: str | None = None
    tenant: str | None = None  # None: for every tenant without settings of its own


@dataclass(slots=True)
class PhoneSettings:
    phone: str
    rcs_capable: bool | None = None  # None: the scenario decides
    scenario: str | None = None
