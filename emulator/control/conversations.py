"""POST /conversations/run: conversation files run over HTTP, for teams whose CI is not Python.

The runner talks to this same app through its control API (an in-process transport), exactly as
the CLI talks to a running emulator, so the results are the same. Whoever can reach the endpoint
can ask for a run, so its work is bounded: files, their size and steps, each wait, the whole
run's time, the conversations of a run at once, and runs at once. A run that finds the runs at
once all taken waits its turn (up to QUEUED runs wait; only past that is one refused).

The answer is 200 when every conversation passed and 422 when one failed or could not run (the
same body, with `status` saying which), so `curl --fail-with-body` fails a CI job on it.
"""

from __future__ import annotations

import asyncio
from typing import Literal

import httpx
from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response

from ..conversations.format import Conversation, ConversationError, parse_conversation
from ..conversations.plan import plan
from ..conversations.report import junit_xml, summary
from ..conversations.runner import Limits, Options, Outcome, run_conversations
from ..core.emulator import Emulator
from ..http.operations import Operation, Strict
from ..http.responses import JSONResponse
from .access import given_token

MAX_FILES = 20
MAX_FILE_TEXT = 64 * 1024  # characters of one file
LIMITS = Limits(max_steps=200, max_wait=60.0, budget=120.0)
RUNS_AT_ONCE = 2
QUEUED = 64  # runs that may wait for their turn
MAX_JOBS = 8
CONTROL_TIMEOUT = 30.0
FAILED = 422  # some conversation failed or could not run


class ConversationFile(Strict):
    name: str = Field(
        min_length=1, max_length=255, description="The file's name, as reports show it."
    )
    text: str = Field(max_length=MAX_FILE_TEXT, description="The file's YAML text.")


class RunBody(Strict):
    files: list[ConversationFile] = Field(min_length=1, max_length=MAX_FILES)
    report: Literal["json", "junit"] = Field(
        "json", description="json: the results; junit: a JUnit XML report (application/xml)."
    )
    reset: bool = Field(
        False,
        description="Each conversation begins on a fresh state of its own: its file's tenant's "
        "state is forgotten first when it names one (settings stay); one that names none "
        "forgets nothing others may be using, and reads only what happens to its phone from "
        "its start.",
    )
    jobs: int = Field(
        4, ge=1, le=MAX_JOBS, description="Conversations run at once (two of one phone never)."
    )


def operations(emulator: Emulator) -> list[Operation]:
    turns = asyncio.Semaphore(RUNS_AT_ONCE)
    waiting = 0

    async def run(request: Request, body: RunBody) -> Response:
        nonlocal waiting
        if turns.locked() and waiting >= QUEUED:
            return JSONResponse(
                {
                    "error": f"{RUNS_AT_ONCE} conversation runs are under way and {QUEUED} wait "
                    "for their turn; try again when one has ended"
                },
                429,
                headers={"Retry-After": "5"},
            )
        waiting += 1
        try:
            await turns.acquire()
        finally:
            waiting -= 1
        try:
            return await _run(request, body)
        finally:
            turns.release()

    return [
        Operation(
            "POST",
            "/conversations/run",
            "Run conversation tests against your bot.",
            run,
            body=RunBody,
            description="Each file is a conversation (*.convo.yaml) as text; a file's includes "
            "name the other files given. The emulator plays the phone: the bot gets the "
            "provider's callbacks and answers through the provider's API. The answer lists each "
            "conversation's outcome (passed, failed, error; one per utterance variant), its "
            "steps, the first failing step with what it expected and what came, the "
            "transcript, and notes (a phone's first message filed apart from the tenant its "
            "bot answers in); with report=junit, a JUnit XML report instead. It is 200 when every "
            f"conversation passed, {FAILED} when one did not (same body, status 'failed'). "
            f"Bounds: {MAX_FILES} files of {MAX_FILE_TEXT // 1024} KB, {LIMITS.max_steps} "
            f"steps each, {LIMITS.max_wait:g} s for any one wait, {LIMITS.budget:g} s for the "
            f"whole run, {MAX_JOBS} conversations at once; {RUNS_AT_ONCE} runs at once, and up "
            f"to {QUEUED} more wait their turn.",
            responses={
                200: "Every conversation passed: the results (JSON), or the JUnit report.",
                FAILED: "A conversation failed or could not run: the same results.",
                429: f"{QUEUED} runs already wait for their turn.",
            },
        ),
    ]


async def _run(request: Request, body: RunBody) -> Response:
    loaded: list[Conversation | ConversationError] = []
    for given in body.files:
        try:
            loaded.append(parse_conversation(given.text, given.name))
        except ConversationError as exc:
            loaded.append(exc)
    app = request.scope["app"]
    token = given_token(request.scope)  # (the caller's own: the run reaches what it reaches)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://emulator",
        headers={"X-Emulator-Token": token} if token else {},
        timeout=CONTROL_TIMEOUT,
    ) as http:
        results = await run_conversations(
            plan(loaded), http, limits=LIMITS, options=Options(reset=body.reset, jobs=body.jobs)
        )
    passed = all(r.passed for r in results)
    status = 200 if passed else FAILED
    if body.report == "junit":
        return Response(junit_xml(results), status, media_type="application/xml")
    counts = {o.value: sum(r.outcome is o for r in results) for o in Outcome}
    return JSONResponse(
        {
            "status": "passed" if passed else "failed",
            "passed": passed,
            "summary": summary(results),
            "counts": counts,
            "results": [r.as_dict() for r in results],
        },
        status,
    )
