"""The memory engine (the default): every tenant's records and indexes in this process, O(1) hot
paths, units of work over the live records (nothing to load, nothing to commit), and webhook
delivery by this process alone. What pytest users get: it is kept the fastest.

A tenant's reset drops its Store whole, so one test worker's reset never touches another's state
and costs nothing in proportion to what others hold. With `max_messages`, the oldest message of
all is evicted when a new one would exceed it. With a state file, its state is saved to it and
restored from it (autosave.py, snapshot.py, restore.py), saving only what changed since.

Its units act on the live records at once: a rule runs synchronously between `begin` and
`commit`, so nobody sees a unit half done. A strict engine (`strict_units`, the contract
suite's) refuses a read of a message the unit was not asked to load, as an engine that loads
copies cannot answer one.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import httpx

from ...core.clock import Clock
from ...core.engine import (
    Conversation,
    Found,
    Host,
    MessageFilter,
    StateRefused,
    UnitMisuse,
    Wants,
)
from ...core.models import USER_MESSAGE, Status
from ...core.records import Delivery, Due, DueKind, Event, Message, StoredFile, TimelineEntry
from ...core.stats import Figures
from ...core.surprises import Surprises
from .autosave import AutoSaver
from .dispatcher import Dispatcher
from .files import FileVault
from .schedule import Schedule
from .statefile import StateFileError
from .store import Store, StoreObserver, by_seq, by_upload

STATS_SLICE = 5_000  # messages counted per turn of the event loop


class MemoryUnit:
    """A unit of work over one tenant's live Store: reads and writes act at once. A strict
    unit answers only the messages it was asked for, those it made, and those its due events
    name."""

    __slots__ = ("tenant", "store", "engine", "named")

    def __init__(self, engine: MemoryEngine, store: Store, named: set[str] | None = None) -> None:
        self.tenant = store.tenant
        self.store = store
        self.engine = engine
        self.named = named  # None: every message (not strict)

    def message(self, message_id: str) -> Message | None:
        if self.named is not None and message_id not in self.named:
            raise UnitMisuse(
                f"message {message_id} was read, but the unit was not asked to load it (Wants)"
            )
        return self.store.messages.get(message_id)

    def alive(self, message: Message) -> bool:
        return self.store.holds(message)

    def add(self, message: Message) -> None:
        if self.store.closed:
            return  # its tenant was reset since the unit began: what it writes is moot
        self.engine.add(self.store, message)
        if self.named is not None:
            self.named.add(message.id)

    def record(self, message: Message, event: Event, status: Status | None = None) -> bool:
        self.engine.revision += 1
        return self.store.record(message, event, status)

    def set_status(self, message: Message, status: Status) -> None:
        self.engine.revision += 1
        self.store.set_status(message, status)

    def schedule(self, due: float, task: Due) -> None:
        if not self.store.closed:
            self.engine.schedule.at(due, task)

    def deliver(self, delivery: Delivery) -> None:
        if not self.store.closed:
            self.engine.revision += 1
            self.engine.deliveries.submit(delivery)

    def add_file(self, stored: StoredFile) -> None:
        if not self.store.closed:
            self.engine.revision += 1
            self.store.add_file(stored)


class LocalSharing:
    """One process shares nothing with anyone (engine.Sharing, every call a no-op but for
    counting changes, which a state file saves)."""

    def __init__(self, engine: MemoryEngine) -> None:
        self.engine = engine

    async def refresh(self) -> None:
        return None

    async def settings_changed(self, data: dict[str, Any]) -> None:
        self.engine.revision += 1

    async def clock_changed(self, data: dict[str, Any]) -> None:
        self.engine.revision += 1

    def notice(self, notice: dict[str, Any]) -> None:
        return None

    async def unit_number(self, tenant: str, seed: int) -> int | None:
        return None

    async def take_fault(self, fault_id: int, count: int) -> bool:
        return True  # this process's own count is the only one


class MemoryEngine:
    name = "memory"
    poll = 1.0

    def __init__(
        self,
        clock: Clock,
        *,
        state_file: Path | None = None,
        save_interval: float = 5.0,
        max_messages: int | None = None,
        http_client: httpx.AsyncClient | None = None,
        webhook_concurrency: int = 64,
        webhook_per_host: int = 4,
        webhook_backlog: int = 100_000,
        max_webhook_log: int = 100_000,
        strict_units: bool = False,
    ) -> None:
        self.clock = clock
        self.state_file = state_file
        self.save_interval = save_interval
        self.strict_units = strict_units
        self.vault = FileVault(Path(f"{state_file}.files") if state_file is not None else None)
        self.surprises = Surprises(clock)
        self.sharing = LocalSharing(self)
        self.saver: AutoSaver | None = None
        self._saving: asyncio.Task[None] | None = None
        self.revision = 0  # counts changes: a state file is saved while it moved
        self.max_messages = max_messages
        self.observers: list[StoreObserver] = []  # shared by every Store
        self.schedule = Schedule()
        self.deliveries = Dispatcher(
            clock,
            self._retry_at,
            http_client,
            concurrency=webhook_concurrency,
            per_host=webhook_per_host,
            backlog=webhook_backlog,
            max_log=max_webhook_log,
            listeners=[self._delivery_changed],
        )
        self._counter = itertools.count(1)  # orders messages across tenants
        self._stores: dict[str, Store] = {}
        self._units: dict[str, MemoryUnit] = {}
        self.count = 0
        self.evicted = 0
        self._latest_created: dict[str, float] = {}  # each tenant's newest creation time

    def _retry_at(self, due: float, delivery: Delivery) -> None:
        self.schedule.at(due, Due(DueKind.RETRY, delivery.tenant, delivery.id))

    def schedule_retry(self, due: float, delivery: Delivery) -> None:
        """A restored delivery's next attempt, at its time."""
        self._retry_at(due, delivery)

    def _delivery_changed(self, delivery: Delivery, attempt: Any) -> None:
        self.revision += 1

    # -- its service, and its saved state ---------------------------------------------------

    def bind(self, host: Host) -> None:
        if self.state_file is None:
            return
        self.saver = AutoSaver(self, host, self.state_file, self.save_interval)
        try:
            self.saver.restore()
        except StateFileError as exc:
            raise StateRefused(str(exc)) from None

    # -- units of work ----------------------------------------------------------------------

    def store(self, tenant: str) -> Store:
        store = self._stores.get(tenant)
        if store is None:
            store = self._stores[tenant] = Store(tenant, self._counter, self.observers)
        return store

    def unit(self, tenant: str) -> MemoryUnit:
        """The unit over a tenant's live store (no loading: the records are here)."""
        unit = self._units.get(tenant)
        if unit is None or unit.store.closed:
            unit = self._units[tenant] = MemoryUnit(self, self.store(tenant))
        return unit

    async def begin(self, tenant: str, wants: Wants | None = None) -> MemoryUnit:
        if self.strict_units:
            return MemoryUnit(self, self.store(tenant), set(wants.messages if wants else ()))
        return self.unit(tenant)

    async def commit(self, unit: Any) -> None:
        return None  # every write acted at once

    def add(self, store: Store, message: Message) -> None:
        latest = self._latest_created.get(store.tenant, 0.0)
        if message.created_at < latest:
            # Another request's message was stored first: the indexes answer time ranges by
            # bisection, so creation times never go back (a few milliseconds at most).
            if message.send_at == message.created_at:
                message.send_at = latest
            message.created_at = latest
        else:
            self._latest_created[store.tenant] = message.created_at
        store.add(message)
        self.revision += 1
        self.count += 1
        if self.max_messages is not None:
            while self.count > self.max_messages and self._evict_oldest():
                pass

    def _evict_oldest(self) -> bool:
        oldest = [(s.oldest(), s) for s in self._stores.values()]
        candidates = [(m.seq, s) for m, s in oldest if m is not None]
        if not candidates:
            return False
        _, store = min(candidates, key=lambda pair: pair[0])
        store.evict_oldest()
        self.count -= 1
        self.evicted += 1
        return True

    # -- reads ------------------------------------------------------------------------------

    def holds(self, message: Message) -> bool:
        """Whether `message` is held (not evicted, its tenant not reset)."""
        store = self._stores.get(message.tenant)
        return store is not None and store.messages.get(message.id) is message

    def find(self, tenant: str | None, message_id: str) -> Message | None:
        if tenant is not None:
            store = self._stores.get(tenant)
            return store.messages.get(message_id) if store is not None else None
        found = (s.messages[message_id] for s in self._stores.values() if message_id in s.messages)
        return next(found, None)

    async def message(self, tenant: str | None, message_id: str) -> Message | None:
        return self.find(tenant, message_id)

    async def batch(self, tenant: str, batch: str) -> Sequence[Message]:
        store = self._stores.get(tenant)
        return store.batch(batch) if store is not None else ()

    async def by_external(self, tenant: str, provider: str, external_id: str) -> list[Message]:
        store = self._stores.get(tenant)
        return list(store.by_external(provider, external_id)) if store is not None else []

    async def latest_to(
        self, tenant: str | None, provider: str, agent_id: str, phone: str
    ) -> Message | None:
        stores = self._stores.values() if tenant is None else [self._stores.get(tenant)]
        found = (s.latest_to(provider, agent_id, phone) for s in stores if s is not None)
        return max((m for m in found if m is not None), key=by_seq, default=None)

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
        store = self._stores.get(tenant)
        if store is None:
            return Found([], 0)
        view: Sequence[Message] = store.sent_between(provider, since, until)  # a view, no copy
        if store.user_messages:  # threads phones opened are the phones' messages, not sent
            view = [m for m in view if m.kind != USER_MESSAGE]
        total = len(view)
        if newest_first:
            stop, start = total - offset, max(0, total - offset - limit)
            items = list(reversed(view[start:stop])) if stop > 0 else []
        else:
            items = list(view[offset : offset + limit])
        return Found(items, total)

    async def query(
        self,
        tenant: str | None,
        where: MessageFilter,
        *,
        offset: int = 0,
        limit: int | None = None,
        matching: Callable[[Message], bool] | None = None,
    ) -> Found[Message]:
        found = list(self._query(tenant, where))
        if matching is not None:
            found = [m for m in found if matching(m)]
        stop = None if limit is None else offset + limit
        return Found(found[offset:stop], len(found))

    def _query(self, tenant: str | None, where: MessageFilter) -> Iterable[Message]:
        w = where
        if tenant is not None:
            store = self._stores.get(tenant)
            if store is None:
                return iter(())
            return store.query(w.provider, w.agent, w.phone, w.status)
        parts = [s.query(w.provider, w.agent, w.phone, w.status) for s in self._stores.values()]
        return heapq.merge(*parts, key=by_seq)

    async def timeline(
        self,
        tenant: str,
        provider: str,
        agent_id: str,
        phone: str | None,
        since: float | None,
        until: float | None,
        newest: int | None,
    ) -> list[TimelineEntry]:
        store = self._stores.get(tenant)
        if store is None:
            return []
        return store.timeline(provider, agent_id, phone, since, until, newest)

    async def file(self, tenant: str | None, file_id: str) -> StoredFile | None:
        if tenant is not None:
            store = self._stores.get(tenant)
            return store.files.get(file_id) if store is not None else None
        return next((s.files[file_id] for s in self._stores.values() if file_id in s.files), None)

    async def files(self, tenant: str | None) -> list[StoredFile]:
        if tenant is None:
            stores = list(self._stores.values())
        else:
            stores = [self._stores[tenant]] if tenant in self._stores else []
        found = [f for s in stores for f in s.files.values()]
        return sorted(found, key=by_upload) if len(stores) > 1 else found

    async def file_index(self, tenant: str) -> Mapping[str, StoredFile]:
        store = self._stores.get(tenant)
        return store.files if store is not None else {}

    async def counts(self) -> dict[str, Any]:
        return {
            "messages": self.count,
            "tenants": len(self._stores),
            "scheduled_events": len(self.schedule),
            "max_messages": self.max_messages,
            "evicted_messages": self.evicted,
        }

    async def conversations(
        self, tenant: str | None, where: MessageFilter, *, offset: int, limit: int | None
    ) -> Found[Conversation]:
        if tenant is None:
            stores = list(self._stores.values())
        else:
            stores = [self._stores[tenant]] if tenant in self._stores else []
        w = where
        # Keys only; a Conversation is made for the page alone (100k of them cost more than
        # the pass), and a page near the start takes the first few rather than a whole sort.
        found = [
            (newest.created_at, newest.seq, s.tenant, key, count, newest)
            for s in stores
            for key, count, newest in s.conversations()
            if (w.provider is None or key[0] == w.provider)
            and (w.agent is None or key[1] == w.agent)
            and (w.phone is None or key[2] == w.phone)
        ]
        stop = len(found) if limit is None else min(offset + limit, len(found))
        if stop < len(found) // 8:
            first = heapq.nsmallest(stop, found, key=lambda row: (row[0], row[1]))
        else:
            first = sorted(found, key=lambda row: (row[0], row[1]))[:stop]
        page = [
            Conversation(tenant, p, a, ph, count, newest.id, newest.created_at)
            for _, _, tenant, (p, a, ph), count, newest in first[offset:]
        ]
        return Found(page, len(found))

    async def stats(
        self, tenant: str | None, provider: str | None = None, agent: str | None = None
    ) -> Figures:
        """Counted over the messages held, each time (in-process: a pass costs little)."""
        figures = Figures()
        found = self._query(tenant, MessageFilter(provider=provider, agent=agent))
        for start, message in enumerate(found):
            if start and not start % STATS_SLICE:
                await asyncio.sleep(0)  # other requests between slices of a long pass
            figures.add((message,))
        return figures

    def tenants(self) -> list[str]:
        return list(self._stores)

    def stores(self) -> list[Store]:
        return list(self._stores.values())

    def __len__(self) -> int:
        return self.count

    # -- the schedule -----------------------------------------------------------------------

    def next_due(self, tenant: str | None = None) -> float | None:
        return self.schedule.next_due(tenant)

    def due_tenants(self) -> list[str]:
        return self.schedule.tenants()

    def on_schedule(self, wake: Callable[[float], None] | None) -> None:
        self.schedule.on_schedule = wake

    async def run_due(
        self, tenant: str, until: float, apply: Callable[[Any, float, Due], None], limit: int
    ) -> int:
        taken = self.schedule.take(tenant, until, limit)
        if taken:
            unit = self.unit(tenant)
            if self.strict_units:
                named = {t.ref for _, t in taken if isinstance(t.ref, str)}
                unit = MemoryUnit(self, self.store(tenant), named)
            for when, task in taken:
                if task.kind is DueKind.RETRY:  # the queue's own: its next attempt, queued
                    assert isinstance(task.ref, int)
                    self.deliveries.retry(task.ref)
                else:
                    apply(unit, when, task)
        return len(taken)

    # -- forgetting -------------------------------------------------------------------------

    async def reset(self, tenants: Iterable[str] | None) -> None:
        self.revision += 1
        if tenants is None:
            for store in self._stores.values():
                store.closed = True
            self._stores = {}
            self._units = {}
            self.count = 0
            self.evicted = 0  # of the messages just forgotten (the webhook log's drops alike)
            self._latest_created = {}
            for observer in self.observers:
                observer.records_cleared()
            self.schedule.clear()
            self.deliveries.clear()
            self.vault.clear()
            return
        for tenant in tenants:
            dropped = self._stores.pop(tenant, None)
            self._latest_created.pop(tenant, None)
            self._units.pop(tenant, None)
            self.deliveries.drop_tenant(tenant)
            self.schedule.drop(tenant)
            if dropped is None:
                continue
            dropped.closed = True
            self.count -= len(dropped)
            self.vault.remove(f.path for f in dropped.files.values())
            for observer in self.observers:
                observer.tenant_dropped(tenant)

    async def keep_file(self, tenant: str, file_id: str, source: IO[bytes]) -> str:
        return self.vault.save(file_id, source)

    async def file_content(self, stored: StoredFile) -> Path | None:
        path = Path(stored.path)
        return path if path.is_file() else None  # a restored state whose bytes were removed

    def describe(self) -> dict[str, Any]:
        return {"engine": self.name}

    async def ready(self, tenant: str | None = None) -> bool:
        return True

    async def poll_due(self) -> None:
        return None

    async def start(self) -> None:
        """A served process saves its state every interval (with a state file)."""
        if self.saver is not None and self._saving is None:
            self._saving = asyncio.get_running_loop().create_task(self.saver.run())

    async def aclose(self) -> None:
        """Stop: the state saved once more, marked clean (with a state file); running attempts
        are cancelled (they were saved as owed, and are made again after a restart)."""
        if self.saver is not None:
            await self.saver.stop(self._saving)
            self._saving = None
        await self.deliveries.aclose()
        self.vault.close()
