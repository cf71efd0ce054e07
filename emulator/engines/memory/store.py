"""Indexed in-memory state. Every read the providers and the control API serve is answered from
an index (by id, batch, agent, phone, status, time); nothing on a hot path scans all messages.

Messages are appended in clock order, so per-key logs are sorted by time and time ranges are
answered by bisection. A retention limit evicts the oldest message first, which stands first
in every log that holds it, so eviction is O(1) amortised too.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Iterable, Iterator, Sequence
from sys import intern
from typing import Any, Protocol

from ...core.models import STATUS_RANK, USER_MESSAGE, Status
from ...core.records import Event, Message, StoredFile, TimelineEntry
from .logs import EMPTY, Log, View
from .timeline import NO_EVENTS, Timeline

AgentKey = tuple[str, str]  # provider, agent id


class StoreObserver(Protocol):
    """Told of every change to a record (persistence's change tracker listens, to save only
    what changed)."""

    def message_changed(self, message: Message) -> None:
        """A message was added, changed or evicted."""

    def tenant_dropped(self, tenant: str) -> None:
        """A tenant's records were forgotten at once."""

    def records_cleared(self) -> None:
        """Every tenant's records were forgotten."""


class Store:
    """One tenant's messages, events and files."""

    def __init__(
        self,
        tenant: str,
        counter: Iterator[int] | None = None,
        observers: list[StoreObserver] | None = None,
    ) -> None:
        self.tenant = tenant
        self._counter = counter if counter is not None else itertools.count(1)
        self.closed = False  # set when the tenant is reset: its pending events are void
        self.observers = observers if observers is not None else []  # shared by every store
        self.clear()

    def clear(self) -> None:
        self.messages: dict[str, Message] = {}
        self._by_batch: dict[str, tuple[Message, ...] | list[Message]] = {}
        self._by_agent: dict[AgentKey, Log[Message]] = {}
        self._by_phone: dict[str, Log[Message]] = {}
        self._by_conversation: dict[tuple[str, str, str], Log[Message]] = {}
        self._by_provider: dict[str, Log[Message]] = {}
        self._by_external: dict[tuple[str, str], Log[Message]] = {}
        self._by_status: dict[Status, dict[str, Message]] = {s: {} for s in Status}
        self._timeline: dict[Any, Timeline] = {}  # by (provider, agent)
        self._timeline_phone: dict[Any, Timeline] = {}  # by (provider, agent, phone)
        self.files: dict[str, StoredFile] = {}
        # Records of threads phones opened (kind USER_MESSAGE), which reads of what the agent
        # sent leave out: while there are none, such a read can answer with a view of an index.
        self.user_messages = 0

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
        for index, key in self._keys(message):
            log = index.get(key)
            if log is None:
                log = index[key] = Log()
            log._items.append(message)  # Log.append without a Python call: the hot path
        self._by_status[message.status][message.id] = message
        if message.kind == USER_MESSAGE:
            self.user_messages += 1
        for observer in self.observers:
            observer.message_changed(message)

    def _keys(self, m: Message) -> list[tuple[dict[Any, Log[Message]], Hashable]]:
        keys: list[tuple[dict[Any, Log[Message]], Hashable]] = [
            (self._by_agent, (m.provider, m.agent_id)),
            (self._by_phone, m.phone),
            (self._by_conversation, (m.provider, m.agent_id, m.phone)),
            (self._by_provider, m.provider),
        ]
        if m.external_id is not None:
            keys.append((self._by_external, (m.provider, m.external_id)))
        return keys

    def _timeline_keys(self, m: Message) -> list[tuple[dict[Any, Timeline], Hashable]]:
        return [
            (self._timeline, (m.provider, m.agent_id)),
            (self._timeline_phone, (m.provider, m.agent_id, m.phone)),
        ]

    def record(self, message: Message, event: Event, status: Status | None = None) -> bool:
        """Append an event and move the status forward; False if the status did not change."""
        message.events.append(event)
        for observer in self.observers:
            observer.message_changed(message)
        for index, key in self._timeline_keys(message):
            timeline = index.get(key)
            if timeline is None:
                timeline = index[key] = Timeline()
            timeline.append(message, event)
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
        for observer in self.observers:
            observer.message_changed(message)

    def add_file(self, stored: StoredFile) -> None:
        self.files[stored.id] = stored

    def oldest(self) -> Message | None:
        return next(iter(self.messages.values()), None)

    def evict_oldest(self) -> Message | None:
        """Forget the oldest message: it stands first in each of its logs."""
        message = self.oldest()
        if message is None:
            return None
        del self.messages[message.id]
        for index, key in self._keys(message):
            log = index[key]
            log.drop_first()
            if not log:
                del index[key]
        if message.batch is not None:
            members = self._by_batch[message.batch]
            remaining = [m for m in members if m is not message]
            if remaining:
                self._by_batch[message.batch] = remaining
            else:
                del self._by_batch[message.batch]
        del self._by_status[message.status][message.id]
        if message.kind == USER_MESSAGE:
            self.user_messages -= 1
        for observer in self.observers:
            observer.message_changed(message)
        for timelines, key in self._timeline_keys(message):
            timeline = timelines.get(key)
            if timeline is not None:
                timeline.trim(self.messages)
                if not timeline.messages:
                    del timelines[key]
        return message

    # -- reads ------------------------------------------------------------------------------

    def get(self, message_id: str) -> Message | None:
        return self.messages.get(message_id)

    def holds(self, message: Message) -> bool:
        """Whether `message` is this live store's (not evicted, its tenant not reset)."""
        return not self.closed and self.messages.get(message.id) is message

    def batch(self, batch: str) -> Sequence[Message]:
        return self._by_batch.get(batch, ())

    def by_external(self, provider: str, external_id: str) -> Sequence[Message]:
        return self._by_external.get((provider, external_id), EMPTY)

    def conversations(self) -> Iterator[tuple[tuple[str, str, str], int, Message]]:
        """Each conversation (provider, agent, phone): how many messages, and its newest."""
        for key, messages in self._by_conversation.items():
            if messages:
                yield key, len(messages), messages[-1]

    def latest_to(self, provider: str, agent_id: str, phone: str) -> Message | None:
        """The newest message the phone has been sent (one scheduled for later has not)."""
        messages = self._by_conversation.get((provider, agent_id, phone))
        if messages is None:
            return None
        return next((m for m in reversed(messages) if m.status is not Status.SCHEDULED), None)

    def sent_between(
        self, provider: str, since: float | None = None, until: float | None = None
    ) -> Sequence[Message]:
        """A view (no copy) of the provider's messages sent in [since, until], oldest first."""
        log = self._by_provider.get(provider, EMPTY)
        lo = 0 if since is None else log.bisect_left(since, key=_created)
        hi = len(log) if until is None else log.bisect_right(until, key=_created)
        return View(log, lo, hi)

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
            timeline = self._timeline.get((provider, agent_id), NO_EVENTS)
        else:
            timeline = self._timeline_phone.get((provider, agent_id, phone), NO_EVENTS)
        return timeline.between(since, until, newest, self.messages)

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
            candidates.append(self._by_agent.get((provider, agent), EMPTY))
        if phone is not None:
            candidates.append(self._by_phone.get(phone, EMPTY))
        if status is not None:
            candidates.append(sorted(self._by_status[status].values(), key=by_seq))
        if provider is not None:
            candidates.append(self._by_provider.get(provider, EMPTY))
        base = min(candidates, key=len) if candidates else list(self.messages.values())
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


def _created(message: Message) -> float:
    return message.created_at


def by_upload(stored: StoredFile) -> float:
    return stored.uploaded_at


def by_seq(message: Message) -> int:
    return message.seq
