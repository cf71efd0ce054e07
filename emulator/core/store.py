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
from sys import intern

from .models import STATUS_RANK, Event, Message, Status, StoredFile

AgentKey = tuple[str, str]  # provider, agent id


@dataclass(slots=True, frozen=True)
class TimelineEntry:
    """One event of an agent's conversation, outgoing messages included (made on reading)."""

    time: float
    message: Message
    event: Event


class Timeline:
    """Events in time order with their messages, as two parallel lists: 16 bytes an event
    instead of an entry object each."""

    __slots__ = ("events", "messages")

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.messages: list[Message] = []

    def append(self, message: Message, event: Event) -> None:
        self.events.append(event)
        self.messages.append(message)

    def between(
        self, since: float | None, until: float | None, newest: int | None
    ) -> list[TimelineEntry]:
        events = self.events
        lo = 0 if since is None else bisect_left(events, since, key=_event_time)
        hi = len(events) if until is None else bisect_right(events, until, key=_event_time)
        if newest is not None:
            lo = max(lo, hi - newest)
        messages = self.messages
        return [TimelineEntry(events[i].time, messages[i], events[i]) for i in range(lo, hi)]


_NO_EVENTS = Timeline()


class Store:
    """One tenant's messages, events and files."""

    def __init__(self, counter: Iterator[int] | None = None) -> None:
        self._counter = counter if counter is not None else itertools.count(1)
        self.closed = False  # set when the tenant is reset: its pending events are void
        self.clear()

    def clear(self) -> None:
        self.messages: dict[str, Message] = {}
        self._by_batch: dict[str, tuple[Message, ...] | list[Message]] = {}
        self._by_agent: dict[AgentKey, list[Message]] = defaultdict(list)
        self._by_phone: dict[str, list[Message]] = defaultdict(list)
        self._by_conversation: dict[tuple[str, str, str], list[Message]] = defaultdict(list)
        self._by_provider: dict[str, list[Message]] = defaultdict(list)
        self._by_external: dict[tuple[str, str], list[Message]] = defaultdict(list)
        self._by_status: dict[Status, dict[str, Message]] = defaultdict(dict)
        self._timeline: dict[AgentKey, Timeline] = defaultdict(Timeline)
        self._timeline_phone: dict[tuple[str, str, str], Timeline] = defaultdict(Timeline)
        self.files: dict[str, StoredFile] = {}

    # -- writes -----------------------------------------------------------------------------

    def add(self, message: Message) -> None:
        # Tenants, agents, phones and chip texts repeat across messages: keep one copy of each.
        message.tenant = intern(message.tenant)
        message.agent_id = intern(message.agent_id)
        message.phone = intern(message.phone)
        for chip in message.suggestions:
            chip.label = intern(chip.label)
            chip.postback = intern(chip.postback)
        message.seq = next(self._counter)
        self.messages[message.id] = message
        if message.batch is not None:
            # Most batches have one recipient: a 1-tuple is their smallest form; a second
            # recipient turns it into a list that grows in amortised O(1).
            members = self._by_batch.get(message.batch)
            if members is None:
                self._by_batch[message.batch] = (message,)
            elif isinstance(members, tuple):
                self._by_batch[message.batch] = [*members, message]
            else:
                members.append(message)
        self._by_agent[(message.provider, message.agent_id)].append(message)
        self._by_phone[message.phone].append(message)
        self._by_conversation[(message.provider, message.agent_id, message.phone)].append(message)
        self._by_provider[message.provider].append(message)
        if message.external_id is not None:
            self._by_external[(message.provider, message.external_id)].append(message)
        self._by_status[message.status][message.id] = message

    def record(self, message: Message, event: Event, status: Status | None = None) -> bool:
        """Append an event and move the status forward; False if the status did not change."""
        message.events.append(event)
        self._timeline[(message.provider, message.agent_id)].append(message, event)
        self._timeline_phone[(message.provider, message.agent_id, message.phone)].append(
            message, event
        )
        if status is None or STATUS_RANK[status] <= STATUS_RANK[message.status]:
            return False
        self.set_status(message, status)
        return True

    def set_status(self, message: Message, status: Status) -> None:
        previous = self._by_status[message.status]
        del previous[message.id]
        if not previous:  # a dict keeps its table after deletions; an emptied one is renewed
            self._by_status[message.status] = {}
        message.status = status
        self._by_status[status][message.id] = message

    def add_file(self, stored: StoredFile) -> None:
        self.files[stored.id] = stored

    # -- reads ------------------------------------------------------------------------------

    def get(self, message_id: str) -> Message | None:
        return self.messages.get(message_id)

    def batch(self, batch: str) -> Sequence[Message]:
        return self._by_batch.get(batch, ())

    def by_external(self, provider: str, external_id: str) -> list[Message]:
        return self._by_external.get((provider, external_id), [])

    def conversation(self, provider: str, agent_id: str, phone: str) -> list[Message]:
        return self._by_conversation.get((provider, agent_id, phone), [])

    def latest_to(self, provider: str, agent_id: str, phone: str) -> Message | None:
        messages = self._by_conversation.get((provider, agent_id, phone))
        return messages[-1] if messages else None

    def sent_between(
        self, provider: str, since: float | None = None, until: float | None = None
    ) -> Sequence[Message]:
        """A view (no copy) of the provider's messages sent in [since, until], oldest first."""
        messages = self._by_provider.get(provider, [])
        lo = 0 if since is None else bisect_left(messages, since, key=_created)
        hi = len(messages) if until is None else bisect_right(messages, until, key=_created)
        return _View(messages, lo, hi)

    def timeline(
        self,
        provider: str,
        agent_id: str,
        phone: str | None = None,
        since: float | None = None,
        until: float | None = None,
        newest: int | None = None,
    ) -> list[TimelineEntry]:
        """Events in [since, until], oldest first; with `newest`, only the newest that many
        (found by bisection, so the cost does not grow with the history)."""
        if phone is None:
            timeline = self._timeline.get((provider, agent_id), _NO_EVENTS)
        else:
            timeline = self._timeline_phone.get((provider, agent_id, phone), _NO_EVENTS)
        return timeline.between(since, until, newest)

    def query(
        self,
        provider: str | None = None,
        agent: str | None = None,
        phone: str | None = None,
        status: Status | None = None,
    ) -> Iterable[Message]:
        """Messages matching every given filter, oldest first, starting from the smallest index."""
        candidates: list[Sequence[Message]] = []
        if agent is not None and provider is not None:
            candidates.append(self._by_agent.get((provider, agent), []))
        if phone is not None:
            candidates.append(self._by_phone.get(phone, []))
        if status is not None:
            candidates.append(sorted(self._by_status.get(status, {}).values(), key=_seq))
        if provider is not None:
            candidates.append(self._by_provider.get(provider, []))
        base = min(candidates, key=len) if candidates else self.messages.values()
        for m in base:
            if (
                (provider is None or m.provider == provider)
                and (agent is None or m.agent_id == agent)
                and (phone is None or m.phone == phone)
                and (status is None or m.status is status)
            ):
                yield m

    def __len__(self) -> int:
        return len(self.messages)


def _event_time(event: Event) -> float:
    return event.time


def _created(message: Message) -> float:
    return message.created_at


def _seq(message: Message) -> int:
    return message.seq


class _View(Sequence[Message]):
    """messages[lo:hi] without copying; reversed() and slices stay cheap."""

    __slots__ = ("_items", "_lo", "_hi")

    def __init__(self, items: list[Message], lo: int, hi: int) -> None:
        self._items, self._lo, self._hi = items, lo, max(lo, hi)

    def __len__(self) -> int:
        return self._hi - self._lo

    def __getitem__(self, index):  # type: ignore[no-untyped-def, override]
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            return self._items[self._lo + start : self._lo + stop : step]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self._items[self._lo + index]

    def __iter__(self) -> Iterator[Message]:
        return iter(self._items[self._lo : self._hi])

    def __reversed__(self) -> Iterator[Message]:
        items, lo = self._items, self._lo
        return (items[i] for i in range(self._hi - 1, lo - 1, -1))


class Stores:
    """One Store per tenant (API key or account), and the few lookups that cross tenants.

    A tenant's reset drops its Store whole, so one test worker's reset never touches another's
    state and costs nothing in proportion to what others hold.
    """

    def __init__(self) -> None:
        self._counter = itertools.count(1)
        self._stores: dict[str, Store] = {}

    def of(self, tenant: str) -> Store:
        store = self._stores.get(tenant)
        if store is None:
            store = self._stores[tenant] = Store(self._counter)
        return store

    def add(self, message: Message) -> Store:
        store = self.of(message.tenant)
        store.add(message)
        return store

    def owner(self, message: Message) -> Store | None:
        """The live store holding `message`; None once its tenant was reset."""
        store = self._stores.get(message.tenant)
        return store if store is not None and store.messages.get(message.id) is message else None

    def get(self, message_id: str) -> Message | None:
        """Any tenant's message by id (tenants are few: a dict lookup in each)."""
        for store in self._stores.values():
            found = store.messages.get(message_id)
            if found is not None:
                return found
        return None

    def drop(self, tenant: str) -> None:
        store = self._stores.pop(tenant, None)
        if store is not None:
            store.closed = True

    def clear(self) -> None:
        for store in self._stores.values():
            store.closed = True
        self._stores = {}

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
