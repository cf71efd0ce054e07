"""Events due at emulator times, run in time order (then in the order they were scheduled)."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

Action = Callable[[], None]


@dataclass(order=True, slots=True)
class _Entry:
    due: float
    seq: int
    action: Action = field(compare=False)


class Scheduler:
    def __init__(self) -> None:
        self._heap: list[_Entry] = []
        self._seq = itertools.count()
        self.on_schedule: Callable[[float], None] | None = None  # wakes a real-time ticker

    def at(self, due: float, action: Action) -> None:
        heapq.heappush(self._heap, _Entry(due, next(self._seq), action))
        if self.on_schedule is not None:
            self.on_schedule(due)

    def next_due(self) -> float | None:
        return self._heap[0].due if self._heap else None

    def run_due(self, now: float) -> int:
        """Run every action due at or before `now`, in order; actions may schedule more."""
        ran = 0
        while self._heap and self._heap[0].due <= now:
            entry = heapq.heappop(self._heap)
            entry.action()
            ran += 1
        return ran

    def clear(self) -> None:
        self._heap.clear()

    def __len__(self) -> int:
        return len(self._heap)
