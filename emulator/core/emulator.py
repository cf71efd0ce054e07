"""The aggregate: store, clock, scheduler, scenarios and webhook dispatcher behind one object.

Providers hand it plain Message records and an adapter that renders their own callbacks; the
core never knows which provider it serves.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from .adapter import ProviderAdapter
from .answers import RECEIPTS, Answers, InboundError, has_event
from .clock import Clock, ManualClock
from .directory import Directory
from .display import layout
from .engine import AttemptLedger
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
)
from .notices import SURPRISES_KEPT, Notices
from .scenarios import ScenarioBook, Step
from .scheduler import Scheduler
from .settings import EmulatorSettings
from .stores import Stores
from .webhooks import Dispatcher, RetryPolicy

# Messages stored per turn of the event loop: a 100,000-number send lets other clients in
# between slices (each slice takes a few milliseconds) instead of holding them for seconds.
SLICE = 1000


class Emulator(Directory, Answers, Notices):
    def __init__(
        self,
        settings: EmulatorSettings,
        clock: Clock,
        scenarios: ScenarioBook,
        http_client: httpx.AsyncClient | None = None,
        ledger: AttemptLedger | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.scenarios = scenarios
        self.ids = IdSource(settings.seed)
        self.stores = Stores(settings.max_messages)
        self.vault = FileVault(Path(settings.files_folder) if settings.files_folder else None)
        self._latest_created: float = 0.0
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
            ledger=ledger,
        )
        self.providers: dict[str, ProviderAdapter] = {}
        self.agents: dict[tuple[str, str | None, str], AgentSettings] = {}
        self.phones: dict[str, PhoneSettings] = {}
        self.on_reset: list[Callable[[], None]] = []  # providers' own per-run state
        self.on_restore: list[Callable[[], None]] = []  # providers' own settings, to config
        # Providers' own settings a reset may keep, as data: name -> (taken, given back).
        self.carriers: dict[str, tuple[Callable[[], Any], Callable[[Any], None]]] = {}
        self.restore_settings()
        # What a test did not ask for: refused requests and webhooks that were not accepted
        # (the newest 10,000: a long demo must not grow it without end).
        self.surprises: deque[dict[str, Any]] = deque(maxlen=SURPRISES_KEPT)
        self.dispatcher.on_attempt.append(self._webhook_surprise)
        self.dispatcher.on_attempt.append(
            lambda d, a: self.publish("webhook", d.provider, d.agent_id, d.phone, d.message_id)
        )
        # Where the state lives, for the health endpoint (a shared engine says more).
        self.describe_state: Callable[[], dict[str, Any]] = lambda: {"engine": "memory"}
        # Live viewers (the inbox page): each a bounded queue of small change notices.
        self.watchers: set[asyncio.Queue[dict[str, Any]]] = set()

    def register(self, adapter: ProviderAdapter) -> None:
        self.providers[adapter.name] = adapter

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

    def attach(self, messages: Sequence[Message], exchange: bytes) -> None:
        """The request behind accepted messages, once it is answered (one object for all)."""
        changes = self.stores.changes
        for message in messages:
            message.exchange = exchange
            if changes is not None:  # a save between a big send's slices saw them without it
                changes.messages[(message.tenant, message.id)] = message

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
        plan = resolution.sms_timeline if message.channel is Channel.SMS else resolution.timeline
        due = now
        for step in plan.steps(self.ids):
            due += step.after.sample(self.ids)
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
        elif step.event_type in RECEIPTS and has_event(message, step.event_type):
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
