"""Conversation results as people and CI servers read them: a failure's text (the failing step,
what was expected, what came), the transcript, the CLI's running lines, and JUnit XML.

The JUnit report is well-formed whatever the bot sent: characters XML 1.0 cannot hold (control
characters, lone surrogates) are written as visible escapes instead.
"""

from __future__ import annotations

import re
import socket
import sys
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path, PurePath
from typing import TextIO

from .format import SUFFIXES
from .runner import ConversationResult, Outcome, Progress, StepResult

SUITE = "rcs-emulator conversations"
MESSAGE_MOST = 1000  # a failure's one-line message (its full text is the element's body)
# What XML 1.0 cannot hold: C0 controls but tab, newline and return; surrogates; U+FFFE/FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def headline(result: ConversationResult) -> str:
    who = ""
    if result.provider is not None:
        who = f" ({result.provider} agent {result.agent}, phone {result.phone})"
    return f"{result.source}: {result.name}{who}"


def failure_text(result: ConversationResult) -> str:
    """Why a conversation did not pass, as lines: the failing step, what it expected, what
    came (the bot's message as the phone saw it), each part that did not hold, and hints."""
    if result.outcome is Outcome.ERROR:
        return f"{headline(result)}\ncould not run: {result.error}"
    failure = result.failure
    if failure is None:
        return f"{headline(result)}\npassed"
    at = f"step {failure.step}" + (f" (line {failure.line})" if failure.line else "")
    if failure.where is not None:
        at = f"step {failure.step} ({failure.where})"
    lines = [
        headline(result),
        f"failed at {at} of {result.total_steps}: {failure.shown}",
        f"  expected: {failure.expected}",
        f"  came:     {failure.came}",
    ]
    lines += [f"  - {m}" for m in failure.mismatches] if failure.detailed else []
    lines += [f"  hint: {h}" for h in failure.hints]
    return "\n".join(lines)


def transcript_text(result: ConversationResult) -> str:
    width = max((len(s.who) for s in result.transcript), default=0) + 1
    lines = [f"{s.who + ':':<{width}} {s.text}" for s in result.transcript]
    lines += [f"note: {note}" for note in result.notes]
    return "\n".join(lines) or "(nothing)"


def one_line(result: ConversationResult) -> str:
    """The failure in one line (JUnit's message attribute, summaries)."""
    if result.outcome is Outcome.ERROR:
        text = f"could not run: {result.error}"
    elif result.failure is not None:
        f = result.failure
        at = f"step {f.step}" + (f" (line {f.line})" if f.line else "")
        text = f"{at}: expected {f.expected}; came {f.came}"
    else:
        text = "passed"
    text = " ".join(text.split())
    return text if len(text) <= MESSAGE_MOST else text[: MESSAGE_MOST - 3] + "..."


def summary(results: Sequence[ConversationResult]) -> str:
    counts = {o: sum(r.outcome is o for r in results) for o in Outcome}
    shown = [f"{counts[Outcome.PASSED]} passed"]
    if counts[Outcome.FAILED]:
        shown.append(f"{counts[Outcome.FAILED]} failed")
    if counts[Outcome.ERROR]:
        shown.append(f"{counts[Outcome.ERROR]} could not run")
    noun = "conversation" if len(results) == 1 else "conversations"
    return f"{len(results)} {noun}: {', '.join(shown)}"


class Printer(Progress):
    """The CLI's running report: each step as it passes, the first failing step in full. With
    several conversations at once (`whole`), each one's lines come together when it ends."""

    def __init__(self, out: TextIO | None = None, whole: bool = False) -> None:
        self.out = out or sys.stdout
        self.whole = whole
        self._held: dict[int, list[str]] = {}

    def _print(self, text: str, result: ConversationResult | None = None) -> None:
        if self.whole and result is not None:
            self._held.setdefault(id(result), []).append(text)
            return
        print(text, file=self.out, flush=True)

    def started(self, result: ConversationResult) -> None:
        self._print(f"{headline(result)}", result)

    def stepped(self, result: ConversationResult, step: StepResult) -> None:
        mark = "ok  " if step.passed else "FAIL"
        line = f"  (line {step.line})" if not step.passed and step.line else ""
        self._print(f"  {mark} {step.number:>3} {step.shown}{line}", result)
        failure = result.failure
        if not step.passed and failure is not None:
            if failure.where is not None:
                self._print(f"           at:       {failure.where}", result)
            self._print(f"           expected: {failure.expected}", result)
            self._print(f"           came:     {failure.came}", result)
            for m in failure.mismatches if failure.detailed else ():
                self._print(f"           - {m}", result)
            for h in failure.hints:
                self._print(f"           hint: {h}", result)

    def finished(self, result: ConversationResult) -> None:
        if result.outcome is Outcome.ERROR and not result.steps and result.provider is None:
            self._print(result.error or result.source, result)  # never started: a bad file
        else:
            if self.whole and id(result) not in self._held:  # an error before it began
                self._print(headline(result), result)
            for note in result.notes:
                self._print(f"  note: {note}", result)
            if result.outcome is Outcome.ERROR:
                self._print(f"  ERROR {result.error}", result)
            elif result.outcome is Outcome.PASSED:
                steps = len(result.steps)
                self._print(f"  PASSED {steps} steps ({result.seconds:.2f} s)", result)
            else:
                at = f"step {len(result.steps)} of {result.total_steps}"
                self._print(f"  FAILED at {at} ({result.seconds:.2f} s)", result)
        for text in self._held.pop(id(result), ()):
            print(text, file=self.out, flush=True)


# -- JUnit XML -----------------------------------------------------------------------------------


def xml_safe(text: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def class_name(source: str) -> str:
    """The file's folder and name: `pass/booking.convo.yaml`, `/ci/pass/booking.convo.yaml` and
    pytest's `pass/booking.convo.yaml` are all `pass.booking`, however the run was invoked (a CI
    server keeps a test's history by it)."""
    path: PurePath = PurePath(source.replace("\\", "/"))
    if Path(source).is_file():  # `booking.convo.yaml` run from its own folder: that folder
        path = Path(source).resolve()
    name = path.name
    for suffix in SUFFIXES:
        name = name.removesuffix(suffix)
    folder = path.parent.name
    parts = [p for p in (folder, name) if p and p not in (".", "..")]
    return ".".join(parts) or "conversation"


def junit_xml(results: Sequence[ConversationResult], suite: str = SUITE) -> bytes:
    """One testsuite, one testcase per conversation file; a failure names its step."""
    failures = sum(r.outcome is Outcome.FAILED for r in results)
    errors = sum(r.outcome is Outcome.ERROR for r in results)
    seconds = f"{sum(r.seconds for r in results):.3f}"
    root = ET.Element(
        "testsuites",
        {
            "name": suite,
            "tests": str(len(results)),
            "failures": str(failures),
            "errors": str(errors),
            "time": seconds,
        },
    )
    node = ET.SubElement(
        root,
        "testsuite",
        {
            "name": suite,
            "tests": str(len(results)),
            "failures": str(failures),
            "errors": str(errors),
            "skipped": "0",
            "time": seconds,
            "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
            "hostname": xml_safe(socket.gethostname()),
        },
    )
    for result in results:
        case = ET.SubElement(
            node,
            "testcase",
            {
                "name": xml_safe(result.name),
                "classname": xml_safe(class_name(result.source)),
                "file": xml_safe(result.source),
                "time": f"{result.seconds:.3f}",
            },
        )
        if result.outcome is Outcome.FAILED:
            problem = ET.SubElement(
                case,
                "failure",
                {"message": xml_safe(one_line(result)), "type": "ConversationFailed"},
            )
            problem.text = xml_safe(failure_text(result))
        elif result.outcome is Outcome.ERROR:
            problem = ET.SubElement(
                case, "error", {"message": xml_safe(one_line(result)), "type": "ConversationError"}
            )
            problem.text = xml_safe(failure_text(result))
        if result.transcript:
            out = ET.SubElement(case, "system-out")
            out.text = xml_safe(transcript_text(result))
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
