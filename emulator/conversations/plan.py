"""From conversation files to the test cases a run runs.

- Includes: a step `include: NAME` is replaced by the steps of the conversation named NAME (most
  often a `partial: true` file), nested as deep as files go; a name nobody has, a name two files
  have, and a cycle are problems of the including file.
- Utterances: `user: $NAME` where the conversation (or a partial it includes) lists utterances
  under NAME runs the conversation once per variant, each its own test case (with several lists,
  once per combination). A file without `utterances:` means `$NAME` as written, as it always did.
- Captures: an expectation's `capture: {name: regex}` keeps a value of the bot's message;
  `${name}` in any later step's text is replaced by it when that step runs (in a regular
  expression, escaped: it stands for itself). A file that captures nothing means `${name}` as
  written; in one that does, a `${name}` no earlier step captures is a problem, and `$${` writes
  a literal `${`.

Every problem is one line naming the file, the step and what is wrong, with the nearest known
name when there is one (as format.py's problems are).
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .format import (
    Conversation,
    ConversationError,
    ExpectStep,
    IncludeStep,
    Step,
    UserStep,
)

MAX_VARIANTS = 64  # test cases one file may expand to (utterance lists multiply)
UTTERANCE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
REFERENCE = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
REGEX_FIELDS = frozenset({"text_matches", "not_text_matches", "capture"})


@dataclass(frozen=True)
class Planned:
    """One step of a case: where it is written, and (for an included one) through what."""

    step: Step
    number: int  # 1-based among the case's steps, includes spliced in
    line: int | None
    source: str  # the file it is written in
    via: str | None = None  # "include 'sign off' (step 4)" for a step of an included file

    @property
    def where(self) -> str:
        """'line 9', or 'line 3 of partials/bye.convo.yaml, included by step 4'."""
        line = f"line {self.line}" if self.line is not None else ""
        if self.via is None:
            return line
        return f"{line} of {self.source}, {self.via}".lstrip()


@dataclass
class Case:
    """One test case: a conversation (with one variant of its utterances) ready to run."""

    conversation: Conversation
    name: str
    steps: list[Planned]
    variant: dict[str, str] = field(default_factory=dict)
    captures: bool = False  # whether `${name}` stands for a captured value in this case

    @property
    def source(self) -> str:
        return self.conversation.source

    @property
    def provider(self) -> str:
        assert self.conversation.provider is not None  # a case is never a partial
        return self.conversation.provider

    @property
    def agent(self) -> str:
        assert self.conversation.agent is not None
        return self.conversation.agent

    @property
    def phone(self) -> str:
        assert self.conversation.phone is not None
        return self.conversation.phone

    @property
    def tenant(self) -> str | None:
        return self.conversation.tenant


def plan(
    given: Sequence[Conversation | ConversationError], library: Iterable[Conversation] = ()
) -> list[Case | ConversationError]:
    """The cases of the files given, in their order (a file's variants together); a file that
    cannot run is its error, a partial file gives no case. Includes are looked up among the
    files given and `library` (the other files a run may reach)."""
    known: dict[str, list[Conversation]] = {}
    seen: set[int] = set()
    for conversation in [g for g in given if isinstance(g, Conversation)] + list(library):
        if id(conversation) in seen:
            continue
        seen.add(id(conversation))
        same = known.setdefault(conversation.name, [])
        if all(c.source != conversation.source for c in same):
            same.append(conversation)
    planned: list[Case | ConversationError] = []
    for item in given:
        if isinstance(item, ConversationError):
            planned.append(item)
            continue
        try:
            cases = cases_of(item, known)
        except ConversationError as exc:
            planned.append(exc)
            continue
        planned += cases
    return planned


def cases_of(conversation: Conversation, known: Mapping[str, list[Conversation]]) -> list[Case]:
    """A conversation's cases (none for a partial), or ConversationError with every problem."""
    problems: list[str] = []
    steps: list[Planned] = []
    utterances: dict[str, list[str]] = {}
    _splice(conversation, known, [conversation.name], None, steps, utterances, problems)
    captures = any(isinstance(p.step, ExpectStep) and p.step.expect.capture for p in steps)
    if captures:
        _check_references(steps, problems)
    lists = _utterance_lists(steps, utterances, problems)
    combinations = 1
    for name in lists:
        combinations *= len(utterances.get(name, ()))
    if combinations > MAX_VARIANTS:
        shown = " x ".join(f"{len(utterances[n])} ({n})" for n in lists)
        problems.append(
            f"utterances: {shown} make {combinations} variants; a file runs at most {MAX_VARIANTS}"
        )
    if problems:
        raise ConversationError(conversation.source, problems)
    if conversation.partial:
        return []
    if not lists:
        return [Case(conversation, conversation.name, steps, captures=captures)]
    cases = []
    for values in itertools.product(*(utterances[name] for name in lists)):
        variant = dict(zip(lists, values, strict=True))
        said = [_said(p, variant) for p in steps]
        label = ", ".join(values)
        cases.append(Case(conversation, f"{conversation.name} [{label}]", said, variant, captures))
    return cases


def _splice(
    conversation: Conversation,
    known: Mapping[str, list[Conversation]],
    chain: list[str],
    via: str | None,
    into: list[Planned],
    utterances: dict[str, list[str]],
    problems: list[str],
) -> None:
    for name, values in conversation.utterances.items():
        had = utterances.setdefault(name, values)
        if had != values:
            problems.append(
                f"utterances: {name} is listed both in {conversation.source} and in a file "
                "that includes it, differently"
            )
    for number, step in enumerate(conversation.steps, start=1):
        line = f", line {step.line}" if step.line is not None else ""
        where = f"step {number} ({step.kind.value}{line})"
        if via is not None:
            where += f" of {conversation.source}"
        if not isinstance(step, IncludeStep):
            into.append(Planned(step, len(into) + 1, step.line, conversation.source, via))
            continue
        target = step.include
        found = known.get(target, [])
        if not found:
            hint = _hint(target, known)
            problems.append(f"{where}: no conversation is named {target!r} ({hint})")
        elif len(found) > 1:
            files = " and ".join(c.source for c in found)
            problems.append(f"{where}: {target!r} is the name of {files}: rename one")
        elif target in chain:
            cycle = " -> ".join(repr(n) for n in [*chain[chain.index(target) :], target])
            problems.append(f"{where}: includes go round in a cycle: {cycle}")
        else:
            through = f"included by step {len(into) + 1}" if via is None else via
            _splice(found[0], known, [*chain, target], through, into, utterances, problems)


def _utterance_lists(
    steps: Sequence[Planned], utterances: Mapping[str, list[str]], problems: list[str]
) -> list[str]:
    """The utterance lists the steps use, in the order of first use."""
    if not utterances:
        return []
    used: list[str] = []
    for planned in steps:
        step = planned.step
        if not isinstance(step, UserStep):
            continue
        match = UTTERANCE.fullmatch(step.user)
        if match is None:
            continue
        name = match.group(1)
        if name not in utterances:
            hint = _hint(name, utterances)
            problems.append(f"{_where(planned)}: no utterance list is named {name} ({hint})")
        elif name not in used:
            used.append(name)
    return used


def _said(planned: Planned, variant: Mapping[str, str]) -> Planned:
    step = planned.step
    if isinstance(step, UserStep):
        match = UTTERANCE.fullmatch(step.user)
        if match is not None and match.group(1) in variant:
            said = UserStep(user=variant[match.group(1)])
            said._line = step.line
            return Planned(said, planned.number, planned.line, planned.source, planned.via)
    return planned


def _check_references(steps: Sequence[Planned], problems: list[str]) -> None:
    captured: list[str] = []
    for planned in steps:
        for name in _references(planned.step.model_dump(exclude_none=True)):
            if name not in captured:
                near = _near(name, captured)
                if near is not None:
                    known = f"did you mean {near!r}?"
                else:
                    known = "captured so far: " + (", ".join(captured) or "nothing")
                problems.append(
                    f"{_where(planned)}: ${{{name}}} is captured by no earlier step ({known})"
                )
        step = planned.step
        if isinstance(step, ExpectStep) and step.expect.capture:
            captured += [n for n in step.expect.capture if n not in captured]


def _references(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        for match in REFERENCE.finditer(value):
            if match.group(1) is not None:
                yield match.group(1)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item)


def substitute(step: Step, values: Mapping[str, str]) -> Step:
    """The step with `${name}` replaced by each captured value (escaped in a regular
    expression) and `$${` by `${`."""
    data = step.model_dump(exclude_none=True)
    replaced = _replace(data, values, regex=False)
    if replaced == data:
        return step
    new = type(step).model_validate(replaced)
    new._line = step.line
    return new


def _replace(value: Any, values: Mapping[str, str], regex: bool) -> Any:
    if isinstance(value, str):

        def one(match: re.Match[str]) -> str:
            if match.group(1) is None:
                return "${"
            found = values.get(match.group(1))
            if found is None:
                return match.group(0)
            return re.escape(found) if regex else found

        return REFERENCE.sub(one, value)
    if isinstance(value, dict):
        return {k: _replace(v, values, regex or k in REGEX_FIELDS) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace(v, values, regex) for v in value]
    return value


def _where(planned: Planned) -> str:
    shown = f"step {planned.number} ({planned.step.kind.value}"
    return shown + (f", {planned.where})" if planned.where else ")")


def _near(word: str, known: Iterable[str]) -> str | None:
    found = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return found[0] if found else None


def _hint(word: str, known: Iterable[str]) -> str:
    names = sorted(known)
    near = _near(word, names)
    if near is not None:
        return f"did you mean {near!r}?"
    return "known: " + (", ".join(repr(n) for n in names) if names else "none")
