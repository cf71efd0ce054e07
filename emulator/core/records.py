"""The records the state is made of: what was sent to whom and what happened to it since
(messages and their events), uploaded files, what is due when (due events), and the webhook log
(deliveries, their attempts, and the retry policy each was given). Each has ONE data form
(forms.py), derived from its fields here: the Redis engine, the memory engine's state file and
the control API's views all write a record out through it, so a field is added in one place.

A retry policy is data too (not code): a delivery carries its own, kept with it wherever the
delivery is kept, so whoever makes its next attempt knows what the receiver must answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any

from annotated_types import Ge, MinLen

from .forms import APART, Form
from .models import Channel, EventType, Status
from .scenario_files import Step


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

    id: Annotated[str, MinLen(1)]
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
    # The engine's order of messages (set when stored): creation order within a tenant, and
    # the tie-break of equal creation times across tenants.
    seq: int = field(default=0, metadata=APART)
    # The HTTP exchange that created it, as the HTTP layer recorded it (opaque bytes to the
    # core); one object shared by every recipient of the request, kept apart by every store.
    exchange: bytes | None = field(default=None, metadata=APART)

    def has_suggestions(self) -> bool:
        return bool(self.suggestions)


@dataclass(slots=True)
class StoredFile:
    id: Annotated[str, MinLen(1)]
    tenant: str
    agent_id: str
    name: str
    mime: str
    size: Annotated[int, Ge(0)]
    uploaded_at: float
    expires_at: float
    path: str  # where the engine keeps its bytes (its own words: a file, a key)


@dataclass(slots=True, frozen=True)
class TimelineEntry:
    """One event of an agent's conversation, outgoing messages included (made on reading)."""

    time: float
    message: Message
    event: Event


# -- the schedule ---------------------------------------------------------------------------------


class DueKind(StrEnum):
    SEND = "send"  # a send scheduled for later: its time came
    STEP = "step"  # the next step of a recipient's scripted timeline
    RETRY = "retry"  # a webhook delivery's next attempt (where an engine schedules retries)


@dataclass(frozen=True, slots=True)
class Due:
    """Something that happens at an emulator time: what, to which record, of which tenant."""

    kind: DueKind
    tenant: str
    ref: str | int  # the message id (SEND, STEP) or the delivery id (RETRY)
    step: Step | None = None  # STEP: the step to run


# -- the webhook log ------------------------------------------------------------------------------


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
    """A provider's rule for its callbacks: the receiver accepts with a 2xx status (and, where
    the provider asks it, a text in its answer); until it does, retries follow after `delays`."""

    delays: tuple[float, ...]  # emulator seconds before each retry; attempts = len + 1
    answer_must_contain: str | None = None  # besides a 2xx status (None: any answer)
    timeout: float = 10.0
    description: str = ""

    @property
    def max_attempts(self) -> int:
        return len(self.delays) + 1

    def accepts(self, status: int, body: str) -> bool:
        """Whether the receiver's answer counts as taking the callback."""
        if not 200 <= status < 300:
            return False
        return self.answer_must_contain is None or self.answer_must_contain in body


@dataclass(slots=True)
class Attempt:
    number: Annotated[int, Ge(1)]
    time: float
    status: int | None = None
    body: str | None = None
    error: str | None = None
    duration_ms: float = 0.0
    accepted: bool = False


@dataclass(slots=True)
class Delivery:
    """One callback to one URL, about one recipient's message, with every attempt made. A rule
    asks for one with its first fields (the queue that takes it gives it its id)."""

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
    id: int = 0  # given by the queue that keeps it (0: not yet kept)
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


# -- the data forms (forms.py), inner records first ------------------------------------------------

SUGGESTION = Form(Suggestion)
EVENT = Form(Event)
MESSAGE = Form(Message)
FILE = Form(StoredFile)
DUE = Form(Due)
POLICY = Form(RetryPolicy)
ATTEMPT = Form(Attempt)
DELIVERY = Form(Delivery)
