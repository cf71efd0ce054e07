"""POST /conversations/run: conversation files run over HTTP, for teams whose CI is not Python.

The runner talks to this same app through its control API (an in-process transport), exactly as
the CLI talks to a running emulator, so the results are the same. Whoever can reach the endpoint
can ask for a run, so its work is bounded: files, their size and steps, each wait, the whole run's
time, and runs at once.
"""

from __future__ import annotations

from typing import Literal

import httpx
from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response

from ..conversations.format import Conversation, ConversationError, parse_conversation
from ..conversations.report import junit_xml, summary
from ..conversations.runner import Limits, Outcome, run_conversations
from ..core.emulator import Emulator
from ..http.operations import Operation, Strict
from ..http.responses import JSONResponse
from .access import given_token

MAX_FILES = 20
MAX_FILE_TEXT = 64 * 1024  # characters of one file
LIMITS = Limits(max_steps=200, max_wait=60.0, budget=120.0)
RUNS_AT_ONCE = 2
CONTROL_TIMEOUT = 30.0


class ConversationFile(Strict):
    name: str = Field(min_length=1, max_length=255,
                      description="The file's name, as reports show it.")  # fmt: skip
    text: str = Field(max_length=MAX_FILE_TEXT, description="The file's YAML text.")


class RunBody(Strict):
    files: list[ConversationFile] = Field(min_length=1, max_length=MAX_FILES)
    report: Literal["json", "junit"] = Field(
        "json", description="json: the results; junit: a JUnit XML report (application/xml)."
    )
    reset: bool = Field(
        False,
        description="Forget messages, files and webhook attempts before each conversation (of "
        "the file's tenant when it names one); agent and phone settings stay.",
    )


def operations(emulator: Emulator) -> list[Operation]:
    running = 0

    async def run(request: Request, body: RunBody) -> Response:
        nonlocal running
        if running >= RUNS_AT_ONCE:
            return JSONResponse(
                {"error": f"{RUNS_AT_ONCE} conversation runs are under way; try again when one "
                 "has ended"},
                429,
                headers={"Retry-After": "5"},
            )  # fmt: skip
        running += 1
        try:
            return await _run(request, body)
        finally:
            running -= 1

    return [
        Operation("POST", "/conversations/run", "Run conversation tests against your bot.", run,
                  body=RunBody,
                  description=f"Each file is a conversation (*.convo.yaml) as text. The "
                  "emulator plays the phone: the bot gets the provider's callbacks and answers "
                  "through the provider's API. The answer lists each conversation's outcome "
                  "(passed, failed, error), its steps, the first failing step with what it "
                  "expected and what came, and the transcript; with report=junit, a JUnit XML "
                  f"report instead. Bounds: {MAX_FILES} files of {MAX_FILE_TEXT // 1024} KB, "
                  f"{LIMITS.max_steps} steps each, {LIMITS.max_wait:g} s for any one wait, "
                  f"{LIMITS.budget:g} s for the whole run, {RUNS_AT_ONCE} runs at once.",
                  responses={200: "The results (JSON), or the JUnit report.",
                             429: "Too many runs under way."}),
    ]  # fmt: skip


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
            loaded, http, limits=LIMITS, reset=body.reset, keep_settings=True
        )
    if body.report == "junit":
        return Response(junit_xml(results), media_type="application/xml")
    counts = {o.value: sum(r.outcome is o for r in results) for o in Outcome}
    return JSONResponse({"passed": all(r.passed for r in results), "summary": summary(results),
                         "counts": counts, "results": [r.as_dict() for r in results]})  # fmt: skip
