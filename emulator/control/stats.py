"""GET /stats: what a load test checks against what it set: messages per status, and how long
recipients took (send to delivered, delivered to read) as percentiles of emulator time."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterable
from typing import Any

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response

from ..core.emulator import Emulator
from ..core.engine import MessageFilter
from ..core.models import USER_MESSAGE, EventType, Status
from ..core.records import Message
from ..http.operations import Operation, Query
from ..http.responses import JSONResponse
from .params import ProviderName

PERCENTILES = (50, 90, 95, 99)
# Each latency: from the first event of one type to the first of the other, on one message.
LATENCIES = {
    "sent_to_delivered": (EventType.SENT, EventType.DELIVERED),
    "delivered_to_read": (EventType.DELIVERED, EventType.READ),
    "sent_to_read": (EventType.SENT, EventType.READ),
}
_TIMED = frozenset(t for pair in LATENCIES.values() for t in pair)
# Messages counted per turn of the event loop: at the retention limit (200,000) a whole pass
# takes about a second, which other requests should not wait for.
SLICE = 5_000


class StatsQuery(Query):
    provider: ProviderName | None = None
    agent: str | None = Field(None, description="The agent (or bot) id.")
    tenant: str | None = None


def percentile(ordered: list[float], p: float) -> float:
    """The p-th percentile of sorted values, interpolated between the two nearest ranks (the
    "linear" method of numpy and spreadsheets)."""
    rank = (len(ordered) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"count": 0}
    values.sort()
    shown: dict[str, Any] = {"count": len(values), "min": round(values[0], 6),
                             "mean": round(math.fsum(values) / len(values), 6)}  # fmt: skip
    for p in PERCENTILES:
        shown[f"p{p}"] = round(percentile(values, p), 6)
    shown["max"] = round(values[-1], 6)
    return shown


class Tally:
    """Counts per status and latencies (seconds), message by message."""

    def __init__(self) -> None:
        self.total = 0
        self.counts = dict.fromkeys((s.value for s in Status), 0)
        self.waits: dict[str, list[float]] = {name: [] for name in LATENCIES}

    def add(self, messages: Iterable[Message]) -> Tally:
        counts, waits = self.counts, self.waits
        for message in messages:
            if message.kind == USER_MESSAGE:
                continue  # a phone's own message: nothing the agent sent
            self.total += 1
            counts[message.status.value] += 1
            first: dict[EventType, float] = {}
            for event in message.events:
                if event.type in _TIMED and event.type not in first:
                    first[event.type] = event.time
            for name, (start, end) in LATENCIES.items():
                if start in first and end in first:
                    waits[name].append(max(0.0, first[end] - first[start]))
        return self

    def result(self) -> dict[str, Any]:
        return {"total": self.total, "statuses": self.counts,
                "latency": {name: summary(found) for name, found in self.waits.items()},
                "percentiles": list(PERCENTILES)}  # fmt: skip


def operations(emulator: Emulator) -> list[Operation]:
    async def get_stats(request: Request, query: StatsQuery) -> Response:
        where = MessageFilter(provider=query.provider, agent=query.agent)
        found = (await emulator.messages(emulator.tenant(query.tenant), where)).items
        tally = Tally()
        for start in range(0, len(found), SLICE):
            if start:
                await asyncio.sleep(0)
            tally.add(found[start : start + SLICE])
        return JSONResponse(tally.result())

    return [
        Operation("GET", "/stats", "Messages per status and latency percentiles.", get_stats,
                  query=StatsQuery,
                  description="Latencies are in seconds of emulator time, from each message's "
                  "events: sent to delivered, delivered to read, sent to read (count, min, mean, "
                  "p50, p90, p95, p99, max). Threads a phone opened are not counted. The figures "
                  "are computed over every message held on each call.",
                  responses={200: '{"total": N, "statuses": {...}, "latency": {...}}'}),
    ]  # fmt: skip
