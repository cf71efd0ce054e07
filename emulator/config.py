"""The emulator's configuration: one frozen, validated object built from defaults, a YAML file,
RCS_EMULATOR_* environment variables and CLI flags, later sources winning.

pydantic-settings reads the environment (every field has its variable; lists and mappings take
JSON). Each provider's section (`<provider name>:`) is validated by the model its registry
entry declares. Every error names where the value came from: the file, the variable or the flag.
"""

from __future__ import annotations

import difflib
import importlib.util
import logging
import os
from collections.abc import Mapping
from contextvars import ContextVar
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings.exceptions import SettingsError

from .config_errors import ConfigError, config_error, place, wording
from .core import pydantic_errors
from .core.yaml_errors import yaml_problem
from .http.validators import webhook_url_problem
from .providers import REGISTRY
from .redact import redacted

ENV_PREFIX = "RCS_EMULATOR_"
# Variables of that prefix that are not settings: the config file, the emulator the pytest
# plugin and `ctl` talk to, the plugin's tenant, and what `serve --workers` hands its workers.
OTHER_VARIABLES = ("CONFIG", "URL", "TENANT", "WORKER_CONFIG")
# What the Redis engine imports beyond the runtime install: the `redis` extra of pyproject.toml.
REDIS_EXTRA = ("redis", "msgpack")
SECRET_URLS = ("state",)  # settings whose value may hold a password: never shown whole
log = logging.getLogger("rcs_emulator")
# Where each value being validated came from ("--port 80", "RCS_EMULATOR_PORT=80", "f.yaml: port").
_SOURCES: ContextVar[Mapping[str, str]] = ContextVar("config_sources", default=MappingProxyType({}))


class AgentEntry(BaseModel):
    """An agent (or bot, as some providers say) set up from the start."""

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)
    provider: str
    agent_id: str
    webhook_url: str | None = None
    answer_tag: str | None = None
    name: str | None = None
    tenant: str | None = None

    @field_validator("provider")
    @classmethod
    def _registered(cls, value: str) -> str:
        if REGISTRY.get(value) is None:
            raise ValueError(REGISTRY.unknown(value))
        return value

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        return _checked_webhook_url(value)


def _checked_webhook_url(value: str | None) -> str | None:
    """The control API's check (one for every source): callbacks to anything else all fail."""
    problem = webhook_url_problem(value) if value is not None else None
    if problem:
        raise ValueError(problem)
    return value


class TeamEntry(BaseModel):
    """A team sharing one deployment: its own control token reaches its own tenants only (the
    admin's, `control_token`, reaches every one)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=1, max_length=100)
    token: str = Field(min_length=8, max_length=500)
    tenants: tuple[str, ...] = Field(min_length=1)  # as clients know them: API keys, accounts


class PhoneEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    rcs_capable: bool | None = None
    scenario: str | None = None


Positive = Annotated[float, Field(gt=0)]
AtLeastOne = Annotated[int, Field(ge=1)]


class Config(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_ignore_empty=True, frozen=True, extra="forbid"
    )

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    scenario: str = "default"
    scenario_dirs: Annotated[tuple[str, ...], NoDecode] = ()  # os.pathsep-separated in env
    webhook_url: str | None = None
    clock: Literal["real", "scaled", "manual"] = "real"
    speed: Positive = 1.0
    seed: int | None = None
    webhook_concurrency: AtLeastOne = 64
    webhook_per_host: AtLeastOne = 4
    webhook_timeout: Positive = 10.0
    webhook_backlog: AtLeastOne = 100_000  # attempts waiting for a slot; past it, failed
    # Retention: the oldest are evicted first. 200,000 keeps a long demo near 500 MB (1.9 KB a
    # message, plus 0.6 KB for its request's exchange when sent alone); `health` shows it.
    max_messages: AtLeastOne | None = 200_000
    max_webhook_log: AtLeastOne = 100_000  # finished deliveries kept in the log
    control_token: str | None = None  # when set, /_emulator (but health) asks for it
    teams: tuple[TeamEntry, ...] = ()  # teams' own control tokens, each for its tenants only
    # Names shown for tenants instead of their keys (else a short fingerprint of the key).
    tenant_names: dict[str, str] = {}
    state_file: str | None = None  # loaded on start, saved while running and on shutdown
    # Where the state lives: this process's memory, or a Redis shared by every process and
    # replica (redis://host:port/db, rediss://..., unix:///path?db=N).
    state: str = "memory"
    workers: AtLeastOne = 1  # processes serving one port (uvicorn's workers): a shared state
    # Replicas of the Redis shard a send's commit waits for (WAIT) before the send is answered
    # (0: none; a failover may then lose an acknowledged send its replica had not received).
    state_wait_replicas: Annotated[int, Field(ge=0, le=16)] = 0
    state_save_interval: Positive = 1.0  # seconds between saves while something changed
    # Host names the control API and inbox answer to, beyond IP literals, localhost and
    # single-label names (docker compose services); "*" allows every name. Comma-separated.
    allowed_hosts: Annotated[tuple[str, ...], NoDecode] = ()
    request_timeout: Positive = 10.0  # a request's head must arrive within it; a body may
    # stall no longer
    # Cassettes `rcs-emulator record` wrote, answered from (os.pathsep-separated in env);
    # strict: a provider request found in none is refused.
    replay: Annotated[tuple[str, ...], NoDecode] = ()
    replay_strict: bool = False
    agents: tuple[AgentEntry, ...] = ()
    phones: dict[str, PhoneEntry | None] = {}
    # Each registered provider's section, by provider name (given as top-level keys).
    sections: dict[str, Any] = {}

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:  # named by source when from_sources() is building
            raise config_error(exc, _SOURCES.get(), type(self)) from None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Config(...) is exactly what it is given; from_sources() adds the environment.
        return (init_settings,)

    @model_validator(mode="before")
    @classmethod
    def _gather_sections(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        data = dict(data)
        sections = dict(data.pop("sections", None) or {})
        for name in REGISTRY.names():
            if name in data:
                sections[name] = data.pop(name)
        data["sections"] = sections
        return data

    @field_validator("sections")
    @classmethod
    def _check_sections(cls, given: dict[str, Any]) -> dict[str, Any]:
        checked: dict[str, Any] = {}
        for provider in REGISTRY:
            raw = given.get(provider.name)
            try:
                if isinstance(raw, provider.section):
                    checked[provider.name] = raw
                else:
                    checked[provider.name] = provider.section.model_validate(raw or {})
            except ValidationError as exc:
                first = exc.errors()[0]
                where = place(first["loc"])
                said = wording(first) + pydantic_errors.did_you_mean(provider.section, first)
                detail = f"{where}: {said}" if where else said
                raise PydanticCustomError(
                    "section", "{detail}", {"provider": provider.name, "detail": detail}
                ) from None
        return checked

    @field_validator(
        "port",
        "speed",
        "seed",
        "webhook_concurrency",
        "webhook_per_host",
        "webhook_timeout",
        "webhook_backlog",
        "max_messages",
        "max_webhook_log",
        "state_wait_replicas",
        "state_save_interval",
        "request_timeout",
        "workers",
        mode="before",
    )
    @classmethod
    def _no_booleans_for_numbers(cls, value: Any) -> Any:
        if isinstance(value, bool):  # pydantic's lax mode would read True as 1
            raise ValueError(f"must be a number, not {value!r}")
        return value

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        return _checked_webhook_url(value)

    @field_validator("scenario_dirs", mode="before")
    @classmethod
    def _dirs(cls, value: Any) -> Any:
        return tuple(value.split(os.pathsep)) if isinstance(value, str) else value

    @field_validator("scenario_dirs")
    @classmethod
    def _dirs_exist(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        missing = [d for d in value if not Path(d).exists()]
        if missing:
            raise ValueError(f"no such folder: {', '.join(missing)}")
        return value

    @field_validator("replay", mode="before")
    @classmethod
    def _cassettes(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(v for v in value.split(os.pathsep) if v)
        return value

    @field_validator("replay")
    @classmethod
    def _cassettes_exist(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        missing = [p for p in value if not Path(p).is_file()]
        if missing:
            raise ValueError(f"no such cassette: {', '.join(missing)}")
        return value

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _hosts(cls, value: Any) -> Any:
        items = value.split(",") if isinstance(value, str) else value
        if isinstance(items, list | tuple):
            return tuple(str(h).strip().lower() for h in items if str(h).strip())
        return items

    @field_validator("state")
    @classmethod
    def _state(cls, value: str) -> str:
        if value == "memory":
            return value
        if value.split("://", 1)[0] not in ("redis", "rediss", "unix"):
            raise ValueError(
                f"must be memory or a Redis URL (redis://host:port/db), not {redacted(value)!r}"
            )
        missing = [name for name in REDIS_EXTRA if importlib.util.find_spec(name) is None]
        if missing:
            raise ValueError(
                f"the Redis engine is the extra rcs-emulator[redis], not installed here (no "
                f"{' or '.join(missing)}): pip install 'rcs-emulator[redis]' (in a checkout: "
                "pip install -e '.[redis]')"
            )
        return value

    @model_validator(mode="after")
    def _workers_share_a_state(self) -> Config:
        if self.workers > 1 and self.state == "memory":
            raise PydanticCustomError(
                "conflict",
                "workers {workers} need a shared state: each process would hold its own "
                "messages; say state redis://host:port/db, or one worker",
                {"workers": str(self.workers), "fields": "workers,state"},
            )
        if self.state_file and self.state != "memory":
            raise PydanticCustomError(
                "conflict",
                "state_file goes with the memory state; Redis keeps a shared state itself "
                "(turn on its AOF to keep it across restarts)",
                {"fields": "state_file,state"},
            )
        return self

    @model_validator(mode="after")
    def _replay_in_one_process(self) -> Config:
        if self.replay_strict and not self.replay:
            raise PydanticCustomError(
                "conflict",
                "replay_strict goes with replay: name the cassettes to replay",
                {"fields": "replay_strict,replay"},
            )
        if self.replay and self.workers > 1:
            raise PydanticCustomError(
                "conflict",
                "replay answers from one process's place in its cassettes: one worker",
                {"fields": "replay,workers"},
            )
        return self

    @model_validator(mode="after")
    def _teams_need_an_admin(self) -> Config:
        if not self.teams:
            return self
        if self.control_token is None:
            raise PydanticCustomError(
                "conflict",
                "teams need an admin: set control_token too (without it, anyone without a "
                "token would reach every team's tenants)",
                {"fields": "teams,control_token"},
            )
        tokens = [t.token for t in self.teams] + [self.control_token]
        names = [t.name for t in self.teams]
        if len(set(tokens)) != len(tokens) or len(set(names)) != len(names):
            raise PydanticCustomError(
                "conflict",
                "each team needs a name and a token of its own, and the admin's "
                "(control_token) is none of theirs",
                {"fields": "teams,control_token"},
            )
        return self

    @model_validator(mode="after")
    def _speed_goes_with_a_scaled_clock(self) -> Config:
        if self.speed != 1.0 and self.clock != "scaled":
            why = (
                "a real clock follows the wall clock"
                if self.clock == "real"
                else "a manual clock moves only when advanced"
            )
            raise PydanticCustomError(
                "conflict",
                "speed {speed} goes with a scaled clock, not a {clock} one ({why}): "
                "say clock scaled, or name no clock",
                {"speed": f"{self.speed:g}", "clock": self.clock, "why": why},
            )
        return self

    def section(self, provider: str) -> Any:
        """A provider's validated config section (its registry entry's model)."""
        return self.sections[provider]

    def with_overrides(self, **overrides: Any) -> Config:
        """A copy with the given fields replaced; None values leave a field as it is."""
        given = {n: getattr(self, n) for n in self.model_fields_set}
        given.update({n: v for n, v in overrides.items() if v is not None})
        return _build(type(self), given, {})

    @classmethod
    def from_sources(
        cls,
        file: str | os.PathLike[str] | None = None,
        env: Mapping[str, str] | None = None,
        **flags: Any,
    ) -> Config:
        """Defaults < file < RCS_EMULATOR_* < flags. A speed with no clock named anywhere means
        a scaled clock."""
        env = os.environ if env is None else env
        for line in unknown_variables(env):
            log.warning("%s", line)
        values: dict[str, Any] = {}
        sources: dict[str, str] = {}
        file = file or env.get(ENV_PREFIX + "CONFIG")
        if file:
            for name, value in load_yaml(Path(file)).items():
                values[name], sources[name] = value, f"{file}: {name}"
        for name, value in from_env(cls, env).items():
            shown = _shown(name, env.get(ENV_PREFIX + name.upper(), value))
            values[name], sources[name] = value, f"{ENV_PREFIX}{name.upper()}={shown}"
        for name, value in flags.items():
            if value is not None:
                shown = "" if value is True else f" {_shown(name, value)}"  # a switch: the flag
                values[name], sources[name] = value, f"--{name.replace('_', '-')}{shown}"
        if "clock" not in values and not _is_one(values.get("speed", 1)):
            values["clock"] = "scaled"
        return _build(cls, values, sources)


def _shown(name: str, value: Any) -> Any:
    """A setting's value as an error may show it: a URL that may hold credentials, without
    them."""
    return redacted(str(value)) if name in SECRET_URLS else value


def unknown_variables(env: Mapping[str, str]) -> list[str]:
    """A line for each RCS_EMULATOR_* variable that is no setting (a typo is otherwise silently
    ignored), naming the nearest known one."""
    known = [n.upper() for n in Config.model_fields if n != "sections"] + list(OTHER_VARIABLES)
    lines = []
    for name in sorted(env):
        upper = name.upper()
        if not upper.startswith(ENV_PREFIX) or upper[len(ENV_PREFIX) :] in known:
            continue
        given = upper[len(ENV_PREFIX) :]
        if given.lower() in REGISTRY.names():
            hint = f"a provider's section goes in the config file, under {given.lower()}:"
        else:  # a word of a known name (TOKEN: CONTROL_TOKEN), else the nearest spelling
            words = [k for k in known if given in k.split("_")]
            near = words or difflib.get_close_matches(given, known, n=1, cutoff=0.6)
            hint = f"did you mean {ENV_PREFIX}{near[0]}?" if near else "see README's Configuration"
        lines.append(f"{name} is not a setting of rcs-emulator ({hint}); it is ignored")
    return lines


def _is_one(speed: Any) -> bool:
    """A speed of 1 however it was written (a flag or a variable gives text)."""
    try:
        return float(speed) == 1.0
    except (TypeError, ValueError):
        return False  # not a number: the check of the field itself says so


def from_env(cls: type[Config], env: Mapping[str, str]) -> dict[str, Any]:
    """The settings the environment gives, read by pydantic-settings (every field's variable)."""
    source = EnvSettingsSource(
        cls, env_prefix=ENV_PREFIX, case_sensitive=False, env_ignore_empty=True
    )
    source.env_vars = {k.lower(): v for k, v in env.items() if v != ""}
    try:
        found = source()
    except SettingsError as exc:  # a list or mapping that is not JSON
        variable = str(exc).split('"')[1] if '"' in str(exc) else "a variable"
        raise ConfigError(f"{ENV_PREFIX}{variable.upper()}: must be JSON") from None
    found.pop("sections", None)
    return found


def _build(cls: type[Config], values: dict[str, Any], sources: Mapping[str, str]) -> Config:
    token = _SOURCES.set(sources)
    try:
        return cls(**values)
    finally:
        _SOURCES.reset(token)


def load_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not valid YAML: the file is not UTF-8 text") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {yaml_problem(exc)}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a config file is a mapping of settings")
    base = path.parent
    if "scenario_dirs" in data:
        dirs = data["scenario_dirs"]
        data["scenario_dirs"] = [str(base / d) for d in ([dirs] if isinstance(dirs, str) else dirs)]
    if isinstance(data.get("replay"), str | list):  # cassettes, next to the file too
        given = data["replay"]
        data["replay"] = [str(base / p) for p in ([given] if isinstance(given, str) else given)]
    return data
