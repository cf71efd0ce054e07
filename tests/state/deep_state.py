"""A process's whole state, field by field: every attribute reachable from the emulator and the
faults, flattened to {path: value}. Generic on purpose: a field added later is compared too, so a
replica that drifts in something no endpoint shows yet still fails the comparison."""

from __future__ import annotations

import collections
import datetime
import enum
import pathlib
import random
import types
from typing import Any

# Machinery, not state: event loops, sockets, clients and their pools, loggers, Faker (its own
# generator is reseeded from the command's draws before every use).
MACHINERY = ("asyncio", "httpx", "logging", "faker", "threading", "starlette", "redis",
             "weakref", "concurrent", "socket", "ssl")  # fmt: skip
# Per-process by design: the Redis ledger (names this process), the webhook transport's
# connection pool, live viewers' queues, the health hook, where the uploaded bytes sit on disk
# (compared through the API), the state file saver, the app itself.
PER_PROCESS = {"ledger", "transport", "watchers", "describe_state", "vault", "saver", "app",
               "root", "http_client", "client"}  # fmt: skip
_CALLABLES = (types.FunctionType, types.MethodType, types.BuiltinFunctionType, type,
              types.ModuleType)  # fmt: skip


def flattened(*roots: tuple[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    seen: dict[int, str] = {}
    for name, root in roots:
        _walk(root, name, out, seen)
    return out


def differences(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    return [f"{k}: {a.get(k, '<none>')!r} != {b.get(k, '<none>')!r}"
            for k in sorted(a.keys() | b.keys()) if a.get(k, "<none>") != b.get(k, "<none>")]  # fmt: skip


def _walk(obj: Any, path: str, out: dict[str, Any], seen: dict[int, str]) -> None:
    kind = type(obj)
    if obj is None or kind in (int, float, str, bool, bytes):
        out[path] = obj
        return
    if isinstance(obj, enum.Enum):
        out[path] = obj.value
        return
    if isinstance(obj, datetime.datetime | pathlib.PurePath):
        out[path] = str(obj)
        return
    if isinstance(obj, random.Random):
        out[path] = obj.getstate()  # the draws to come
        return
    if (kind.__module__ or "").startswith("emulator.state."):
        return  # the shared state's own machinery (this process's place, its Redis client)
    if isinstance(obj, types.MethodType) and _ours(obj.__self__):
        _walk(obj.__self__, f"{path}.__self__", out, seen)  # a hook's owner: a provider's state
        return
    if isinstance(obj, types.FunctionType) and obj.__module__.startswith("emulator."):
        for i, cell in enumerate(obj.__closure__ or ()):  # what a provider's hook closes over
            _walk(cell.cell_contents, f"{path}.<closure {i}>", out, seen)
        return
    if (kind.__module__ or "").split(".")[0] in MACHINERY or isinstance(obj, _CALLABLES):
        return
    if id(obj) in seen:  # one object under several names (a message in every index)
        out[path] = f"<as {seen[id(obj)]}>"
        return
    seen[id(obj)] = path
    if isinstance(obj, dict):
        out[path + "#len"] = len(obj)
        for key, value in obj.items():
            _walk(value, f"{path}[{key!r}]", out, seen)
    elif isinstance(obj, list | tuple | collections.deque):
        out[path + "#len"] = len(obj)
        for i, value in enumerate(obj):
            _walk(value, f"{path}[{i}]", out, seen)
    elif isinstance(obj, set | frozenset):
        out[path] = sorted(map(repr, obj))
    else:
        fields = dict(vars(obj)) if hasattr(obj, "__dict__") else {}
        for cls in kind.__mro__:
            for slot in getattr(cls, "__slots__", ()):
                if hasattr(obj, slot):
                    fields[slot] = getattr(obj, slot)
        if not fields:  # a C object with no fields to walk (itertools.count: "count(7)")
            shown = repr(obj)
            out[path] = shown if " at 0x" not in shown else kind.__name__
        for name, value in fields.items():
            if name not in PER_PROCESS:
                _walk(value, f"{path}.{name}", out, seen)


def _ours(obj: object) -> bool:
    return (type(obj).__module__ or "").startswith("emulator.")
