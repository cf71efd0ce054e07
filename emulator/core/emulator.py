"""The aggregate: store, clock, scheduler, scenarios and webhook dispatcher behind one object.

Providers hand it plain Message records and an adapter that renders their own callbacks; the
core never knows which provider it serves.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import httpx

from .clock import Clock, ManualClock, iso
from .display import layout
from .files import FileVault
from .ids import IdSource
from .models import (
    EVENT_STATUS,
    AgentSettings,
    Channel,
    Event,
    EventType,
    Message,
    PhoneSettings,
    Status,
    StoredFile,
    Suggestion,
)
from .scenarios import Resolution, ScenarioBook, Step
from .scheduler import Scheduler
from .store import Stores
from .webhooks import Attempt, Delivery, Dispatcher, RetryPolicy


class ProviderAdapter(Protocol):
    """What the core needs from a provider: its callbacks and its retry rule."""

    name: str

    def callbacks(self, message: Message, event: Event) -> list[Any]:
        """The webhook payloads this event produces (none if the provider does not push it)."""

    def retry_policy(self, agent: AgentSettings) -> RetryPolicy: ...

    def display(self, message: Message, files: Mapping[str, StoredFile]) -> dict[str, Any]:
        """How a client lays the message out, in core.display's provider-neutral shape."""


SURPRISES_KEPT = 10_000
RECEIPTS = (EventType.DELIVERED, EventType.READ)  # in the order a phone sends them


def _has(message: Message, etype: EventType) -> bool:
    return any(e.type is etype for e in message.events)


# Messages stored per turn of the event loop: a 100,000-number send lets other clients in
# between slices (each slice takes a few milliseconds) instead of holding them for seconds.
SLICE = 1000


class InboundError(ValueError):
    """A user action that cannot happen (no message to tap on, no such suggestion)."""


@dataclass(slots=True)
class EmulatorSettings:
    """The parts of the config the core uses; the rest stays with the app and providers."""

    default_webhook_url: str | None = None
    seed: int | None = None
    webhook_concurrency: int = 64
    webhook_per_host: int = 4
    webhook_timeout: float | None = None  # overrides the providers' own (10 s) when set
    webhook_backlog: int = 100_000
    max_webhook_log: int = 100_000
    max_messages: int | None = None
    files_folder: str | None = None  # uploads kept here (a state file's own); else a temp folder
    agents: dict[tuple[str, str | None, str], AgentSettings] = field(default_factory=dict)
    phones: dict[str, PhoneSettings] = field(default_factory=dict)


class Emulator:
    def __init__(
        self,
        settings: EmulatorSettings,
        clock: Clock,
        scenarios: ScenarioBook,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.scenarios = scenarios
        self.ids = IdSource(settings.seed)
        self.stores = Stores(settings.max_messages)
        self.vault = FileVault(Path(settings.files_folder) if settings.files_folder else None)
        self._latest_created = 0.0
        self._policies: dict[tuple[RetryPolicy, float], RetryPolicy] = {}
        # Other names a tenant is known by (an account's token, beside its username).
        self.tenant_aliases: dict[str, str] = {}
        self.revision = 0  # counts changes, so a periodic save can skip when nothing changed
        self.scheduler = Scheduler()
        self.dispatcher = Dispatcher(
            clock,
            self.scheduler,
            http_client,
            concurrency=settings.webhook_concurrency,
            per_host=settings.webhook_per_host,
            backlog=settings.webhook_backlog,
            max_log=settings.max_webhook_log,
        )
        self.providers: dict[str, ProviderAdapter] = {}
        self.agents: dict[tuple[str, str | None, str], AgentSettings] = {}
        self.phones: dict[str, PhoneSettings] = {}
        self.on_reset: list[Callable[[], None]] = []  # providers' own per-run state
        self.on_restore: list[Callable[[], None]] = []  # providers' own settings, to config
        self.restore_settings()
        # What a test did not ask for: refused requests and webhooks that were not accepted
        # (the newest 10,000: a long demo must not grow it without end).
        self.surprises: deque[dict[str, Any]] = deque(maxlen=SURPRISES_KEPT)
        self.dispatcher.on_attempt.append(self._webhook_surprise)
        self.dispatcher.on_attempt.append(
            lambda d, a: self.publish("webhook", d.provider, d.agent_id, d.phone, d.message_id)
        )
        # Live viewers (the inbox page): each a bounded queue of small change notices.
        self.watchers: set[asyncio.Queue[dict[str, Any]]] = set()

    def tenant(self, name: str | None) -> str | None:
        """The tenant a client-side name (API key, token, username) stands for."""
        if not name:
            return None
        return self.tenant_aliases.get(name, name)

    def register(self, adapter: ProviderAdapter) -> None:
        self.providers[adapter.name] = adapter

    def restore_settings(self) -> None:
        """Agents and phones back to what the config says (control-API changes undone)."""
        self.agents = {k: replace(v) for k, v in self.settings.agents.items()}
        self.phones = {k: replace(v) for k, v in self.settings.phones.items()}
        for hook in self.on_restore:
            hook()

    def reset(self, keep_settings: bool = False, tenant: str | None = None) -> None:
        """Forget messages, files, events and webhook attempts (of one tenant, or all);
        configuration stays, and so do control-API agent and phone settings when
        `keep_settings` (a tenant's reset always keeps them)."""
        if tenant is not None:
            dropped = self.stores.drop(tenant)
            if dropped is not None:
                self.vault.remove(f.path for f in dropped.files.values())
            self.publish("reset", None, None, None, None)
            self.dispatcher.drop_tenant(tenant)
            kept = (s for s in self.surprises if s.get("tenant") != tenant)
            self.surprises = deque(kept, maxlen=SURPRISES_KEPT)
            return
        self.surprises = deque(maxlen=SURPRISES_KEPT)
        if not keep_settings:
            self.restore_settings()
        self.stores.clear()
        self._latest_created = 0.0
        self.vault.clear()
        self.scheduler.clear()
        self.dispatcher.clear()
        for hook in self.on_reset:
            hook()
        self.publish("reset", None, None, None, None)

    # -- settings ---------------------------------------------------------------------------

    def agent(self, provider: str, agent_id: str, tenant: str | None = None) -> AgentSettings:
        """The settings to edit: this tenant's own (tenant given) or everyone's."""
        key = (provider, tenant, agent_id)
        settings = self.agents.get(key)
        if settings is None:
            settings = self.agents[key] = AgentSettings(provider, agent_id, tenant=tenant)
        return settings

    def agent_for(self, provider: str, agent_id: str, tenant: str) -> AgentSettings:
        """The settings in force for a tenant's agent: its own, else everyone's."""
        own = self.agents.get((provider, tenant, agent_id))
        return own if own is not None else self.agent(provider, agent_id)

    def phone(self, phone: str) -> PhoneSettings:
        settings = self.phones.get(phone)
        if settings is None:
            settings = self.phones[phone] = PhoneSettings(phone)
        return settings

    def resolve(self, phone: str) -> Resolution:
        override = self.phones.get(phone)
        resolution = self.scenarios.resolve(phone, override.scenario if override else None)
        if override is not None and override.rcs_capable is not None:
            return Resolution(
                resolution.scenario,
                resolution.rule,
                override.rcs_capable,
                resolution.timeline,
                resolution.sms_timeline,
            )
        return resolution

    def capable(self, phone: str) -> bool:
        return self.resolve(phone).capable

    # -- sending ----------------------------------------------------------------------------

    async def accept(self, messages: Sequence[Message]) -> None:
        """submit(), a slice at a time, yielding to other requests between slices."""
        if len(messages) <= SLICE:
            self.submit(messages)
            return
        for start in range(0, len(messages), SLICE):
            if start:
                await asyncio.sleep(0)
            self.submit(messages[start : start + SLICE])

    def submit(self, messages: Sequence[Message]) -> None:
        """Store accepted messages and start each one's timeline, now or at its send time."""
        now = self.clock.now()
        latest = self._latest_created
        for message in messages:
            if message.created_at < latest:
                # Another request's slice was stored first: the indexes answer time ranges by
                # bisection, so creation times never go back (a few milliseconds at most).
                if message.send_at == message.created_at:
                    message.send_at = latest
                message.created_at = latest
            latest = message.created_at
            store = self.stores.add(message)
            self.publish("message", message.provider, message.agent_id, message.phone, message.id)
            if message.send_at > now:
                store.set_status(message, Status.SCHEDULED)
                self.scheduler.at(message.send_at, partial(self.dispatch, message))
            else:
                self.dispatch(message)
        self._latest_created = latest

    def dispatch(self, message: Message) -> None:
        """The send itself: at once, or when a scheduled send time comes."""
        store = self.stores.owner(message)
        if store is None:
            return  # its tenant was reset while it waited
        now = self.clock.now()
        if message.status is Status.SCHEDULED:
            store.set_status(message, Status.QUEUED)
        store.record(message, Event(EventType.SENT, now), Status.SENT)
        resolution = self.resolve(message.phone)
        if message.channel is Channel.RCS and not resolution.capable:
            self.fire(message, EventType.NO_CAPABILITY)
            return
        steps = resolution.sms_timeline if message.channel is Channel.SMS else resolution.timeline
        due = now
        for step in steps:
            delay = step.after
            if isinstance(delay, tuple):
                delay = self.ids.uniform(*delay)
            due += delay
            self.scheduler.at(due, partial(self.run_step, message, step))

    def run_step(self, message: Message, step: Step) -> None:
        """One step of a recipient's scripted timeline."""
        if self.stores.owner(message) is None:
            return
        cond = step.when
        if cond is not None and (
            (cond.has_suggestions is not None and cond.has_suggestions != message.has_suggestions())
            or (cond.channel is not None and cond.channel != message.channel.value)
            or (cond.kind is not None and cond.kind != message.kind)
        ):
            return
        if step.event_type is EventType.REPLY:
            try:
                self.tap(message, position=step.suggestion, postback=step.postback)
            except InboundError:
                pass  # a scripted tap on a chip the message does not have is skipped
        elif step.event_type is EventType.MESSAGE:
            self.fire(message, EventType.MESSAGE, text=step.text or self.ids.sentence())
        elif step.event_type in RECEIPTS and _has(message, step.event_type):
            return  # the user's own tap or reply already reported it: a phone says it once
        else:
            self.fire(message, step.event_type)

    # -- events -----------------------------------------------------------------------------

    def fire(
        self,
        message: Message,
        etype: EventType,
        text: str | None = None,
        postback: str | None = None,
    ) -> Event:
        """Record an event on a message and push the provider's callbacks for it."""
        event = Event(etype, self.clock.now(), text=text, postback=postback)
        if etype in (EventType.REPLY, EventType.ACTION, EventType.MESSAGE):
            event.ref = self.ids.uuid()
            status: Status | None = Status.READ
        else:
            status = EVENT_STATUS.get(etype)
        store = self.stores.owner(message)
        if store is None:
            raise InboundError(f"message {message.id} was reset")
        store.record(message, event, status)
        self.publish("event", message.provider, message.agent_id, message.phone, message.id)
        self._notify(message, event)
        return event

    def tap(
        self, message: Message, position: int | None = None, postback: str | None = None
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

    def _receipts_before_answer(self, message: Message) -> None:
        """A phone that answers has received and shown the message: if it has not said so yet,
        it says delivered, then read, before the answer (each once, in that order)."""
        if message.channel is not Channel.RCS:
            return
        for receipt in RECEIPTS:
            if not _has(message, receipt):
                self.fire(message, receipt)

    def inbound(
        self,
        provider: str,
        agent_id: str,
        phone: str,
        text: str | None = None,
        postback: str | None = None,
        message_id: str | None = None,
    ) -> tuple[Message, Event]:
        """The user acts on the latest message this agent sent to this phone, or on the one
        named by `message_id` (a chip of an earlier card stays tappable)."""
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
            raise InboundError(f"{provider} agent {agent_id} has sent nothing to {phone}")
        refusal = self.why_no_answer(message)
        if refusal is not None:
            raise InboundError(refusal)
        if postback is not None:
            return message, self.tap(message, postback=postback)
        if not text:
            raise InboundError("an inbound action needs 'text' or 'postback'")
        self._receipts_before_answer(message)
        return message, self.fire(message, EventType.MESSAGE, text=text)

    def why_no_answer(self, message: Message) -> str | None:
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

    def _notify(self, message: Message, event: Event) -> None:
        adapter = self.providers.get(message.provider)
        if adapter is None:
            return
        agent = self.agent_for(message.provider, message.agent_id, message.tenant)
        url = agent.webhook_url or self.settings.default_webhook_url
        if not url:
            return
        policy = adapter.retry_policy(agent)
        if self.settings.webhook_timeout is not None and policy.timeout != (
            timeout := self.settings.webhook_timeout
        ):
            known = self._policies.get((policy, timeout))
            if known is None:
                known = self._policies[(policy, timeout)] = replace(policy, timeout=timeout)
            policy = known
        for payload in adapter.callbacks(message, event):
            self.dispatcher.submit(
                provider=message.provider,
                tenant=message.tenant,
                agent_id=message.agent_id,
                phone=message.phone,
                message_id=message.id,
                event=event.type.value,
                url=url,
                payload=payload,
                policy=policy,
            )

    def display(self, message: Message) -> dict[str, Any]:
        """The message's layout as a client shows it (see core.display)."""
        adapter = self.providers.get(message.provider)
        if adapter is None:
            return layout()
        store = self.stores.owner(message)
        return adapter.display(message, store.files if store is not None else {})

    # -- change notices ----------------------------------------------------------------------

    def touch(self) -> None:
        """Something that viewers do not draw changed (settings, an upload): save it."""
        self.revision += 1

    def publish(
        self,
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

    # -- surprises --------------------------------------------------------------------------

    def note_surprise(self, kind: str, **details: Any) -> None:
        self.surprises.append({"kind": kind, "time": iso(self.clock.now()), **details})

    def _webhook_surprise(self, delivery: Delivery, attempt: Attempt) -> None:
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

    # -- time -------------------------------------------------------------------------------

    async def run_due(self) -> int:
        ran = self.scheduler.run_due(self.clock.now())
        await self.dispatcher.drain()
        return ran

    async def advance(self, seconds: float) -> int:
        """Move time forward, running each due event at its own time and its webhooks before
        the next, so retries scheduled along the way run too. Returns how many events ran."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        clock = self.clock
        target = clock.now() + seconds
        ran = 0
        if isinstance(clock, ManualClock):
            while (due := self.scheduler.next_due()) is not None and due <= target:
                clock.set(max(due, clock.now()))
                ran += await self.run_due()
            clock.set(target)
        else:
            clock.advance(seconds)
        return ran + await self.run_due()
