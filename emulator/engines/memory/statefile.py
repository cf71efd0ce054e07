"""The state file's shape: one validated model, made of the records' own data forms
(core/records.py), so a field a record gains is saved and checked without a word here. A state
file is data, never code or paths: wrong shapes, types, versions, unknown kinds, dangling
references, duplicate ids and file names that leave the state's own folder are refused with one
line naming the place.

Version 3 keeps each record in its data form, and the settings every process holds alike as one
object (the service's own, given back to it whole). Version 2 files (agents and phones apart,
deliveries without their retry policy, due events in words of their own) are read too:
`upgraded` turns one into version 3 before it is validated."""

from __future__ import annotations

from base64 import b64decode
from collections.abc import Callable
from typing import Annotated, Any, Literal

import orjson
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)

from ...core import pydantic_errors
from ...core.records import (
    DELIVERY,
    DUE,
    FILE,
    MESSAGE,
    POLICY,
    DeliveryState,
    DueKind,
    RetryPolicy,
)
from ...core.scenarios import Step

VERSION = 3
READS = (2, 3)  # versions this emulator reads (older ones are upgraded as they are read)


class StateFileError(ValueError):
    """A state file that cannot be loaded; the message names the place and the rule."""


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _base64(value: str) -> bytes:
    try:
        return b64decode(value, validate=True)
    except ValueError:
        raise ValueError("must be base64") from None


class ExchangeRecord(_Record):
    """The HTTP exchange behind messages: base64 of its bytes (emulator/http/exchange.py)."""

    key: int
    data: Annotated[bytes, BeforeValidator(_base64)]


# A message as saved: its data form, and the key of its request's exchange in `exchanges`.
MessageRecord: Any = create_model(
    "MessageRecord", __base__=MESSAGE.model(), exchange=(int | None, None)
)


def _a_name_inside_the_folder(value: str) -> str:
    if not value or value in (".", "..") or any(c in value for c in "/\\\x00"):
        raise ValueError("must be a file name inside the state's files folder, not a path")
    return value


# An uploaded file's record as saved: its path is a name inside the state's files folder.
FileRecord: Any = create_model(
    "FileRecord",
    __base__=FILE.model(),
    __validators__={"_path": field_validator("path")(_a_name_inside_the_folder)},  # type: ignore[dict-item]
)


def _unfinished(state: DeliveryState) -> DeliveryState:
    if state.finished:
        raise ValueError(f"a saved delivery is one still owed: not {state.value!r}")
    return state


# A delivery still owed to its receiver (finished ones are not saved).
DeliveryRecord: Any = create_model(
    "DeliveryRecord",
    __base__=DELIVERY.model(),
    __validators__={"_owed": field_validator("state")(_unfinished)},  # type: ignore[dict-item]
)


def _a_step(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is not None:
        try:
            Step.model_validate(value)
        except ValidationError as exc:
            raise ValueError(f"not a scenario step: {describe(exc)}") from None
    return value


# A due event as saved: its data form, and when it is due.
DueRecord: Any = create_model(
    "DueRecord",
    __base__=DUE.model(),
    due=(float, ...),
    __validators__={"_step": field_validator("step")(_a_step)},  # type: ignore[dict-item]
)


class StateFile(_Record):
    version: Literal[3]
    clock: float
    saved_at: float  # wall-clock seconds since the epoch
    clean: bool  # written by a graceful stop (False: a periodic save, the process still running)
    settings: dict[str, Any]  # the service's settings as data (Host.settings)
    messages: list[MessageRecord]  # type: ignore[valid-type]
    files: list[FileRecord]  # type: ignore[valid-type]
    deliveries: list[DeliveryRecord]  # type: ignore[valid-type]
    scheduled: list[DueRecord]  # type: ignore[valid-type]
    exchanges: list[ExchangeRecord] = []
    # Seconds each tenant's own advances put its manual clock ahead of the shared time.
    clock_ahead: dict[str, Annotated[float, Field(ge=0, allow_inf_nan=False)]] = {}

    @model_validator(mode="after")
    def _references_hold(self) -> StateFile:
        messages = _unique("messages", [(m.tenant, m.id) for m in self.messages])
        exchanges = _unique("exchanges", [e.key for e in self.exchanges], what="key")
        for i, message in enumerate(self.messages):
            if message.exchange is not None and message.exchange not in exchanges:
                raise ValueError(f"messages[{i}].exchange: no exchange {message.exchange}")
        _unique("files", [f.id for f in self.files])
        _unique("files", [f.path for f in self.files], what="path")
        deliveries = _unique("deliveries", [d.id for d in self.deliveries])
        for i, entry in enumerate(self.scheduled):
            if entry.kind is DueKind.RETRY:
                if entry.ref not in deliveries:
                    raise ValueError(f"scheduled[{i}].ref: no delivery {entry.ref!r}")
            elif (entry.tenant, entry.ref) not in messages:
                raise ValueError(
                    f"scheduled[{i}].ref: no message {entry.ref!r} of tenant {entry.tenant!r}"
                )
        return self


def _unique(section: str, keys: list[Any], what: str = "id") -> set[Any]:
    seen: set[Any] = set()
    for i, key in enumerate(keys):
        if key in seen:
            shown = key[-1] if isinstance(key, tuple) else key
            raise ValueError(f"{section}[{i}].{what}: {shown!r} appears twice")
        seen.add(key)
    return seen


Policies = Callable[[str, str, str], RetryPolicy]  # (provider, tenant, agent): a delivery's


def parse(raw: bytes, policy_of: Policies) -> tuple[StateFile, dict[str, Any]]:
    """Validate a state file's bytes (JSON: enums as their words, numbers as numbers); the first
    problem becomes one line naming its place. Answers the validated file and its data (version
    3, whatever version was read: `policy_of` gives an older file's deliveries their policy)."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise StateFileError(
            f"not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    if not isinstance(data, dict):
        raise StateFileError(f"the file: a state file is a JSON object, not {type(data).__name__}")
    if data.get("version") not in READS:
        raise StateFileError(
            f"version: {data.get('version')!r} is not a state file version "
            f"this emulator reads ({', '.join(map(str, READS))})"
        )
    if data["version"] == 2:
        data = upgraded(data, policy_of)
        raw = orjson.dumps(data)  # (validated as JSON, as a file is: enums by their words)
    try:
        return StateFile.model_validate_json(raw), data
    except ValidationError as exc:
        raise StateFileError(describe(exc)) from None


def upgraded(old: dict[str, Any], policy_of: Policies) -> dict[str, Any]:
    """A version 2 file in version 3's words (what cannot be read is left for validation to
    name: a shape that is wrong stays wrong)."""
    data = dict(old, version=3)
    data["settings"] = {
        "directory": {"agents": data.pop("agents", None), "phones": data.pop("phones", None)}
    }
    deliveries = data.get("deliveries")
    if isinstance(deliveries, list):
        data["deliveries"] = [_upgraded_delivery(d, policy_of) for d in deliveries]
    scheduled = data.get("scheduled")
    if isinstance(scheduled, list):
        data["scheduled"] = [_upgraded_due(e) for e in scheduled]
    return data


def _upgraded_delivery(d: Any, policy_of: Policies) -> Any:
    if not isinstance(d, dict) or "policy" in d:
        return d
    try:
        policy = policy_of(d["provider"], d["tenant"], d["agent_id"])
    except (KeyError, TypeError):
        return d  # (its own fields are wrong: validation says which)
    return d | {"policy": POLICY.dump(policy)}


_V2_KINDS = {
    "dispatch": DueKind.SEND.value,
    "step": DueKind.STEP.value,
    "retry": DueKind.RETRY.value,
}


def _upgraded_due(e: Any) -> Any:
    if not isinstance(e, dict):
        return e
    entry = dict(e)
    kind = entry.get("kind")
    entry["kind"] = _V2_KINDS.get(kind, kind) if isinstance(kind, str) else kind
    if "message_id" in entry:
        entry["ref"] = entry.pop("message_id")
    if "delivery" in entry:
        entry["ref"] = entry.pop("delivery")
        entry.setdefault("tenant", "")
    entry.setdefault("step", None)
    return entry


def describe(exc: ValidationError) -> str:
    """`messages[5].created_at: Input should be a valid number` (the first error, and a count)."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    place = location(first["loc"])
    message = pydantic_errors.message(first)
    if place == "" and ":" in message.split(" ")[0]:
        line = message  # a model-level check already names its place
    else:
        line = f"{place or 'the file'}: {message}"
    more = len(errors) - 1
    return line + (f" (and {more} more problem{'s' * (more > 1)})" if more else "")


def location(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text
