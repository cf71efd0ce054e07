"""Every tenant's Store, and the few lookups that cross tenants."""

from __future__ import annotations

import copy
import heapq
import itertools
from collections.abc import Iterable
from typing import Any

from .changes import Changes
from .models import Message, StoredFile
from .store import Store, by_seq, by_upload


class Stores:
    """One Store per tenant (API key or account), and the few lookups that cross tenants.

    A tenant's reset drops its Store whole, so one test worker's reset never touches another's
    state and costs nothing in proportion to what others hold. With `max_messages`, the oldest
    message of all is evicted when a new one would exceed it.
    """

    def __init__(self, max_messages: int | None = None) -> None:
        self._counter = itertools.count(1)
        self._stores: dict[str, Store] = {}
        self.max_messages = max_messages
        self.count = 0
        self.evicted = 0
        self.changes: Changes | None = None  # tracked only when something saves them

    def track(self, install: bool = True) -> Changes:
        """Every message as changed; with `install`, later changes are tracked in it too (for
        incremental saves), else it is a one-off list (a full dump)."""
        changes = Changes()
        held = sorted((m for s in self._stores.values() for m in s.messages.values()), key=by_seq)
        changes.messages.update(((m.tenant, m.id), m) for m in held)  # in the order added
        for store in self._stores.values():
            if install:
                store.changes = changes
        if install:
            self.changes = changes
        return changes

    def of(self, tenant: str) -> Store:
        store = self._stores.get(tenant)
        if store is None:
            store = self._stores[tenant] = Store(self._counter, self.changes)
        return store

    def add(self, message: Message) -> Store:
        store = self.of(message.tenant)
        store.add(message)
        self.count += 1
        if self.max_messages is not None:
            while self.count > self.max_messages and self._evict_oldest():
                pass
        return store

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

    def owner(self, message: Message) -> Store | None:
        """The live store holding `message`; None once its tenant was reset or it was evicted."""
        store = self._stores.get(message.tenant)
        return store if store is not None and store.messages.get(message.id) is message else None

    def get(self, message_id: str) -> Message | None:
        """Any tenant's message by id (tenants are few: a dict lookup in each)."""
        return next((s.messages[message_id] for s in self._stores.values()
                     if message_id in s.messages), None)  # fmt: skip

    def drop(self, tenant: str) -> Store | None:
        store = self._stores.pop(tenant, None)
        if store is not None:
            store.closed = True
            self.count -= len(store)
            if self.changes is not None:
                self.changes.dropped.add(tenant)
        return store

    def carried(self) -> dict[str, Any]:
        """What clear() leaves: the sequence that orders messages across tenants."""
        return {"next_seq": next(copy.copy(self._counter))}

    def carry(self, data: dict[str, Any]) -> None:
        self._counter = itertools.count(data["next_seq"])

    def clear(self) -> None:
        for store in self._stores.values():
            store.closed = True
        self._stores = {}
        self.count = 0
        self.evicted = 0  # of the messages just forgotten (the webhook log's drops reset alike)
        if self.changes is not None:
            self.changes.cleared = True
            self.changes.messages.clear()
            self.changes.dropped.clear()

    def tenants(self) -> list[str]:
        return list(self._stores)

    def files(self, tenant: str | None = None) -> list[StoredFile]:
        """Uploaded files, oldest first (of one tenant, or all)."""
        if tenant is None:
            stores = list(self._stores.values())
        else:
            stores = [self._stores[tenant]] if tenant in self._stores else []
        found = [f for s in stores for f in s.files.values()]
        return sorted(found, key=by_upload) if len(stores) > 1 else found

    def file(self, file_id: str) -> StoredFile | None:
        """Any tenant's uploaded file by id."""
        return next((s.files[file_id] for s in self._stores.values() if file_id in s.files), None)

    def latest_to(self, provider: str, agent_id: str, phone: str) -> Message | None:
        found = (s.latest_to(provider, agent_id, phone) for s in self._stores.values())
        return max((m for m in found if m is not None), key=by_seq, default=None)

    def query(self, tenant: str | None = None, **filters: Any) -> Iterable[Message]:
        if tenant is not None:
            store = self._stores.get(tenant)
            return store.query(**filters) if store is not None else iter(())
        parts = [s.query(**filters) for s in self._stores.values()]
        return heapq.merge(*parts, key=by_seq)

    def __len__(self) -> int:
        return self.count
