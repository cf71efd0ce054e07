"""pydantic's error text as people should read it: a validator's own message without the
"Value error, " pydantic puts in front of it (every place that shows one uses this), and for a
key nobody knows, the nearest one the model takes ("did you mean 'suggestion'?")."""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel


def message(error: Mapping[str, Any]) -> str:
    return str(error["msg"]).removeprefix("Value error, ")


def did_you_mean(model: type[BaseModel], error: Mapping[str, Any]) -> str:
    """ " (did you mean 'x'?)" for an unknown key (`extra_forbidden`) at the error's place in
    `model`: the nearest key the model at that place takes, or "" when none is near."""
    loc = tuple(error.get("loc") or ())
    if error.get("type") != "extra_forbidden" or not loc or not isinstance(loc[-1], str):
        return ""
    owner = _model_at(model, loc[:-1])
    if owner is None:
        return ""
    return nearest(loc[-1], (f.alias or name for name, f in owner.model_fields.items()))


def without_misspelt_required(
    model: type[BaseModel], errors: Sequence[Mapping[str, Any]]
) -> list[Mapping[str, Any]]:
    """The errors, less each "X is required" where an unknown key nearest to X sits beside it:
    `stpes:` is one mistake, said once, as the unknown key with its "did you mean 'steps'?"."""
    meant: set[tuple[Any, ...]] = set()
    for error in errors:
        loc = tuple(error.get("loc") or ())
        if error.get("type") != "extra_forbidden" or not loc or not isinstance(loc[-1], str):
            continue
        owner = _model_at(model, loc[:-1])
        if owner is not None:
            names = [f.alias or name for name, f in owner.model_fields.items()]
            meant.update(loc[:-1] + (n,) for n in difflib.get_close_matches(loc[-1], names, n=1))
    return [e for e in errors if e.get("type") != "missing" or tuple(e["loc"]) not in meant]


def nearest(given: str, known: Iterable[str]) -> str:
    near = difflib.get_close_matches(given, list(known), n=1)
    return f" (did you mean {near[0]!r}?)" if near else ""


def _model_at(model: type[BaseModel], path: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model class that validates the value at `path` (keys, list indexes and dict keys)."""
    current: Any = model
    for part in path:
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = next((f for n, f in current.model_fields.items() if part in (n, f.alias)), None)
            if field is None:
                return None
            current = field.annotation
        else:  # a container: step into the one model it holds, whatever the index or key
            current = _inner_model(current)
            if current is None:
                return None
            if isinstance(part, str) and part in current.model_fields:
                current = current.model_fields[part].annotation
    inner = current if isinstance(current, type) and issubclass(current, BaseModel) else None
    return inner or _inner_model(current)


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    """The BaseModel inside `list[X]`, `dict[str, X | None]`, `tuple[X, ...]`, `X | None`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) is typing.Annotated:
        return _inner_model(typing.get_args(annotation)[0])
    for arg in typing.get_args(annotation) if typing.get_origin(annotation) else ():
        found = _inner_model(arg)
        if found is not None:
            return found
    if isinstance(annotation, types.UnionType):
        return next(filter(None, map(_inner_model, typing.get_args(annotation))), None)
    return None
