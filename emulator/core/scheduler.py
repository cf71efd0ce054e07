"""Events due at emulator times, run in time order (then in the order they were scheduled)."""

from __future__ import annotations

import copy
import heapq
import itertools
from collections.abc import Callable
from typing import Any

Action = Callable[[], None]


class Scheduler:
    def __init__(self) -> None:
        # (due, seq, action): tuples compare in C, and seq keeps equal times in order and
        # never ties, so actions are never compared
        self._heap: list[tuple[float, int, Action]] = []
        self._seq = itertools.count()
        self.on_schedule: Callable[[float], None] | None = None  # wakes a real-time ticker
        self.changes: ScheduleChanges | None = None  # tracked only when something saves them

    def track(self, install: bool = True) -> ScheduleChanges:
        """Everything pending as added; with `install`, later schedules and runs are tracked
        in it too (for incremental saves), else it is a one-off list (a full dump)."""
        changes = ScheduleChanges()
        # in scheduling order: equal due times run in it, and a restore keeps it
        changes.added.extend(sorted(self._heap, key=_seq_of))
        if install:
            self.changes = changes
        return changes

    def carried(self) -> dict[str, Any]:
        """What clear() leaves: the sequence that orders equal due times."""
        return {"next_seq": next(copy.copy(self._seq))}

    def carry(self, data: dict[str, Any]) -> None:
        self._seq = itertools.count(data["next_seq"])

    def at(self, due: float, action: Action) -> None:
        entry = (due, next(self._seq), action)
        heapq.heappush(self._heap, entry)
        if self.changes is not None:
            self.changes.added.append(entry)
        if self.on_schedule is not None:
            self.on_schedule(due)

    def next_due(self) -> float | None:
        return self._heap[0][0] if self._heap else None

    def run_due(self, now: float) -> int:
        """Run every action due at or before `now`, in order; actions may schedule more."""
        ran = 0
        heap = self._heap
        while heap and heap[0][0] <= now:
            entry = heapq.heappop(heap)
            if self.changes is not None:
                self.changes.ran.append(entry[1])
            entry[2]()
            ran += 1
        return ran

    def clear(self) -> None:
        self._heap.clear()
        if self.changes is not None:
            self.changes.cleared = True
            self.changes.added.clear()
            self.changes.ran.clear()

    def __len__(self) -> int:
        return len(self._heap)


class ScheduleChanges:
    """Entries scheduled and entries run since the last save."""

    __slots__ = ("added", "ran", "cleared")

    def __init__(self) -> None:
        self.added: list[tuple[float, int, Action]] = []
        self.ran: list[int] = []
        self.cleared = False


def _seq_of(entry: tuple[float, int, Action]) -> int:
    return entry[1]
