"""Running conversations: the emulator plays the phone, the user's own bot answers through the
provider's API, and each expectation checks the bot's next message to that phone.

The runner sees everything through the control API (the agent's messages to that phone, newer
than the last it saw), so the same runner serves the CLI against a running emulator, an
in-process one, the HTTP endpoint (which calls its own app) and the pytest plugin.

Several cases run at once (`jobs`) without touching each other: each is a phone's conversation
and reads only what happens to that phone from its own start; two cases of one phone never run at
once, nor (when resetting) two cases of one named tenant. What a case may change beyond itself is
scoped to it: a reset forgets its file's tenant when the file names one, and nothing shared when
it names none (the case starts on a fresh view of its phone instead); a wait on a manual clock
moves the time of its file's tenant, or of the tenants its own messages live in, never everyone's.

A file that names no tenant cannot say which tenant the agent's bot sends as (its API key or
account), yet a phone that writes first opens its thread before the bot has used its key: so its
message goes to the tenant the bot is known to send as (`BotTenants`: read from the emulator
before anything is reset, learned from the bot's answers, kept by a caller across runs), and
where that cannot be known yet, the result says so in a note.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import quote

import httpx

from ..callback_hints import Fate, after_step, callback_for, no_webhook_url
from ..core.models import USER_MESSAGE
from .format import (
    ConversationError,
    Expectation,
    ExpectNoneStep,
    ExpectStep,
    Step,
    TapStep,
    UserStep,
    WaitStep,
    chips,
    quoted,
)
from .plan import Case, Planned, substitute

POLL_FIRST, POLL_MOST = 0.02, 0.1  # seconds between looks at the agent's messages
PAGE = 200
HINTS_SHOWN = 3
TAPPABLE = 50  # the newest messages of a phone a tap may name (`message: -N`)
ANSWER_MOST = 2000  # characters of a refused request's answer in a hint (its rule stays whole)
BOT_NEWEST = 50  # the newest messages of an agent read for the tenant its bot sends as
SET_URL = (
    "give webhook_url in the file, in the emulator's config, or through PUT /_emulator/agents/..."
)
Agent = tuple[str, str]  # (provider, agent id)


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


@dataclass(frozen=True)
class Options:
    """How a run treats the emulator it shares."""

    reset: bool = False  # each case begins on its own scope's fresh state (see the module)
    jobs: int = 1  # cases at once
    settings_reset: bool = False  # the run returned agent settings to the config first (hints)


@dataclass
class StepResult:
    number: int
    line: int | None
    kind: str
    shown: str
    passed: bool
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "line": self.line,
            "kind": self.kind,
            "step": self.shown,
            "passed": self.passed,
            "seconds": round(self.seconds, 3),
        }


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
    where: str | None = None  # for an included step: its file and the step that included it

    @property
    def detailed(self) -> bool:
        """Whether the mismatches say more than `expected` and `came` already do (an
        expectation of several parts, of which some held)."""
        return len(self.mismatches) > 1 or ", " in self.expected

    def as_dict(self) -> dict[str, Any]:
        shown = {
            "step": self.step,
            "line": self.line,
            "what": self.shown,
            "expected": self.expected,
            "came": self.came,
            "mismatches": self.mismatches,
            "hints": self.hints,
        }
        if self.where is not None:
            shown["where"] = self.where
        return shown


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
    captured: dict[str, str] = field(default_factory=dict)
    variant: dict[str, str] = field(default_factory=dict)

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
            "variant": self.variant,
            "seconds": round(self.seconds, 3),
            "steps": [s.as_dict() for s in self.steps],
            "total_steps": self.total_steps,
            "failure": self.failure.as_dict() if self.failure else None,
            "error": self.error,
            "captured": self.captured,
            "transcript": [s.as_dict() for s in self.transcript],
            "notes": list(self.notes),
        }


class Progress:
    """What a run tells as it goes (the CLI prints it; others need nothing)."""

    def started(self, result: ConversationResult) -> None: ...

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
            raise Unavailable(
                f"the emulator answered {method} /_emulator{path} with "
                f"{response.status_code}: {error}"
            )
        return response.status_code, body


class BotTenants:
    """The tenant each agent's bot sends as (the API key or account in its requests), learned
    from its messages: where a phone that writes first files its message when its file names no
    tenant. The cases of a run share one (several at once: each run coordinates its own cases
    through `_Openers`), and a caller that makes several runs may keep it across them (the CLI
    reads it before --reset-all forgets the bot's messages; the pytest plugin keeps one per
    session, each test a run on an event loop of its own). So it holds plain data and no
    primitive of any one event loop; each reading or learning is one step, never split by an
    await."""

    def __init__(self) -> None:
        self._tenants: dict[Agent, str] = {}

    def get(self, agent: Agent) -> str | None:
        return self._tenants.get(agent)

    def learn(self, agent: Agent, tenant: str) -> None:
        self._tenants[agent] = tenant  # the newest answer: a bot that changed its key is followed


async def learn_bot_tenants(
    cases: Sequence[Case | ConversationError], http: httpx.AsyncClient, bots: BotTenants
) -> dict[Agent, str]:
    """Read from the emulator the tenant the bot of each agent of a case that names no tenant
    sends as (when its newest messages all come from one), for the agents `bots` does not know:
    before a reset forgets them. What could not be read, per agent (the emulator's refusal, or
    no answer), is returned for those cases to report."""
    control = Control(http)
    problems: dict[Agent, str] = {}
    agents = {(c.provider, c.agent) for c in cases if isinstance(c, Case) and c.tenant is None}
    for agent in sorted(agents):
        if bots.get(agent) is not None:
            continue
        try:
            tenant = await _bots_tenant(control, agent)
        except Unavailable as exc:
            problems[agent] = str(exc)
            continue
        if tenant is not None:
            bots.learn(agent, tenant)
    return problems


async def _bots_tenant(control: Control, agent: Agent) -> str | None:
    """The tenant an agent's bot sends as, when the emulator holds its newest messages under
    one tenant only."""
    provider, agent_id = agent
    scope = {"provider": provider, "agent": agent_id, "exchange": "false"}
    _, first = await control.call("GET", "/messages", params=scope | {"limit": 1})
    total = int(first["total"])
    if total == 0:
        return None
    newest = scope | {"offset": max(0, total - BOT_NEWEST), "limit": BOT_NEWEST}
    _, page = await control.call("GET", "/messages", params=newest)
    tenants = {m["tenant"] for m in page["items"] if m["kind"] != USER_MESSAGE}
    return tenants.pop() if len(tenants) == 1 else None


class _Openers:
    """Within one run: the tenant a phone that writes first files its message in, for the cases
    that name none. While one case of an agent whose bot's tenant is unknown is under way (it
    learns it from the bot's first answer), the run's other cases of that agent wait for it
    before their phone writes, instead of each filing its message under 'default' beside it:
    run at once, they end as they would one after another (only the first files there). When
    it ends without learning, the next one tries."""

    def __init__(self, bots: BotTenants) -> None:
        self.bots = bots
        self.learners: dict[Agent, object] = {}  # the case learning each agent's tenant
        self.changed = asyncio.Condition()

    async def tenant(self, agent: Agent, learner: object) -> str | None:
        """The agent's bot's tenant once known; None when `learner` (a case) is to learn it."""
        async with self.changed:
            while (known := self.bots.get(agent)) is None:
                if self.learners.setdefault(agent, learner) is learner:
                    return None
                await self.changed.wait()
            return known

    async def learned(self, agent: Agent, tenant: str) -> None:
        self.bots.learn(agent, tenant)
        async with self.changed:
            self.changed.notify_all()

    async def ended(self, learner: object) -> None:
        async with self.changed:
            for agent in [a for a, who in self.learners.items() if who is learner]:
                del self.learners[agent]
            self.changed.notify_all()


def error_result(error: ConversationError) -> ConversationResult:
    return ConversationResult(
        error.source, error.source, Outcome.ERROR, error="\n".join(error.problems)
    )


def result_of(case: Case) -> ConversationResult:
    return ConversationResult(
        case.source,
        case.name,
        provider=case.provider,
        agent=case.agent,
        phone=case.phone,
        total_steps=len(case.steps),
        variant=dict(case.variant),
    )


async def run_conversations(
    cases: Sequence[Case | ConversationError],
    http: httpx.AsyncClient,
    *,
    limits: Limits | None = None,
    options: Options | None = None,
    progress: Progress | None = None,
    bots: BotTenants | None = None,
) -> list[ConversationResult]:
    """Run the cases, `options.jobs` at a time (a file that could not be read is an error
    result, the others still run); the results come in the order given. `bots`: the tenants
    agents' bots send as, kept by a caller across its runs (see BotTenants); each run first
    reads those it does not know from the emulator, before any case resets a tenant."""
    limits = limits or Limits()
    options = options or Options()
    progress = progress or Progress()
    deadline = time.monotonic() + limits.budget if limits.budget is not None else None
    control = Control(http)
    bots = BotTenants() if bots is None else bots
    unread = await learn_bot_tenants(cases, http, bots)
    openers = _Openers(bots)
    results: list[ConversationResult | None] = [None] * len(cases)
    waiting = list(range(len(cases)))
    held: set[tuple[str, str]] = set()  # the phones (and tenants) of the cases under way
    active = 0  # cases under way
    changed = asyncio.Condition()

    def claims(case: Case) -> set[tuple[str, str]]:
        own = {("phone", case.phone)}
        if options.reset and case.tenant is not None:
            own.add(("tenant", case.tenant))
        return own

    async def one(index: int, case: Case) -> None:
        nonlocal active
        try:
            result = result_of(case)
            if deadline is not None and time.monotonic() >= deadline:
                result.outcome = Outcome.ERROR
                result.error = f"not run: the run's time budget ({limits.budget:g} s) ran out"
            else:
                progress.started(result)
                run = _Run(case, result, control, limits, options, deadline, progress, openers)
                run.alone = options.jobs == 1 or len(cases) == 1
                if case.tenant is None:
                    run.unread = unread.get((case.provider, case.agent))
                await run.run()
            progress.finished(result)
            results[index] = result
        finally:
            async with changed:
                held.difference_update(claims(case))
                active -= 1
                changed.notify_all()

    running: set[asyncio.Task[None]] = set()
    async with changed:
        while waiting:
            for index in waiting:
                item = cases[index]
                if isinstance(item, ConversationError):
                    failed = error_result(item)
                    progress.finished(failed)
                    results[index] = failed
                    waiting.remove(index)
                    break
                if active < max(1, options.jobs) and not claims(item) & held:
                    held.update(claims(item))
                    active += 1
                    task = asyncio.create_task(one(index, item))
                    running.add(task)
                    task.add_done_callback(running.discard)
                    waiting.remove(index)
                    break
            else:
                await changed.wait()
    if running:
        await asyncio.gather(*running)
    return [r for r in results if r is not None]


class _Run:
    def __init__(
        self,
        case: Case,
        result: ConversationResult,
        control: Control,
        limits: Limits,
        options: Options,
        deadline: float | None,
        progress: Progress,
        openers: _Openers,
    ) -> None:
        self.case = case
        self.timeout = case.conversation.timeout
        self.control = control
        self.limits = limits
        self.options = options
        self.deadline = deadline
        self.progress = progress
        self.result = result
        self.scope: dict[str, str] = {"provider": case.provider, "agent": case.agent}
        if case.tenant is not None:
            self.scope["tenant"] = case.tenant
        self.start = 0  # where this conversation's messages begin in the phone's listing
        self.floor = 0  # every message below this place of the listing is behind the phone
        self.seen: set[str] = set()
        # For hints: each action's step, message id, event, and where the listing stood after it.
        self.acted: list[tuple[int, str, str, int]] = []
        self.tenants: list[str] = []  # the tenants this conversation's messages live in
        self.captured: dict[str, str] = result.captured
        self.surprises_before = 0
        self.agent_before = 0
        self.phone_before = 0
        self.clock: dict[str, Any] | None = None
        self.alone = True  # no other case of the run is under way beside it (hints)
        # A file that names no tenant: the tenant its bot sends as (from the bot's first message
        # this case sees), where the phone's first message went when it opened the thread, and
        # why the bot's tenant could not be read before the run (it then cannot run).
        self.openers = openers
        self.bot_tenant: str | None = None
        self.opened_in: str | None = None
        self.unread: str | None = None

    # -- the run ---------------------------------------------------------------------------

    async def run(self) -> None:
        started = time.monotonic()
        result = self.result
        try:
            self._within_limits()
            if self.unread is not None:
                raise Unavailable(self.unread)
            await self._prepare()
            for planned in self.case.steps:
                began = time.monotonic()
                step = planned.step
                if self.case.captures:
                    step = substitute(step, self.captured)
                try:
                    await self._step(planned, step)
                except _Failed as failed:
                    result.outcome = Outcome.FAILED
                    result.failure = failed.failure
                    self._stepped(planned, step, False, began)
                    break
                self._stepped(planned, step, True, began)
        except Unavailable as exc:
            result.outcome, result.error = Outcome.ERROR, str(exc)
        except _OutOfTime:
            result.outcome = Outcome.ERROR
            at = len(result.steps) + 1
            result.error = f"the run's time budget ({self.limits.budget:g} s) ran out at step {at}"
        finally:
            await self.openers.ended(self)  # another case of its agent may learn its bot's tenant
        result.seconds = time.monotonic() - started

    def _stepped(self, planned: Planned, step: Step, passed: bool, began: float) -> None:
        done = StepResult(
            planned.number,
            planned.line,
            step.kind.value,
            step.describe(),
            passed,
            time.monotonic() - began,
        )
        self.result.steps.append(done)
        self.progress.stepped(self.result, done)

    def _within_limits(self) -> None:
        limits, steps = self.limits, [p.step for p in self.case.steps]
        if limits.max_steps is not None and len(steps) > limits.max_steps:
            raise Unavailable(
                f"{len(steps)} steps: a run here takes at most {limits.max_steps} a conversation"
            )
        if limits.max_wait is None:
            return
        waits = [("timeout", self.timeout)]
        for number, step in enumerate(steps, start=1):
            if isinstance(step, ExpectStep) and step.expect.timeout is not None:
                waits.append((f"step {number} timeout", step.expect.timeout))
            elif isinstance(step, ExpectNoneStep):
                waits.append((f"step {number} expect_none", step.expect_none))
        for where, seconds in waits:
            if seconds > limits.max_wait:
                raise Unavailable(
                    f"{where} {seconds:g} s: a run here waits at most {limits.max_wait:g} s at "
                    "a time"
                )

    async def _prepare(self) -> None:
        case = self.case
        if self.options.reset and case.tenant is not None:
            await self.control.call("POST", "/reset", params={"tenant": case.tenant})
        webhook_url = case.conversation.webhook_url
        if webhook_url is not None:
            body: dict[str, Any] = {"webhook_url": webhook_url}
            if case.tenant is not None:
                body["tenant"] = case.tenant
            path = f"/agents/{quote(case.provider, safe='')}/{quote(case.agent, safe='')}"
            await self.control.call("PUT", path, json=body)
        _, found = await self.control.call("GET", "/surprises", params={"limit": 1})
        self.surprises_before = int(found["total"])
        self.agent_before = await self._total(self.scope)
        self.phone_before = await self._total({"provider": case.provider, "phone": case.phone})
        self.start = self.floor = await self._total(self.scope | {"phone": case.phone})

    async def _step(self, planned: Planned, step: Step) -> None:
        if isinstance(step, UserStep):
            await self._user(planned, step)
        elif isinstance(step, TapStep):
            await self._tap(planned, step)
        elif isinstance(step, ExpectStep):
            await self._expect(planned, step)
        elif isinstance(step, ExpectNoneStep):
            await self._expect_none(planned, step)
        elif isinstance(step, WaitStep):
            await self._wait(planned, step)

    # -- the phone's side ------------------------------------------------------------------

    async def _user(self, planned: Planned, step: UserStep) -> None:
        case = self.case
        body: dict[str, Any] = {
            "provider": case.provider,
            "agent_id": case.agent,
            "phone": case.phone,
            "text": step.user,
        }
        tenant = await self._opener()  # where the thread lives if this message opens it
        if tenant is not None:
            body["tenant"] = tenant
        self.result.transcript.append(Said("phone", step.user))
        at = await self._total(self.scope | {"phone": self.case.phone})
        status, answer = await self.control.call("POST", "/inbound", (200, 409), json=body)
        if status == 409:
            raise self._failure(
                planned,
                step,
                "the emulator to take the phone's message",
                f"refused: {answer.get('error')}",
            )
        message = await self._acted(planned, answer, at)
        if message is not None and message["kind"] == USER_MESSAGE:  # it opened the thread
            if self.bot_tenant is None and self.opened_in is None:
                self.opened_in = message["tenant"]  # filed under this tenant

    async def _opener(self) -> str | None:
        """The tenant a thread the phone opens lives in: the file's, else the one the bot sends
        as (seen in this case, known to the run, or learned by another case of its agent that
        is under way, waited for); None while this case is the one to learn it."""
        case = self.case
        if case.tenant is not None or self.bot_tenant is not None:
            return case.tenant or self.bot_tenant
        waiting = self.openers.tenant((case.provider, case.agent), self)
        if self.deadline is None:
            return await waiting
        try:
            return await asyncio.wait_for(waiting, max(0.0, self.deadline - time.monotonic()))
        except TimeoutError:
            raise _OutOfTime() from None

    async def _from_bot(self, message: dict[str, Any]) -> None:
        """The bot's message the phone sees: the tenant the bot sends as, learned once; a first
        message of the phone's filed elsewhere (no tenant was known for it) is said in a note."""
        if self.bot_tenant is not None:
            return
        case = self.case
        self.bot_tenant = message["tenant"]
        await self.openers.learned((case.provider, case.agent), self.bot_tenant)
        if self.opened_in is not None and self.opened_in != self.bot_tenant:
            self.result.notes.append(
                f"the phone's first message went to tenant {self.opened_in!r} (no tenant was "
                f"known for agent {case.agent}) and the bot answers as {self.bot_tenant!r}: "
                f"two conversations in the inbox; `tenant: {self.bot_tenant}` in the file keeps "
                "them in one"
            )

    async def _acted(
        self, planned: Planned, answer: dict[str, Any], at: int
    ) -> dict[str, Any] | None:
        """Note the phone's action for hints (`at`: the phone's place in its listing before it
        acted: a bot message from there on came after it, however fast the bot answered the
        callback the action made); its message, unless it is gone."""
        self.acted.append((planned.number, answer["message_id"], answer["event"], at))
        path = f"/messages/{quote(answer['message_id'], safe='')}"
        status, message = await self.control.call("GET", path, (200, 404))
        if status != 200:  # gone: someone reset the emulator meanwhile; a hint will say so
            return None
        self._lives_in(message)
        return dict(message)

    def _lives_in(self, message: dict[str, Any]) -> None:
        if message["tenant"] not in self.tenants:
            self.tenants.append(message["tenant"])

    async def _tap(self, planned: Planned, step: TapStep) -> None:
        target = step.tap
        shown = step.tap.describe()
        sent = await self._tappable(planned, step)
        back = -target.message
        if back > len(sent):
            came = f"{len(sent)} message{'s' if len(sent) != 1 else ''} from the bot"
            raise self._failure(
                planned, step, f"a message {target.message} (counting back from the newest)", came
            )
        message = sent[-back][1]
        newest = back == 1
        found = [
            s
            for s in message["suggestions"]
            if (s["label"] == target.label if target.label is not None else True)
            and (s["postback"] == target.postback if target.postback is not None else True)
            and (target.card is None or s["card"] == target.card - 1)
        ]
        which = "the bot's newest message" if newest else f"the bot's message {target.message}"
        if not found:
            where = f" on card {target.card}" if target.card else ""
            chip = f"a chip [{target.label}]" if target.label is not None else f"a chip {shown}"
            raise self._failure(planned, step, f"{chip}{where} on {which}", as_seen(message))
        if len({s["postback"] for s in found}) > 1:
            cards = ", ".join(str(s["card"] + 1) for s in found if s["card"] is not None)
            how = (
                f"{len(found)} chips read [{target.label}] (cards {cards}): say which, as "
                f"`tap: {{label: {target.label}, card: N}}`"
            )
            raise self._failure(planned, step, f"one chip {shown}", as_seen(message), [how])
        chip = found[0]
        if not newest and chip["card"] is None:
            raise self._failure(
                planned,
                step,
                f"a chip {shown} a phone still offers",
                f"[{chip['label']}] is under {which}: a phone offers the chips under a message "
                "only while it is the newest (a card's chips stay)",
            )
        said = f"taps [{chip['label']}]" + (f" (card {target.card})" if target.card else "")
        if not newest:
            said += f" on message {target.message}"
        self.result.transcript.append(Said("phone", said))
        case = self.case
        body = {
            "provider": case.provider,
            "agent_id": case.agent,
            "phone": case.phone,
            "postback": chip["postback"],
            "message_id": message["id"],
        }
        at = await self._total(self.scope | {"phone": case.phone})
        status, answer = await self.control.call("POST", "/inbound", (200, 409), json=body)
        if status == 409:
            raise self._failure(
                planned,
                step,
                f"the emulator to take a tap on {shown}",
                f"refused: {answer['error']}",
            )
        await self._acted(planned, answer, at)
        newest_index, newest_message = sent[-1]
        self.seen.add(newest_message["id"])  # the phone has seen it, and everything before it
        self.floor = max(self.floor, newest_index + 1)

    async def _tappable(self, planned: Planned, step: TapStep) -> list[tuple[int, dict[str, Any]]]:
        """The bot's newest messages on the phone, oldest first, with their places in the
        listing (waiting for a first one, if there is none). Those from before the conversation
        began count too: a phone taps what it shows, and a file may begin with a tap on what
        the bot sent first."""
        deadline = self._until(self.timeout)
        delay = POLL_FIRST
        while True:
            total = await self._total(self.scope | {"phone": self.case.phone})
            sent = [
                (place, m)
                for place, m in await self._listing(max(0, total - TAPPABLE))
                if m["kind"] != USER_MESSAGE and m["status"] != "scheduled"
            ]
            if sent:
                await self._from_bot(sent[-1][1])
                return sent
            if time.monotonic() >= deadline:
                self._check_budget()
                what = f"a message with a chip {step.tap.describe()} within {self.timeout:g} s"
                raise self._failure(planned, step, what, "nothing", hints=await self._hints())
            await asyncio.sleep(delay)
            delay = min(delay * 2, POLL_MOST)

    async def _listing(self, offset: int) -> list[tuple[int, dict[str, Any]]]:
        """The phone's messages in this conversation's scope from `offset` on, with places."""
        scope = self.scope | {"phone": self.case.phone, "exchange": "false", "limit": PAGE}
        found: list[tuple[int, dict[str, Any]]] = []
        while True:
            _, page = await self.control.call("GET", "/messages", params=scope | {"offset": offset})
            for place, message in enumerate(page["items"], start=offset):
                found.append((place, message))
                self._lives_in(message)
            offset += len(page["items"])
            if not page["items"] or offset >= page["total"]:
                return found

    # -- the bot's side --------------------------------------------------------------------

    async def _expect(self, planned: Planned, step: ExpectStep) -> None:
        wanted = step.expect
        timeout = wanted.timeout if wanted.timeout is not None else self.timeout
        message = await self._next_message(timeout)
        if message is None:
            self._check_budget()
            hints = await self._hints()
            raise self._failure(
                planned, step, wanted.describe(), f"nothing within {timeout:g} s", hints=hints
            )
        seen = as_seen(message)
        self.result.transcript.append(Said("bot", seen))
        mismatches = check(wanted, message)
        if not mismatches and wanted.capture:
            values, mismatches = capture(wanted, message)
            self.captured.update(values)
        if mismatches:
            raise self._failure(planned, step, wanted.describe(), seen, mismatches)

    async def _expect_none(self, planned: Planned, step: ExpectNoneStep) -> None:
        began = time.monotonic()
        message = await self._next_message(step.expect_none)
        if message is None:
            self._check_budget()
            self.result.transcript.append(Said("bot", f"(nothing for {step.expect_none:g} s)"))
            return
        seen = as_seen(message)
        self.result.transcript.append(Said("bot", seen))
        after = time.monotonic() - began
        raise self._failure(
            planned,
            step,
            f"no message for {step.expect_none:g} s",
            f"{seen} (after {after:.1f} s)",
        )

    async def _next_message(self, timeout: float) -> dict[str, Any] | None:
        """The first message the phone has not seen yet, once it is there (or None when
        `timeout` real seconds pass); the phone has seen it from then on."""
        deadline = self._until(timeout)
        delay = POLL_FIRST
        while True:
            for place, message in await self._listing(self.floor):
                if message["id"] in self.seen or message["kind"] == USER_MESSAGE:
                    if place == self.floor:
                        self.floor += 1  # behind the phone from now on
                    continue
                if message["status"] == "scheduled":
                    continue  # not on the phone yet: a later one may come first
                self.seen.add(message["id"])
                if place == self.floor:
                    self.floor += 1
                await self._from_bot(message)
                return dict(message)
            if time.monotonic() >= deadline:
                return None
            await asyncio.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 2, POLL_MOST)

    # -- time ------------------------------------------------------------------------------

    async def _wait(self, planned: Planned, step: WaitStep) -> None:
        if self.clock is None:
            _, self.clock = await self.control.call("GET", "/clock")
        mode = self.clock.get("mode")
        self.result.transcript.append(Said("clock", f"{step.wait:g} s pass"))
        if mode == "manual":
            # Its own time: the file's tenant's, else that of each tenant its messages live in
            # (a manual clock keeps each tenant's time); never everyone's.
            tenant = self.case.tenant
            if tenant is None:
                await self._listing(self.start)  # every tenant its messages live in so far
            for each in [tenant] if tenant is not None else self.tenants:
                body = {"seconds": step.wait, "tenant": each}
                await self.control.call("POST", "/clock/advance", json=body)
            return
        real = step.wait / float(self.clock.get("speed") or 1.0) if mode == "scaled" else step.wait
        limit = self.limits.max_wait
        if limit is not None and real > limit:
            raise self._failure(
                planned,
                step,
                f"at most {limit:g} s of real waiting here",
                f"a wait of {real:g} s on the emulator's {mode} clock (a manual clock moves at "
                "once)",
            )
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
        _, page = await self.control.call(
            "GET", "/messages", params=scope | {"limit": 1, "exchange": "false"}
        )
        return int(page["total"])

    def _failure(
        self,
        planned: Planned,
        step: Step,
        expected: str,
        came: str,
        mismatches: list[str] | None = None,
        hints: list[str] | None = None,
    ) -> _Failed:
        where = planned.where if planned.via is not None else None
        return _Failed(
            Failure(
                planned.number,
                planned.line,
                step.describe(),
                expected,
                came,
                mismatches or [],
                hints or [],
                where,
            )
        )

    async def _hints(self) -> list[str]:
        """Why nothing may have come: callbacks not sent or not accepted (or accepted, and the
        bot sent nothing since), requests about this phone the emulator refused meanwhile,
        messages the agent sent to phones of no conversation here."""
        hints: list[str] = []
        case = self.case
        bot_places = [
            place for place, m in await self._listing(self.start) if m["kind"] != USER_MESSAGE
        ]
        for number, message_id, event, at in self.acted[-HINTS_SHOWN:]:
            answered = any(place >= at for place in bot_places)
            hint = await self._callback_hint(number, message_id, event, answered)
            if hint is not None:
                hints.append(hint)
        _, found = await self.control.call(
            "GET",
            "/surprises",
            params={"kind": "request", "offset": self.surprises_before, "limit": 100},
        )
        digits = case.phone.lstrip("+")
        refused = [
            s
            for s in found["items"]
            if s.get("provider") in (case.provider, "control")
            and digits in f"{s.get('sent') or ''} {s.get('path') or ''}"
        ]
        for s in refused[-HINTS_SHOWN:]:
            hints.append(
                f"the emulator refused {s.get('method')} {s.get('path')} -> {s.get('status')}: "
                f"{answer_text(s.get('answer'))}"
            )
        _, found = await self.control.call(
            "GET",
            "/messages",
            params=self.scope | {"offset": self.agent_before, "limit": 100, "exchange": "false"},
        )
        elsewhere = [
            m for m in found["items"] if m["phone"] != case.phone and m["kind"] != USER_MESSAGE
        ]
        for m in elsewhere[-HINTS_SHOWN:] if self.alone else ():
            hints.append(f"agent {case.agent} sent {m['phone']} (not {case.phone}): {as_seen(m)}")
        _, found = await self.control.call(
            "GET",
            "/messages",
            params={
                "provider": case.provider,
                "phone": case.phone,
                "offset": self.phone_before,
                "limit": 100,
                "exchange": "false",
            },
        )
        for m in [m for m in found["items"] if m["kind"] != USER_MESSAGE][-HINTS_SHOWN:]:
            differs = []
            if m["agent_id"] != case.agent:
                differs.append(f"agent {m['agent_id']}, not {case.agent}")
            if case.tenant is not None and m["tenant"] != case.tenant:
                differs.append(f"tenant {m['tenant']}, not {case.tenant}")
            if differs:
                hints.append(f"this phone got a message from {' and '.join(differs)}: {as_seen(m)}")
        return hints

    async def _callback_hint(
        self, number: int, message_id: str, event: str, answered: bool
    ) -> str | None:
        """What became of the callback one of the phone's actions made."""
        case = self.case
        _, found = await self.control.call(
            "GET", "/webhooks", params={"message": message_id, "limit": 100}
        )
        callback = callback_for(found["items"], event)
        if callback.fate is not Fate.NOT_MADE:
            return after_step(number, callback, answered)
        status, _ = await self.control.call(
            "GET", f"/messages/{quote(message_id, safe='')}", (200, 404)
        )
        if status == 404:
            return (
                f"step {number}'s message is gone from the emulator: its state was reset "
                "meanwhile (by another run's reset of everything?), callbacks and all"
            )
        why = ""
        if self.options.settings_reset:
            why = (
                "; this run's reset of everything returned agent settings made through the "
                "control API to the config first (--keep-settings keeps them)"
            )
        return f"step {number} made no callback: {no_webhook_url(case.agent, SET_URL)}{why}"


def answer_text(value: Any) -> str:
    """A refused request's answer on one line, whole (a provider's rule is never cut off; only
    an answer past ANSWER_MOST characters is, at a whole item)."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(text.split())
    if len(text) <= ANSWER_MOST:
        return text
    cut = text.rfind(", ", 0, ANSWER_MOST)
    return text[: cut if cut > 0 else ANSWER_MOST] + f" ... ({len(text)} characters in all)"


# -- what the phone sees -------------------------------------------------------------------------


def as_seen(message: dict[str, Any]) -> str:
    """The bot's message as the phone shows it: its text (or cards, or file) and its chips;
    the chips under the message come after a `|`, apart from the last card's own."""
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
    if not under:
        return body
    return f"{body} | {under}" if cards else f"{body} {under}"


def _same(wanted: str, given: str, ignore_case: bool) -> bool:
    return wanted.casefold() == given.casefold() if ignore_case else wanted == given


def _within(wanted: str, given: str, ignore_case: bool) -> bool:
    return wanted.casefold() in given.casefold() if ignore_case else wanted in given


def _search(pattern: str, given: str, ignore_case: bool) -> re.Match[str] | None:
    return re.search(pattern, given, re.IGNORECASE if ignore_case else 0)


def check(wanted: Expectation, message: dict[str, Any]) -> list[str]:
    """What in the message does not hold (empty when all does)."""
    problems: list[str] = []
    text = message.get("text") or ""
    display = message.get("display") or {}
    fold = wanted.ignore_case
    any_case = " (any case)" if fold else ""
    if wanted.text is not None and not _same(wanted.text, text, fold):
        problems.append(f"text: expected {quoted(wanted.text)}{any_case}, was {quoted(text)}")
    if wanted.text_contains is not None and not _within(wanted.text_contains, text, fold):
        problems.append(
            f"text: expected it to contain {quoted(wanted.text_contains)}{any_case}, was "
            f"{quoted(text)}"
        )
    if wanted.text_matches is not None and _search(wanted.text_matches, text, fold) is None:
        problems.append(f"text: expected it to match /{wanted.text_matches}/, was {quoted(text)}")
    if wanted.not_text is not None and _same(wanted.not_text, text, fold):
        problems.append(f"text: expected anything but {quoted(wanted.not_text)}{any_case}")
    if wanted.not_text_contains is not None and _within(wanted.not_text_contains, text, fold):
        problems.append(
            f"text: expected it not to contain {quoted(wanted.not_text_contains)}{any_case}, "
            f"was {quoted(text)}"
        )
    if wanted.not_text_matches is not None and _search(wanted.not_text_matches, text, fold):
        problems.append(
            f"text: expected it not to match /{wanted.not_text_matches}/, was {quoted(text)}"
        )
    suggestions = message.get("suggestions") or []
    cards = display.get("cards") or []
    if wanted.suggestions is not None:
        # Beside `cards:`, the message's own chips; alone, every chip (as the format always had).
        own = wanted.cards is not None
        labels = [s["label"] for s in suggestions if not own or s["card"] is None]
        if not _labels_match(wanted.suggestions, labels, fold):
            whose = "the message's own chips" if own else "suggestions"
            problems.append(
                f"{whose}: expected {chips(wanted.suggestions) or 'none'}, were "
                f"{chips(labels) or 'none'}"
            )
    if wanted.cards is not None:
        problems += _check_cards(wanted, cards, suggestions)
    if wanted.card_title is not None:
        titles = [c.get("title") or "" for c in cards]
        if not any(_same(wanted.card_title, t, fold) for t in titles):
            shown = ", ".join(quoted(t) for t in titles) or "no cards"
            problems.append(f"cards: expected one titled {quoted(wanted.card_title)}, had {shown}")
    if wanted.file is not None:
        file = display.get("file")
        if not file:
            problems.append("file: expected a media message, it had no file")
        else:
            for key, value in wanted.file.model_dump(exclude_none=True).items():
                if file.get(key) != value:
                    problems.append(
                        f"file {key}: expected {quoted(value)}, was {quoted(str(file.get(key)))}"
                    )
    return problems


def _labels_match(wanted: list[str], labels: list[str], fold: bool) -> bool:
    return len(wanted) == len(labels) and all(
        _same(w, g, fold) for w, g in zip(wanted, labels, strict=True)
    )


def _check_cards(
    wanted: Expectation, cards: list[dict[str, Any]], suggestions: list[dict[str, Any]]
) -> list[str]:
    expected = wanted.cards or []
    fold = wanted.ignore_case
    if len(expected) != len(cards):
        titles = ", ".join(quoted(c.get("title") or "") for c in cards) or "none"
        return [f"cards: expected {len(expected)}, had {len(cards)} ({titles})"]
    problems = []
    for index, (want, card) in enumerate(zip(expected, cards, strict=True)):
        at = f"card {index + 1}"
        for key in ("title", "description"):
            value = getattr(want, key)
            given = card.get(key) or ""
            if value is not None and not _same(value, given, fold):
                problems.append(f"{at} {key}: expected {quoted(value)}, was {quoted(given)}")
        if want.media is not None:
            media = card.get("media")
            if not media:
                problems.append(f"{at} media: expected some, it had none")
            else:
                for key, value in want.media.model_dump(exclude_none=True).items():
                    if media.get(key) != value:
                        problems.append(
                            f"{at} media {key}: expected {quoted(value)}, was "
                            f"{quoted(str(media.get(key)))}"
                        )
        if want.suggestions is not None:
            labels = [s["label"] for s in suggestions if s["card"] == index]
            if not _labels_match(want.suggestions, labels, fold):
                problems.append(
                    f"{at} chips: expected {chips(want.suggestions) or 'none'}, were "
                    f"{chips(labels) or 'none'}"
                )
    return problems


def capture(wanted: Expectation, message: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    """Each captured value (the first group, or the whole match, in the message's text, else
    its cards' titles and descriptions), and what could not be captured."""
    display = message.get("display") or {}
    texts = [message.get("text") or ""]
    for card in display.get("cards") or []:
        texts += [card.get("title") or "", card.get("description") or ""]
    values: dict[str, str] = {}
    problems: list[str] = []
    flags = re.IGNORECASE if wanted.ignore_case else 0
    for name, pattern in (wanted.capture or {}).items():
        for text in texts:
            match = re.search(pattern, text, flags)
            if match is not None:
                values[name] = match.group(1) if match.re.groups else match.group(0)
                break
        else:
            problems.append(f"capture {name}: /{pattern}/ matched nothing in the message")
    return values, problems
