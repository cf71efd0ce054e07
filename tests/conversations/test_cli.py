"""`rcs-emulator conversations run` as CI runs it: the sample bot and the emulator as real
processes, the CLI with --junit on the passing conversations and on the one that fails on
purpose; and in-process, unreachable, busy-port and token cases."""

from __future__ import annotations

import re
import socket
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import httpx
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
    served = Served(
        tmp_path / "emulator.log",
        "--clock",
        "manual",
        "--webhook-url",
        f"http://127.0.0.1:{port}/webhook",
    )
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
    passed = run_cli(
        "conversations",
        "run",
        str(PASSING),
        "--url",
        served.base_url,
        "--junit",
        str(tmp_path / "passing.xml"),
    )
    assert passed.returncode == 0, passed.stdout + passed.stderr
    lines = passed.stdout.splitlines()
    assert lines[0] == (
        f"{PASSING}/generic-booking.convo.yaml: Generic - a customer books the first slot, checks "
        "the order, then cancels (generic agent booking_agent, phone +46701234567)"
    )
    assert lines[1:4] == [
        '  ok     1 user: "hi"',
        '  ok     2 expect: text "Hello! When shall we come?", suggestions [10:00] [12:00]',
        "  ok     3 tap: [10:00]",
    ]
    assert "8 conversations: 8 passed" in lines
    suite = junit(tmp_path / "passing.xml")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("8", "0", "0")
    names = [case.get("name") for case in suite.iter("testcase")]
    assert "SerwerSMS - the brochure is a PDF" in names

    failed = run_cli(
        "conversations",
        "run",
        str(FAILING),
        "--url",
        served.base_url,
        "--junit",
        str(tmp_path / "failing.xml"),
    )
    assert failed.returncode == 1, failed.stdout + failed.stderr
    lines = failed.stdout.splitlines()
    assert lines[1:5] == [
        '  ok     1 user: "hi"',
        '  FAIL   2 expect: text "Hi! What time suits you?"  (line 9)',
        '           expected: text "Hi! What time suits you?"',
        '           came:     "Hello! When shall we come?" [10:00] [12:00]',
    ]
    assert re.fullmatch(r"  FAILED at step 2 of 3 \(\d+\.\d\d s\)", lines[5]), lines[5]
    assert lines[6:] == [
        "1 conversation: 0 passed, 1 failed",
        f"JUnit report: {tmp_path / 'failing.xml'}",
    ]
    suite = junit(tmp_path / "failing.xml")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("1", "1", "0")
    [case] = suite.iter("testcase")
    assert case.get("classname") == "failing.wrong-greeting"  # however FAILING was spelt
    failure = case.find("failure")
    assert failure is not None
    assert failure.get("message") == (
        'step 2 (line 9): expected text "Hi! What time suits you?"; came "Hello! When shall we '
        'come?" [10:00] [12:00]'
    )
    assert "failed at step 2 (line 9) of 3" in (failure.text or "")
    assert (case.findtext("system-out") or "").splitlines() == [
        "phone: hi",
        'bot:   "Hello! When shall we come?" [10:00] [12:00]',
    ]


def test_in_process_by_default_from_the_config(tmp_path):
    port, bot_port = free_port(), free_port()
    config = tmp_path / "emulator.yaml"
    config.write_text(f"port: {port}\nwebhook_url: http://127.0.0.1:{bot_port}/webhook\n")
    bot = Bot(f"http://127.0.0.1:{port}", tmp_path / "bot.log", bot_port)
    try:
        # Each conversation begins on a fresh view of its phone: run the same one twice (one
        # after the other, as they share a phone, whatever --jobs says); both pass.
        booking = str(PASSING / "generic-booking.convo.yaml")
        done = run_cli("conversations", "run", booking, booking, "--config", str(config), "-j", "2")
    finally:
        bot.stop()
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"rcs-emulator on http://127.0.0.1:{port} (clock manual) for this run"
    assert lines[-1] == "2 conversations: 2 passed"


def test_an_emulator_out_of_reach_is_exit_2_with_a_report(tmp_path):
    report = tmp_path / "out" / "report.xml"
    done = run_cli(
        "conversations", "run", str(PASSING), "--url", "http://127.0.0.1:9", "--junit", str(report)
    )
    assert done.returncode == 2
    assert done.stderr.startswith("rcs-emulator: cannot reach the emulator at http://127.0.0.1:9: ")
    suite = junit(report)
    assert (suite.get("tests"), suite.get("errors"), suite.get("failures")) == ("8", "8", "0")
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
    served = Served(
        tmp_path / "emulator.log", "--clock", "manual", env={"RCS_EMULATOR_CONTROL_TOKEN": "s3cret"}
    )
    try:
        conversation = tmp_path / "quiet.convo.yaml"
        conversation.write_text(
            'provider: generic\nagent: a\nphone: "+46701234567"\nsteps: [wait: 10]\n'
        )
        refused = run_cli("conversations", "run", str(conversation), "--url", served.base_url)
        allowed = run_cli(
            "conversations",
            "run",
            str(conversation),
            "--url",
            served.base_url,
            env={"RCS_EMULATOR_CONTROL_TOKEN": "s3cret"},
        )
    finally:
        served.stop()
    assert refused.returncode == 1
    assert (
        "  ERROR the emulator answered GET /_emulator/messages with 401: the control API "
        "needs its token (X-Emulator-Token header or ?token=)" in refused.stdout.splitlines()
    )
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr


def test_a_url_without_its_scheme_is_read_as_http_and_another_scheme_is_refused(tmp_path):
    served = Served(tmp_path / "emulator.log", "--clock", "manual")
    try:
        conversation = tmp_path / "quiet.convo.yaml"
        conversation.write_text(
            'provider: generic\nagent: a\nphone: "+46701234567"\nsteps: [wait: 5m]\n'
        )
        host_port = served.base_url.removeprefix("http://")
        done = run_cli("conversations", "run", str(conversation), "--url", host_port)
    finally:
        served.stop()
    assert done.returncode == 0, done.stdout + done.stderr
    refused = run_cli("conversations", "run", str(conversation), "--url", "ftp://h")
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        "rcs-emulator: --url ftp://h: 'ftp://h' is not an emulator's URL (ftp:// is not http:// "
        "or https://), as http://127.0.0.1:8080"
    )


def test_a_phone_that_writes_first_joins_the_bots_tenant_once_it_is_known(rcs_bot_and_emulator):
    """A file without `tenant:` cannot say which tenant the bot sends as: the phone's first
    message of a run's first conversation lands in `default` (said in a note), and once the bot
    has answered, later openers of the run join its tenant: one conversation each."""
    _, served = rcs_bot_and_emulator
    booking, cards = PASSING / "generic-booking.convo.yaml", PASSING / "generic-cards.convo.yaml"
    httpx.post(f"{served.base_url}/_emulator/reset").raise_for_status()
    done = run_cli("conversations", "run", str(booking), str(cards), "--url", served.base_url)
    assert done.returncode == 0, done.stdout + done.stderr
    notes = [line for line in done.stdout.splitlines() if line.startswith("  note: ")]
    assert notes == [
        "  note: the phone's first message went to tenant 'default' (no tenant was known for "
        "agent booking_agent) and the bot answers as 'booking-bot-key': two conversations in the "
        "inbox; `tenant: booking-bot-key` in the file keeps them in one"
    ]
    listed = httpx.get(f"{served.base_url}/_emulator/conversations").json()["items"]
    by_phone = sorted((c["phone"], c["tenant"]) for c in listed)
    assert by_phone == [
        ("+46701234567", "booking-bot-key"),  # the first: what the note says
        ("+46701234567", "default"),
        ("+46701234568", "booking-bot-key"),  # the second: one conversation
    ]
    thread = httpx.get(f"{served.base_url}/_emulator/messages", params={"phone": "+46701234568"})
    kinds = [m["kind"] for m in thread.json()["items"]]
    assert kinds[0] == "user" and len(kinds) > 1  # the phone's "hours", then the bot's answers
    # Another run, with --reset-all: the bot's tenant is read before the reset forgets it (a
    # file naming no tenant is reset by --reset of nothing: the whole emulator is --reset-all's).
    again = run_cli("conversations", "run", str(cards), "--url", served.base_url, "--reset-all")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "note:" not in again.stdout
    listed = httpx.get(f"{served.base_url}/_emulator/conversations").json()["items"]
    assert [(c["phone"], c["tenant"]) for c in listed] == [("+46701234568", "booking-bot-key")]


def test_openers_run_at_once_join_the_bots_tenant_as_one_after_another(rcs_bot_and_emulator):
    """With --jobs, the cases of an agent whose bot has not been seen do not all write first
    into 'default': one does (its note says so), the others wait for its bot's answer and join
    the bot's tenant, as they would run one after another."""
    _, served = rcs_bot_and_emulator
    booking, cards = PASSING / "generic-booking.convo.yaml", PASSING / "generic-cards.convo.yaml"
    httpx.post(f"{served.base_url}/_emulator/reset").raise_for_status()
    done = run_cli(
        "conversations", "run", str(booking), str(cards), "--url", served.base_url, "--jobs", "2"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    notes = [line for line in done.stdout.splitlines() if line.startswith("  note: ")]
    assert len(notes) == 1, done.stdout
    listed = httpx.get(f"{served.base_url}/_emulator/conversations").json()["items"]
    in_default = [c["phone"] for c in listed if c["tenant"] == "default"]
    assert len(in_default) == 1  # the one whose note says so
    assert sorted(c["phone"] for c in listed if c["tenant"] == "booking-bot-key") == [
        "+46701234567",
        "+46701234568",
    ]
