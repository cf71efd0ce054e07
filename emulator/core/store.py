"""Indexed in-memory state. Every read the providers and the control API serve is answered from
an index (by id, batch, agent, phone, status, time); nothing on a hot path scans all messages.

Messages are appended in clock order, so per-key lists are sorted by time and time ranges are
answered by bisection.
"""

from __future__ import annotations

import heapq
import itertools
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from .models import STATUS_RANK, Event, Message, Status, StoredFile

AgentKey = tuple[str, str, str]  # provider, tenant, agent id


@dataclass(slots=True, frozen=True)
class TimelineEntry:
    """One event of an agent's conversation, outgoing messages included, in time order."""

    time: float
    message: Message
    event: Event


class Store:
    """One tenant's messages, events and files."""

    def __init__(self, counter: Iterator[int] | None = None) -> None:
        self._counter = counter if counter is not None else itertools.count(1)
        self.closed = False  # set when the tenant is reset: its pending events are void
        self.clear()

    def clear(self) -> None:
        self.messages: dict[str, Message] = {}
        self._ordered: list[Message] = []
        self._by_batch: dict[str, list[Message]] = defaultdict(list)
        self._by_agent: dict[AgentKey, list[Message]] = defaultdict(list)
        self._by_agent_any: dict[tuple[str, str], list[Message]] = defaultdict(list)
        self._by_phone: dict[str, list[Message]] = defaultdict(list)
        self._by_conversation: dict[tuple[str, str, str], list[Message]] = defaultdict(list)
        self._by_provider: dict[str, list[Message]] = defaultdict(list)
        self._by_tenant: dict[tuple[str, str], list[Message]] = defaultdict(list)
        self._by_external: dict[tuple[str, str, str], list[Message]] = defaultdict(list)
        self._by_status: dict[Status, dict[str, Message]] = defaultdict(dict)
        self._timeline: dict[AgentKey, list[TimelineEntry]] = defaultdict(list)
        self._timeline_phone: dict[tuple[str, str, str, str], list[TimelineEntry]] = defaultdict(
            list
        )
        self.files: dict[str, StoredFile] = {}

    # -- writes -----------------------------------------------------------------------------

    def add(self, message: Message) -> None:
        message.seq = next(self._counter)
        self.messages[message.id] = message
        self._ordered.append(message)
        if message.batch is not None:
            self._by_batch[message.batch].append(message)
        self._by_agent[(message.provider, message.tenant, message.agent_id)].append(message)
        self._by_agent_any[(message.provider, message.agent_id)].append(message)
        self._by_phone[message.phone].append(message)
        self._by_conversation[(message.provider, message.agent_id, message.phone)].append(message)
        self._by_provider[message.provider].append(message)
        self._by_tenant[(message.provider, message.tenant)].append(message)
        if message.external_id is not None:
            self._by_external[(message.provider, message.tenant, message.external_id)].append(
                message
            )
        self._by_status[message.status][message.id] = message

    def record(self, message: Message, event: Event, status: Status | None = None) -> bool:
        """Append an event and move the status forward; False if the status did not change."""
        message.events.append(event)
        entry = TimelineEntry(event.time, message, event)
        self._timeline[(message.provider, message.tenant, message.agent_id)].append(entry)
        key = (message.provider, message.tenant, message.agent_id, message.phone)
        self._timeline_phone[key].append(entry)
        if status is None or STATUS_RANK[status] <= STATUS_RANK[message.status]:
            return False
        self.set_status(message, status)
        return True

    def set_status(self, message: Message, status: Status) -> None:
        del self._by_status[message.status][message.id]
        message.status = status
        self._by_status[status][message.id] = message

    def add_file(self, stored: StoredFile) -> None:
        self.files[stored.id] = stored

    # -- reads ------------------------------------------------------------------------------

    def get(self, message_id: str) -> Message | None:
        return self.messages.get(message_id)

    def batch(self, batch: str) -> list[Message]:
        return self._by_batch.get(batch, [])

    def by_external(self, provider: str, tenant: str, external_id: str) -> list[Message]:
        return self._by_external.get((provider, tenant, external_id), [])

    def conversation(self, provider: str, agent_id: str, phone: str) -> list[Message]:
        return self._by_conversation.get((provider, agent_id, phone), [])

    def latest_to(self, provider: str, agent_id: str, phone: str) -> Message | None:
        messages = self._by_conversation.get((provider, agent_id, phone))
        return messages[-1] if messages else None

    def agent_messages(
        self, provider: str, tenant: str, agent_id: str, since: float | None, until: float | None
    ) -> Sequence[Message]:
        return _time_slice(self._by_agent.get((provider, tenant, agent_id), []), since, until)

    def tenant_messages(
        self, provider: str, tenant: str, since: float | None = None, until: float | None = None
    ) -> Sequence[Message]:
        return _time_slice(self._by_tenant.get((provider, tenant), []), since, until)

    def timeline(
        self,
        provider: str,
        tenant: str,
        agent_id: str,
        phone: str | None = None,
        since: float | None = None,
        until: float | None = None,
    ) -> Sequence[TimelineEntry]:
        if phone is None:
            entries = self._timeline.get((provider, tenant, agent_id), [])
        else:
            entries = self._timeline_phone.get((provider, tenant, agent_id, phone), [])
        lo = 0 if since is None else bisect_left(entries, since, key=_entry_time)
        hi = len(entries) if until is None else bisect_right(entries, until, key=_entry_time)
        return entries[lo:hi]

    def provider_messages(self, provider: str) -> list[Message]:
        return self._by_provider.get(provider, [])

    def query(
        self,
        provider: str | None = None,
        agent: str | None = None,
        phone: str | None = None,
        status: Status | None = None,
        tenant: str | None = None,
    ) -> Iterable[Message]:
        """Messages matching every given filter, oldest first, starting from the smallest index."""
        candidates: list[Sequence[Message]] = []
        if agent is not None and provider is not None:
            candidates.append(self._by_agent_any.get((provider, agent), []))
        if phone is not None:
            candidates.append(self._by_phone.get(phone, []))
        if status is not None:
            candidates.append(sorted(self._by_status.get(status, {}).values(), key=_seq))
        if provider is not None:
            candidates.append(self._by_provider.get(provider, []))
        base = min(candidates, key=len) if candidates else self._ordered
        for m in base:
            if (
                (provider is None or m.provider == provider)
                and (agent is None or m.agent_id == agent)
                and (phone is None or m.phone == phone)
                and (status is None or m.status is status)
                and (tenant is None or m.tenant == tenant)
            ):
                yield m

    def __len__(self) -> int:
        return len(self.messages)


def _entry_time(entry: TimelineEntry) -> float:
    return entry.time


def _created(message: Message) -> float:
    return message.created_at


def _seq(message: Message) -> int:
    return message.seq


def _time_slice(
    messages: list[Message], since: float | None, until: float | None
) -> Sequence[Message]:
    lo = 0 if since is None else bisect_left(messages, since, key=_created)
    hi = len(messages) if until is None else bisect_right(messages, until, key=_created)
    return messages[lo:hi]


class Stores:
    """One Store per tenant (API key or account), and the few lookups that cross tenants.

    A tenant's reset drops its Store whole, so one test worker's reset never touches another's
    state and costs nothing in proportion to what others hold.
    """

    def __init__(self) -> None:
        self._counter = itertools.count(1)
        self._stores: dict[str, Store] = {}
        self._owner: dict[str, Store] = {}

    def of(self, tenant: str) -> Store:
        store = self._stores.get(tenant)
        if store is None:
            store = self._stores[tenant] = Store(self._counter)
        return store

    def add(self, message: Message) -> Store:
        store = self.of(message.tenant)
        store.add(message)
        self._owner[message.id] = store
        return store

    def owner(self, message: Message) -> Store | None:
        """The live store holding `message`; None once its tenant was reset."""
        store = self._owner.get(message.id)
        return store if store is not None and not store.closed else None

    def get(self, message_id: str) -> Message | None:
        store = self._owner.get(message_id)
        return store.get(message_id) if store is not None else None

    def drop(self, tenant: str) -> None:
        store = self._stores.pop(tenant, None)
        if store is None:
            return
        store.closed = True
        for message_id in store.messages:
            self._owner.pop(message_id, None)

    def clear(self) -> None:
        for store in self._stores.values():
            store.closed = True
        self._stores = {}
        self._owner = {}

    def tenants(self) -> list[str]:
        return list(self._stores)

    def latest_to(self, provider: str, agent_id: str, phone: str) -> Message | None:
        found = (s.latest_to(provider, agent_id, phone) for s in self._stores.values())
        return max((m for m in found if m is not None), key=_seq, default=None)

    def query(self, tenant: str | None = None, **filters: object) -> Iterable[Message]:
        if tenant is not None:
            store = self._stores.get(tenant)
            return store.query(**filters) if store is not None else iter(())  # type: ignore[arg-type]
        parts = [s.query(**filters) for s in self._stores.values()]  # type: ignore[arg-type]
        return heapq.merge(*parts, key=_seq)

    def __len__(self) -> int:
        return sum(len(s) for s in self._stores.values())
