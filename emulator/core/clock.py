"""The emulator's sense of time. Everything that needs "now" asks a Clock.

Times are UTC epoch seconds (floats) internally; rendering to each provider's format happens in
the provider packages.

On a manual clock each tenant has its own time: an advance for one tenant (`?tenant=`) moves only
its time and runs only its events, so one test pipeline never moves another's clock; an advance
for everyone moves every tenant's. The tenant a request or an event acts for is `TENANT` (set by
`Emulator.serving` once a provider has authenticated its caller), and while a due event runs,
"now" is the moment it was due (`PINNED`): an advance runs each event at its own time. A running
clock (real, scaled) is the same for every tenant: it runs by itself for all of them, and its
ticker pins each event to its due time too, so an event that runs late (the ticker was busy) is
still recorded when it was due: scheduling lag never stretches a configured delay.
"""

from __future__ import annotations

import time
from contextvars import ContextVar
from enum import StrEnum
from typing import Any, Protocol

TENANT: ContextVar[str | None] = ContextVar("rcs_emulator_tenant", default=None)
PINNED: ContextVar[float | None] = ContextVar("rcs_emulator_pinned", default=None)


class ClockMode(StrEnum):
    REAL = "real"  # the wall clock (a demo's "thirty minutes later" moves it ahead)
    SCALED = "scaled"  # the wall clock, `speed` times faster
    MANUAL = "manual"  # stands still until a test advances it


class Clock(Protocol):
    mode: ClockMode

    def now(self) -> float:
        """Seconds since the epoch, UTC, as the emulator sees it."""

    def wall_delay(self, seconds: float) -> float:
        """How long to really wait for `seconds` of emulator time to pass (inf: never by itself)."""

    def advance(self, seconds: float) -> float:
        """Move time forward by `seconds`; returns the new now."""

    def stamp(self, due: float) -> float:
        """When something due at `due` (<= now) happens: now on a running clock; on a manual
        one the moment it was due, since an advance runs each thing at its own time."""

    def state(self) -> dict[str, Any]:
        """Where it stands, as data (processes sharing a state share their clock's)."""

    def restore(self, state: dict[str, Any]) -> None:
        """Stand where another process's clock stands (time only moves forward)."""


class RealClock:
    mode = ClockMode.REAL

    def __init__(self) -> None:
        self._offset = 0.0

    def now(self) -> float:
        pinned = PINNED.get()
        return time.time() + self._offset if pinned is None else pinned

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

    def state(self) -> dict[str, Any]:
        return {"offset": self._offset}

    def restore(self, state: dict[str, Any]) -> None:
        self._offset = max(self._offset, float(state["offset"]))


class ScaledClock:
    """Runs `speed` times faster than the wall clock, from `start` (the real time at creation by
    default) as of the wall time `began` (processes sharing a state give both the state's epoch,
    so they read the same time)."""

    mode = ClockMode.SCALED

    def __init__(self, speed: float, start: float | None = None, began: float | None = None):
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._began = time.time() if began is None else began
        self._origin = self._began if start is None else start

    def now(self) -> float:
        pinned = PINNED.get()
        if pinned is not None:
            return pinned
        return self._origin + (time.time() - self._began) * self.speed

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("time only moves forward")
        self._origin += seconds
        return self.now()

    def wall_delay(self, seconds: float) -> float:
        return max(0.0, seconds) / self.speed

    def stamp(self, due: float) -> float:
        return self.now()

    def state(self) -> dict[str, Any]:
        return {"origin": self._origin}

    def restore(self, state: dict[str, Any]) -> None:
        self._origin = max(self._origin, float(state["origin"]))


class ManualClock:
    """Stands still until advanced; the test decides when time passes, for every tenant or for
    one (see the module's docstring)."""

    mode = ClockMode.MANUAL

    def __init__(self, start: float | None = None) -> None:
        self._now = float(int(time.time() if start is None else start))
        self.ahead: dict[str, float] = {}  # seconds each tenant's own advances added

    def now(self) -> float:
        pinned = PINNED.get()
        if pinned is not None:
            return pinned
        if self.ahead:
            tenant = TENANT.get()
            if tenant is not None:
                return self._now + self.ahead.get(tenant, 0.0)
        return self._now

    def time_of(self, tenant: str | None) -> float:
        """A tenant's time (every tenant's shared time when None)."""
        return self._now + (self.ahead.get(tenant, 0.0) if tenant is not None else 0.0)

    def wall_delay(self, seconds: float) -> float:
        return float("inf")

    def stamp(self, due: float) -> float:
        return min(due, self.now()) if due else self.now()

    def advance(self, seconds: float, tenant: str | None = None) -> float:
        """Every tenant's time forward, or one tenant's; returns that time."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        if tenant is None:
            self._now += seconds
        else:
            self.ahead[tenant] = self.ahead.get(tenant, 0.0) + seconds
        return self.time_of(tenant)

    def state(self) -> dict[str, Any]:
        return {"now": self._now, "ahead": dict(self.ahead)}

    def restore(self, state: dict[str, Any]) -> None:
        self._now = max(self._now, float(state["now"]))
        for tenant, lead in state["ahead"].items():
            self.ahead[tenant] = max(self.ahead.get(tenant, 0.0), float(lead))

    def set(self, when: float) -> None:
        """The shared time set as given (a restored state's)."""
        if when < self._now:
            raise ValueError("time only moves forward")
        self._now = when


def make_clock(mode: str, speed: float = 1.0, start: float | None = None) -> Clock:
    if mode == ClockMode.MANUAL:
        return ManualClock(start)
    if mode == ClockMode.SCALED or (mode == ClockMode.REAL and speed != 1.0):
        return ScaledClock(speed, start)
    if mode == ClockMode.REAL:
        return RealClock()
    raise ValueError(f"unknown clock mode {mode!r} (real, scaled or manual)")


def iso(ts: float) -> str:
    """ISO 8601 UTC with a Z, to the millisecond (rounded, so two times 1 s apart read 1.000 s
    apart whatever the float's last bits): how the control API shows every time."""
    seconds, milli = divmod(round(ts * 1000), 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{milli:03d}Z"
