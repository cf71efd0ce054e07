"""Where two answers to the same request differ, as `verify` reports it: the status, the headers
the provider says matter, the kind of body (JSON, XML, text, none), its shape (keys, types,
nesting, the formats of ids and times) and, at the places the provider names, its values (error
codes and texts). One Difference per place, each a line a person can act on. Pure functions."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from xml.etree.ElementTree import Element, ParseError, fromstring

import orjson

from ..providers.upstream import HeaderCheck
from .shape import Kind, describe, kind, same_format, text_format

EXCERPT = 60  # characters of a body that is not what was expected, in a line
ITEMS = "[*]"  # a list's items, in a path


@dataclass(frozen=True)
class Answer:
    """An HTTP answer as received: status, headers (names in lower case, in order), body."""

    status: int
    headers: Sequence[tuple[str, str]]
    body: bytes
    elapsed_ms: float = 0.0

    def header(self, name: str) -> str | None:
        found = [v for k, v in self.headers if k == name]
        return ", ".join(found) if found else None


class BodyKind(StrEnum):
    NONE = "no body"
    JSON = "JSON"
    XML = "XML"
    TEXT = "text"


@dataclass(frozen=True)
class Body:
    kind: BodyKind
    value: Any  # JSON's value, XML as nested dicts and lists of texts, the text, or None
    root: str | None = None  # XML's root element


def parse_body(raw: bytes) -> Body:
    """JSON if it parses as JSON, XML if it parses as XML, else text."""
    if not raw.strip():
        return Body(BodyKind.NONE, None)
    try:
        return Body(BodyKind.JSON, orjson.loads(raw))
    except orjson.JSONDecodeError:
        pass
    if raw.lstrip()[:1] == b"<":
        try:
            # expat resolves no external entity and refuses entity expansion bombs
            element = fromstring(raw)
        except ParseError:
            pass
        else:
            return Body(BodyKind.XML, xml_value(element), element.tag)
    return Body(BodyKind.TEXT, raw.decode("utf-8", "replace"))


def xml_value(element: Element) -> Any:
    """An element as data: its text when it has no children; a list when every child is an
    <item> (how a list is written); else a dict by tag, a repeated tag as a list."""
    children = list(element)
    if not children:
        return (element.text or "").strip()
    if all(c.tag == "item" for c in children):
        return [xml_value(c) for c in children]
    found: dict[str, Any] = {}
    for child in children:
        value = xml_value(child)
        if child.tag in found:
            held = found[child.tag]
            found[child.tag] = [*held, value] if isinstance(held, list) else [held, value]
        else:
            found[child.tag] = value
    return found


@dataclass(frozen=True)
class Difference:
    where: str  # "status", "header content-type", "body", "body.items[*].queued"
    real: str
    emulator: str

    @property
    def line(self) -> str:
        return f"{self.where}: real {self.real}, emulator {self.emulator}"

    def to_dict(self) -> dict[str, str]:
        return {
            "where": self.where,
            "real": self.real,
            "emulator": self.emulator,
            "line": self.line,
        }


@dataclass(frozen=True)
class Rules:
    """What a provider says matters in its answers (its Upstream's headers and values)."""

    headers: Mapping[str, HeaderCheck] = field(default_factory=dict)
    values: Sequence[str] = ()

    def compares_value(self, path: Sequence[str]) -> bool:
        return any(_matches(pattern.split("."), path) for pattern in self.values)


def _matches(pattern: Sequence[str], path: Sequence[str]) -> bool:
    return len(pattern) == len(path) and all(
        p == "*" or p == s for p, s in zip(pattern, path, strict=True)
    )


def compare(real: Answer, emulator: Answer, rules: Rules) -> list[Difference]:
    found: list[Difference] = []
    if real.status != emulator.status:
        found.append(Difference("status", str(real.status), str(emulator.status)))
    found += _headers(real, emulator, rules.headers)
    found += compare_bodies(parse_body(real.body), parse_body(emulator.body), rules)
    return found


def _headers(real: Answer, emulator: Answer, checks: Mapping[str, HeaderCheck]) -> list[Difference]:
    found = []
    for name, check in checks.items():
        a, b = real.header(name), emulator.header(name)
        if a is None and b is None:
            continue
        if check is HeaderCheck.MEDIA_TYPE:
            a, b = _media_type(a), _media_type(b)
        elif check is HeaderCheck.PRESENCE:
            a, b = ("present" if a is not None else None), ("present" if b is not None else None)
        if a != b:
            found.append(Difference(f"header {name}", _quoted(a), _quoted(b)))
    return found


def _media_type(value: str | None) -> str | None:
    return value.split(";")[0].strip().lower() if value is not None else None


def _quoted(value: str | None) -> str:
    return "absent" if value is None else "present" if value == "present" else repr(value)


def compare_bodies(real: Body, emulator: Body, rules: Rules) -> list[Difference]:
    if real.kind != emulator.kind:
        return [Difference("body", _body_kind(real), _body_kind(emulator))]
    if real.kind is BodyKind.NONE:
        return []
    if real.kind is BodyKind.TEXT:
        return (
            []
            if real.value == emulator.value
            else [Difference("body", _body_kind(real), _body_kind(emulator))]
        )
    found: list[Difference] = []
    if real.root != emulator.root:
        found.append(Difference("body (root element)", f"<{real.root}>", f"<{emulator.root}>"))
    _compare(real.value, emulator.value, (), rules, found)
    return found


def _body_kind(body: Body) -> str:
    if body.kind is BodyKind.TEXT:
        text = " ".join(str(body.value).split())
        shown = text if len(text) <= EXCERPT else text[:EXCERPT] + "..."
        return f"text {shown!r}"
    return body.kind.value


def _compare(
    real: Any, emulator: Any, path: tuple[str, ...], rules: Rules, found: list[Difference]
) -> None:
    a, b = kind(real), kind(emulator)
    if rules.compares_value(path) and _comparable(real) and _comparable(emulator):
        if real != emulator or a != b:
            found.append(Difference(render(path), _shown(real), _shown(emulator)))
        return
    if a != b:
        found.append(Difference(render(path), describe(real), describe(emulator)))
    elif a is Kind.OBJECT:
        for key in _union(real, emulator):
            if key not in emulator:
                shown = _side(real[key], (*path, key), rules)
                found.append(Difference(render((*path, key)), shown, "absent"))
            elif key not in real:
                shown = _side(emulator[key], (*path, key), rules)
                found.append(Difference(render((*path, key)), "absent", shown))
            else:
                _compare(real[key], emulator[key], (*path, key), rules, found)
    elif a is Kind.ARRAY:
        _compare_items(real, emulator, (*path, ITEMS), rules, found)
    elif a is Kind.STRING:
        fa, fb = text_format(real), text_format(emulator)
        if not same_format(fa, fb):
            found.append(Difference(render(path), describe(real), describe(emulator)))


def _compare_items(
    real: list[Any],
    emulator: list[Any],
    path: tuple[str, ...],
    rules: Rules,
    found: list[Difference],
) -> None:
    """A list's items as one: an empty list says nothing of its items; objects are compared by
    the keys any of them has (each key's first value), anything else by its first item."""
    if not real or not emulator:
        return
    kinds_a, kinds_b = _kinds(real), _kinds(emulator)
    if kinds_a != kinds_b:
        found.append(Difference(render(path), " or ".join(kinds_a), " or ".join(kinds_b)))
        return
    if kinds_a == [Kind.OBJECT.value]:
        _compare(_merged(real), _merged(emulator), path, rules, found)
    else:
        _compare(real[0], emulator[0], path, rules, found)


def _kinds(items: Iterable[Any]) -> list[str]:
    return sorted({kind(i).value for i in items})


def _merged(items: Iterable[dict[str, Any]]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for item in items:
        for key, value in item.items():
            merged.setdefault(key, value)
    return merged


def _union(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    return [*a, *(k for k in b if k not in a)]


# Formats whose values vary from answer to answer by nature: never compared by value.
_VARYING = ("time ", "date ", "uuid", "id ", "phone")


def _comparable(value: Any) -> bool:
    """Whether a value is compared word for word where the provider asks for it: a scalar,
    but no id or time."""
    found = kind(value)
    if found is Kind.STRING:
        return not text_format(value).startswith(_VARYING)
    return found not in (Kind.OBJECT, Kind.ARRAY)


def _side(value: Any, path: tuple[str, ...], rules: Rules) -> str:
    """One side's value where the other has none: its value where values count, else its
    shape."""
    return _shown(value) if rules.compares_value(path) and _comparable(value) else describe(value)


def _shown(value: Any) -> str:
    return repr(value) if isinstance(value, str) else orjson.dumps(value).decode()


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def render(path: Sequence[str]) -> str:
    """A place in a body: body.items[*].queued, body.errors["number[0]"]."""
    text = "body"
    for part in path:
        if part == ITEMS:
            text += ITEMS
        elif _NAME.fullmatch(part):
            text += "." + part
        else:
            text += "[" + orjson.dumps(part).decode() + "]"
    return text
