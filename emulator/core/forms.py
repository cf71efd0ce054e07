"""A record's data form: the one way a record becomes plain data (JSON-able dicts, lists, strings
and numbers) and back, derived from the record's own dataclass fields so that a field is added in
one place. Every store and view that writes a record out goes through it: the Redis engine's
hashes, the memory engine's state file (whose validation model is derived here too) and the
control API's views.

- `dump` / `load`: a record as a dict of its fields and back (trusted data: our own stores);
- `row` / `from_row`: the same fields as a list, in field order, for compact stores of many small
  records (a message's events, a delivery's attempts); a field added last, with a default, reads
  rows written before it;
- `model`: a pydantic model of the same fields (strict, no extra keys), for data that is not
  ours to trust (a state file that may have been edited or cut short).

Fields marked `APART` are not part of the form: what an engine gives a record (its sequence) or
keeps beside it (the HTTP exchange a request's messages share).

Converters are compiled once per record into plain functions (the field list as code, as
`dataclasses` itself does), so a dump costs what a hand-written dict literal costs.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any, ClassVar, Generic, TypeVar, get_args, get_origin

from pydantic import BaseModel, ConfigDict, create_model

R = TypeVar("R")

APART: Mapping[str, Any] = types.MappingProxyType({"form": False})

Convert = Callable[[Any], Any]


class Form(Generic[R]):
    """The data form of one dataclass record (see the module's docstring)."""

    _all: ClassVar[dict[type, Form[Any]]] = {}

    def __init__(self, cls: type[R]) -> None:
        self.cls = cls
        Form._all[cls] = self
        hints = typing.get_type_hints(cls, include_extras=True)
        self.fields = tuple(
            f
            for f in dataclasses.fields(cls)  # type: ignore[arg-type]
            if f.metadata.get("form", True)
        )
        self.names = tuple(f.name for f in self.fields)
        self._hints = {f.name: hints[f.name] for f in self.fields}
        out = {f.name: _dumper(self._hints[f.name]) for f in self.fields}
        into = {f.name: _loader(self._hints[f.name]) for f in self.fields}
        self.dump: Callable[[R], dict[str, Any]] = _compile_dump(self.names, out)
        self.row: Callable[[R], list[Any]] = _compile_row(self.names, out)
        self.load: Callable[[Mapping[str, Any]], R] = _compile_load(cls, self.fields, into)
        self._model: type[BaseModel] | None = None

    def from_row(self, row: list[Any]) -> R:
        """A record from its row; fields missing at the end (added since) take their defaults."""
        return self.load(dict(zip(self.names, row, strict=False)))

    def model(self) -> type[BaseModel]:
        """A pydantic model of the form: strict types, no extra keys, enums by their values,
        nested records by their own models; constraints given as `Annotated` metadata apply."""
        if self._model is None:
            fields: dict[str, Any] = {}
            for f in self.fields:
                hint = _for_validation(self._hints[f.name])
                if f.default is not dataclasses.MISSING:
                    fields[f.name] = (hint, f.default)
                elif f.default_factory is not dataclasses.MISSING:
                    fields[f.name] = (hint, f.default_factory())
                else:
                    fields[f.name] = (hint, ...)
            self._model = create_model(  # type: ignore[call-overload]
                f"{self.cls.__name__}Data", __config__=_STRICT, **fields
            )
        assert self._model is not None
        return self._model


_STRICT = ConfigDict(extra="forbid", strict=True, frozen=True)


# -- converters ---------------------------------------------------------------------------------


def _plain(hint: Any) -> Any:
    """The type without Annotated metadata and without None (for X | None)."""
    while get_origin(hint) is typing.Annotated:
        hint = get_args(hint)[0]
    if get_origin(hint) in (typing.Union, types.UnionType):
        rest = [a for a in get_args(hint) if a is not type(None)]
        if len(rest) == 1:
            return _plain(rest[0])
    return hint


def _optional(hint: Any) -> bool:
    while get_origin(hint) is typing.Annotated:
        hint = get_args(hint)[0]
    return get_origin(hint) in (typing.Union, types.UnionType) and type(None) in get_args(hint)


def _maybe(convert: Convert, optional: bool) -> Convert:
    if not optional:
        return convert
    return lambda value: None if value is None else convert(value)


def _record(plain: Any) -> Form[Any] | None:
    """The form of a nested record (each record's is made before those that hold it)."""
    if dataclasses.is_dataclass(plain) and isinstance(plain, type):
        form = Form._all.get(plain)
        if form is None:
            raise TypeError(f"{plain.__name__} is held by a record but has no form yet")
        return form
    return None


def _items(plain: Any) -> Any:
    """The item type of a tuple[X, ...] or list[X] (None: not a sequence of one type)."""
    if get_origin(plain) in (tuple, list):
        args = [a for a in get_args(plain) if a is not Ellipsis]
        return args[0] if args else Any
    return None


def _dumper(hint: Any) -> Convert | None:
    """How a field's value becomes data (None: as it is)."""
    plain, optional = _plain(hint), _optional(hint)
    if isinstance(plain, type) and issubclass(plain, Enum):
        return _maybe(lambda value: value.value, optional)
    if isinstance(plain, type) and issubclass(plain, BaseModel):
        return _maybe(_model_dumper(), optional)
    form = _record(plain)
    if form is not None:
        return _maybe(form.dump, optional)
    item = _items(plain)
    if item is not None:
        each = _dumper(item)
        if each is None:
            return _maybe(list, optional)
        return _maybe(lambda values: [each(v) for v in values], optional)
    origin = get_origin(plain)
    if origin is dict or (origin is not None and origin.__name__ == "Mapping"):
        return _maybe(dict, optional)  # (a message's shared content is a read-only mapping)
    return None


def _loader(hint: Any) -> Convert | None:
    """How data becomes a field's value (None: as it is)."""
    plain, optional = _plain(hint), _optional(hint)
    if isinstance(plain, type) and issubclass(plain, Enum):
        return _maybe(plain, optional)
    if isinstance(plain, type) and issubclass(plain, BaseModel):
        return _maybe(_model_loader(plain), optional)
    form = _record(plain)
    if form is not None:
        return _maybe(form.load, optional)
    item = _items(plain)
    if item is not None:
        each = _loader(item)
        kind: Callable[[Any], Any] = tuple if get_origin(plain) is tuple else list
        if each is None:
            return _maybe(kind, optional)
        return _maybe(lambda values: kind(each(v) for v in values), optional)
    return None


def _model_dumper() -> Convert:
    """A pydantic model's data, made once per object: the same object (a scenario's step, shared
    by every message it schedules) is dumped once."""
    known: dict[int, tuple[BaseModel, dict[str, Any]]] = {}

    def dump(model: BaseModel) -> dict[str, Any]:
        hit = known.get(id(model))
        if hit is None or hit[0] is not model:
            if len(known) > 10_000:
                known.clear()
            hit = known[id(model)] = (model, model.model_dump(by_alias=True, exclude_defaults=True))
        return hit[1]

    return dump


def _model_loader(cls: type[BaseModel]) -> Convert:
    """A pydantic model from its data, validated once per distinct data (steps repeat)."""
    known: dict[str, BaseModel] = {}

    def load(data: Any) -> BaseModel:
        if isinstance(data, cls):
            return data
        key = repr(data)
        hit = known.get(key)
        if hit is None:
            if len(known) > 10_000:
                known.clear()
            hit = known[key] = cls.model_validate(data)
        return hit

    return load


def _for_validation(hint: Any) -> Any:
    """A field's type as the validation model takes it: nested records by their models, a
    sequence as a JSON array of its items' types, a mapping as a JSON object."""
    if get_origin(hint) is typing.Annotated:
        base, *extras = get_args(hint)
        return typing.Annotated[(_for_validation(base), *extras)]  # type: ignore[misc]
    if get_origin(hint) in (typing.Union, types.UnionType):
        members = [_for_validation(a) for a in get_args(hint)]
        union: Any = members[0]
        for member in members[1:]:
            union = union | member
        return union
    form = _record(hint)
    if form is not None:
        return form.model()
    if isinstance(hint, type) and issubclass(hint, BaseModel):
        return dict[str, Any]  # (checked by its own model where it is loaded)
    item = _items(hint)
    if item is not None:
        return list[_for_validation(item)]  # type: ignore[misc]
    origin = get_origin(hint)
    if origin is not None and origin.__name__ == "Mapping":
        return dict[str, Any]
    return hint


# -- compiled functions ---------------------------------------------------------------------------


def _compile_dump(names: tuple[str, ...], out: dict[str, Convert | None]) -> Callable[[Any], Any]:
    scope: dict[str, Any] = {}
    parts = []
    for name in names:
        convert = out[name]
        if convert is None:
            parts.append(f"{name!r}: r.{name}")
        else:
            scope[f"c_{name}"] = convert
            parts.append(f"{name!r}: c_{name}(r.{name})")
    return _make("dump", "return {" + ", ".join(parts) + "}", scope)


def _compile_row(names: tuple[str, ...], out: dict[str, Convert | None]) -> Callable[[Any], Any]:
    scope: dict[str, Any] = {}
    parts = []
    for name in names:
        convert = out[name]
        if convert is None:
            parts.append(f"r.{name}")
        else:
            scope[f"c_{name}"] = convert
            parts.append(f"c_{name}(r.{name})")
    return _make("row", "return [" + ", ".join(parts) + "]", scope)


def _compile_load(
    cls: type, fields: tuple[dataclasses.Field[Any], ...], into: dict[str, Convert | None]
) -> Callable[[Any], Any]:
    scope: dict[str, Any] = {"cls": cls}
    parts = []
    for f in fields:
        name = f.name
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        value = f"d[{name!r}]" if required else f"d.get({name!r}, m_{name})"
        if not required:
            scope[f"m_{name}"] = _MISSING
        convert = into[name]
        if convert is not None:
            scope[f"c_{name}"] = convert
            value = f"c_{name}({value})" if required else f"_or(c_{name}, {value})"
        parts.append((name, value, required))
    scope["_or"] = _convert_present
    scope["_MISSING"] = _MISSING
    given = ", ".join(f"{name}={value}" for name, value, required in parts if required)
    body = [f"kw = dict({given})"]
    for name, value, required in parts:
        if not required:
            body.append(f"v = {value}")
            body.append(f"if v is not _MISSING: kw[{name!r}] = v")
    body.append("return cls(**kw)")
    return _make("load", "\n    ".join(body), scope)


class _Missing:
    __slots__ = ()


_MISSING = _Missing()


def _convert_present(convert: Convert, value: Any) -> Any:
    return value if value is _MISSING else convert(value)


def _make(name: str, body: str, scope: dict[str, Any]) -> Callable[[Any], Any]:
    argument = "d" if name == "load" else "r"
    source = f"def {name}({argument}):\n    {body}\n"
    exec(source, scope)  # noqa: S102 (our own field names: see _compile_*)
    function: Callable[[Any], Any] = scope[name]
    return function
