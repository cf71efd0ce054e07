"""The scenario file format as pydantic models: durations, conditions, steps, number matches and
rules. A bad file is refused with an error naming the place and the rule it broke."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from . import pydantic_errors
from .delays import NO_DELAY, Delay, parse_delay
from .models import EventType

# Words a scenario may use for an event, and the event they mean.
EVENT_WORDS: dict[str, EventType] = {
    "delivered": EventType.DELIVERED,
    "read": EventType.READ,
    "displayed": EventType.READ,
    "tap": EventType.REPLY,
    "reply": EventType.REPLY,
    "message": EventType.MESSAGE,
    "no_capability": EventType.NO_CAPABILITY,
    "undelivered": EventType.UNDELIVERED,
    "expired": EventType.EXPIRED,
    "failed": EventType.FAILED,
}


class ScenarioError(ValueError):
    """A scenario file or name that cannot be used; the message says where and why."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Condition(_Strict):
    """A step runs only when every given condition holds for the message."""

    has_suggestions: bool | None = None
    channel: Literal["RCS", "SMS"] | None = None
    kind: Literal["text", "file", "richcard", "carousel", "sms"] | None = None


AFTER_SCHEMA = {
    "description": "delay after the previous step: seconds, '5m', [low, high], or a "
    "distribution such as {lognormal: {median: 2, p99: 30}}",
    "anyOf": [
        {"type": "number", "minimum": 0},
        {"type": "string"},
        {"type": "array", "minItems": 2, "maxItems": 2},
        {"type": "object"},
    ],
}
StepDelay = Annotated[
    Delay,
    BeforeValidator(parse_delay),
    PlainSerializer(lambda delay: delay.spec()),
    WithJsonSchema(AFTER_SCHEMA),
]


class Step(_Strict):
    after: StepDelay = NO_DELAY
    event: str
    suggestion: int | None = Field(default=None, ge=1, description="1-based chip position")
    postback: str | None = None
    text: str | None = None
    when: Condition | None = Field(default=None, alias="if")

    @field_validator("event")
    @classmethod
    def _event(cls, value: str) -> str:
        if value not in EVENT_WORDS:
            hint = pydantic_errors.nearest(value, EVENT_WORDS)
            raise ValueError(f"unknown event {value!r}{hint}; one of: {', '.join(EVENT_WORDS)}")
        return value

    @model_validator(mode="after")
    def _tap_target(self) -> Step:
        is_tap = EVENT_WORDS[self.event] is EventType.REPLY
        if is_tap and (self.suggestion is None) == (self.postback is None):
            raise ValueError("a tap names exactly one of 'suggestion' (position) or 'postback'")
        if not is_tap and (self.suggestion is not None or self.postback is not None):
            raise ValueError("'suggestion' and 'postback' belong to a tap/reply step")
        if self.text is not None and EVENT_WORDS[self.event] is not EventType.MESSAGE:
            raise ValueError("'text' belongs to a message step")
        return self

    @property
    def event_type(self) -> EventType:
        return EVENT_WORDS[self.event]


class Match(_Strict):
    numbers: list[str] | None = None
    number: str | None = None
    prefix: str | None = None
    pattern: str | None = None

    @field_validator("pattern")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {exc}") from exc
        return value

    @model_validator(mode="after")
    def _something(self) -> Match:
        if not (self.numbers or self.number or self.prefix or self.pattern):
            raise ValueError("a match names numbers, number, prefix or pattern")
        return self

    def matches(self, phone: str) -> bool:
        if self.number is not None and phone == self.number:
            return True
        if self.numbers and phone in self.numbers:
            return True
        if self.prefix is not None and phone.startswith(self.prefix):
            return True
        return self.pattern is not None and re.search(self.pattern, phone) is not None


class Outcome(_Strict):
    """One of a mix's timelines, lived through by about `weight` parts of the recipients."""

    weight: float = Field(gt=0, allow_inf_nan=False)
    name: str | None = None
    timeline: list[Step] = []


def _one_plan(owner: str, timeline: bool, mix: list[Outcome] | None) -> None:
    if timeline and mix is not None:
        raise ValueError(f"{owner} has a timeline or a mix of timelines, not both")


class Rule(_Strict):
    name: str
    description: str = ""
    match: Match
    capable: bool = True
    timeline: list[Step] = []
    mix: list[Outcome] | None = Field(
        default=None, min_length=1, description="timelines by weight, instead of one timeline"
    )

    @model_validator(mode="after")
    def _plan(self) -> Rule:
        _one_plan("a rule", "timeline" in self.model_fields_set, self.mix)
        return self


class ScenarioFile(_Strict):
    name: str
    description: str = ""
    default: list[Step] = Field(default_factory=list, description="timeline when no rule matches")
    mix: list[Outcome] | None = Field(
        default=None, min_length=1, description="timelines by weight when no rule matches"
    )
    sms: list[Step] = Field(default_factory=list, description="timeline of SMS fallbacks")
    rules: list[Rule] = []

    @model_validator(mode="after")
    def _plan(self) -> ScenarioFile:
        _one_plan("a scenario's default", "default" in self.model_fields_set, self.mix)
        return self
