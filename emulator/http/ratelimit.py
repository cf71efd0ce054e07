"""A token bucket per key on the emulator clock: `requests` per `per_seconds`."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..core.clock import Clock


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    def __init__(self, clock: Clock, requests: int, per_seconds: float) -> None:
        if requests < 1 or per_seconds <= 0:
            raise ValueError("a rate limit needs requests >= 1 and per_seconds > 0")
        self.clock = clock
        self.capacity = float(requests)
        self.rate = requests / per_seconds
        self._buckets: dict[str, _Bucket] = {}

    def retry_after(self, key: str) -> int | None:
        """None if the request may pass (and takes a token); else whole seconds to wait."""
        now = self.clock.now()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(self.capacity, now)
        bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.at) * self.rate)
        bucket.at = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return None
        return max(1, math.ceil((1 - bucket.tokens) / self.rate))

    def clear(self) -> None:
        self._buckets.clear()
