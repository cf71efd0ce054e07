"""The state file's shape: one validated model. A state file is data, never code or paths: wrong
shapes, types, versions, unknown kinds, dangling references, duplicate ids and file names that
leave the state's own folder are refused with one line naming the place."""

from __future__ import annotations

from base64 import b64decode
from typing import Annotated, Any, Literal

import orjson
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from ..core import pydantic_errors
from ..core.models import Channel, EventType, Status
from ..core.scenarios import Step

VERSION = 2
UNFINISHED = ("pending", "in_flight", "retrying")


class StateFileError(ValueError):
    """A state file that cannot be loaded; the message names the place and the rule."""


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class EventRecord(_Record):
    type: EventType
    time: float
    text: str | None = None
    postback: str | None = None
    ref: str | None = None


class SuggestionRecord(_Record):
    label: str
    postback: str
    kind: str = "reply"
    target: str | None = None
    card: int | None = None


class MessageRecord(_Record):
    id: str = Field(min_length=1)
    provider: str
    tenant: str
    agent_id: str
    phone: str
    channel: Channel
    kind: str
    text: str
    created_at: float
    send_at: float
    content: dict[str, Any]
    suggestions: list[SuggestionRecord]
    batch: str | None
    external_id: str | None
    status: Status
    events: list[EventRecord]
    exchange: int | None = None  # the key of its request's exchange, in `exchanges`


def _base64(value: str) -> bytes:
    try:
        return b64decode(value, validate=True)
    except ValueError:
        raise ValueError("must be base64") from None


class ExchangeRecord(_Record):
    """The HTTP exchange behind messages: base64 of its bytes (emulator/http/exchange.py)."""

    key: int
    data: Annotated[bytes, BeforeValidator(_base64)]


class FileRecord(_Record):
    id: str = Field(min_length=1)
    tenant: str
    agent_id: str
    name: str
    mime: str
    size: int = Field(ge=0)
    uploaded_at: float
    expires_at: float
    path: str

    @field_validator("path")
    @classmethod
    def _a_name_inside_the_folder(cls, value: str) -> str:
        if not value or value in (".", "..") or any(c in value for c in "/\\\x00"):
            raise ValueError("must be a file name inside the state's files folder, not a path")
        return value


class AgentRecord(_Record):
    provider: str
    agent_id: str
    webhook_url: str | None = None
    answer_tag: str | None = None
    name: str | None = None
    tenant: str | None = None


class PhoneRecord(_Record):
    phone: str
    rcs_capable: bool | None = None
    scenario: str | None = None


class AttemptRecord(_Record):
    number: int = Field(ge=1)
    time: float
    status: int | None = None
    body: str | None = None
    error: str | None = None
    duration_ms: float = 0.0
    accepted: bool = False


class DeliveryRecord(_Record):
    id: int
    provider: str
    tenant: str
    agent_id: str
    phone: str
    message_id: str | None
    event: str
    url: str
    payload: Any
    created_at: float
    state: Literal["pending", "in_flight", "retrying"]
    attempts: list[AttemptRecord]


class DispatchEntry(_Record):
    kind: Literal["dispatch"]
    due: float
    tenant: str
    message_id: str


class StepEntry(_Record):
    kind: Literal["step"]
    due: float
    tenant: str
    message_id: str
    step: dict[str, Any]

    @field_validator("step")
    @classmethod
    def _a_valid_step(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            Step.model_validate(value)
        except ValidationError as exc:
            raise ValueError(f"not a scenario step: {describe(exc)}") from None
        return value


class RetryEntry(_Record):
    kind: Literal["retry"]
    due: float
    delivery: int


Scheduled = Annotated[DispatchEntry | StepEntry | RetryEntry, Field(discriminator="kind")]


class StateFile(_Record):
    version: Literal[2]
    clock: float
    saved_at: float  # wall-clock seconds since the epoch
    clean: bool  # written by a graceful stop (False: a periodic save, the process still running)
    messages: list[MessageRecord]
    files: list[FileRecord]
    agents: list[AgentRecord]
    phones: list[PhoneRecord]
    deliveries: list[DeliveryRecord]
    scheduled: list[Scheduled]
    exchanges: list[ExchangeRecord] = []  # absent from files saved before they were kept
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
            if isinstance(entry, RetryEntry):
                if entry.delivery not in deliveries:
                    raise ValueError(f"scheduled[{i}].delivery: no delivery {entry.delivery}")
            elif (entry.tenant, entry.message_id) not in messages:
                raise ValueError(
                    f"scheduled[{i}].message_id: no message {entry.message_id!r} "
                    f"of tenant {entry.tenant!r}"
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


def parse(raw: bytes) -> StateFile:
    """Validate a state file's bytes (JSON: enums as their words, numbers as numbers); the first
    problem becomes one line naming its place."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise StateFileError(
            f"not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    if not isinstance(data, dict):
        raise StateFileError(f"the file: a state file is a JSON object, not {type(data).__name__}")
    if data.get("version") != VERSION:
        raise StateFileError(f"version: {data.get('version')!r} is not a state file version "
                             f"this emulator reads ({VERSION})")  # fmt: skip
    try:
        return StateFile.model_validate_json(raw)
    except ValidationError as exc:
        raise StateFileError(describe(exc)) from None


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
    previous: Any = None
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif isinstance(previous, int) and part in ("dispatch", "step", "retry"):
            pass  # the scheduled union's tag adds nothing for a reader
        else:
            text += f".{part}" if text else str(part)
        previous = part
    return text
