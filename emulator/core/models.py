"""Provider-neutral records: what was sent, to whom, and what happened to it since."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
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
class Suggestion:
    """A chip the user can tap. kind: reply, url, dial, map, calendar, share_location."""

    label: str
    postback: str
    kind: str = "reply"
    target: str | None = None  # url, phone number, place or event, shown in the inbox
    card: int | None = None  # index of the card it belongs to, None for message-level chips


@dataclass(slots=True)
class Event:
    type: EventType
    time: float
    text: str | None = None
    postback: str | None = None
    ref: str | None = None  # id of the user's own message, for replies and typed messages

    @property
    def inbound(self) -> bool:
        """From the user's side (everything but the agent's own send)."""
        return self.type is not EventType.SENT


@dataclass(slots=True)
class Message:
    """One recipient's copy of a sent message."""

    id: str
    provider: str
    tenant: str
    agent_id: str
    phone: str
    channel: Channel
    kind: str  # text, file, richcard, carousel, sms; USER_MESSAGE for a thread the phone opened
    text: str
    created_at: float
    send_at: float
    # What the record's own fields (text, suggestions) do not already hold: cards, media, the
    # client's tag... Shared between the recipients of one request; empty for a plain text.
    content: Mapping[str, Any]
    suggestions: tuple[Suggestion, ...] = ()
    batch: str | None = None  # the request's batch id (a tag); None where a provider has none
    external_id: str | None = None  # the client's own id for this recipient's message
    status: Status = Status.QUEUED
    events: list[Event] = field(default_factory=list)
    seq: int = 0
    # The HTTP exchange that created it, as the HTTP layer recorded it (opaque bytes to the
    # core); one object shared by every recipient of the request.
    exchange: bytes | None = None

    def has_suggestions(self) -> bool:
        return bool(self.suggestions)


@dataclass(slots=True)
class StoredFile:
    id: str
    tenant: str
    agent_id: str
    name: str
    mime: str
    size: int
    uploaded_at: float
    expires_at: float
    path: str


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


@dataclass(slots=True, frozen=True)
class TimelineEntry:
    """One event of an agent's conversation, outgoing messages included (made on reading)."""

    time: float
    message: Message
    event: Event
