"""The emulator's configuration: one frozen object built from defaults, a YAML file, RCS_EMULATOR_*
environment variables and CLI flags, later sources winning.

Provider sections (`generic:`, `serwersms:`) stay raw mappings here; each provider package reads
its own.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

CLOCK_MODES = ("real", "scaled", "manual")
ENV_PREFIX = "RCS_EMULATOR_"


class ConfigError(ValueError):
    pass


class ConflictError(ConfigError):
    """Two settings that cannot go together (each may be fine alone)."""


def _frozen(mapping: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class Config:
    host: str = "127.0.0.1"
    port: int = 8080
    scenario: str = "default"
    scenario_dirs: tuple[str, ...] = ()
    webhook_url: str | None = None
    clock: str = "real"
    speed: float = 1.0
    seed: int | None = None
    webhook_concurrency: int = 64
    webhook_per_host: int = 4
    webhook_timeout: float = 10.0
    webhook_backlog: int = 100_000  # attempts waiting for a slot; past it, failed and said so
    # Retention: the oldest are evicted first. 200,000 keeps a long demo near 400 MB (1.9 KB a
    # message plus its share of the request's exchange); `health` shows it.
    max_messages: int | None = 200_000
    max_webhook_log: int = 100_000  # finished deliveries kept in the log
    control_token: str | None = None  # when set, /_emulator (but health) asks for it
    state_file: str | None = None  # loaded on start, saved while running and on shutdown
    state_save_interval: float = 1.0  # seconds between saves while something changed
    # Host names the control API and inbox answer to, beyond IP literals, localhost and
    # single-label names (docker compose services); "*" allows every name.
    allowed_hosts: tuple[str, ...] = ()
    request_timeout: float = (
        10.0  # a request's head must arrive within it; a body may stall no longer
    )
    agents: tuple[Mapping[str, Any], ...] = ()
    phones: Mapping[str, Any] = field(default_factory=_frozen)
    generic: Mapping[str, Any] = field(default_factory=_frozen)
    serwersms: Mapping[str, Any] = field(default_factory=_frozen)

    def __post_init__(self) -> None:
        if self.clock not in CLOCK_MODES:
            raise ConfigError(f"clock must be one of {', '.join(CLOCK_MODES)}, not {self.clock!r}")
        if self.speed <= 0:
            raise ConfigError("speed must be a positive number")
        if self.speed != 1.0 and self.clock != "scaled":
            raise ConflictError(
                f"speed {self.speed:g} goes with a scaled clock, not a {self.clock} one ("
                + (
                    "a real clock follows the wall clock"
                    if self.clock == "real"
                    else "a manual clock moves only when advanced"
                )
                + "): say clock scaled, or name no clock"
            )
        if not 0 <= self.port <= 65535:
            raise ConfigError("port must be between 0 and 65535")
        if self.webhook_concurrency < 1 or self.webhook_per_host < 1:
            raise ConfigError("webhook_concurrency and webhook_per_host must be at least 1")
        if self.webhook_timeout <= 0:
            raise ConfigError("webhook_timeout must be positive")
        if self.max_messages is not None and self.max_messages < 1:
            raise ConfigError("max_messages must be at least 1")
        if self.state_save_interval <= 0:
            raise ConfigError("state_save_interval must be a positive number of seconds")
        if self.request_timeout <= 0:
            raise ConfigError("request_timeout must be a positive number of seconds")
        if self.webhook_backlog < 1 or self.max_webhook_log < 1:
            raise ConfigError("webhook_backlog and max_webhook_log must be at least 1")

    def with_overrides(self, **overrides: Any) -> Config:
        """A copy with the given fields replaced; None values leave a field as it is."""
        known = {f.name: f for f in fields(self)}
        values: dict[str, Any] = {}
        for name, value in overrides.items():
            if name not in known:
                raise ConfigError(f"unknown config field {name!r}")
            if value is not None:
                values[name] = _coerce(name, value)
        return replace(self, **values)

    @classmethod
    def from_sources(
        cls,
        file: str | os.PathLike[str] | None = None,
        env: Mapping[str, str] | None = None,
        **flags: Any,
    ) -> Config:
        """Each source's errors name it: the file, the variable (`RCS_EMULATOR_PORT=abc`) or
        the flag. A speed with no clock named anywhere means a scaled clock."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        sources: dict[str, str] = {}

        def take(name: str, value: Any, source: str) -> None:
            values[name] = _checked(name, value, source)
            sources[name] = source

        file = file or env.get(ENV_PREFIX + "CONFIG")
        if file:
            for name, value in load_yaml(Path(file)).items():
                take(name, value, f"{file}: {name}")
        for name, value in from_env(env).items():
            take(name, value, f"{ENV_PREFIX}{name.upper()}={value}")
        for name, value in flags.items():
            if value is not None:
                take(name, value, f"--{name.replace('_', '-')} {value}")
        if values.get("speed") not in (None, 1, 1.0) and "clock" not in values:
            values["clock"] = "scaled"
        try:
            return cls().with_overrides(**values)
        except ConflictError as exc:
            named = " and ".join(sources[n] for n in ("clock", "speed") if n in sources)
            raise ConfigError(f"{named}: {exc}") from None


_SCALARS = {
    "port": int,
    "speed": float,
    "seed": int,
    "webhook_concurrency": int,
    "webhook_per_host": int,
    "webhook_timeout": float,
    "webhook_backlog": int,
    "max_messages": int,
    "max_webhook_log": int,
    "state_save_interval": float,
    "request_timeout": float,
}


def _coerce(name: str, value: Any) -> Any:
    try:
        if name in _SCALARS:
            kind = _SCALARS[name]
            if isinstance(value, bool) or (kind is int and isinstance(value, float)):
                raise ValueError
            return kind(value)
        if name == "scenario_dirs":
            return tuple(value.split(os.pathsep) if isinstance(value, str) else value)
        if name == "allowed_hosts":
            items = value.split(",") if isinstance(value, str) else value
            return tuple(str(h).strip().lower() for h in items if str(h).strip())
        if name == "agents":
            return tuple(_frozen(a) for a in value)
        if name in ("phones", "generic", "serwersms"):
            if not isinstance(value, Mapping):
                raise ConfigError(f"{name} must be a mapping")
            return _frozen(value)
    except (TypeError, ValueError) as exc:
        if name in _SCALARS:
            what = "a whole number" if _SCALARS[name] is int else "a number"
            raise ConfigError(f"{name}: must be {what}, not {value!r}") from None
        raise ConfigError(f"{name}: {exc}") from None
    return value


def _checked(name: str, value: Any, source: str) -> Any:
    """One setting, coerced and checked alone, so an error names where it came from."""
    try:
        coerced = Config().with_overrides(**{name: value})
    except ConflictError:
        return _coerce(name, value)  # fine alone; checked with the others at the end
    except ConfigError as exc:
        raise ConfigError(f"{source}: {str(exc).removeprefix(f'{name}: ')}") from None
    return getattr(coerced, name)


def from_env(env: Mapping[str, str]) -> dict[str, Any]:
    names = ("host", "port", "scenario", "scenario_dirs", "webhook_url", "clock", "speed", "seed",
             "max_messages", "control_token", "state_file", "webhook_timeout",
             "state_save_interval", "allowed_hosts", "request_timeout", "max_webhook_log",
             "webhook_backlog", "webhook_concurrency", "webhook_per_host")  # fmt: skip
    return {n: env[ENV_PREFIX + n.upper()] for n in names if env.get(ENV_PREFIX + n.upper())}


def load_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a config file is a mapping of settings")
    base = path.parent
    if "scenario_dirs" in data:
        dirs = data["scenario_dirs"]
        data["scenario_dirs"] = [str(base / d) for d in ([dirs] if isinstance(dirs, str) else dirs)]
    return data
