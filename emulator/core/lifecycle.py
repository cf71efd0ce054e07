"""The rules of a message's life, and of the phone that receives it: the send, each step of the
recipient's scripted timeline, the events they record and the callbacks those push, and what the
person holding the phone can do (tap a chip, type a reply) and when they cannot.

Rules are synchronous and run over a `Unit` of the engine (engine.py): they read what the unit
loaded and write through it; they never wait, never touch storage structures, and never know
which engine or which provider they serve (an adapter renders each provider's callbacks).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from .adapter import ProviderAdapter
from .clock import Clock
from .directory import Directory
from .display import layout
from .engine import Unit
from .ids import IdSource
from .models import EVENT_STATUS, NO_CONTENT, USER_MESSAGE, Channel, EventType, Status
from .notices import NoticeKind, Notices
from .records import Delivery, Due, DueKind, Event, Message, RetryPolicy, Suggestion
from .replies import Gist, gist_of, reply_to
from .scenario_files import Step
from .settings import EmulatorSettings

RECEIPTS = (EventType.DELIVERED, EventType.READ)  # in the order a phone sends them
# Where a thread a phone opens lives when neither the caller nor the agent's settings name a
# tenant (the API key or account the agent's bot uses).
DEFAULT_TENANT = "default"
ANSWERS = (EventType.REPLY, EventType.ACTION, EventType.MESSAGE)  # the user's own messages


class InboundError(ValueError):
    """A user action that cannot happen (no message to tap on, no such suggestion)."""


def has_event(message: Message, etype: EventType) -> bool:
    return any(e.type is etype for e in message.events)


class Lifecycle:
    def __init__(
        self,
        settings: EmulatorSettings,
        clock: Clock,
        ids: IdSource,
        directory: Directory,
        adapters: Mapping[str, ProviderAdapter],
        notices: Notices,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.ids = ids
        self.directory = directory
        self.adapters = adapters
        self.notices = notices
        self._policies: dict[tuple[RetryPolicy, float], RetryPolicy] = {}

    # -- the send ---------------------------------------------------------------------------

    def accept(self, unit: Unit, message: Message) -> None:
        """An accepted message: stored, and its timeline started now or at its send time."""
        unit.add(message)
        self.notices.publish(
            NoticeKind.MESSAGE,
            message.provider,
            message.agent_id,
            message.phone,
            message.id,
            message.tenant,
        )
        if message.send_at > self.clock.now():
            unit.set_status(message, Status.SCHEDULED)
            unit.schedule(message.send_at, Due(DueKind.SEND, unit.tenant, message.id))
        else:
            self.dispatch(unit, message)

    def dispatch(self, unit: Unit, message: Message) -> None:
        """The send itself: at once, or when a scheduled send time comes."""
        now = self.clock.now()
        if message.status is Status.SCHEDULED:
            unit.set_status(message, Status.QUEUED)
        unit.record(message, Event(EventType.SENT, now), Status.SENT)
        resolution = self.directory.resolve(message.phone)
        if message.channel is Channel.RCS and not resolution.capable:
            self.fire(unit, message, EventType.NO_CAPABILITY)
            return
        plan = resolution.sms_timeline if message.channel is Channel.SMS else resolution.timeline
        due = now
        for step in plan.steps(self.ids):
            due += step.after.sample(self.ids)
            unit.schedule(due, Due(DueKind.STEP, unit.tenant, message.id, step))

    def run(self, unit: Unit, task: Due) -> None:
        """A due event of a message (a scheduled send, a timeline step); nothing if the message
        is gone (its tenant reset, or evicted)."""
        assert isinstance(task.ref, str)
        message = unit.message(task.ref)
        if message is None or not unit.alive(message):
            return
        if task.kind is DueKind.SEND:
            self.dispatch(unit, message)
        elif task.step is not None:
            self.run_step(unit, message, task.step)

    def run_step(self, unit: Unit, message: Message, step: Step) -> None:
        """One step of a recipient's scripted timeline."""
        cond = step.when
        if cond is not None and (
            (cond.has_suggestions is not None and cond.has_suggestions != message.has_suggestions())
            or (cond.channel is not None and cond.channel != message.channel.value)
            or (cond.kind is not None and cond.kind != message.kind)
        ):
            return
        etype = step.event_type
        if etype is EventType.REPLY:
            try:
                self.tap(unit, message, position=step.suggestion, postback=step.postback)
            except InboundError:
                pass  # a scripted tap on a chip the message does not have is skipped
        elif etype is EventType.MESSAGE:
            text = step.text or reply_to(self._gist(message), self.ids.random())
            self.fire(unit, message, EventType.MESSAGE, text=text)
        elif etype in RECEIPTS and has_event(message, etype):
            return  # the user's own tap or reply already reported it: a phone says it once
        else:
            self.fire(unit, message, etype)

    def _gist(self, message: Message) -> Gist:
        adapter = self.adapters.get(message.provider)
        return gist_of(message, adapter.display(message, {}) if adapter else layout())

    # -- events -----------------------------------------------------------------------------

    def fire(
        self,
        unit: Unit,
        message: Message,
        etype: EventType,
        text: str | None = None,
        postback: str | None = None,
    ) -> Event:
        """Record an event on a message and push the provider's callbacks for it."""
        if not unit.alive(message):
            raise InboundError(f"message {message.id} was reset")
        event = Event(etype, self.clock.now(), text=text, postback=postback)
        if etype in ANSWERS:
            event.ref = self.ids.uuid()
            status: Status | None = Status.READ
        else:
            status = EVENT_STATUS.get(etype)
        unit.record(message, event, status)
        self.notices.publish(
            NoticeKind.EVENT,
            message.provider,
            message.agent_id,
            message.phone,
            message.id,
            message.tenant,
        )
        self._notify(unit, message, event)
        return event

    def _notify(self, unit: Unit, message: Message, event: Event) -> None:
        adapter = self.adapters.get(message.provider)
        if adapter is None:
            return
        agent = self.directory.agent_for(message.provider, message.agent_id, message.tenant)
        url = agent.webhook_url or self.settings.default_webhook_url
        if not url:
            return
        policy = self.policy(adapter.retry_policy(agent))
        for payload in adapter.callbacks(message, event):
            unit.deliver(
                Delivery(
                    message.provider,
                    message.tenant,
                    message.agent_id,
                    message.phone,
                    message.id,
                    event.type.value,
                    url,
                    payload,
                    policy,
                    event.time,
                )
            )

    def policy(self, policy: RetryPolicy) -> RetryPolicy:
        """The provider's policy, with the configured webhook timeout over its own."""
        timeout = self.settings.webhook_timeout
        if timeout is None or policy.timeout == timeout:
            return policy
        known = self._policies.get((policy, timeout))
        if known is None:
            known = self._policies[(policy, timeout)] = replace(policy, timeout=timeout)
        return known

    # -- the phone's answers ----------------------------------------------------------------

    def tap(
        self, unit: Unit, message: Message, position: int | None = None, postback: str | None = None
    ) -> Event:
        """The user taps a chip of the message: by its position (1-based) or its postback."""
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
        self._receipts_before_answer(unit, message)
        return self.fire(unit, message, etype, text=chip.label, postback=chip.postback)

    def answer(self, unit: Unit, message: Message, text: str | None, postback: str | None) -> Event:
        """The user acts on a message: taps the chip with this postback, or types `text`."""
        refusal = self.why_no_answer(message)
        if refusal is not None:
            raise InboundError(refusal)
        if postback is not None:
            return self.tap(unit, message, postback=postback)
        if not text:
            raise InboundError("an inbound action needs 'text' or 'postback'")
        self._receipts_before_answer(unit, message)
        return self.fire(unit, message, EventType.MESSAGE, text=text)

    def thread_tenant(self, provider: str, agent_id: str, tenant: str | None) -> str:
        """Where a thread the phone opens lives: the tenant given, else the one the agent's
        settings name (when exactly one does), else DEFAULT_TENANT."""
        if tenant is not None:
            return tenant
        named = {
            a.tenant
            for a in self.directory.agents.values()
            if (a.provider, a.agent_id) == (provider, agent_id) and a.tenant
        }
        return named.pop() if len(named) == 1 else DEFAULT_TENANT

    def open_thread(
        self, unit: Unit, provider: str, agent_id: str, phone: str, text: str
    ) -> tuple[Message, Event]:
        """The phone writes to an agent that has sent it nothing: a record of the user's own
        message (kind USER_MESSAGE) in the unit's tenant, whose MESSAGE event makes the
        provider's callback for a typed text."""
        if not self.directory.capable(phone):
            raise InboundError(f"{phone} has no RCS capability: it cannot write over RCS")
        now = self.clock.now()
        message = Message(
            id=self.ids.uuid(),
            provider=provider,
            tenant=unit.tenant,
            agent_id=agent_id,
            phone=phone,
            channel=Channel.RCS,
            kind=USER_MESSAGE,
            text=text,
            created_at=now,
            send_at=now,
            content=NO_CONTENT,
            status=Status.DELIVERED,
        )
        unit.add(message)
        self.notices.publish(NoticeKind.MESSAGE, provider, agent_id, phone, message.id, unit.tenant)
        return message, self.fire(unit, message, EventType.MESSAGE, text=text)

    def _receipts_before_answer(self, unit: Unit, message: Message) -> None:
        """A phone that answers has received and shown the message: if it has not said so yet,
        it says delivered, then read, before the answer (each once, in that order)."""
        if message.channel is not Channel.RCS or message.kind == USER_MESSAGE:
            return  # (the user's own message is not received by the user)
        for receipt in RECEIPTS:
            if not has_event(message, receipt):
                self.fire(unit, message, receipt)

    def why_no_answer(self, message: Message) -> str | None:
        """Why the phone cannot answer this message over RCS, or None when it can."""
        phone = message.phone
        if message.channel is Channel.SMS:
            return f"{phone} has no RCS capability: it got {message.id} as an SMS fallback"
        if message.status is Status.NO_CAPABILITY or not self.directory.capable(phone):
            return f"{phone} has no RCS capability: it cannot answer over RCS"
        if message.status in (Status.SCHEDULED, Status.QUEUED):
            return f"message {message.id} has not reached {phone} yet (it is {message.status})"
        if message.status in (Status.UNDELIVERED, Status.EXPIRED, Status.FAILED):
            return f"message {message.id} never reached {phone} (it is {message.status})"
        return None
