"""The memory engine's schedule: events due at emulator times, taken in time order (then in the
order they were scheduled)."""

from __future__ import annotations

import copy
import heapq
import itertools
from collections.abc import Callable
from typing import Any, Protocol

from ..core.engine import Due

Entry = tuple[float, int, Due]  # due time, sequence (orders equal times, never ties), what


class ScheduleObserver(Protocol):
    """Told of every change (persistence's change tracker listens, to save only those)."""

    def scheduled(self, entry: Entry) -> None: ...

    def taken(self, seq: int) -> None: ...

    def schedule_cleared(self) -> None: ...


class Schedule:
    def __init__(self) -> None:
        self._heap: list[Entry] = []
        self._seq = itertools.count()
        self.observers: list[ScheduleObserver] = []
        self.on_schedule: Callable[[float], None] | None = None  # wakes a real-time ticker

    def carried(self) -> dict[str, Any]:
        """What clear() leaves: the sequence that orders equal due times."""
        return {"next_seq": next(copy.copy(self._seq))}

    def carry(self, data: dict[str, Any]) -> None:
        self._seq = itertools.count(data["next_seq"])

    def at(self, due: float, task: Due) -> None:
        entry = (due, next(self._seq), task)
        heapq.heappush(self._heap, entry)
        for observer in self.observers:
            observer.scheduled(entry)
        if self.on_schedule is not None:
            self.on_schedule(due)

    def next_due(self) -> float | None:
        return self._heap[0][0] if self._heap else None

    def take(self, until: float, limit: int) -> list[tuple[float, Due]]:
        """Up to `limit` entries due at or before `until`, in order, removed."""
        taken: list[tuple[float, Due]] = []
        heap = self._heap
        observers = self.observers
        while heap and heap[0][0] <= until and len(taken) < limit:
            due, seq, task = heapq.heappop(heap)
            for observer in observers:
                observer.taken(seq)
            taken.append((due, task))
        return taken

    def entries(self) -> list[Entry]:
        """Every pending entry, in scheduling order (a full save, or a restore, keeps it)."""
        return sorted(self._heap, key=_seq_of)

    def clear(self) -> None:
        """Forget every entry. (A tenant's reset leaves its entries: each finds its record gone
        and does nothing, so the reset costs what the tenant holds, not what all do.)"""
        self._heap.clear()
        for observer in self.observers:
            observer.schedule_cleared()

    def __len__(self) -> int:
        return len(self._heap)


def _seq_of(entry: Entry) -> int:
    return entry[1]
