"""Events due at emulator times, run in time order (then in the order they were scheduled)."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable

Action = Callable[[], None]


class Scheduler:
    def __init__(self) -> None:
        # (due, seq, action): tuples compare in C, and seq keeps equal times in order and
        # never ties, so actions are never compared
        self._heap: list[tuple[float, int, Action]] = []
        self._seq = itertools.count()
        self.on_schedule: Callable[[float], None] | None = None  # wakes a real-time ticker

    def at(self, due: float, action: Action) -> None:
        heapq.heappush(self._heap, (due, next(self._seq), action))
        if self.on_schedule is not None:
            self.on_schedule(due)

    def next_due(self) -> float | None:
        return self._heap[0][0] if self._heap else None

    def run_due(self, now: float) -> int:
        """Run every action due at or before `now`, in order; actions may schedule more."""
        ran = 0
        heap = self._heap
        while heap and heap[0][0] <= now:
            heapq.heappop(heap)[2]()
            ran += 1
        return ran

    def pending(self) -> list[tuple[float, Action]]:
        """What is due when, in order (the saved state describes each action)."""
        return [(due, action) for due, _, action in sorted(self._heap, key=_order)]

    def clear(self) -> None:
        self._heap.clear()

    def __len__(self) -> int:
        return len(self._heap)


def _order(entry: tuple[float, int, Action]) -> tuple[float, int]:
    return entry[0], entry[1]
