"""`rcs-emulator conversations run` as CI runs it: the sample bot and the emulator as real
processes, the CLI with --junit on the passing conversations and on the one that fails on
purpose; and in-process, unreachable, busy-port and token cases."""

from __future__ import annotations

import re
import socket
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ports import free_port
from tests.robustness.process import Served, run_cli

from .conftest import EXAMPLES, Bot

PASSING = EXAMPLES / "conversations"
FAILING = EXAMPLES / "failing"


def junit(path: Path) -> ET.Element:
    suite = ET.parse(path).getroot().find("testsuite")
    assert suite is not None
    return suite


@pytest.fixture
def rcs_bot_and_emulator(tmp_path: Path) -> Iterator[tuple[Bot, Served]]:
    """`rcs-emulator serve` and examples/bot/bot.py, each its own process."""
    port = free_port()
    served = Served(tmp_path / "emulator.log", "--clock", "manual", "--webhook-url",
                    f"http://127.0.0.1:{port}/webhook")  # fmt: skip
    try:
        bot = Bot(served.base_url, tmp_path / "bot.log", port)
        try:
            yield bot, served
        finally:
            bot.stop()
    finally:
        served.stop()


def test_ci_runs_the_examples_and_checks_the_failures_report(rcs_bot_and_emulator, tmp_path):
    _, served = rcs_bot_and_emulator
    passed = run_cli("conversations", "run", str(PASSING), "--url", served.base_url,
                     "--junit", str(tmp_path / "passing.xml"))  # fmt: skip
    assert passed.returncode == 0, passed.stdout + passed.stderr
    lines = passed.stdout.splitlines()
    assert lines[0] == (
        f"{PASSING}/generic-booking.convo.yaml: Generic - a customer books the first slot, then "
        "cancels (generic agent booking_agent, phone +46701234567)"
    )
    assert lines[1:4] == [
        '  ok     1 user: "hi"',
        '  ok     2 expect: text "Hello! When shall we come?", suggestions [10:00] [12:00]',
        "  ok     3 tap: [10:00]",
    ]
    assert "4 conversations: 4 passed" in lines
    suite = junit(tmp_path / "passing.xml")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("4", "0", "0")
    names = [case.get("name") for case in suite.iter("testcase")]
    assert "SerwerSMS - the brochure is a PDF" in names

    failed = run_cli("conversations", "run", str(FAILING), "--url", served.base_url,
                     "--junit", str(tmp_path / "failing.xml"))  # fmt: skip
    assert failed.returncode == 1, failed.stdout + failed.stderr
    lines = failed.stdout.splitlines()
    assert lines[1:5] == [
        '  ok     1 user: "hi"',
        '  FAIL   2 expect: text "Hi! What time suits you?"  (line 9)',
        '           expected: text "Hi! What time suits you?"',
        '           came:     "Hello! When shall we come?" [10:00] [12:00]',
    ]
    assert re.fullmatch(r"  FAILED at step 2 of 3 \(\d+\.\d\d s\)", lines[5]), lines[5]
    assert lines[6:] == ["1 conversation: 0 passed, 1 failed",
                         f"JUnit report: {tmp_path / 'failing.xml'}"]  # fmt: skip
    suite = junit(tmp_path / "failing.xml")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("1", "1", "0")
    [case] = suite.iter("testcase")
    assert case.get("classname", "").endswith("examples.bot.failing.wrong-greeting")
    failure = case.find("failure")
    assert failure is not None
    assert failure.get("message") == (
        'step 2 (line 9): expected text "Hi! What time suits you?"; came "Hello! When shall we '
        'come?" [10:00] [12:00]'
    )
    assert "failed at step 2 (line 9) of 3" in (failure.text or "")
    assert (case.findtext("system-out") or "").splitlines() == [
        "phone: hi", 'bot:   "Hello! When shall we come?" [10:00] [12:00]']  # fmt: skip


def test_in_process_by_default_from_the_config(tmp_path):
    port, bot_port = free_port(), free_port()
    config = tmp_path / "emulator.yaml"
    config.write_text(f"port: {port}\nwebhook_url: http://127.0.0.1:{bot_port}/webhook\n")
    bot = Bot(f"http://127.0.0.1:{port}", tmp_path / "bot.log", bot_port)
    try:
        # Each conversation begins on a fresh state: run the same one twice, both open a thread.
        booking = str(PASSING / "generic-booking.convo.yaml")
        done = run_cli("conversations", "run", booking, booking, "--config", str(config))
    finally:
        bot.stop()
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"rcs-emulator on http://127.0.0.1:{port} (clock manual) for this run"
    assert lines[-1] == "2 conversations: 2 passed"


def test_an_emulator_out_of_reach_is_exit_2_with_a_report(tmp_path):
    report = tmp_path / "out" / "report.xml"
    done = run_cli("conversations", "run", str(PASSING), "--url", "http://127.0.0.1:9",
                   "--junit", str(report))  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.startswith("rcs-emulator: cannot reach the emulator at http://127.0.0.1:9: ")
    suite = junit(report)
    assert (suite.get("tests"), suite.get("errors"), suite.get("failures")) == ("4", "4", "0")
    error = next(suite.iter("error"))
    assert (error.get("message") or "").startswith(
        "could not run: cannot reach the emulator at http://127.0.0.1:9"
    )


def test_a_port_in_use_is_named(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_cli("conversations", "run", str(PASSING), env={"RCS_EMULATOR_PORT": str(port)})
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"rcs-emulator: cannot listen on 127.0.0.1:{port} for the emulator (Address already in "
        "use); set another port in --config or RCS_EMULATOR_PORT, or give --url of a running one"
    )


def test_the_control_token_comes_from_the_config(tmp_path):
    served = Served(tmp_path / "emulator.log", "--clock", "manual",
                    env={"RCS_EMULATOR_CONTROL_TOKEN": "s3cret"})  # fmt: skip
    try:
        conversation = tmp_path / "quiet.convo.yaml"
        conversation.write_text('provider: generic\nagent: a\nphone: "+46701234567"\n'
                                "steps: [wait: 10]\n")  # fmt: skip
        refused = run_cli("conversations", "run", str(conversation), "--url", served.base_url)
        allowed = run_cli("conversations", "run", str(conversation), "--url", served.base_url,
                          env={"RCS_EMULATOR_CONTROL_TOKEN": "s3cret"})  # fmt: skip
    finally:
        served.stop()
    assert refused.returncode == 1
    assert (
        "  ERROR the emulator answered GET /_emulator/surprises with 401: the control API "
        "needs its token (X-Emulator-Token header or ?token=)" in refused.stdout.splitlines()
    )
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
