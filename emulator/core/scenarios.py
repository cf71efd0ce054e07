"""Scenario files: which recipients live through which timeline after a send.

A scenario is YAML validated by pydantic; a bad file is refused at load with an error that names
the file, the place in it and the rule it broke. See README.md for the format.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path
from typing import Any

import yaml
from pydantic import (
    ValidationError,
)

from . import pydantic_errors
from .delays import Delay, Draws  # noqa: F401 - Delay: what a step waits, for the core
from .scenario_files import Outcome, Rule, ScenarioError, ScenarioFile, Step
from .yaml_errors import yaml_problem


@dataclass(frozen=True, slots=True)
class Plan:
    """What a recipient lives through after a send: one timeline, or one of a mix's timelines
    drawn by weight (seeded, so a seeded run repeats its mix). Each step's delay is a
    `Delay` (core.delays): `step.after.sample(draws)`."""

    timelines: tuple[tuple[Step, ...], ...]
    bounds: tuple[float, ...] = ()  # cumulative weights of a mix; empty for one timeline

    @classmethod
    def single(cls, steps: Sequence[Step]) -> Plan:
        return cls((tuple(steps),))

    @classmethod
    def mix(cls, outcomes: Sequence[Outcome]) -> Plan:
        timelines = tuple(tuple(o.timeline) for o in outcomes)
        return cls(timelines, tuple(accumulate(o.weight for o in outcomes)))

    def steps(self, draws: Draws) -> tuple[Step, ...]:
        if not self.bounds:
            return self.timelines[0]  # draws nothing: a plain timeline leaves the seed alone
        point = draws.random().random() * self.bounds[-1]
        return self.timelines[min(bisect_right(self.bounds, point), len(self.timelines) - 1)]


@dataclass(frozen=True, slots=True)
class Resolution:
    """What one scenario says about one number."""

    scenario: str
    rule: str | None
    capable: bool
    timeline: Plan
    sms_timeline: Plan


class Scenario:
    def __init__(self, spec: ScenarioFile, source: str) -> None:
        self.spec = spec
        self.source = source
        # Exact numbers resolve through a dict; only prefixes and patterns are tried in order.
        sms = Plan.single(spec.sms)
        default = Plan.mix(spec.mix) if spec.mix is not None else Plan.single(spec.default)
        self._default = Resolution(spec.name, None, True, default, sms)
        self._exact: dict[str, Resolution] = {}
        self._other: list[tuple[Rule, Resolution]] = []
        for rule in spec.rules:
            plan = Plan.mix(rule.mix) if rule.mix is not None else Plan.single(rule.timeline)
            resolution = Resolution(spec.name, rule.name, rule.capable, plan, sms)
            exact = ([rule.match.number] if rule.match.number else []) + (rule.match.numbers or [])
            only_exact = rule.match.prefix is None and rule.match.pattern is None
            for number in exact:
                self._exact.setdefault(number, resolution)
            if not only_exact:
                self._other.append((rule, resolution))

    @property
    def name(self) -> str:
        return self.spec.name

    def resolve(self, phone: str) -> Resolution:
        found = self._exact.get(phone)
        if found is not None:
            return found
        for rule, resolution in self._other:
            if rule.match.matches(phone):
                return resolution
        return self._default

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.spec.description,
            "source": self.source,
            "default": [s.model_dump(exclude_none=True, by_alias=True) for s in self.spec.default],
            **(
                {"mix": [o.model_dump(exclude_none=True, by_alias=True) for o in self.spec.mix]}
                if self.spec.mix is not None
                else {}
            ),
            "sms": [s.model_dump(exclude_none=True, by_alias=True) for s in self.spec.sms],
            "rules": [r.model_dump(exclude_none=True, by_alias=True) for r in self.spec.rules],
        }


def load_scenario(path: Path) -> Scenario:
    try:
        with path.open(encoding="utf-8") as stream:
            data = yaml.safe_load(stream)
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot be read: {exc.strerror}") from exc
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: not valid YAML: the file is not UTF-8 text") from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path}: not valid YAML: {yaml_problem(exc)}") from None
    return parse_scenario(data, str(path))


def parse_scenario(data: Any, source: str) -> Scenario:
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: a scenario file is a mapping with name, default and rules")
    try:
        return Scenario(ScenarioFile.model_validate(data), source)
    except ValidationError as exc:
        errors = pydantic_errors.without_misspelt_required(
            ScenarioFile, exc.errors(include_url=False)
        )
        problems = "; ".join(_problem(err, data) for err in errors)
        raise ScenarioError(f"{source}: {problems}") from None


def _problem(error: Any, data: Any) -> str:
    """One problem: its place and rule; an unknown key named with the nearest known one."""
    if error["type"] == "extra_forbidden":
        *parent, key = error["loc"]
        hint = pydantic_errors.did_you_mean(ScenarioFile, error)
        return f"at {_place(parent, data)}: unknown key {key!r}{hint}"
    if error["type"] == "missing":
        return f"at {_place(error['loc'][:-1], data)}: {error['loc'][-1]} is required"
    return f"at {_place(error['loc'], data)}: {pydantic_errors.message(error)}"


def _place(loc: Iterable[Any], data: Any) -> str:
    """'rules[2] (no-capability).timeline[0].event' from a pydantic location."""
    parts: list[str] = []
    node = data
    for item in loc:
        if isinstance(item, int):
            label = f"[{item}]"
            node = node[item] if isinstance(node, list) and item < len(node) else None
            if isinstance(node, dict) and isinstance(node.get("name"), str):
                label += f" ({node['name']})"
            parts.append(label)
        else:
            if not isinstance(item, str) or item.startswith(("function-", "tuple[", "float")):
                continue
            parts.append(("." if parts else "") + item)
            node = node.get(item) if isinstance(node, dict) else None
    return "".join(parts) or "top level"


class ScenarioBook:
    """Every scenario known to this emulator, by name, and the one in force."""

    def __init__(self, scenarios: Iterable[Scenario], active: str) -> None:
        self.by_name = {s.name: s for s in scenarios}
        self.active = self.get(active)

    def get(self, name: str) -> Scenario:
        try:
            return self.by_name[name]
        except KeyError:
            known = ", ".join(sorted(self.by_name)) or "none"
            hint = pydantic_errors.nearest(name, self.by_name)
            raise ScenarioError(f"unknown scenario {name!r}{hint}; known: {known}") from None

    def resolve(self, phone: str, override: str | None = None) -> Resolution:
        return (self.get(override) if override else self.active).resolve(phone)


def builtin_dir() -> Path:
    """The scenarios shipped with the package (a checkout's scenarios/ when run from source)."""
    packaged = Path(__file__).resolve().parent.parent / "_scenarios"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "scenarios"


def load_book(extra: Iterable[Path], active: str) -> ScenarioBook:
    """Built-in scenarios, then extra files or folders; a name given as a path is loaded too."""
    scenarios: dict[str, Scenario] = {}
    for folder in extra:
        if not folder.exists():  # named by its setting: the path alone says nothing of where
            raise ScenarioError(f"scenario_dirs: {folder}: no such folder (or scenario file)")
    sources = [builtin_dir(), *extra]
    chosen = Path(active)
    if active.endswith((".yaml", ".yml")):
        sources.append(chosen)
    for source in sources:
        files = sorted(source.glob("*.y*ml")) if source.is_dir() else [source]
        for path in files:
            scenario = load_scenario(path)
            scenarios[scenario.name] = scenario
    if active.endswith((".yaml", ".yml")):
        active = load_scenario(chosen).name
    return ScenarioBook(scenarios.values(), active)
