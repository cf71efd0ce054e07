"""The conversation file format (`*.convo.yaml`) as pydantic models.

    name: books the first slot
    provider: <name>             # a registered provider's (GET /_emulator/providers)
    agent: shop_agent            # the agent (or bot) id
    phone: "+46701234567"
    timeout: 5                   # seconds to wait for each expectation (default 5)
    utterances:                  # `user: $GREETING` runs the conversation once per variant
      GREETING: [hi, hello, "good morning"]
    steps:
      - user: $GREETING                              # the phone types a message
      - expect: {text: "Hello!", suggestions: ["10:00", "12:00"]}
      - tap: "10:00"                                 # taps the chip with this visible text
      - expect: {text_contains: Booked, capture: {order: '#([0-9]+)'}}
      - user: "status of ${order}"                   # a captured value, in any later text
      - expect: {cards: [{title: Haircut, suggestions: [Book]}], suggestions: [Menu]}
      - tap: {postback: book-haircut}                # by the chip's postback
      - tap: {label: Book, card: 2, message: -2}     # a card's chip on the message before
      - include: sign off                            # the steps of the file named so
      - expect_none: 2                               # the bot stays quiet for 2 s
      - wait: 30                                     # 30 s pass on the emulator's clock

A file with `partial: true` holds steps for others to include (it names no provider, agent or
phone, and never runs on its own). Every scalar is read as text (YAML's own guesses would make
`10:00` the number 600, `yes` a boolean and `+46701234567` an integer); numbers are read from
text where a number is meant. Anything the format does not know is refused with the file, the
step (its number and line) and the key, with the nearest known key when there is one. What
spans files (includes, utterances, captures) is checked when they are planned (plan.py).
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, ClassVar

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from ..control.params import ProviderName, WebhookUrl
from ..core.delays import parse_duration
from ..core.pydantic_errors import message as pydantic_message
from ..core.pydantic_errors import without_misspelt_required
from ..core.yaml_errors import yaml_problem
from ..http.validators import is_e164

SUFFIXES = (".convo.yaml", ".convo.yml")
DEFAULT_TIMEOUT = 5.0
MAX_DEPTH = 20  # levels of nesting: a conversation needs four
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")  # an utterance list's or a captured value's


class ConversationError(ValueError):
    """A conversation file that cannot be run: each problem names the file and the place."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = [f"{source}: {p}" for p in problems]
        super().__init__("\n".join(self.problems))


def is_conversation_file(path: Path) -> bool:
    return path.name.endswith(SUFFIXES)


# -- values --------------------------------------------------------------------------------------


def _seconds(value: Any) -> float:
    try:
        return parse_duration(value)
    except ValueError:
        if str(value).strip().startswith("-"):
            raise ValueError("cannot be negative") from None
        raise ValueError("must be seconds: a number, or as '500ms', '2s', '5m', '1h'") from None


def _positive(value: float) -> float:
    if value <= 0:
        raise ValueError("must be above 0 seconds")
    return value


def _text(value: Any) -> Any:
    if isinstance(value, dict | list):
        raise ValueError("must be a text (quote it if it looks like something else)")
    return value


def _non_empty(value: Any) -> Any:
    value = _text(value)
    if value == "":
        raise ValueError("must not be empty")
    return value


def _regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"not a regular expression: {exc}") from None
    return value


def _name(value: Any) -> Any:
    if not isinstance(value, str) or NAME.fullmatch(value) is None:
        raise ValueError(f"{value!r} is not a name: letters, digits and _, not first a digit")
    return value


def _phone(value: Any) -> Any:
    text = _text(value)
    if not isinstance(text, str) or not is_e164(text.strip()):
        raise ValueError(
            f"{value!r} is not a phone number in E.164 format, with its country "
            "code, as +46701234567"
        )
    return text.strip()


Phone = Annotated[str, BeforeValidator(_phone)]
Seconds = Annotated[float, BeforeValidator(_seconds)]
PositiveSeconds = Annotated[float, BeforeValidator(_seconds), AfterValidator(_positive)]
Text = Annotated[str, BeforeValidator(_text)]
NonEmptyText = Annotated[str, BeforeValidator(_non_empty)]
Name = Annotated[str, BeforeValidator(_name)]
Regex = Annotated[Text, AfterValidator(_regex)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# -- what the bot's message must show ------------------------------------------------------------


class FileExpectation(_Strict):
    """A media message; each field given must equal the file's own."""

    name: Text | None = None
    type: Text | None = None
    url: Text | None = None


def _file(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "on"):
        return {}  # `file: true`: any media message
    if isinstance(value, dict):
        return value
    raise ValueError(
        "must be true (any media message), or the name, type or url the file must "
        "have, as {name: menu.pdf}"
    )


class CardExpectation(_Strict):
    """One card of a rich card or carousel; each field given must hold for it."""

    title: Text | None = None
    description: Text | None = None
    media: Annotated[FileExpectation, BeforeValidator(_file)] | None = None
    suggestions: list[Text] | None = Field(default=None, description="This card's own chips.")

    def describe(self) -> str:
        parts = []
        if self.title is not None:
            parts.append(f"titled {quoted(self.title)}")
        if self.description is not None:
            parts.append(f"described {quoted(self.description)}")
        if self.media is not None:
            given = self.media.model_dump(exclude_none=True)
            shown = ", ".join(f"{k} {quoted(v)}" for k, v in given.items())
            parts.append(f"with media ({shown})" if shown else "with media")
        if self.suggestions is not None:
            parts.append("chips " + (chips(self.suggestions) or "none"))
        return "card " + (" ".join(parts) or "(any)")


class Expectation(_Strict):
    """What the bot's next message must show; every field given must hold."""

    text: Text | None = None
    text_contains: Text | None = None
    text_matches: Regex | None = None
    not_text: Text | None = None
    not_text_contains: Text | None = None
    not_text_matches: Regex | None = None
    ignore_case: bool = Field(default=False, description="Texts compared without regard to case.")
    suggestions: list[Text] | None = Field(
        default=None,
        description="Beside `cards:`, the message's own chips; alone, every chip of the message "
        "in order, the cards' included.",
    )
    card_title: Text | None = None
    cards: list[CardExpectation] | None = Field(
        default=None, description="Every card of the message, in order (one for a rich card)."
    )
    file: Annotated[FileExpectation, BeforeValidator(_file)] | None = None
    capture: dict[Name, Regex] | None = Field(
        default=None,
        description="name: regex; the first group (or the whole match) in the message's text, "
        "else its cards' titles and descriptions, kept as ${name} for every later step.",
    )
    timeout: PositiveSeconds | None = None

    def describe(self) -> str:
        parts = []
        case = " (any case)" if self.ignore_case else ""
        if self.text is not None:
            parts.append(f"text {quoted(self.text)}{case}")
        if self.text_contains is not None:
            parts.append(f"text containing {quoted(self.text_contains)}{case}")
        if self.text_matches is not None:
            parts.append(f"text matching /{self.text_matches}/{'i' if self.ignore_case else ''}")
        if self.not_text is not None:
            parts.append(f"text other than {quoted(self.not_text)}{case}")
        if self.not_text_contains is not None:
            parts.append(f"text without {quoted(self.not_text_contains)}{case}")
        if self.not_text_matches is not None:
            flags = "i" if self.ignore_case else ""
            parts.append(f"text not matching /{self.not_text_matches}/{flags}")
        if self.cards is not None:
            shown = "; ".join(c.describe() for c in self.cards) or "none"
            parts.append(f"cards [{shown}]")
        if self.suggestions is not None:
            whose = "the message's own chips" if self.cards is not None else "suggestions"
            parts.append(f"{whose} " + (chips(self.suggestions) or "none"))
        if self.card_title is not None:
            parts.append(f"a card titled {quoted(self.card_title)}")
        if self.file is not None:
            given = self.file.model_dump(exclude_none=True)
            shown = ", ".join(f"{k} {quoted(v)}" for k, v in given.items())
            parts.append(f"a file ({shown})" if shown else "a file")
        if self.capture:
            parts.append("capturing " + ", ".join(self.capture))
        return ", ".join(parts) or "any message"


class TapTarget(_Strict):
    label: NonEmptyText | None = None
    postback: NonEmptyText | None = None
    card: int | None = Field(default=None, ge=1, description="1-based card of a carousel")
    message: int = Field(
        default=-1, le=-1, description="-1: the bot's newest message, -2 the one before, ..."
    )

    @model_validator(mode="after")
    def _one_chip(self) -> TapTarget:
        if (self.label is None) == (self.postback is None):
            raise ValueError("names the chip by its label or by its postback (one of them)")
        return self

    def describe(self) -> str:
        shown = (
            f"[{self.label}]"
            if self.label is not None
            else f"postback {quoted(self.postback or '')}"
        )
        if self.card is not None:
            shown += f" (card {self.card})"
        if self.message != -1:
            shown += f" of message {self.message}"
        return shown


def _tap(value: Any) -> Any:
    return {"label": value} if isinstance(value, str) else value


# -- steps ---------------------------------------------------------------------------------------


class StepKind(StrEnum):
    USER = "user"
    TAP = "tap"
    EXPECT = "expect"
    EXPECT_NONE = "expect_none"
    WAIT = "wait"
    INCLUDE = "include"


class _Step(_Strict):
    kind: ClassVar[StepKind]
    _line: int | None = PrivateAttr(default=None)

    @property
    def line(self) -> int | None:
        return self._line

    def describe(self) -> str:
        raise NotImplementedError


class UserStep(_Step):
    """The phone types a message (and may write first: RCS lets a person open a thread)."""

    kind: ClassVar[StepKind] = StepKind.USER
    user: NonEmptyText

    def describe(self) -> str:
        return f"user: {quoted(self.user)}"


class TapStep(_Step):
    """The phone taps a chip of the bot's newest message (or of an earlier one, where a phone
    still offers it), by its visible text or its postback."""

    kind: ClassVar[StepKind] = StepKind.TAP
    tap: Annotated[TapTarget, BeforeValidator(_tap)]

    def describe(self) -> str:
        return f"tap: {self.tap.describe()}"


class ExpectStep(_Step):
    """The bot's next message to this phone, checked."""

    kind: ClassVar[StepKind] = StepKind.EXPECT
    expect: Expectation

    @field_validator("expect", mode="before")
    @classmethod
    def _mapping(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            raise ValueError("a mapping of what the message must show, as {text: ...}")
        return value

    def describe(self) -> str:
        return f"expect: {self.expect.describe()}"


class ExpectNoneStep(_Step):
    """The bot sends this phone nothing for that many (real) seconds."""

    kind: ClassVar[StepKind] = StepKind.EXPECT_NONE
    expect_none: PositiveSeconds

    def describe(self) -> str:
        return f"expect_none: {self.expect_none:g} s"


class WaitStep(_Step):
    """Time passes on the emulator's clock (a manual clock is moved; a real one waited)."""

    kind: ClassVar[StepKind] = StepKind.WAIT
    wait: Seconds

    def describe(self) -> str:
        return f"wait: {self.wait:g} s"


class IncludeStep(_Step):
    """The steps of the conversation (often a `partial: true` one) whose name is this."""

    kind: ClassVar[StepKind] = StepKind.INCLUDE
    include: NonEmptyText

    def describe(self) -> str:
        return f"include: {self.include}"


Step = UserStep | TapStep | ExpectStep | ExpectNoneStep | WaitStep | IncludeStep
STEP_MODELS: dict[str, type[_Step]] = {
    m.kind.value: m for m in (UserStep, TapStep, ExpectStep, ExpectNoneStep, WaitStep, IncludeStep)
}


# -- the file --------------------------------------------------------------------------------------


class Conversation(_Strict):
    name: NonEmptyText
    description: Text = ""
    partial: bool = Field(
        default=False,
        description="Steps for other files to include: never run on its own, and it names no "
        "provider, agent or phone (those of the file that includes it apply).",
    )
    provider: ProviderName | None = None  # required unless partial (parse_conversation)
    agent: NonEmptyText | None = Field(
        default=None, description="The agent (or bot) id the phone talks to."
    )
    phone: Phone | None = None
    tenant: Text | None = Field(
        default=None,
        description="The API key or account the bot uses: where a thread the phone opens lives, "
        "and what reads, resets and waits are scoped to.",
    )
    webhook_url: WebhookUrl | None = Field(
        default=None, description="Set as the agent's callback URL before the first step."
    )
    timeout: PositiveSeconds = DEFAULT_TIMEOUT
    utterances: dict[Name, Annotated[list[NonEmptyText], Field(min_length=1)]] = Field(
        default_factory=dict,
        description="Lists of things a user may say: `user: $NAME` runs the conversation once "
        "per variant.",
    )
    steps: list[Step] = Field(min_length=1)  # parsed one by one first (parse_conversation)
    _source: str = PrivateAttr(default="")

    @property
    def source(self) -> str:
        """The file (or the name it was given under) the conversation came from."""
        return self._source


WHOLE = ("provider", "agent", "phone")  # what a conversation that runs on its own names


_STAND_IN = UserStep(user="-")  # stands for steps already refused, so the file's other keys are
# checked too (one run names every problem)


# -- loading -------------------------------------------------------------------------------------


class _Loader(yaml.BaseLoader):
    """Every scalar as text; duplicate keys and aliases refused (an alias is never needed in a
    conversation, and a file of nested aliases could make a small text expand without end)."""

    depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if self.check_event(yaml.AliasEvent):
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed in a conversation", event.start_mark
            )
        if self.depth >= MAX_DEPTH:  # PyYAML composes recursively: a deep text would overflow
            raise yaml.composer.ComposerError(
                None, None, f"nested deeper than {MAX_DEPTH} levels", event.start_mark
            )
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                raise yaml.constructor.ConstructorError(
                    None, None, "a key must be a plain word", key_node.start_mark
                )
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key!r} is given twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=True)


def load_conversation(path: Path) -> Conversation:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConversationError(str(path), [f"cannot be read: {exc.strerror}"]) from None
    except UnicodeDecodeError:
        raise ConversationError(str(path), ["not UTF-8 text"]) from None
    return parse_conversation(text, str(path))


def parse_conversation(text: str, source: str) -> Conversation:
    """A conversation from its YAML text; `source` names it in errors and reports."""
    try:
        loader = _Loader(text)  # (the reader refuses characters YAML cannot hold at once)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        raise ConversationError(source, [f"not valid YAML: {yaml_problem(exc)}"]) from None
    if not isinstance(data, dict):
        raise ConversationError(
            source, ["a conversation is a mapping with provider, agent, phone and steps"]
        )
    lines = _step_lines(node)
    problems: list[str] = []
    given = dict(data)
    given.setdefault("name", _name_of(source))
    steps: list[Step] = []
    raw_steps = given.get("steps")
    if isinstance(raw_steps, list):
        for number, raw in enumerate(raw_steps, start=1):
            line = lines[number - 1] if number <= len(lines) else None
            step = _parse_step(raw, number, line, problems)
            if step is not None:
                steps.append(step)
        # Steps with problems are reported above; the rest of the file is still checked.
        given["steps"] = steps or [_STAND_IN] if problems else steps
    errors: list[Mapping[str, Any]] = []
    try:
        conversation = Conversation.model_validate(given)
    except ValidationError as exc:
        errors = list(exc.errors(include_url=False))
    partial = str(given.get("partial", "")).strip().lower() in ("true", "yes", "on", "1")
    # What a whole conversation names is required here, not by the model (a partial has none
    # of it); a misspelt one (`agnet:`) is one mistake all the same, said as the unknown key.
    missing = [] if partial else [_missing(key) for key in WHOLE if given.get(key) is None]
    errors = without_misspelt_required(Conversation, [*errors, *missing])
    head = [_problem(e, Conversation, given) for e in errors]
    if partial:
        why = "a partial conversation takes the {} of the file that includes it (leave it out)"
        head += [f"{key}: {why.format(key)}" for key in WHOLE if key in given]
    problems[:0] = head
    if problems:
        raise ConversationError(source, problems)
    conversation._source = source
    return conversation


def _missing(key: str) -> dict[str, Any]:
    """A required key's absence, as pydantic says it (so its problems read and filter alike)."""
    return {"type": "missing", "loc": (key,), "msg": "Field required"}


def _parse_step(raw: Any, number: int, line: int | None, problems: list[str]) -> Step | None:
    where = f"step {number}" + (f" (line {line})" if line is not None else "")
    kinds = ", ".join(STEP_MODELS)
    if not isinstance(raw, dict) or len(raw) != 1:
        shown = ", ".join(map(repr, raw)) if isinstance(raw, dict) and raw else "nothing"
        what = f"it names {shown}" if isinstance(raw, dict) else "it is not a mapping"
        problems.append(
            f"{where}: a step is one mapping of one of {kinds}, as `- user: hi`; {what}"
        )
        return None
    ((key, value),) = raw.items()
    model = STEP_MODELS.get(key)
    if model is None:
        problems.append(f"{where}: unknown step {key!r} ({_hint(key, STEP_MODELS)})")
        return None
    where = f"step {number} ({key}" + (f", line {line})" if line is not None else ")")
    try:
        step = model.model_validate(raw)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            problems.append(f"{where}: {_problem(error, model, raw, skip=1)}")
        return None
    step._line = line
    return typing.cast(Step, step)


def _problem(error: Any, model: type[BaseModel], data: Any, skip: int = 0) -> str:
    """One line for one pydantic error: the key it concerns and what is wrong with it."""
    loc = [p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
    if "[key]" in loc:  # a mapping's key itself is wrong: named by the mapping, the key quoted
        at = loc.index("[key]")
        loc = loc[: at - 1] + loc[at + 1 :]
    place = _place(loc[skip:]) or _place(loc)  # a step's own value: named by its key
    if error["type"] == "extra_forbidden":
        known = _known_keys(model, loc[:-1])
        key = str(loc[-1])
        inside = _place(loc[skip:-1])
        return f"{inside + ': ' if inside else ''}unknown key {key!r} ({_hint(key, known)})"
    if error["type"] == "missing":
        return f"{place} is required"
    detail = pydantic_message(error).replace("Input should be", "must be")
    if error["type"] == "too_short" and place == "steps":
        detail = "a conversation needs at least one step"
    return f"{place}: {detail}" if place else detail


def _place(loc: Iterable[Any]) -> str:
    """'suggestions[0]', 'file.name' from a pydantic location."""
    shown = ""
    for part in loc:
        shown += f"[{part}]" if isinstance(part, int) else (f".{part}" if shown else str(part))
    return shown


def _known_keys(model: type[BaseModel], loc: Sequence[Any]) -> list[str]:
    """The keys the model at that place takes (for "did you mean")."""
    current: type[BaseModel] | None = model
    for part in loc:
        if current is None or isinstance(part, int):
            continue
        field = current.model_fields.get(str(part))
        current = _model_in(field.annotation) if field is not None else None
    return list(current.model_fields) if current is not None else []


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is not None:
        for arg in typing.get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
    return None


def _hint(word: str, known: Iterable[str]) -> str:
    names = list(known)
    near = difflib.get_close_matches(word, names, n=1, cutoff=0.6)
    return f"did you mean {near[0]!r}?" if near else "known: " + ", ".join(names)


def _step_lines(node: Any) -> list[int]:
    """The line of each step, from the composed YAML (1-based)."""
    if not isinstance(node, yaml.MappingNode):
        return []
    for key, value in node.value:
        if key.value == "steps" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def _name_of(source: str) -> str:
    name = Path(source).name
    for suffix in SUFFIXES:
        name = name.removesuffix(suffix)
    return name or source


# -- how the report shows values -----------------------------------------------------------------


def quoted(text: str) -> str:
    """A text in double quotes, with what would break the line shown as escapes."""
    inner = text.replace("\\", "\\\\").replace('"', '\\"')
    inner = inner.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return f'"{inner}"'


def chips(labels: Iterable[str]) -> str:
    return " ".join(f"[{label}]" for label in labels)
