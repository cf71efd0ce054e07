"""How long a scenario step waits: a fixed time, a seeded random range, or a distribution a load
test would set (lognormal, exponential, normal). Each is a small object whose `sample(draws)`
draws from the emulator's seeded source, so a seeded run repeats itself; `spec()` gives back the
form a scenario file writes, so a step saved in a state file reads back the same.

    after: 2                                    # fixed (seconds, or "5m", "1h")
    after: [1, 3]                               # uniform between the two
    after: {lognormal: {median: 2, p99: 30}}    # or p90, p95, sigma instead of p99
    after: {exponential: {mean: 5}}
    after: {normal: {mean: 10, sd: 2}}          # a negative draw counts as no wait
Each distribution also takes `max` (no draw waits longer).
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any, Protocol

# A sign is read so that "-5" is said to be negative, not to be no number.
_DURATION = re.compile(r"^\s*([+-]?\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}
# How many standard deviations above the median each quantile of a normal distribution lies.
_QUANTILES = {f"p{q}": NormalDist().inv_cdf(q / 100) for q in (90, 95, 99)}
DISTRIBUTIONS = ("lognormal", "exponential", "normal")
NOT_A_DURATION = "must be seconds: a number, or as '500ms', '2s', '5m', '1h'"


class Draws(Protocol):
    """The emulator's seeded source of randomness (core.ids.IdSource)."""

    def random(self) -> random.Random: ...


def parse_duration(value: Any) -> float:
    """Seconds from a number or a text such as "500ms", "2s", "5m", "1h", "2d": the one reading
    of a time span everywhere one is given (scenario delays, conversation waits, `ctl advance`,
    the control API's advance, the pytest handle's). Its errors name no subject: the caller's
    place does ("after: cannot be negative", "advance -5: cannot be negative")."""
    if isinstance(value, bool):
        raise ValueError(NOT_A_DURATION)
    if isinstance(value, int | float) and math.isfinite(value):
        seconds = float(value)
    elif isinstance(value, str) and (m := _DURATION.match(value)):
        seconds = float(m.group(1)) * _UNITS[m.group(2)]
    else:
        raise ValueError(NOT_A_DURATION)
    if seconds < 0:
        raise ValueError("cannot be negative")
    return seconds


@dataclass(frozen=True, slots=True)
class Fixed:
    seconds: float

    def sample(self, draws: Draws) -> float:
        return self.seconds  # draws nothing: a fixed step leaves the seeded sequence alone

    def spec(self) -> Any:
        return self.seconds


@dataclass(frozen=True, slots=True)
class Uniform:
    low: float
    high: float

    def sample(self, draws: Draws) -> float:
        return draws.random().uniform(self.low, self.high)

    def spec(self) -> Any:
        return [self.low, self.high]


@dataclass(frozen=True, slots=True)
class LogNormal:
    """Network latencies: most near the median, a long tail. Set by the median and one upper
    quantile (what a latency dashboard shows), or by the median and sigma."""

    median: float
    sigma: float
    shape: tuple[str, float]  # the parameter given beside the median, as given
    cap: float | None = None

    def sample(self, draws: Draws) -> float:
        drawn = draws.random().lognormvariate(math.log(self.median), self.sigma)
        return drawn if self.cap is None else min(drawn, self.cap)

    def spec(self) -> Any:
        given = {"median": self.median, self.shape[0]: self.shape[1]}
        return {"lognormal": given | ({"max": self.cap} if self.cap is not None else {})}


@dataclass(frozen=True, slots=True)
class Exponential:
    """Memoryless waits (arrivals of a Poisson process), set by their mean."""

    mean: float
    cap: float | None = None

    def sample(self, draws: Draws) -> float:
        drawn = draws.random().expovariate(1.0 / self.mean) if self.mean > 0 else 0.0
        return drawn if self.cap is None else min(drawn, self.cap)

    def spec(self) -> Any:
        given = {"mean": self.mean} | ({"max": self.cap} if self.cap is not None else {})
        return {"exponential": given}


@dataclass(frozen=True, slots=True)
class Normal:
    """Waits spread evenly around a mean; a negative draw means no wait (time never goes back)."""

    mean: float
    sd: float
    cap: float | None = None

    def sample(self, draws: Draws) -> float:
        drawn = max(0.0, draws.random().normalvariate(self.mean, self.sd))
        return drawn if self.cap is None else min(drawn, self.cap)

    def spec(self) -> Any:
        given = {"mean": self.mean, "sd": self.sd}
        return {"normal": given | ({"max": self.cap} if self.cap is not None else {})}


Delay = Fixed | Uniform | LogNormal | Exponential | Normal
NO_DELAY = Fixed(0.0)


def parse_delay(value: Any) -> Delay:
    """A step's `after` as written in a scenario file (or saved in a state file)."""
    if isinstance(value, Fixed | Uniform | LogNormal | Exponential | Normal):
        return value
    if isinstance(value, list | tuple):
        if len(value) != 2:
            raise ValueError("a delay range is [low, high]")
        low, high = parse_duration(value[0]), parse_duration(value[1])
        if high < low:
            raise ValueError("a delay range needs low <= high")
        return Uniform(low, high)
    if isinstance(value, dict):
        return _distribution(value)
    return Fixed(parse_duration(value))


def _distribution(value: dict[Any, Any]) -> Delay:
    if len(value) != 1 or next(iter(value)) not in DISTRIBUTIONS:
        raise ValueError(
            f"a delay distribution is one of {', '.join(DISTRIBUTIONS)}, as "
            "{lognormal: {median: 2, p99: 30}}; got " + (", ".join(map(repr, value)) or "nothing")
        )
    ((kind, params),) = value.items()
    if not isinstance(params, dict):
        raise ValueError(f"{kind}: its parameters are a mapping, as {{median: 2, p99: 30}}")
    known = {
        "lognormal": ("median", "max", "sigma", *_QUANTILES),
        "exponential": ("mean", "max"),
        "normal": ("mean", "sd", "max"),
    }[kind]
    unknown = [str(k) for k in params if k not in known]
    if unknown:
        raise ValueError(f"{kind}: unknown parameter {unknown[0]!r} (it takes {', '.join(known)})")
    seconds = {str(k): _seconds(kind, str(k), v) for k, v in params.items()}
    cap = seconds.pop("max", None)
    if kind == "exponential":
        return Exponential(_required(kind, seconds, "mean"), cap)
    if kind == "normal":
        return Normal(_required(kind, seconds, "mean"), _required(kind, seconds, "sd"), cap)
    median = _required(kind, seconds, "median")
    if median <= 0:
        raise ValueError("lognormal: the median must be above 0")
    shapes = [k for k in seconds if k != "median"]
    if len(shapes) != 1:
        raise ValueError(
            "lognormal: give the median and exactly one of p90, p95, p99 or sigma "
            f"(got {', '.join(shapes) or 'none'})"
        )
    shape = shapes[0]
    if shape == "sigma":
        return LogNormal(median, seconds["sigma"], ("sigma", seconds["sigma"]), cap)
    quantile = seconds[shape]
    if quantile <= median:
        raise ValueError(f"lognormal: {shape} must be above the median ({median:g})")
    sigma = (math.log(quantile) - math.log(median)) / _QUANTILES[shape]
    return LogNormal(median, sigma, (shape, quantile), cap)


def _seconds(kind: str, name: str, value: Any) -> float:
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise ValueError(f"{kind}: {name}: {exc}") from None


def _required(kind: str, given: dict[str, float], name: str) -> float:
    if name not in given:
        raise ValueError(f"{kind}: {name} is required")
    return given[name]
