"""The Emulator: the one service every caller uses (provider endpoints, the control API, the
inbox, the plugin). Its verbs are the whole of what can be done to the state: send, upload, read,
act as the phone, move time, reset, redeliver. It owns its parts, each an object of its own:

- the engine (engine.py): where records, indexes, due events and the delivery queue live;
- the directory: tenants' names, agent and phone settings, what a number does;
- the lifecycle: the rules a message and its phone follow, run inside the engine's units;
- notices (for live viewers and saving) and surprises (what a test did not ask for).

Providers hand it plain Message records and an adapter that renders their own callbacks; the
core never knows which provider or which engine it serves.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from .adapter import ProviderAdapter
from .clock import PINNED, TENANT, Clock, ClockMode, ManualClock
from .directory import Directory
from .display import layout
from .engine import Conversation, DeliveryFilter, Engine, Found, MessageFilter, Unit, Wants
from .ids import IdSource
from .lifecycle import InboundError, Lifecycle
from .models import AgentSettings, PhoneSettings
from .notices import NoticeKind, Notices
from .parts import Part, Timer
from .records import (
    Attempt,
    Delivery,
    Due,
    Event,
    Message,
    RetryPolicy,
    StoredFile,
    TimelineEntry,
)
from .scenarios import ScenarioBook
from .settings import EmulatorSettings
from .stats import Figures

log = logging.getLogger("rcs_emulator")

# Records handled per turn of the event loop: a 100,000-number send, or an advance that runs
# 200,000 events, lets other clients (and webhook attempts) in between slices of a few ms.
SLICE = 1000


class Emulator:
    def __init__(
        self,
        settings: EmulatorSettings,
        clock: Clock,
        scenarios: ScenarioBook,
        engine: Engine,
        adapters: Sequence[ProviderAdapter] = (),
        parts: Sequence[Part] = (),
        aliases: Mapping[str, str] | None = None,
        timers: Sequence[Timer] = (),
    ) -> None:
        """Built whole: the providers' adapters, the parts of its settings beyond agents and
        phones (faults, providers' own), and the other names tenants are known by. The engine
        is bound last (one that saves its state restores it then)."""
        self.settings = settings
        self.clock = clock
        self.scenarios = scenarios
        self.engine = engine
        self.ids = IdSource(settings.seed)
        # A due event's draws are keyed by its time; on a manual clock, by its time from where
        # the clock began (the state's start: the same in every process), so a seeded run
        # repeats on another day. A running clock's times are the same in every process as they
        # are (and never repeat from run to run).
        self.began = clock.now() if clock.mode is ClockMode.MANUAL else 0.0
        self.notices = Notices()
        self.surprises = engine.surprises
        self.directory = Directory(settings, scenarios, aliases)
        self.providers: dict[str, ProviderAdapter] = {a.name: a for a in adapters}
        self.parts: list[Part] = [self.directory, *parts]
        self.timers = list(timers)  # things of their own due on this clock (a replay's callbacks)
        self.lifecycle = Lifecycle(
            settings, clock, self.ids, self.directory, self.providers, self.notices
        )
        self.deliveries = engine.deliveries
        self.deliveries.listeners += [self.surprises.webhook_attempt, self._delivery_notice]
        self._settling: set[asyncio.Task[int]] = set()  # advances' callbacks still under way
        self.notices.relays.append(engine.sharing.notice)
        engine.bind(self)

    def policy_of(self, provider: str, tenant: str, agent_id: str) -> RetryPolicy:
        """The retry policy a tenant's agent's callbacks get now."""
        agent = self.directory.agent_for(provider, agent_id, tenant)
        return self.lifecycle.policy(self.providers[provider].retry_policy(agent))

    # -- settings every process shares ------------------------------------------------------

    def settings_data(self) -> dict[str, Any]:
        """The settings every process holds alike, as data: each part's."""
        return {part.name: data for part in self.parts if (data := part.data()) is not None}

    async def save_settings(self) -> None:
        """Settings changed here (agents, phones, providers' own, faults): every process of a
        shared state takes them, and a state file saves them."""
        await self.engine.sharing.settings_changed(self.settings_data())

    def load_settings(self, data: dict[str, Any]) -> None:
        """Settings another process changed (or a saved state holds)."""
        for part in self.parts:
            if part.name in data:
                part.load(data[part.name])

    def show(self, notice: dict[str, Any]) -> None:
        """A change notice another process made, for this one's viewers."""
        self.notices.show(notice)

    async def refresh(self) -> None:
        """Before a request: take in what another process changed and this one may not have
        heard of yet (nothing to do for one process)."""
        await self.engine.sharing.refresh()

    async def set_agent(
        self, provider: str, agent_id: str, tenant: str | None, changes: dict[str, Any]
    ) -> AgentSettings:
        """Change an agent's settings (its tenant's own, or everyone's)."""
        agent = self.directory.agent(provider, agent_id, tenant)
        for key, value in changes.items():
            setattr(agent, key, value)
        await self.save_settings()
        return agent

    async def set_phone(self, phone: str, changes: dict[str, Any]) -> PhoneSettings:
        """Change a number's settings."""
        settings = self.directory.phone(phone)
        for key, value in changes.items():
            setattr(settings, key, value)
        await self.save_settings()
        return settings

    def _delivery_notice(self, delivery: Delivery, attempt: Attempt) -> None:
        self.notices.publish(
            NoticeKind.WEBHOOK,
            delivery.provider,
            delivery.agent_id,
            delivery.phone,
            delivery.message_id,
            delivery.tenant,
        )

    # -- who is who -------------------------------------------------------------------------

    def tenant(self, name: str | None) -> str | None:
        """The tenant a client-side name (API key, token, username) stands for."""
        return self.directory.tenant(name)

    def capable(self, phone: str) -> bool:
        """Whether the number has RCS (its setting, else the scenario's rule for it)."""
        return self.directory.capable(phone)

    # -- sending ----------------------------------------------------------------------------

    async def send(self, messages: Sequence[Message], exchange: bytes | None = None) -> None:
        """Accept one request's messages (all of one tenant): stored with the HTTP exchange
        behind them (one object for all), each one's timeline started. A big send goes a slice
        at a time, letting other requests in between slices."""
        if not messages:
            return
        tenant = messages[0].tenant
        TENANT.set(tenant)
        for start in range(0, len(messages), SLICE):
            if start:
                await asyncio.sleep(0)
            unit = await self.engine.begin(tenant)
            for message in messages[start : start + SLICE]:
                message.exchange = exchange
                self.lifecycle.accept(unit, message)
            await self.engine.commit(unit)

    async def upload(
        self,
        *,
        tenant: str,
        file_id: str,
        agent_id: str,
        name: str,
        mime: str,
        size: int,
        lifetime: float,
        source: IO[bytes],
    ) -> StoredFile:
        """Keep an uploaded file's bytes and its record; it expires `lifetime` seconds on."""
        TENANT.set(tenant)
        path = await self.engine.keep_file(tenant, file_id, source)
        now = self.clock.now()
        stored = StoredFile(file_id, tenant, agent_id, name, mime, size, now, now + lifetime, path)
        unit = await self.engine.begin(tenant)
        unit.add_file(stored)
        await self.engine.commit(unit)
        return stored

    # -- reading ----------------------------------------------------------------------------

    async def message(self, tenant: str | None, message_id: str) -> Message | None:
        return await self.engine.message(tenant, message_id)

    async def batch(self, tenant: str, batch: str) -> Sequence[Message]:
        return await self.engine.batch(tenant, batch)

    async def by_external(self, tenant: str, provider: str, external_id: str) -> list[Message]:
        return await self.engine.by_external(tenant, provider, external_id)

    async def sent_between(
        self,
        tenant: str,
        provider: str,
        since: float | None,
        until: float | None,
        *,
        newest_first: bool,
        offset: int,
        limit: int,
    ) -> Found[Message]:
        return await self.engine.sent_between(
            tenant, provider, since, until, newest_first=newest_first, offset=offset, limit=limit
        )

    async def messages(
        self,
        tenant: str | None,
        where: MessageFilter,
        offset: int = 0,
        limit: int | None = None,
        matching: Callable[[Message], bool] | None = None,
    ) -> Found[Message]:
        """Messages matching `where` (and `matching`, a test of each), oldest first."""
        return await self.engine.query(tenant, where, offset=offset, limit=limit, matching=matching)

    async def conversations(
        self,
        tenant: str | None,
        where: MessageFilter,
        offset: int = 0,
        limit: int | None = None,
    ) -> Found[Conversation]:
        """Each agent's exchange with one phone: how many messages, and its newest; the one
        with the oldest newest message first."""
        return await self.engine.conversations(tenant, where, offset=offset, limit=limit)

    async def stats(
        self, tenant: str | None, provider: str | None = None, agent: str | None = None
    ) -> Figures:
        """Messages per status and latencies, of what agents sent."""
        return await self.engine.stats(tenant, provider, agent)

    async def timeline(
        self,
        tenant: str,
        provider: str,
        agent_id: str,
        phone: str | None = None,
        since: float | None = None,
        until: float | None = None,
        newest: int | None = None,
    ) -> list[TimelineEntry]:
        return await self.engine.timeline(tenant, provider, agent_id, phone, since, until, newest)

    async def file(self, tenant: str | None, file_id: str) -> StoredFile | None:
        return await self.engine.file(tenant, file_id)

    async def files(self, tenant: str | None) -> list[StoredFile]:
        return await self.engine.files(tenant)

    async def file_content(self, stored: StoredFile) -> bytes | Path | None:
        """An upload's bytes (or the file holding them); None when they are gone."""
        return await self.engine.file_content(stored)

    async def display(self, message: Message) -> dict[str, Any]:
        """The message's layout as a client shows it (see core.display), with the tenant's
        uploaded files a card names."""
        adapter = self.providers.get(message.provider)
        if adapter is None:
            return layout()
        return adapter.display(message, await self.engine.file_index(message.tenant))

    def why_no_answer(self, message: Message) -> str | None:
        """Why the phone cannot answer this message over RCS, or None when it can."""
        return self.lifecycle.why_no_answer(message)

    # -- the phone --------------------------------------------------------------------------

    async def inbound(
        self,
        provider: str,
        agent_id: str,
        phone: str,
        text: str | None = None,
        postback: str | None = None,
        message_id: str | None = None,
        tenant: str | None = None,
        within: frozenset[str] | None = None,
    ) -> tuple[Message, Event]:
        """The user acts on the latest message this agent sent to this phone, or on the one
        named by `message_id` (a chip of an earlier card stays tappable); its callbacks are
        made before this returns. A phone the agent has sent nothing may still write first:
        its text opens a thread in `tenant` (Lifecycle.thread_tenant). With `within`, only
        these tenants' messages are acted on (a team's, on a shared deployment)."""
        if message_id is not None:
            message = await self.engine.message(None, message_id)
            if (
                message is None
                or (message.provider, message.agent_id, message.phone)
                != (
                    provider,
                    agent_id,
                    phone,
                )
                or (within is not None and message.tenant not in within)
            ):
                raise InboundError(
                    f"{provider} agent {agent_id} sent no message {message_id} to {phone}"
                )
        elif within is None:
            message = await self.engine.latest_to(None, provider, agent_id, phone)
        else:
            found = [await self.engine.latest_to(t, provider, agent_id, phone) for t in within]
            message = max(
                (m for m in found if m is not None),
                key=lambda m: (m.created_at, m.seq),
                default=None,
            )
        if message is None:
            if postback is not None or not text:
                raise InboundError(
                    f"{provider} agent {agent_id} has sent nothing to {phone}: "
                    "there is no suggestion to tap (a phone may write first, "
                    "with text)"
                )
            opener = self.lifecycle.thread_tenant(provider, agent_id, tenant)
            TENANT.set(opener)
            unit = await self.engine.begin(opener)
            opened = self.lifecycle.open_thread(unit, provider, agent_id, phone, text)
            await self.engine.commit(unit)
            await self.deliveries.drain(opener)
            return opened
        TENANT.set(message.tenant)
        unit = await self.engine.begin(message.tenant, Wants(messages=[message.id]))
        held = unit.message(message.id)
        if held is None:
            raise InboundError(f"message {message.id} was reset")
        event = self.lifecycle.answer(unit, held, text, postback)
        await self.engine.commit(unit)
        await self.deliveries.drain(message.tenant)
        return held, event

    # -- time -------------------------------------------------------------------------------

    async def serving(self, tenant: str) -> None:
        """The rest of this request acts for `tenant`: its time on a manual clock, and (on a
        shared state, seeded) its own draws. Providers call it once they know their caller."""
        TENANT.set(tenant)
        if self.ids.seed is not None:
            number = await self.engine.sharing.unit_number(tenant, self.ids.seed)
            if number is not None:
                self.ids.scope(tenant, number)

    def time_of(self, tenant: str | None) -> float:
        """A tenant's time (every tenant's shared time when None)."""
        clock = self.clock
        return clock.time_of(tenant) if isinstance(clock, ManualClock) else clock.now()

    async def run_due(self) -> int:
        """Run what is due now (a running clock's ticker); webhooks go on in the background.
        Each event is pinned to the time it was due, as an advance does: one the ticker reaches
        late is still stamped when it was due (its lag is no part of a scenario's delay)."""
        ran = 0
        now = self.clock.now()
        for tenant in self.engine.due_tenants():
            due = self.engine.next_due(tenant)
            if due is not None and due <= now:
                ran += await self._run_until(tenant, now)
        return ran

    async def advance(
        self, seconds: float, tenant: str | None = None, callbacks: bool = True
    ) -> int:
        """Move time forward (every tenant's, or one tenant's on a manual clock), running every
        event due on the way at its own time and making its webhooks, retries that come due on
        the way included. Returns how many ran.

        Events run in time order, a slice at a time, while their callbacks go out beside them
        (each recipient's in order: the dispatcher's lanes); retries found due once those are
        settled run next, until nothing is left before the target. With `tenant`, only that
        tenant's events run: on a running clock the others' run as it reaches them anyway.

        With `callbacks` false it returns once the events due have run (every state applied):
        their callbacks, and the retries those come to, go on in the background
        (`callbacks_running` says so until they are done; `drain` waits for them)."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        clock = self.clock
        if isinstance(clock, ManualClock):
            clock.advance(seconds, tenant)
        else:
            clock.advance(seconds)
        await self.engine.sharing.clock_changed(clock.state())
        for timer in self.timers:
            await timer.run_due()
        await self.engine.poll_due()
        ran = await self._run_due_of(tenant)
        if callbacks:
            return ran + await self._settle(tenant)
        task = asyncio.create_task(self._settle(tenant))
        self._settling.add(task)
        task.add_done_callback(self._settled)
        return ran

    async def _run_due_of(self, tenant: str | None) -> int:
        """One pass over what is due now, of a tenant or of everyone."""
        ran = 0
        for each in [tenant] if tenant is not None else self.engine.due_tenants():
            ran += await self._run_until(each, self.time_of(each))
        return ran

    async def _settle(self, tenant: str | None) -> int:
        """Callbacks made, then the retries that came due meanwhile, until nothing is left
        before now (of a tenant, or of everyone)."""
        ran = 0
        while True:
            await self.deliveries.drain(tenant)
            tenants = [tenant] if tenant is not None else self.engine.due_tenants()
            if not any(self._due_now(t) for t in tenants):
                return ran
            ran += await self._run_due_of(tenant)

    def _due_now(self, tenant: str) -> bool:
        due = self.engine.next_due(tenant)
        return due is not None and due <= self.time_of(tenant)

    def _settled(self, task: asyncio.Task[int]) -> None:
        self._settling.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("an advance's callbacks failed", exc_info=task.exception())
        self.notices.publish(NoticeKind.SETTLED)

    @property
    def callbacks_running(self) -> bool:
        """An advance answered before its callbacks were done, and they still are not."""
        return bool(self._settling)

    async def _run_until(self, tenant: str, until: float) -> int:
        """A tenant's events due at or before `until`, in order, a slice at a time; each at
        its own time (pinned: on any clock an event is stamped when it was due)."""
        ran = 0
        TENANT.set(tenant)
        apply = self._apply
        while True:
            done = await self.engine.run_due(tenant, until, apply, SLICE)
            if not done:
                return ran
            ran += done
            await asyncio.sleep(0)  # webhooks and other requests between slices

    def _apply(self, unit: Unit, when: float, task: Due) -> None:
        token = PINNED.set(when)
        # A seeded event draws alike whoever runs it, and whatever ran before it.
        step = task.step.event if task.step else ""
        since = f"{when - self.began:.6f}"  # (to the microsecond: the same whatever the start)
        try:
            with self.ids.scoped(task.tenant, "due", since, task.kind.value, task.ref, step):
                self.lifecycle.run(unit, task)
        except Exception:  # one broken event must not stop time
            log.exception("a scheduled event failed")
        finally:
            PINNED.reset(token)

    # -- webhooks ---------------------------------------------------------------------------

    async def push_callback(
        self,
        provider: str,
        tenant: str,
        agent_id: str,
        phone: str,
        payload: Any,
        at: float,
        event: str,
    ) -> bool:
        """A provider's callback that no rule made (a replayed cassette's): to the agent's
        webhook URL with its provider's retry rule, through the webhook log, as if made at
        `at`. False when the agent has no webhook URL to send it to."""
        agent = self.directory.agent_for(provider, agent_id, tenant)
        url = agent.webhook_url or self.settings.default_webhook_url
        if not url:
            return False
        TENANT.set(tenant)
        unit = await self.engine.begin(tenant)
        unit.deliver(
            Delivery(
                provider,
                tenant,
                agent_id,
                phone,
                None,
                event,
                url,
                payload,
                self.policy_of(provider, tenant, agent_id),
                at,
            )
        )
        await self.engine.commit(unit)
        return True

    async def webhooks(
        self,
        tenant: str | None,
        where: DeliveryFilter,
        offset: int = 0,
        limit: int | None = None,
        matching: Callable[[Delivery], bool] | None = None,
    ) -> Found[Delivery]:
        """The deliveries the log holds, oldest first, with every attempt."""
        return await self.deliveries.find(
            tenant, where, offset=offset, limit=limit, matching=matching
        )

    async def redeliver(self, delivery_id: int) -> Delivery:
        """A finished delivery sent once more, now (KeyError: unknown; ValueError: not
        finished)."""
        return await self.deliveries.redeliver(delivery_id)

    async def drain(self, tenant: str | None = None) -> None:
        """Wait until every webhook attempt due (of a tenant, or of anyone) is made, those of
        an advance that answered before its callbacks included."""
        while self._settling:
            await asyncio.wait(set(self._settling))
        await self.deliveries.drain(tenant)

    # -- forgetting -------------------------------------------------------------------------

    async def reset(self, keep_settings: bool = False, tenant: str | None = None) -> None:
        """Forget messages, files, events and webhook attempts (of one tenant, or all);
        configuration stays, and so do control-API agent and phone settings when
        `keep_settings` (a tenant's reset always keeps them)."""
        if tenant is not None:
            await self.engine.reset([tenant])
            await self.surprises.forget(tenant)
            self.notices.publish(NoticeKind.RESET, tenant=tenant)
            return
        await self.surprises.forget()
        if not keep_settings:
            for part in self.parts:
                part.restore()
        await self.engine.reset(None)
        for part in self.parts:
            part.reset()
        await self.save_settings()
        self.notices.publish(NoticeKind.RESET)

    def reseed(self, seed: int | None) -> None:
        self.ids.reseed(seed)

    async def run_due_everywhere(self) -> int:
        """A running clock's ticker: what is due now, of every tenant."""
        await self.engine.poll_due()
        return await self.run_due()

    async def health(self) -> dict[str, Any]:
        """What it holds and how its webhooks stand."""
        counts = await self.engine.counts()
        webhooks = await self.deliveries.backlog()
        dropped = webhooks.pop("dropped_from_log", 0)
        return {
            "messages": counts["messages"],
            "tenants": counts["tenants"],
            "scheduled_events": counts["scheduled_events"],
            "webhooks": webhooks,
            "retention": {
                "max_messages": counts["max_messages"],
                "evicted_messages": counts["evicted_messages"],
                "max_webhook_log": self.deliveries.max_log,
                "webhook_log_dropped": dropped,
            },
        }

    async def aclose(self) -> None:
        for task in self._settling:
            task.cancel()
        await self.engine.aclose()
