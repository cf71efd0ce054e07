"""Config errors as one line that names where the value came from: the file, the variable or
the flag ("RCS_EMULATOR_PORT=abc: must be a whole number, not 'abc'")."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from .core import pydantic_errors
from .providers import REGISTRY

CLOCK_MODES = ("real", "scaled", "manual")


class ConfigError(ValueError):
    pass


class ConflictError(ConfigError):
    """Two settings that cannot go together (each may be fine alone)."""


def config_error(
    exc: ValidationError, sources: Mapping[str, str], model: type[BaseModel]
) -> ConfigError:
    """The first error of validating `model` (the Config) as one line, named by its source."""
    error = exc.errors()[0]
    loc = [str(p) for p in error["loc"]]
    if error["type"] == "conflict":
        fields = (error.get("ctx") or {}).get("fields", "clock,speed").split(",")
        named = " and ".join(sources[n] for n in fields if n in sources)
        return ConflictError(f"{named}: {error['msg']}" if named else error["msg"])
    if error["type"] == "section":
        name = error["ctx"]["provider"]
        where = sources[name].rsplit(": ", 1)[0] + ": " if name in sources else ""
        return ConfigError(f"{where}{name}: {error['msg']}")
    if error["type"] == "extra_forbidden" and len(loc) == 1:
        where = sources.get(loc[0], "").rsplit(": ", 1)[0]
        known = [*model.model_fields.keys() - {"sections"}, *REGISTRY.names()]
        near = difflib.get_close_matches(loc[0], known, n=1)
        hint = f"did you mean {near[0]!r}?" if near else "known: " + ", ".join(sorted(known))
        text = f"unknown setting {loc[0]!r} ({hint})"
        return ConfigError(f"{where}: {text}" if where else text)
    field = loc[0] if loc else ""
    said = wording(error) + pydantic_errors.did_you_mean(model, error)
    where = place(error["loc"])  # agents[0].provider
    source = sources.get(field, "")
    if source.endswith(f": {field}"):  # a file's: "config.yaml: agents[0].provider: ..."
        return ConfigError(f"{source.removesuffix(field)}{where}: {said}")
    if source:  # a variable's or a flag's: "RCS_EMULATOR_PORT=abc: ...", "--port abc: ..."
        return ConfigError(f"{source}: {where}: {said}" if len(loc) > 1 else f"{source}: {said}")
    return ConfigError(f"{where}: {said}")


def place(loc: Iterable[Any]) -> str:
    """Where in the settings a value sits, as YAML and JSON readers write it: `agents[0].name`,
    `phones['+46701234567'].rcs_capable`."""
    shown = ""
    for part in loc:
        if isinstance(part, int):
            shown += f"[{part}]"
        elif isinstance(part, str) and part.isidentifier():
            shown += f".{part}" if shown else part
        else:
            shown += f"[{str(part)!r}]"
    return shown


def nearest(given: Any, known: Iterable[str]) -> str:
    """ " (did you mean 'x'?)" for the known word nearest to `given` (case aside), or ""."""
    if not isinstance(given, str):
        return ""
    words = list(known)
    by_case = {w.lower(): w for w in words}
    near = difflib.get_close_matches(given.lower(), list(by_case), n=1)
    return f" (did you mean {by_case[near[0]]!r}?)" if near else ""


def wording(error: Mapping[str, Any]) -> str:
    """pydantic's message as one of our lines: "must be a whole number, not 'abc'"."""
    kind, given = str(error["type"]), error.get("input")
    if kind.startswith("int_"):
        return f"must be a whole number, not {given!r}"
    if kind.startswith("float_"):
        return f"must be a number, not {given!r}"
    if kind == "literal_error":
        hint = nearest(given, CLOCK_MODES)
        return f"must be one of {', '.join(CLOCK_MODES)}, not {given!r}{hint}"
    if kind in ("greater_than", "greater_than_equal", "less_than_equal", "less_than"):
        return f"must be {str(error['msg']).removeprefix('Input should be ')}, not {given!r}"
    if kind == "extra_forbidden":
        return "unknown setting"
    text = str(error["msg"]).removeprefix("Value error, ")
    return text.replace("Input should be", "must be").replace("Field required", "is required")
