"""The memory engine's schedule: each tenant's events due at emulator times (the tenant's own time
on a manual clock), taken in time order, then in the order they were scheduled."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from typing import Protocol

from ...core.records import Due

Entry = tuple[float, int, Due]  # due time, sequence (orders equal times, never ties), what


class ScheduleObserver(Protocol):
    """Told of every change (persistence's change tracker listens, to save only those)."""

    def scheduled(self, entry: Entry) -> None: ...

    def taken(self, seq: int) -> None: ...

    def schedule_cleared(self) -> None: ...


class Schedule:
    def __init__(self) -> None:
        self._heaps: dict[str, list[Entry]] = {}  # by tenant
        self._seq = itertools.count()
        self.observers: list[ScheduleObserver] = []
        self.on_schedule: Callable[[float], None] | None = None  # wakes a real-time ticker

    def at(self, due: float, task: Due) -> None:
        entry = (due, next(self._seq), task)
        heap = self._heaps.get(task.tenant)
        if heap is None:
            heap = self._heaps[task.tenant] = []
        heapq.heappush(heap, entry)
        for observer in self.observers:
            observer.scheduled(entry)
        if self.on_schedule is not None:
            self.on_schedule(due)

    def next_due(self, tenant: str | None = None) -> float | None:
        """A tenant's earliest due time, or the earliest of all."""
        if tenant is not None:
            heap = self._heaps.get(tenant)
            return heap[0][0] if heap else None
        return min((h[0][0] for h in self._heaps.values() if h), default=None)

    def tenants(self) -> list[str]:
        """The tenants with something scheduled."""
        return [tenant for tenant, heap in self._heaps.items() if heap]

    def take(self, tenant: str, until: float, limit: int) -> list[tuple[float, Due]]:
        """Up to `limit` of a tenant's entries due at or before `until`, in order, removed."""
        heap = self._heaps.get(tenant)
        if not heap:
            return []
        taken: list[tuple[float, Due]] = []
        observers = self.observers
        while heap and heap[0][0] <= until and len(taken) < limit:
            due, seq, task = heapq.heappop(heap)
            for observer in observers:
                observer.taken(seq)
            taken.append((due, task))
        if not heap:
            del self._heaps[tenant]
        return taken

    def entries(self) -> list[Entry]:
        """Every pending entry, in scheduling order (a full save, or a restore, keeps it)."""
        return sorted((e for h in self._heaps.values() for e in h), key=_seq_of)

    def drop(self, tenant: str) -> None:
        """Forget a tenant's entries (its reset)."""
        heap = self._heaps.pop(tenant, None)
        for _, seq, _ in heap or ():
            for observer in self.observers:
                observer.taken(seq)

    def clear(self) -> None:
        """Forget every entry."""
        self._heaps.clear()
        for observer in self.observers:
            observer.schedule_cleared()

    def __len__(self) -> int:
        return sum(len(h) for h in self._heaps.values())


def _seq_of(entry: Entry) -> int:
    return entry[1]
