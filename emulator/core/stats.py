"""What a load test checks against what it set: messages per status, and how long recipients took
(sent to delivered, delivered to read, sent to read) as percentiles of emulator time. Engines
gather the figures (Figures: counts per status, and each latency's values with how many times
each was seen); this says how they are summed up, the same for every engine."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .models import USER_MESSAGE, EventType, Status
from .records import Message

PERCENTILES = (50, 90, 95, 99)
# Each latency: from the first event of one type to the first of the other, on one message.
LATENCIES = {
    "sent_to_delivered": (EventType.SENT, EventType.DELIVERED),
    "delivered_to_read": (EventType.DELIVERED, EventType.READ),
    "sent_to_read": (EventType.SENT, EventType.READ),
}
TIMED = frozenset(t for pair in LATENCIES.values() for t in pair)


@dataclass(slots=True)
class Latency:
    """One latency's values (seconds), each with how many times it was seen, and their sum."""

    counts: dict[float, int] = field(default_factory=dict)
    total: float = 0.0

    def add(self, value: float, times: int = 1, total: float | None = None) -> None:
        self.counts[value] = self.counts.get(value, 0) + times
        self.total += value * times if total is None else total

    def summary(self) -> dict[str, Any]:
        pairs = sorted((v, n) for v, n in self.counts.items() if n > 0)
        count = sum(n for _, n in pairs)
        if not count:
            return {"count": 0}
        shown: dict[str, Any] = {
            "count": count,
            "min": round(pairs[0][0], 6),
            "mean": round(self.total / count, 6),
        }
        for p in PERCENTILES:
            shown[f"p{p}"] = round(percentile(pairs, count, p), 6)
        shown["max"] = round(pairs[-1][0], 6)
        return shown


def percentile(pairs: list[tuple[float, int]], count: int, p: float) -> float:
    """The p-th percentile of sorted values (each with how many times it was seen),
    interpolated between the two nearest ranks (the "linear" method of numpy and
    spreadsheets)."""
    rank = (count - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    low_value, high_value = _at(pairs, low), _at(pairs, high)
    return low_value + (high_value - low_value) * (rank - low)


def _at(pairs: list[tuple[float, int]], rank: int) -> float:
    seen = 0
    for value, times in pairs:
        seen += times
        if rank < seen:
            return value
    return pairs[-1][0]


@dataclass(slots=True)
class Figures:
    """Counts per status and latencies of the messages agents sent (threads a phone opened
    are the phone's, not counted)."""

    statuses: dict[Status, int] = field(default_factory=lambda: dict.fromkeys(Status, 0))
    latencies: dict[str, Latency] = field(
        default_factory=lambda: {name: Latency() for name in LATENCIES}
    )

    @property
    def total(self) -> int:
        return sum(self.statuses.values())

    def add(self, messages: Iterable[Message]) -> Figures:
        counts, latencies = self.statuses, self.latencies
        for message in messages:
            if message.kind == USER_MESSAGE:
                continue
            counts[message.status] += 1
            first: dict[EventType, float] = {}
            for event in message.events:
                if event.type in TIMED and event.type not in first:
                    first[event.type] = event.time
            for name, (start, end) in LATENCIES.items():
                if start in first and end in first:
                    latencies[name].add(max(0.0, first[end] - first[start]))
        return self

    def merge(self, other: Figures) -> Figures:
        """Another set of messages' figures added to these."""
        for status, count in other.statuses.items():
            self.statuses[status] = self.statuses.get(status, 0) + count
        for name, latency in other.latencies.items():
            mine = self.latencies.setdefault(name, Latency())
            for value, times in latency.counts.items():
                mine.add(value, times, total=0.0)
            mine.total += latency.total
        return self

    def result(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "statuses": {str(s): n for s, n in self.statuses.items()},
            "latency": {name: found.summary() for name, found in self.latencies.items()},
            "percentiles": list(PERCENTILES),
        }
