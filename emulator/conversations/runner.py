"""Running a conversation: the emulator plays the phone, the user's own bot answers through the
provider's API, and each expectation checks the bot's next message to that phone.

The runner sees everything through the control API (the agent's messages to that phone, newer
than the last it saw), so the same runner serves the CLI against a running emulator, an
in-process one, the HTTP endpoint (which calls its own app) and the pytest plugin.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import quote

import httpx

from ..callback_hints import Fate, callback_for, no_webhook_url, not_accepted
from .format import (
    Conversation,
    ConversationError,
    ExpectNoneStep,
    ExpectStep,
    Step,
    TapStep,
    UserStep,
    WaitStep,
    chips,
    quoted,
)

USER_MESSAGE = "user"  # the kind of the record a phone's own first message makes (core.models)
POLL_FIRST, POLL_MOST = 0.02, 0.1  # seconds between looks at the agent's messages
PAGE = 200
HINTS_SHOWN = 3
SET_URL = (
    "give webhook_url in the file, in the emulator's config, or through PUT /_emulator/agents/..."
)


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"  # a step did not hold
    ERROR = "error"  # it could not run: a bad file, the emulator not answering, a limit


@dataclass(frozen=True)
class Limits:
    """Bounds on a run asked for by whoever reaches the HTTP endpoint (the CLI and pytest run
    what their user wrote, unbounded)."""

    max_steps: int | None = None
    max_wait: float | None = None  # an expectation's timeout, expect_none, a real-clock wait
    budget: float | None = None  # real seconds for the whole run


@dataclass
class StepResult:
    number: int
    line: int | None
    kind: str
    shown: str
    passed: bool
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {"number": self.number, "line": self.line, "kind": self.kind, "step": self.shown,
                "passed": self.passed, "seconds": round(self.seconds, 3)}  # fmt: skip


@dataclass
class Failure:
    """The first step that did not hold: what it expected, and what came instead (the bot's
    message as the phone saw it, or nothing)."""

    step: int
    line: int | None
    shown: str
    expected: str
    came: str
    mismatches: list[str] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)

    @property
    def detailed(self) -> bool:
        """Whether the mismatches say more than `expected` and `came` already do (an
        expectation of several parts, of which some held)."""
        return len(self.mismatches) > 1 or ", " in self.expected

    def as_dict(self) -> dict[str, Any]:
        return {"step": self.step, "line": self.line, "what": self.shown,
                "expected": self.expected, "came": self.came, "mismatches": self.mismatches,
                "hints": self.hints}  # fmt: skip


@dataclass
class Said:
    """One line of the transcript: who said (or did) what."""

    who: str  # phone, bot, clock
    text: str

    def as_dict(self) -> dict[str, Any]:
        return {"who": self.who, "text": self.text}


@dataclass
class ConversationResult:
    source: str
    name: str
    outcome: Outcome = Outcome.PASSED
    provider: str | None = None
    agent: str | None = None
    phone: str | None = None
    steps: list[StepResult] = field(default_factory=list)
    total_steps: int = 0
    failure: Failure | None = None
    error: str | None = None
    transcript: list[Said] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the run noticed beside its steps
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.outcome is Outcome.PASSED

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "name": self.name,
            "outcome": self.outcome.value,
            "provider": self.provider,
            "agent": self.agent,
            "phone": self.phone,
            "seconds": round(self.seconds, 3),
            "steps": [s.as_dict() for s in self.steps],
            "total_steps": self.total_steps,
            "failure": self.failure.as_dict() if self.failure else None,
            "error": self.error,
            "transcript": [s.as_dict() for s in self.transcript],
            "notes": list(self.notes),
        }


class Progress:
    """What a run tells as it goes (the CLI prints it; others need nothing)."""

    def started(self, conversation: Conversation) -> None: ...

    def stepped(self, result: ConversationResult, step: StepResult) -> None: ...

    def finished(self, result: ConversationResult) -> None: ...


class Unavailable(Exception):
    """The emulator did not answer, or refused the runner itself (its token, its host)."""


class _Failed(Exception):
    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.expected)
        self.failure = failure


class _OutOfTime(Exception):
    pass


class Control:
    """The control API as the runner uses it: JSON in, JSON out, failures as exceptions."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def call(
        self, method: str, path: str, expected: tuple[int, ...] = (200,), **kw: Any
    ) -> tuple[int, Any]:
        try:
            response = await self.http.request(method, "/_emulator" + path, **kw)
        except httpx.HTTPError as exc:
            where = self.http.base_url
            why = str(exc) or type(exc).__name__
            raise Unavailable(f"cannot reach the emulator at {where}: {why}") from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code not in expected:
            error = body.get("error") if isinstance(body, dict) else response.text[:300]
            raise Unavailable(f"the emulator answered {method} /_emulator{path} with "
                              f"{response.status_code}: {error}")  # fmt: skip
        return response.status_code, body


async def run_conversations(
    conversations: Sequence[Conversation | ConversationError],
    http: httpx.AsyncClient,
    *,
    limits: Limits | None = None,
    reset: bool = False,
    keep_settings: bool = False,
    progress: Progress | None = None,
    bots: dict[tuple[str, str], str] | None = None,
) -> list[ConversationResult]:
    """Run each conversation in turn (a file that could not be read is an error result, the
    others still run). `reset` forgets the emulator's state before each (its tenant's only when
    the file names one), so each begins as if alone. `bots` (kept across runs by a caller
    that makes several, as the pytest plugin does) learns the tenant each agent's bot sends as:
    a phone that writes first in a file naming no tenant files its message there."""
    limits = limits or Limits()
    progress = progress or Progress()
    deadline = time.monotonic() + limits.budget if limits.budget is not None else None
    control = Control(http)
    results: list[ConversationResult] = []
    # The tenant each agent's bot sent as in earlier conversations: where a phone that writes
    # first files its message when its file names no tenant (a reset forgets the emulator's
    # own record of it).
    bots = {} if bots is None else bots
    for item in conversations:
        if isinstance(item, ConversationError):
            failed = ConversationResult(item.source, item.source, Outcome.ERROR,
                                        error="\n".join(item.problems))  # fmt: skip
            progress.finished(failed)
            results.append(failed)
            continue
        if deadline is not None and time.monotonic() >= deadline:
            result = _result_of(item)
            result.outcome = Outcome.ERROR
            result.error = f"not run: the run's time budget ({limits.budget:g} s) ran out"
            progress.finished(result)
            results.append(result)
            continue
        progress.started(item)
        run = _Run(item, control, limits, deadline, progress, bots)
        result = await run.run(reset=reset, keep_settings=keep_settings)
        progress.finished(result)
        results.append(result)
    return results


def _result_of(conversation: Conversation) -> ConversationResult:
    return ConversationResult(
        conversation.source,
        conversation.name,
        provider=conversation.provider,
        agent=conversation.agent,
        phone=conversation.phone,
        total_steps=len(conversation.steps),
    )


class _Run:
    def __init__(
        self,
        conversation: Conversation,
        control: Control,
        limits: Limits,
        deadline: float | None,
        progress: Progress,
        bots: dict[tuple[str, str], str] | None = None,
    ) -> None:
        self.c = conversation
        self.bots = {} if bots is None else bots
        # Where a thread the phone opens is filed: the file's tenant, else the one the bot is
        # known to send as; and where the phone's first message went, and the bot's replies.
        self.opener: str | None = conversation.tenant
        self.opened_in: str | None = None
        self.bot_tenant: str | None = None
        self.control = control
        self.limits = limits
        self.deadline = deadline
        self.progress = progress
        self.result = _result_of(conversation)
        self.scope: dict[str, str] = {"provider": conversation.provider,
                                      "agent": conversation.agent}  # fmt: skip
        if conversation.tenant is not None:
            self.scope["tenant"] = conversation.tenant
        self.floor = 0  # every message below this place of the listing is behind the phone
        self.seen: set[str] = set()
        self.acted: list[tuple[int, str, str]] = []  # step, message id, event: for hints
        self.surprises_before = 0
        self.agent_before = 0
        self.phone_before = 0
        self.clock: dict[str, Any] | None = None

    # -- the run ---------------------------------------------------------------------------

    async def run(self, reset: bool, keep_settings: bool) -> ConversationResult:
        started = time.monotonic()
        result = self.result
        try:
            self._within_limits()
            await self._prepare(reset, keep_settings)
            for number, step in enumerate(self.c.steps, start=1):
                began = time.monotonic()
                try:
                    await self._step(number, step)
                except _Failed as failed:
                    result.outcome = Outcome.FAILED
                    result.failure = failed.failure
                    done = StepResult(number, step.line, step.kind.value, step.describe(), False,
                                      time.monotonic() - began)  # fmt: skip
                    result.steps.append(done)
                    self.progress.stepped(result, done)
                    break
                done = StepResult(number, step.line, step.kind.value, step.describe(), True,
                                  time.monotonic() - began)  # fmt: skip
                result.steps.append(done)
                self.progress.stepped(result, done)
        except Unavailable as exc:
            result.outcome, result.error = Outcome.ERROR, str(exc)
        except _OutOfTime:
            result.outcome = Outcome.ERROR
            at = len(result.steps) + 1
            result.error = (f"the run's time budget ({self.limits.budget:g} s) ran out at "
                            f"step {at}")  # fmt: skip
        result.seconds = time.monotonic() - started
        return result

    def _within_limits(self) -> None:
        limits, steps = self.limits, self.c.steps
        if limits.max_steps is not None and len(steps) > limits.max_steps:
            raise Unavailable(f"{len(steps)} steps: a run here takes at most {limits.max_steps} "
                              "a conversation")  # fmt: skip
        if limits.max_wait is None:
            return
        waits = [("timeout", self.c.timeout)]
        for number, step in enumerate(steps, start=1):
            if isinstance(step, ExpectStep) and step.expect.timeout is not None:
                waits.append((f"step {number} timeout", step.expect.timeout))
            elif isinstance(step, ExpectNoneStep):
                waits.append((f"step {number} expect_none", step.expect_none))
        for where, seconds in waits:
            if seconds > limits.max_wait:
                raise Unavailable(f"{where} {seconds:g} s: a run here waits at most "
                                  f"{limits.max_wait:g} s at a time")  # fmt: skip

    async def _prepare(self, reset: bool, keep_settings: bool) -> None:
        c = self.c
        if self.opener is None:  # asked before a reset forgets the bot's messages
            self.opener = self.bots.get((c.provider, c.agent)) or await self._bots_tenant()
        if reset:
            params: dict[str, Any] = {"keep_settings": "true" if keep_settings else "false"}
            if c.tenant is not None:
                params["tenant"] = c.tenant
            await self.control.call("POST", "/reset", params=params)
        if c.webhook_url is not None:
            body: dict[str, Any] = {"webhook_url": c.webhook_url}
            if c.tenant is not None:
                body["tenant"] = c.tenant
            path = f"/agents/{quote(c.provider, safe='')}/{quote(c.agent, safe='')}"
            await self.control.call("PUT", path, json=body)
        _, found = await self.control.call("GET", "/surprises", params={"limit": 1})
        self.surprises_before = int(found["total"])
        self.agent_before = await self._total(self.scope)
        self.phone_before = await self._total({"provider": c.provider, "phone": c.phone})
        self.floor = await self._total(self.scope | {"phone": c.phone})

    async def _step(self, number: int, step: Step) -> None:
        if isinstance(step, UserStep):
            await self._user(number, step)
        elif isinstance(step, TapStep):
            await self._tap(number, step)
        elif isinstance(step, ExpectStep):
            await self._expect(number, step)
        elif isinstance(step, ExpectNoneStep):
            await self._expect_none(number, step)
        elif isinstance(step, WaitStep):
            await self._wait(number, step)

    # -- the phone's side ------------------------------------------------------------------

    async def _user(self, number: int, step: UserStep) -> None:
        c = self.c
        body: dict[str, Any] = {"provider": c.provider, "agent_id": c.agent, "phone": c.phone,
                                "text": step.user}  # fmt: skip
        if self.opener is not None:  # where the thread lives if this message opens it
            body["tenant"] = self.opener
        self.result.transcript.append(Said("phone", step.user))
        status, answer = await self.control.call("POST", "/inbound", (200, 409), json=body)
        if status == 409:
            raise self._failure(number, step, "the emulator to take the phone's message",
                                f"refused: {answer.get('error')}")  # fmt: skip
        self.acted.append((number, answer["message_id"], answer["event"]))
        if self.bot_tenant is None and self.opened_in is None:
            path = f"/messages/{answer['message_id']}"
            _, record = await self.control.call("GET", path)
            if record["kind"] == USER_MESSAGE:  # it opened the thread: filed under this tenant
                self.opened_in = record["tenant"]

    async def _bots_tenant(self) -> str | None:
        """The tenant this agent's bot sends as, when the emulator holds its messages under
        one tenant only (its newest 50)."""
        scope = {"provider": self.c.provider, "agent": self.c.agent, "exchange": "false"}
        total = await self._total(scope)
        newest = scope | {"offset": max(0, total - 50), "limit": 50}
        _, page = await self.control.call("GET", "/messages", params=newest)
        tenants = {m["tenant"] for m in page["items"] if m["kind"] != USER_MESSAGE}
        return tenants.pop() if len(tenants) == 1 else None

    def _from_bot(self, message: dict[str, Any]) -> None:
        """The bot's message the phone sees: the tenant the bot sends as, noted once; a first
        message of the phone's filed elsewhere (no tenant was known for it) is said."""
        if self.bot_tenant is not None:
            return
        self.bot_tenant = message["tenant"]
        self.bots[(self.c.provider, self.c.agent)] = self.bot_tenant
        if self.opened_in is not None and self.opened_in != self.bot_tenant:
            note = (
                f"the phone's first message went to tenant {self.opened_in!r} (no tenant was "
                f"known for agent {self.c.agent}) and the bot answers as {self.bot_tenant!r}: "
                f"two conversations in the inbox; `tenant: {self.bot_tenant}` in the file keeps "
                "them in one"
            )
            self.result.notes.append(note)

    async def _tap(self, number: int, step: TapStep) -> None:
        target = step.tap
        index, message = await self._newest(number, step)
        found = [s for s in message["suggestions"] if s["label"] == target.label
                 and (target.card is None or s["card"] == target.card - 1)]  # fmt: skip
        if not found:
            raise self._failure(number, step, f"a chip [{target.label}]"
                                + (f" on card {target.card}" if target.card else "")
                                + " on the bot's newest message", as_seen(message))  # fmt: skip
        if len({s["postback"] for s in found}) > 1:
            cards = ", ".join(str(s["card"] + 1) for s in found if s["card"] is not None)
            which = (f"{len(found)} chips read [{target.label}] (cards {cards}): say which, "
                     f"as `tap: {{label: {target.label}, card: N}}`")  # fmt: skip
            raise self._failure(
                number, step, f"one chip [{target.label}]", as_seen(message), [which]
            )
        chip = found[0]
        where = f" (card {target.card})" if target.card is not None else ""
        self.result.transcript.append(Said("phone", f"taps [{target.label}]{where}"))
        c = self.c
        body = {"provider": c.provider, "agent_id": c.agent, "phone": c.phone,
                "postback": chip["postback"], "message_id": message["id"]}  # fmt: skip
        status, answer = await self.control.call("POST", "/inbound", (200, 409), json=body)
        if status == 409:
            raise self._failure(number, step, f"the emulator to take a tap on [{target.label}]",
                                f"refused: {answer.get('error')}")  # fmt: skip
        self.acted.append((number, answer["message_id"], answer["event"]))
        self.seen.add(message["id"])  # the phone has seen it, and everything before it
        self.floor = max(self.floor, index + 1)

    async def _newest(self, number: int, step: TapStep) -> tuple[int, dict[str, Any]]:
        """The bot's newest message to the phone (waiting for a first one, if it has none)."""
        scope = self.scope | {"phone": self.c.phone}
        deadline = self._until(self.c.timeout)
        delay = POLL_FIRST
        while True:
            total = await self._total(scope)
            start = max(0, total - 20)
            _, page = await self.control.call("GET", "/messages", params=scope | {
                "offset": start, "limit": 20, "exchange": "false"})  # fmt: skip
            for offset in range(len(page["items"]) - 1, -1, -1):
                message = page["items"][offset]
                if message["kind"] != USER_MESSAGE and message["status"] != "scheduled":
                    self._from_bot(message)
                    return start + offset, message
            if time.monotonic() >= deadline:
                self._check_budget()
                raise self._failure(number, step, f"a message with a chip [{step.tap.label}] "
                                    f"within {self.c.timeout:g} s", "nothing",
                                    hints=await self._hints())  # fmt: skip
            await asyncio.sleep(delay)
            delay = min(delay * 2, POLL_MOST)

    # -- the bot's side --------------------------------------------------------------------

    async def _expect(self, number: int, step: ExpectStep) -> None:
        wanted = step.expect
        timeout = wanted.timeout if wanted.timeout is not None else self.c.timeout
        message = await self._next_message(timeout)
        if message is None:
            self._check_budget()
            hints = await self._hints()
            raise self._failure(
                number, step, wanted.describe(), f"nothing within {timeout:g} s", hints=hints
            )
        seen = as_seen(message)
        self.result.transcript.append(Said("bot", seen))
        mismatches = check(wanted, message)
        if mismatches:
            raise self._failure(number, step, wanted.describe(), seen, mismatches)

    async def _expect_none(self, number: int, step: ExpectNoneStep) -> None:
        began = time.monotonic()
        message = await self._next_message(step.expect_none)
        if message is None:
            self._check_budget()
            self.result.transcript.append(Said("bot", f"(nothing for {step.expect_none:g} s)"))
            return
        seen = as_seen(message)
        self.result.transcript.append(Said("bot", seen))
        after = time.monotonic() - began
        raise self._failure(number, step, f"no message for {step.expect_none:g} s",
                            f"{seen} (after {after:.1f} s)")  # fmt: skip

    async def _next_message(self, timeout: float) -> dict[str, Any] | None:
        """The first message the phone has not seen yet, once it is there (or None when
        `timeout` real seconds pass); the phone has seen it from then on."""
        deadline = self._until(timeout)
        delay = POLL_FIRST
        scope = self.scope | {"phone": self.c.phone, "exchange": "false", "limit": PAGE}
        while True:
            offset = self.floor
            while True:
                _, page = await self.control.call("GET", "/messages", params=scope | {
                    "offset": offset})  # fmt: skip
                for place, message in enumerate(page["items"], start=offset):
                    if message["id"] in self.seen or message["kind"] == USER_MESSAGE:
                        if place == self.floor:
                            self.floor += 1  # behind the phone from now on
                        continue
                    if message["status"] == "scheduled":
                        continue  # not on the phone yet: a later one may come first
                    self.seen.add(message["id"])
                    if place == self.floor:
                        self.floor += 1
                    self._from_bot(message)
                    return dict(message)
                offset += len(page["items"])
                if not page["items"] or offset >= page["total"]:
                    break
            if time.monotonic() >= deadline:
                return None
            await asyncio.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 2, POLL_MOST)

    # -- time ------------------------------------------------------------------------------

    async def _wait(self, number: int, step: WaitStep) -> None:
        if self.clock is None:
            _, self.clock = await self.control.call("GET", "/clock")
        mode = self.clock.get("mode")
        self.result.transcript.append(Said("clock", f"{step.wait:g} s pass"))
        if mode == "manual":
            body: dict[str, Any] = {"seconds": step.wait}
            if "tenant" in self.scope:  # its own time (each tenant has one on a manual clock)
                body["tenant"] = self.scope["tenant"]
            await self.control.call("POST", "/clock/advance", json=body)
            return
        real = step.wait / float(self.clock.get("speed") or 1.0) if mode == "scaled" else step.wait
        limit = self.limits.max_wait
        if limit is not None and real > limit:
            raise self._failure(number, step, f"at most {limit:g} s of real waiting here",
                                f"a wait of {real:g} s on the emulator's {mode} clock "
                                "(a manual clock moves at once)")  # fmt: skip
        if self.deadline is not None and time.monotonic() + real > self.deadline:
            raise _OutOfTime()
        await asyncio.sleep(real)

    def _until(self, seconds: float) -> float:
        until = time.monotonic() + seconds
        return min(until, self.deadline) if self.deadline is not None else until

    def _check_budget(self) -> None:
        if self.deadline is not None and time.monotonic() >= self.deadline:
            raise _OutOfTime()

    # -- reading ---------------------------------------------------------------------------

    async def _total(self, scope: dict[str, Any]) -> int:
        _, page = await self.control.call("GET", "/messages", params=scope | {
            "limit": 1, "exchange": "false"})  # fmt: skip
        return int(page["total"])

    def _failure(
        self,
        number: int,
        step: Step,
        expected: str,
        came: str,
        mismatches: list[str] | None = None,
        hints: list[str] | None = None,
    ) -> _Failed:
        return _Failed(Failure(number, step.line, step.describe(), expected, came,
                               mismatches or [], hints or []))  # fmt: skip

    async def _hints(self) -> list[str]:
        """Why nothing may have come: callbacks not sent or not accepted, requests the emulator
        refused meanwhile, messages the agent sent to other phones."""
        hints: list[str] = []
        c = self.c
        for number, message_id, event in self.acted[-HINTS_SHOWN:]:
            _, found = await self.control.call("GET", "/webhooks", params={
                "message": message_id, "limit": 100})  # fmt: skip
            callback = callback_for(found["items"], event)
            delivery = callback.delivery
            if callback.fate is Fate.NOT_MADE:
                hints.append(f"step {number} made no callback: {no_webhook_url(c.agent, SET_URL)}")
            elif callback.fate is Fate.NOT_ACCEPTED and delivery is not None:
                hints.append(f"step {number}'s {not_accepted(delivery)}")
            elif callback.fate is Fate.DELIVERED and delivery and delivery["attempts"]:
                status = delivery["attempts"][-1]["status"]
                hints.append(f"the bot accepted step {number}'s callback (status {status}) "
                             "and sent this phone nothing")  # fmt: skip
        _, found = await self.control.call("GET", "/surprises", params={
            "kind": "request", "offset": self.surprises_before, "limit": 100})  # fmt: skip
        refused = [s for s in found["items"] if s.get("provider") in (c.provider, "control")]
        for s in refused[-HINTS_SHOWN:]:
            hints.append(f"the emulator refused {s.get('method')} {s.get('path')} -> "
                         f"{s.get('status')}: {_short(s.get('answer'))}")  # fmt: skip
        _, found = await self.control.call("GET", "/messages", params=self.scope | {
            "offset": self.agent_before, "limit": 100, "exchange": "false"})  # fmt: skip
        elsewhere = [m for m in found["items"] if m["phone"] != c.phone
                     and m["kind"] != USER_MESSAGE]  # fmt: skip
        for m in elsewhere[-HINTS_SHOWN:]:
            hints.append(f"agent {c.agent} sent {m['phone']} (not {c.phone}): {as_seen(m)}")
        _, found = await self.control.call("GET", "/messages", params={
            "provider": c.provider, "phone": c.phone, "offset": self.phone_before, "limit": 100,
            "exchange": "false"})  # fmt: skip
        for m in [m for m in found["items"] if m["kind"] != USER_MESSAGE][-HINTS_SHOWN:]:
            differs = []
            if m["agent_id"] != c.agent:
                differs.append(f"agent {m['agent_id']}, not {c.agent}")
            if c.tenant is not None and m["tenant"] != c.tenant:
                differs.append(f"tenant {m['tenant']}, not {c.tenant}")
            if differs:
                hints.append(f"this phone got a message from {' and '.join(differs)}: "
                             f"{as_seen(m)}")  # fmt: skip
        return hints


def _short(value: Any, most: int = 200) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= most else text[: most - 3] + "..."


# -- what the phone sees -------------------------------------------------------------------------


def as_seen(message: dict[str, Any]) -> str:
    """The bot's message as the phone shows it: its text (or cards, or file) and its chips."""
    display = message.get("display") or {}
    suggestions = message.get("suggestions") or []
    cards = display.get("cards") or []
    file = display.get("file")
    text = message.get("text") or ""
    if message.get("channel") == "SMS":
        return f"SMS {quoted(text)}"
    if cards:
        shown = []
        for index, card in enumerate(cards):
            own = chips(s["label"] for s in suggestions if s["card"] == index)
            parts = [f"card {quoted(card.get('title') or '')}"]
            if card.get("description"):
                parts.append(quoted(card["description"]))
            if own:
                parts.append(own)
            shown.append(" ".join(parts))
        body = ("carousel: " if len(cards) > 1 else "") + "; ".join(shown)
    elif file:
        what = file.get("name") or file.get("url") or "a file"
        body = f"file {what}" + (f" ({file['type']})" if file.get("type") else "")
        if text and text != what:
            body += f" {quoted(text)}"
    else:
        body = quoted(text)
    under = chips(s["label"] for s in suggestions if s["card"] is None)
    return f"{body} {under}" if under else body


def check(wanted: Any, message: dict[str, Any]) -> list[str]:
    """What in the message does not hold (empty when all does)."""
    problems: list[str] = []
    text = message.get("text") or ""
    display = message.get("display") or {}
    if wanted.text is not None and text != wanted.text:
        problems.append(f"text: expected {quoted(wanted.text)}, was {quoted(text)}")
    if wanted.text_contains is not None and wanted.text_contains not in text:
        problems.append(f"text: expected it to contain {quoted(wanted.text_contains)}, "
                        f"was {quoted(text)}")  # fmt: skip
    if wanted.text_matches is not None and re.search(wanted.text_matches, text) is None:
        problems.append(f"text: expected it to match /{wanted.text_matches}/, was {quoted(text)}")
    if wanted.suggestions is not None:
        labels = [s["label"] for s in message.get("suggestions") or []]
        if labels != wanted.suggestions:
            problems.append(f"suggestions: expected {chips(wanted.suggestions) or 'none'}, "
                            f"were {chips(labels) or 'none'}")  # fmt: skip
    if wanted.card_title is not None:
        titles = [c.get("title") for c in display.get("cards") or []]
        if wanted.card_title not in titles:
            shown = ", ".join(quoted(t or "") for t in titles) or "no cards"
            problems.append(f"cards: expected one titled {quoted(wanted.card_title)}, "
                            f"had {shown}")  # fmt: skip
    if wanted.file is not None:
        file = display.get("file")
        if not file:
            problems.append("file: expected a media message, it had no file")
        else:
            for key, value in wanted.file.model_dump(exclude_none=True).items():
                if file.get(key) != value:
                    problems.append(f"file {key}: expected {quoted(value)}, "
                                    f"was {quoted(str(file.get(key)))}")  # fmt: skip
    return problems
