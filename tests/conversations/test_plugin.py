"""Conversation files in a user's test folder, collected by the pytest plugin (pytester): one
test per file against the session emulator, the bot started by the suite's own conftest. The
whole suite runs as a user runs it, in a pytest process of its own; the other runs inside this
process."""

from __future__ import annotations

import pytest

from tests.inprocess import runpytest

from .conftest import BOT, EXAMPLES

pytest_plugins = ["pytester"]

# What a user's conftest.py does: the bot is a process of the suite, sending to the session
# emulator (rcs_emulator_url), whose callbacks go to the bot.
CONFTEST = f"""
import os, socket, subprocess, sys, time

import httpx
import pytest


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


BOT_PORT = free_port()


@pytest.fixture(scope="session")
def rcs_emulator_config(rcs_emulator_config):
    return rcs_emulator_config.with_overrides(webhook_url=f"http://127.0.0.1:{{BOT_PORT}}/webhook")


@pytest.fixture(scope="session", autouse=True)
def booking_bot(rcs_emulator_url):
    env = os.environ | {{"EMULATOR_URL": rcs_emulator_url, "PORT": str(BOT_PORT)}}
    bot = subprocess.Popen([sys.executable, {str(BOT)!r}], env=env)
    deadline = time.monotonic() + 20
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{{BOT_PORT}}/", timeout=1)
            break
        except httpx.HTTPError:
            assert time.monotonic() < deadline, "the bot did not start"
            time.sleep(0.05)
    yield
    bot.terminate()
    bot.wait(10)
"""


def suite(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    for path in sorted(EXAMPLES.rglob("*.convo.yaml")):
        pytester.path.joinpath(path.name).write_text(path.read_text())


def test_each_file_is_a_test_with_the_same_failure_report(pytester: pytest.Pytester):
    suite(pytester)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rf")
    result.assert_outcomes(passed=8, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*_ conversation: Generic - expects a greeting the bot does not send _*",
            "*wrong-greeting.convo.yaml: Generic - expects a greeting the bot does not send "
            "(generic agent booking_agent, phone +46701234569)",
            'failed at step 2 (line 9) of 3: expect: text "Hi! What time suits you?"',
            '  expected: text "Hi! What time suits you?"',
            '  came:     "Hello! When shall we come?" [10:00] [12:00]',
            "*- Captured conversation call -*",
            "phone: hi",
            'bot:   "Hello! When shall we come?" [10:00] [12:00]',
            # pytest adds the failure's first line when the terminal is wide enough.
            "FAILED wrong-greeting.convo.yaml::Generic - expects a greeting the bot does not send*",
        ]
    )
    # No traceback of the plugin's own code: the report is the conversation's.
    assert "pytest_plugin.py" not in result.stdout.str()
    # Test ids and -k select conversations by their names.
    selected = runpytest(pytester, "-p", "no:cacheprovider", "-k", "brochure", "-v")
    selected.assert_outcomes(passed=1, deselected=8)
    selected.stdout.fnmatch_lines(
        ["*serwersms-brochure.convo.yaml::SerwerSMS - the brochure is a PDF PASSED*"]
    )


def test_a_bad_file_is_a_collection_error_naming_the_step_and_key(pytester: pytest.Pytester):
    pytester.path.joinpath("bad.convo.yaml").write_text(
        'provider: generic\nagent: a\nphone: "+46701234567"\nsteps:\n  - expect: {txt: a}\n'
    )
    result = runpytest(pytester, "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        [
            "*ERROR collecting bad.convo.yaml*",
            "*bad.convo.yaml: step 1 (expect, line 5): unknown key 'txt' (did you mean 'text'?)",
        ]
    )
    # Without the plugin, such files are nobody's business.
    plain = runpytest(pytester, "-p", "no:cacheprovider", "-p", "no:rcs_emulator")
    assert plain.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_variants_are_tests_partials_are_not_and_xdist_collects_them(pytester: pytest.Pytester):
    suite(pytester)
    listed = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--collect-only", "-q")
    ids = [line for line in listed.stdout.lines if ".convo.yaml::" in line]
    assert not [i for i in ids if i.startswith("greeting.convo.yaml")]  # only where included
    assert [i for i in ids if "greetings" in i] == [
        f"generic-greetings.convo.yaml::Generic - any greeting gets the two slots [{g}]"
        for g in ("hi", "hello", "good morning", "Dzień dobry")
    ]
    # Under xdist each worker has its emulator and its bot (the conftest's session fixture);
    # the JUnit classname is the file's folder and name, as the CLI writes it.
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-p", "xdist", "-n", "2", "--junitxml", "report.xml"
    )
    result.assert_outcomes(passed=8, failed=1)
    import xml.etree.ElementTree as ET

    cases = ET.parse(pytester.path / "report.xml").getroot().iter("testcase")
    folder = pytester.path.name
    assert {c.get("classname") for c in cases} == {
        f"{folder}.{name}"
        for name in (
            "generic-booking",
            "generic-cards",
            "generic-greetings",
            "serwersms-booking",
            "serwersms-brochure",
            "wrong-greeting",
        )
    }


def test_the_session_remembers_the_tenant_a_bot_sends_as(pytester: pytest.Pytester):
    """Files that name no tenant, each a phone that writes first: on the session's fresh
    emulator the first one's message is filed apart (its note says so); the next one, after the
    reset before it forgot the bot's messages, still joins the bot's tenant: the session
    remembers what the first learned."""
    pytester.makeconftest(CONFTEST)
    folder = EXAMPLES / "conversations"
    for name in ("generic-booking", "generic-cards", "partials/greeting"):
        path = pytester.path / f"{name}.convo.yaml"
        path.parent.mkdir(exist_ok=True)
        path.write_text((folder / f"{name}.convo.yaml").read_text())
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rP")
    result.assert_outcomes(passed=2)
    notes = [line for line in result.outlines if line.startswith("note: ")]
    assert notes == [
        "note: the phone's first message went to tenant 'default' (no tenant was known for "
        "agent booking_agent) and the bot answers as 'booking-bot-key': two conversations in the "
        "inbox; `tenant: booking-bot-key` in the file keeps them in one"
    ]
