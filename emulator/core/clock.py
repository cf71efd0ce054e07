"""The emulator's sense of time. Everything that needs "now" asks a Clock.

Times are UTC epoch seconds (floats) internally; rendering to each provider's format happens in
the provider packages.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    mode: str

    def now(self) -> float:
        """Seconds since the epoch, UTC, as the emulator sees it."""

    def wall_delay(self, seconds: float) -> float:
        """How long to really wait for `seconds` of emulator time to pass (inf: never by itself)."""

    def advance(self, seconds: float) -> float:
        """Move time forward by `seconds`; returns the new now."""

    def stamp(self, due: float) -> float:
        """When something due at `due` (<= now) happens: now on a running clock; on a manual
        one the moment it was due, since an advance runs each thing at its own time."""


class RealClock:
    mode = "real"

    def __init__(self) -> None:
        self._offset = 0.0

    def now(self) -> float:
        return time.time() + self._offset

    def advance(self, seconds: float) -> float:
        """Skip ahead (a demo's "thirty minutes later"); the clock then runs on from there."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        self._offset += seconds
        return self.now()

    def wall_delay(self, seconds: float) -> float:
        return max(0.0, seconds)

    def stamp(self, due: float) -> float:
        return self.now()


class ScaledClock:
    """Runs `speed` times faster than the wall clock, starting from the real time at creation."""

    mode = "scaled"

    def __init__(self, speed: float, start: float | None = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._origin_wall = time.monotonic()
        self._origin = time.time() if start is None else start

    def now(self) -> float:
        return self._origin + (time.monotonic() - self._origin_wall) * self.speed

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("time only moves forward")
        self._origin += seconds
        return self.now()

    def wall_delay(self, seconds: float) -> float:
        return max(0.0, seconds) / self.speed

    def stamp(self, due: float) -> float:
        return self.now()


class ManualClock:
    """Stands still until advanced; the test decides when time passes."""

    mode = "manual"

    def __init__(self, start: float | None = None) -> None:
        self._now = float(int(time.time() if start is None else start))

    def now(self) -> float:
        return self._now

    def wall_delay(self, seconds: float) -> float:
        return float("inf")

    def stamp(self, due: float) -> float:
        return min(due, self._now) if due else self._now

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("time only moves forward")
        self._now += seconds
        return self._now

    def set(self, when: float) -> None:
        if when < self._now:
            raise ValueError("time only moves forward")
        self._now = when


class SharedClock(ScaledClock):
    """A real or scaled clock that every process of a cluster reads alike: it counts from the
    cluster's epoch, and while a command is applied it reads that command's time (one clock, the
    shared state's, stamps every command), so each process computes the same times from it."""

    def __init__(self, mode: str, speed: float, epoch: float) -> None:
        super().__init__(speed, start=epoch)
        self.mode = mode
        self.epoch = epoch
        self.pinned: float | None = None  # the wall time of the command being applied

    def now(self) -> float:
        wall = time.time() if self.pinned is None else self.pinned
        return self._origin + (wall - self.epoch) * self.speed


def make_clock(mode: str, speed: float = 1.0, start: float | None = None) -> Clock:
    if mode == "manual":
        return ManualClock(start)
    if mode == "scaled" or (mode == "real" and speed != 1.0):
        return ScaledClock(speed, start)
    if mode == "real":
        return RealClock()
    raise ValueError(f"unknown clock mode {mode!r} (real, scaled or manual)")


def to_datetime(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def iso(ts: float) -> str:
    """ISO 8601 UTC with a Z, to the second."""
    return to_datetime(ts).strftime("%Y-%m-%dT%H:%M:%SZ")
