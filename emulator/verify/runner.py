"""Runs a provider's fixed set of requests against its real service and against an emulator
started in this process (strict, admitting exactly the credentials given), one request to each
side in turn, and says for each where the answers differ.

A send (`Probe.sends`) is made only with --allow-sends and a number of the user's own. Before
a request that reads what a send created, the real service is given `settle` seconds, and the
emulator's clock moves as far. A service that cannot be reached, or does not answer the first
request as an HTTP server, stops the run with one line (Unreachable); later a request it does
not answer is that request's difference, and the run goes on."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import httpx
import orjson

from ..config import Config
from ..http.outbound import why_unanswered
from ..providers.registry import Provider
from ..providers.upstream import Credentials, Probe, ProbeContext, ProbeRequest, Upstream
from ..version import __version__
from .compare import Answer, Difference, Rules, compare

USER_AGENT = f"rcs-emulator-verify/{__version__}"
EMULATOR_URL = "http://emulator"


class Unreachable(Exception):
    """The real service could not be asked at all: one line, the run stops."""


@dataclass(frozen=True)
class Options:
    allow_sends: bool = False
    to: str | None = None  # the user's own number: the sends' recipient
    timeout: float = 15.0  # seconds for one answer of the real service
    settle: float = 3.0  # seconds between a send and the reads of what it created
    media_url: str | None = None


class State(StrEnum):
    SAME = "ok"
    DIFFERENT = "DIFF"
    SKIPPED = "skip"


@dataclass
class Outcome:
    probe: Probe
    request: ProbeRequest | None = None  # as sent to the real service
    real: Answer | None = None
    emulator: Answer | None = None
    differences: list[Difference] = field(default_factory=list)
    skipped: str | None = None  # why it was not sent

    @property
    def state(self) -> State:
        if self.skipped is not None:
            return State.SKIPPED
        return State.DIFFERENT if self.differences else State.SAME


async def run(
    provider: Provider,
    upstream: Upstream,
    url: str,
    credentials: Credentials,
    options: Options,
    progress: Callable[[Outcome], None] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> list[Outcome]:
    """Every probe, in order; `progress` hears of each as it is done. `transport` reaches the
    real service another way (tests)."""
    from ..app import create_app  # the app is built only when something is verified

    section = upstream.emulator_section(credentials, options.to)
    app = create_app(Config(clock="manual", seed=0, sections={provider.name: section}))
    rules = Rules(upstream.headers, upstream.values)
    real = httpx.AsyncClient(
        base_url=url,
        timeout=options.timeout,
        transport=transport,
        headers={"User-Agent": USER_AGENT},
    )
    emulator = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url=EMULATOR_URL + upstream.base_path,
        headers={"User-Agent": USER_AGENT},
    )
    answered: dict[str, dict[str, Any]] = {"real": {}, "emulator": {}}
    outcomes: list[Outcome] = []
    sent_since_settle = False
    try:
        for probe in upstream.probes():
            outcome = Outcome(probe)
            outcomes.append(outcome)
            if probe.sends and not options.allow_sends:
                outcome.skipped = "sends a message: only with --allow-sends --to NUMBER"
            elif probe.reads and not options.allow_sends:
                outcome.skipped = "reads what a send made: only with --allow-sends --to NUMBER"
            else:
                if probe.reads and sent_since_settle and options.settle:
                    await _settle(emulator, options.settle)
                    sent_since_settle = False
                first = not any(o.real is not None for o in outcomes)
                await _ask_both(
                    outcome, options, credentials, answered, real, emulator, rules, first
                )
                sent_since_settle |= probe.sends and outcome.real is not None
            if progress is not None:
                progress(outcome)
    finally:
        await real.aclose()
        await emulator.aclose()
        await app.state.emulator.aclose()
    return outcomes


async def _settle(emulator: httpx.AsyncClient, seconds: float) -> None:
    await asyncio.sleep(seconds)  # the real service's time to take in what was sent
    moved = await emulator.post(
        EMULATOR_URL + "/_emulator/clock/advance", json={"seconds": seconds}
    )
    moved.raise_for_status()


async def _ask_both(
    outcome: Outcome,
    options: Options,
    credentials: Credentials,
    answered: dict[str, dict[str, Any]],
    real: httpx.AsyncClient,
    emulator: httpx.AsyncClient,
    rules: Rules,
    first: bool,
) -> None:
    probe = outcome.probe
    requests = {}
    for side in ("real", "emulator"):
        context = ProbeContext(credentials, options.to, answered[side], options.media_url)
        requests[side] = probe.build(context)
    if requests["real"] is None and requests["emulator"] is None:
        outcome.skipped = "what it reads was not created on either side"
        return
    outcome.request = requests["real"] or requests["emulator"]
    answers: dict[str, Answer | None] = {}
    for side, client in (("real", real), ("emulator", emulator)):
        request = requests[side]
        if request is None:
            answers[side] = None
            continue
        try:
            answers[side] = await _ask(client, request)
        except httpx.HTTPError as exc:
            why = credentials.scrub(why_unanswered(exc, str(real.base_url), options.timeout))
            if side == "emulator":
                raise  # our own app: a bug, not the service's
            if first:
                raise Unreachable(why) from None
            answers[side] = None
            outcome.differences.append(Difference("answer", why, "an HTTP answer"))
            continue
        answered[side][probe.name] = _json_or_none(answers[side])
    outcome.real, outcome.emulator = answers["real"], answers["emulator"]
    if outcome.real is not None and outcome.emulator is not None:
        outcome.differences += compare(outcome.real, outcome.emulator, rules)
    elif (requests["real"] is None) != (requests["emulator"] is None):
        said = {
            side: "sent"
            if requests[side] is not None
            else "not sent (what it reads was not created)"
            for side in requests
        }
        outcome.differences.append(Difference("request", said["real"], said["emulator"]))


async def _ask(client: httpx.AsyncClient, request: ProbeRequest) -> Answer:
    started = time.perf_counter()
    response = await client.request(
        request.method,
        request.path,
        headers=dict(request.headers),
        json=request.json if request.content is None else None,
        content=request.content,
    )
    elapsed = (time.perf_counter() - started) * 1000
    headers = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in response.headers.raw]
    return Answer(response.status_code, headers, response.content, elapsed)


def _json_or_none(answer: Answer | None) -> Any:
    if answer is None:
        return None
    try:
        return orjson.loads(answer.body)
    except orjson.JSONDecodeError:
        return None
