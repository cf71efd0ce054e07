"""SerwerSMS parameters as PHP reads them: JSON bodies, or form bodies with bracketed keys
(`phone[]=..`, `phone[0]=..`, `message[richcard][0][title]=..`) folded into nested values."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from ...http.validators import is_whole_number

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_PART = re.compile(r"\[([^\[\]]*)\]")
MAX_DEPTH = 16


class ParamError(ValueError):
    pass


def parse_form(body: str) -> dict[str, Any]:
    root: dict[str, Any] = {}
    try:
        pairs = parse_qsl(
            body, keep_blank_values=True, strict_parsing=False, max_num_fields=200_000
        )
    except ValueError as exc:
        raise ParamError(str(exc)) from None
    for key, value in pairs:
        match = _KEY.match(key)
        if match is None:
            continue  # PHP drops keys it cannot read; so do we
        path = [match.group(1), *_PART.findall(match.group(2))]
        if len(path) > MAX_DEPTH:
            raise ParamError("parameters are nested too deeply")
        _assign(root, path, value)
    return _listify(root)


def _assign(node: dict[str, Any], path: list[str], value: str) -> None:
    for i, part in enumerate(path):
        last = i == len(path) - 1
        if part == "":
            part = str(_next_index(node))
        if last:
            node[part] = value
            return
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child


def _next_index(node: dict[str, Any]) -> int:
    numeric = [int(k) for k in node if is_whole_number(k)]
    return max(numeric) + 1 if numeric else 0


def _listify(value: Any) -> Any:
    """Dicts keyed 0..n become lists, as PHP arrays with sequential keys serialise to JSON."""
    if not isinstance(value, dict):
        return value
    folded = {k: _listify(v) for k, v in value.items()}
    keys = list(folded)
    if keys and all(is_whole_number(k) for k in keys):
        order = sorted(keys, key=int)
        if [int(k) for k in order] == list(range(len(order))):
            return [folded[k] for k in order]
    return folded


def truthy(value: Any) -> bool:
    """Booleans arrive as true, "true", "1" or 1."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value == 1
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "on")
    return False
