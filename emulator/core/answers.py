"""The phone's side: taps and replies, the receipts a real phone sends before answering, and
why a phone cannot answer. A part of the Emulator aggregate."""

# mypy: disable-error-code="misc"
# (Methods of the Emulator kept apart by job: `self: Emulator` types every attribute they use;
# mypy would have a mixin's self be a supertype of the mixin itself.)
from __future__ import annotations

from typing import TYPE_CHECKING

from .models import NO_CONTENT, USER_MESSAGE, Channel, Event, EventType, Message, Status, Suggestion

if TYPE_CHECKING:
    from .emulator import Emulator

RECEIPTS = (EventType.DELIVERED, EventType.READ)  # in the order a phone sends them
# Where a thread a phone opens lives when neither the caller nor the agent's settings name a
# tenant (the API key or account the agent's bot uses).
DEFAULT_TENANT = "default"


class InboundError(ValueError):
    """A user action that cannot happen (no message to tap on, no such suggestion)."""


def has_event(message: Message, etype: EventType) -> bool:
    return any(e.type is etype for e in message.events)


class Answers:
    def tap(
        self: Emulator, message: Message, position: int | None = None, postback: str | None = None
    ) -> Event:
        chips = message.suggestions
        if position is not None:
            if not 1 <= position <= len(chips):
                raise InboundError(f"message {message.id} has no suggestion number {position}")
            chip: Suggestion | None = chips[position - 1]
        else:
            chip = next((c for c in chips if c.postback == postback), None)
        if chip is None:
            raise InboundError(f"message {message.id} has no suggestion with that postback")
        etype = EventType.REPLY if chip.kind == "reply" else EventType.ACTION
        self._receipts_before_answer(message)
        return self.fire(message, etype, text=chip.label, postback=chip.postback)

    def _receipts_before_answer(self: Emulator, message: Message) -> None:
        """A phone that answers has received and shown the message: if it has not said so yet,
        it says delivered, then read, before the answer (each once, in that order)."""
        if message.channel is not Channel.RCS or message.kind == USER_MESSAGE:
            return  # (the user's own message is not received by the user)
        for receipt in RECEIPTS:
            if not has_event(message, receipt):
                self.fire(message, receipt)

    def inbound(
        self: Emulator,
        provider: str,
        agent_id: str,
        phone: str,
        text: str | None = None,
        postback: str | None = None,
        message_id: str | None = None,
        tenant: str | None = None,
    ) -> tuple[Message, Event]:
        """The user acts on the latest message this agent sent to this phone, or on the one
        named by `message_id` (a chip of an earlier card stays tappable). A phone the agent has
        sent nothing may still write first: its text opens the thread (`open_thread`)."""
        if message_id is not None:
            message = self.stores.get(message_id)
            if message is None or (message.provider, message.agent_id, message.phone) != (
                provider,
                agent_id,
                phone,
            ):
                raise InboundError(f"{provider} agent {agent_id} sent no message {message_id} "
                                   f"to {phone}")  # fmt: skip
        else:
            message = self.stores.latest_to(provider, agent_id, phone)
        if message is None:
            if postback is not None or not text:
                raise InboundError(f"{provider} agent {agent_id} has sent nothing to {phone}: "
                                   "there is no suggestion to tap (a phone may write first, "
                                   "with text)")  # fmt: skip
            return self.open_thread(provider, agent_id, phone, text, tenant)
        refusal = self.why_no_answer(message)
        if refusal is not None:
            raise InboundError(refusal)
        if postback is not None:
            return message, self.tap(message, postback=postback)
        if not text:
            raise InboundError("an inbound action needs 'text' or 'postback'")
        self._receipts_before_answer(message)
        return message, self.fire(message, EventType.MESSAGE, text=text)

    def open_thread(
        self: Emulator, provider: str, agent_id: str, phone: str, text: str, tenant: str | None
    ) -> tuple[Message, Event]:
        """The phone writes to an agent that has sent it nothing: a record of the user's own
        message (kind USER_MESSAGE) in the tenant given, else the one the agent's settings name,
        else DEFAULT_TENANT; its MESSAGE event makes the provider's callback for a typed text."""
        if not self.capable(phone):
            raise InboundError(f"{phone} has no RCS capability: it cannot write over RCS")
        if tenant is None:
            named = {a.tenant for a in self.agents.values()
                     if (a.provider, a.agent_id) == (provider, agent_id) and a.tenant}  # fmt: skip
            tenant = named.pop() if len(named) == 1 else DEFAULT_TENANT
        now = max(self.clock.now(), self._latest_created)  # the time indexes never go back
        self._latest_created = now
        message = Message(id=self.ids.uuid(), provider=provider, tenant=tenant,
                          agent_id=agent_id, phone=phone, channel=Channel.RCS,
                          kind=USER_MESSAGE, text=text, created_at=now, send_at=now,
                          content=NO_CONTENT, status=Status.DELIVERED)  # fmt: skip
        self.stores.add(message)
        self.publish("message", provider, agent_id, phone, message.id)
        return message, self.fire(message, EventType.MESSAGE, text=text)

    def why_no_answer(self: Emulator, message: Message) -> str | None:
        """Why the phone cannot answer this message over RCS, or None when it can."""
        phone = message.phone
        if message.channel is Channel.SMS:
            return f"{phone} has no RCS capability: it got {message.id} as an SMS fallback"
        if message.status is Status.NO_CAPABILITY or not self.capable(phone):
            return f"{phone} has no RCS capability: it cannot answer over RCS"
        if message.status in (Status.SCHEDULED, Status.QUEUED):
            return f"message {message.id} has not reached {phone} yet (it is {message.status})"
        if message.status in (Status.UNDELIVERED, Status.EXPIRED, Status.FAILED):
            return f"message {message.id} never reached {phone} (it is {message.status})"
        return None
