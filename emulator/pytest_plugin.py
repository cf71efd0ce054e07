"""pytest plugin, registered through the pytest11 entry point: the emulator as a fixture.

- `rcs_emulator`: one live emulator per session (manual clock), reset before every test.
- `rcs_mock`: httpx calls to the real provider hosts are served by that emulator, through respx.
- `rcs_webhook_receiver`: a live local receiver for the emulator's callbacks.
- `@pytest.mark.rcs_emulator(**config)`: a test of its own emulator with those config fields.
- `rcs_emulator_url`: the session emulator's base URL (for a bot the suite starts itself).
- Conversation files (`*.convo.yaml`) in the test folders are collected, one test each (one per
  utterance variant; a `partial: true` file is none), run against the session emulator; a
  failure shows the failing step, what was expected and what came, with the conversation's
  transcript as a report section. Under pytest-xdist each worker has its emulator (and, from a
  session fixture, its bot); the JUnit classname is the file's folder and name, as the CLI's.

Refused requests and webhooks that were not accepted fail the test that caused them, unless it
called `rcs_emulator.expect_errors()`; a failing test's report shows each phone's conversation.
With RCS_EMULATOR_URL set, the fixtures use that running emulator instead of starting one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from .client import EmulatorHandle, emulator_url
from .config import Config, ConfigError, unknown_variables
from .conversations.format import (
    SUFFIXES,
    Conversation,
    ConversationError,
    is_conversation_file,
    load_conversation,
)
from .conversations.plan import Case, cases_of
from .conversations.runner import BotTenants
from .core.scenarios import ScenarioError
from .fail_closed import HOW, Guard
from .server import EmulatorServer
from .testing import WebhookReceiver

MARKER = "rcs_emulator"
URL_VARIABLE = "RCS_EMULATOR_URL"
_HANDLE = pytest.StashKey[EmulatorHandle]()


_GUARD = pytest.StashKey[Guard]()
_LOADED = pytest.StashKey[dict[Path, Conversation | None]]()  # conversation files read so far
# The tenant each agent's bot sends as, learned by the session's conversation files (runner).
_BOTS = pytest.StashKey[BotTenants]()


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(ConversationClassnames(config), "rcs_emulator_classnames")
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**config): run this test against an emulator of its own with these config "
        "fields (scenario=..., seed=..., clock=..., webhook_url=...)",
    )
    guard = Guard()
    guard.install()
    config.stash[_GUARD] = guard
    # A mistyped variable would be ignored unseen: said in the warnings summary (shown with -q),
    # not only in the captured log of a fixture; where warnings are errors, it is one.
    for line in unknown_variables(os.environ):
        warning = pytest.PytestConfigWarning(f"rcs-emulator: {line}")
        try:
            config.issue_config_time_warning(warning, stacklevel=2)
        except pytest.PytestConfigWarning:
            raise pytest.UsageError(
                f"{warning} (a warning this run's filters make an error)"
            ) from None


def pytest_report_header(config: pytest.Config) -> list[str]:
    """RCS_EMULATOR_* variables that are no setting (a typo would otherwise go unnoticed)."""
    return [f"rcs-emulator: {line}" for line in unknown_variables(os.environ)]


def pytest_unconfigure(config: pytest.Config) -> None:
    guard = config.stash.get(_GUARD, None)
    if guard is not None:
        guard.uninstall()


@pytest.fixture(scope="session")
def rcs_emulator_config() -> Config:
    """The session emulator's config: RCS_EMULATOR_* variables, then a free local port and a
    manual clock. Override this fixture to change it."""
    problem = None
    try:
        config = Config.from_sources(env=os.environ)
        clock = os.environ.get("RCS_EMULATOR_CLOCK") or "manual"
        return config.with_overrides(host="127.0.0.1", port=0, clock=clock)
    except ConfigError as exc:  # RCS_EMULATOR_PORT=abc: the line the CLI prints, not a trace
        problem = f"rcs-emulator: {exc}"
    pytest.fail(problem, pytrace=False)


@pytest.fixture(scope="session")
def rcs_emulator_tenant() -> str | None:
    """Override to scope resets and reads to one API key or account (a shared server)."""
    return os.environ.get("RCS_EMULATOR_TENANT") or None


@pytest.fixture(scope="session")
def rcs_emulator_url(rcs_emulator_config: Config) -> Iterator[str]:
    """The session emulator's base URL: RCS_EMULATOR_URL's, or one started for the session."""
    external = os.environ.get(URL_VARIABLE)
    if external:
        yield _running(external)
        return
    with _started(rcs_emulator_config, "rcs-emulator: ") as server:
        yield server.base_url


def _running(given: str) -> str:
    """RCS_EMULATOR_URL's emulator, checked once: a URL that is none, or nothing answering
    there, fails every test with one line naming the variable (not a trace of httpx)."""
    import httpx

    shown = f"{URL_VARIABLE}={given}"
    try:
        url = emulator_url(given)
    except ValueError as exc:
        problem = str(exc)
    else:
        try:
            answer = httpx.get(url + "/_emulator/health", timeout=5.0)
        except httpx.HTTPError as exc:
            why = str(exc) or type(exc).__name__
            problem = (
                f"no emulator answers there ({why}): start one (rcs-emulator serve), or unset "
                f"{URL_VARIABLE} and the plugin starts its own"
            )
        else:
            if answer.status_code == 200 and "version" in answer.text:
                return url
            problem = f"GET /_emulator/health answered {answer.status_code}: not an rcs-emulator"
    pytest.fail(f"rcs-emulator: {shown}: {problem}", pytrace=False)


@contextlib.contextmanager
def _started(config: Config, where: str) -> Iterator[EmulatorServer]:
    """An emulator of this config, running while the block runs; a config it cannot start with
    (an unknown scenario, a state file it cannot read) fails the test with that one line, after
    `where` it was asked for, never a trace through the plugin."""
    try:
        server = EmulatorServer(config)
    except (ConfigError, ScenarioError) as exc:
        problem = f"{where}{exc}"
    else:
        with server:
            yield server
        return
    pytest.fail(problem, pytrace=False)  # outside the except: no chained error above it


@pytest.fixture
def rcs_emulator(
    request: pytest.FixtureRequest,
    rcs_emulator_config: Config,
    rcs_emulator_tenant: str | None,
) -> Iterator[EmulatorHandle]:
    """The session's live emulator (manual clock), reset before this test: `base_url`,
    `messages()`, `advance(seconds)`, `set_agent(...)`, `set_phone(...)`, `inbound(...)`,
    `webhooks()`, `files()`, `fault(...)`, `expect_errors()`, `reset()`. With
    `@pytest.mark.rcs_emulator(**config)`, an emulator of this test's own."""
    marker = request.node.get_closest_marker(MARKER)
    if marker is not None and marker.args:
        pytest.fail(
            f"usage: @pytest.mark.{MARKER} takes config fields as keywords, e.g. "
            f"@pytest.mark.{MARKER}(scenario={marker.args[0]!r}); it was given "
            f"{', '.join(map(repr, marker.args))} by position",
            pytrace=False,
        )
    if marker is not None and marker.kwargs:
        usage: str | None = None
        try:
            config = rcs_emulator_config.with_overrides(**marker.kwargs)
        except ConfigError as exc:
            usage = f"usage: @pytest.mark.{MARKER}(...): {exc}"
        if usage is not None:  # failed outside the except: no chained ConfigError above it
            pytest.fail(usage, pytrace=False)
        with _started(config, f"usage: @pytest.mark.{MARKER}(...): ") as server:
            handle = EmulatorHandle(server.base_url, rcs_emulator_tenant, config.control_token)
            yield from _run(request, handle)
        return
    url = request.getfixturevalue("rcs_emulator_url")
    token = rcs_emulator_config.control_token
    yield from _run(request, EmulatorHandle(url, rcs_emulator_tenant, token))


def _run(request: pytest.FixtureRequest, handle: EmulatorHandle) -> Iterator[EmulatorHandle]:
    handle.reset()
    request.node.stash[_HANDLE] = handle
    try:
        yield handle
    finally:
        handle.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """Surprises, and real provider calls the code under test swallowed, fail the test itself
    (its call), not its teardown: one failure, not a pass and an error."""
    guard = item.config.stash.get(_GUARD, None)
    before = len(guard.calls) if guard is not None else 0
    result = yield  # a test that raised has failed already: nothing to add
    if guard is not None and len(guard.calls) > before:  # it caught the error and went on
        calls = "; ".join(guard.calls[before:])
        pytest.fail(
            f"rcs-emulator: this test called the real provider ({calls}); {HOW}", pytrace=False
        )
    handle = item.stash.get(_HANDLE, None)
    if handle is not None:
        unexpected = [s for s in handle.surprises() if s["kind"] not in handle.expected]
        if unexpected:
            pytest.fail(_surprise_report(unexpected), pytrace=False)
    return result


def _surprise_report(surprises: list[dict[str, object]]) -> str:
    lines = [
        "the RCS emulator saw what this test did not declare expected "
        "(call rcs_emulator.expect_errors() if it was):"
    ]
    for s in surprises:
        if s["kind"] == "request":
            lines.append(
                f"- refused {s['method']} {s['path']} -> {s['status']} {json.dumps(s['answer'])}"
            )
            lines.append(f"  sent: {s.get('sent')}")
        else:
            lines.append(
                f"- webhook to {s['url']} attempt {s['attempt']}: status {s['status']}, "
                f"error {s['error']}"
            )
            lines.append(f"  payload: {json.dumps(s['payload'])}")
    return "\n".join(lines)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    handle = item.stash.get(_HANDLE, None)
    if handle is None or not report.failed:
        return report
    if report.when == "call":
        try:
            report.sections.append(("rcs-emulator conversations", handle.conversations()))
        except Exception as exc:  # the emulator may be what failed
            report.sections.append(("rcs-emulator conversations", f"unavailable: {exc}"))
    return report


@pytest.fixture
def rcs_mock(rcs_emulator: EmulatorHandle) -> Iterator[EmulatorHandle]:
    """`rcs_emulator`, and while this test runs, httpx calls (sync and async) to the real
    provider hosts are served by it; every other host is untouched."""
    with rcs_emulator.routing():
        yield rcs_emulator


@pytest.fixture
def rcs_webhook_receiver(request: pytest.FixtureRequest) -> Iterator[WebhookReceiver]:
    """A live local HTTP receiver for callbacks: `url` to give as a webhook URL, `calls` (each
    with path, headers, json and body), `wait(predicate, timeout)`, `answer(status, body,
    delay, times)` to be a failing or slow receiver. A wait that times out says why nothing
    came, as far as the test's emulator can tell (its manual clock never advanced, an agent
    without a webhook URL, callbacks sent elsewhere or refused)."""
    with WebhookReceiver() as receiver:

        def explain() -> list[str]:
            handle = request.node.stash.get(_HANDLE, None)
            return [] if handle is None else handle.why_no_callback(receiver.url)

        receiver.explain = explain
        yield receiver


# -- conversation files --------------------------------------------------------------------------


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if is_conversation_file(file_path):
        return ConversationFile.from_parent(parent, path=file_path)
    return None


class ConversationFile(pytest.File):
    """A `*.convo.yaml` file: one test per case of its conversation (none for a partial)."""

    def collect(self) -> Iterator[pytest.Item]:
        try:
            conversation = load_conversation(self.path)
            cases = cases_of(conversation, _library(self.path, conversation, self.config))
        except ConversationError as exc:
            raise self.CollectError(str(exc)) from None
        for case in cases:
            yield ConversationItem.from_parent(
                self, name=case.name, callobj=_conversation_test(case)
            )


def _library(
    path: Path, conversation: Conversation, config: pytest.Config
) -> dict[str, list[Conversation]]:
    """What the file's includes may name: the conversation files in its folder and below (each
    read once a session)."""
    loaded = config.stash.setdefault(_LOADED, {})
    known: dict[str, list[Conversation]] = {conversation.name: [conversation]}
    for other in sorted(path.parent.rglob("*")):
        if other == path or not other.name.endswith(SUFFIXES) or not other.is_file():
            continue
        if other not in loaded:
            try:
                loaded[other] = load_conversation(other)
            except ConversationError:
                loaded[other] = None  # its own collection says what is wrong with it
        found = loaded[other]
        if found is not None:
            known.setdefault(found.name, []).append(found)
    return known


class ConversationClassnames:
    """A conversation's JUnit classname is its file's folder and name (`pass.booking`),
    as the CLI and the HTTP endpoint write it, whatever the rootdir or the invocation. (Under
    xdist it runs in the controller, where the JUnit file is written.)"""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        path, _, _ = report.nodeid.partition("::")
        if not path.endswith(SUFFIXES):
            return
        from _pytest.junitxml import xml_key  # the JUnit writer's own key: no public API sets it

        from .conversations.report import class_name

        xml = self.config.stash.get(xml_key, None)
        if xml is not None:
            where = str(self.config.rootpath / path)
            xml.node_reporter(report).add_attribute("classname", class_name(where))


class ConversationFailed(AssertionError):
    """A conversation that did not pass; its text is the report."""


class ConversationItem(pytest.Function):
    """A conversation as a test function of the plugin's fixtures (so a suite's own fixtures,
    a bot it starts say, apply to it as to any test)."""

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException]) -> Any:  # type: ignore[override]
        if isinstance(excinfo.value, ConversationFailed):
            return str(excinfo.value)  # the report itself: a traceback would say nothing more
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"conversation: {self.name}"


def _conversation_test(case: Case) -> Callable[..., None]:
    def conversation_test(
        request: pytest.FixtureRequest, rcs_emulator: EmulatorHandle, rcs_emulator_config: Config
    ) -> None:
        import dataclasses

        import httpx

        from .conversations.report import failure_text, transcript_text
        from .conversations.runner import run_conversations

        chosen = case
        if case.tenant is None and rcs_emulator.tenant is not None:
            tenant = {"tenant": rcs_emulator.tenant}
            chosen = dataclasses.replace(
                case, conversation=case.conversation.model_copy(update=tenant)
            )
        token = rcs_emulator_config.control_token
        headers = {"X-Emulator-Token": token} if token else {}

        # What earlier conversations learned: the fixture's reset before this test forgot it.
        bots = request.config.stash.setdefault(_BOTS, BotTenants())

        async def go() -> Any:
            async with httpx.AsyncClient(
                base_url=rcs_emulator.base_url, headers=headers, timeout=30.0
            ) as http:
                return (await run_conversations([chosen], http, bots=bots))[0]

        # In a thread of its own: a suite may hold an event loop running in this one (Playwright's
        # sync API does), and asyncio.run cannot start inside it.
        with ThreadPoolExecutor(1) as pool:
            result = pool.submit(asyncio.run, go()).result()
        request.node.add_report_section("call", "conversation", transcript_text(result))
        if not result.passed:
            raise ConversationFailed(failure_text(result))

    return conversation_test
