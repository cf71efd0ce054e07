"""README.md's blocks as a reader pastes them, taken from README.md itself: every block a user
pastes (sh, bash, python, yaml) is run by a test here or elsewhere (named below), or says why it
cannot run on this machine. Ports are the only thing changed (a test takes free ones)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from emulator import Config, EmulatorServer
from tests.conftest import GENERIC_AUTH
from tests.conversations.conftest import BOT, Bot
from tests.ports import free_port
from tests.robustness.process import BIN, run_cli

pytest_plugins = ["pytester"]
ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()
PASTED = ("sh", "bash", "python", "yaml")  # `text` blocks are output or synopses, not pasted

# Each pasted block by its first line: the test that runs it, or why none can here.
RUN_ELSEWHERE = {
    "make run    #": "the Makefile's own targets: CI runs `make test`, and `make run` is serve",
    "# 1. The emulator,": "tests/test_quick_start.py",
    "pip install /path/to/rcs-emulator": "installs into the reader's project (tests/test_install.py checks what the runtime holds)",
    "docker build -t rcs-emulator .": "needs a container engine: `make docker-check` builds and probes the image",
    "import httpx\n\nGENERIC =": "tests/test_pytest_plugin.py (examples/pytest, verbatim)",
    "import base64": "tests/test_pytest_plugin.py (examples/pytest, verbatim)",
    "import asyncio": "tests/test_mock.py (examples/unittest, verbatim)",
    "import httpx\n\nimport emulator": "tests/test_mock.py::test_the_readme_script_runs_as_written",
    "port: 8080": "tests/test_cli.py::test_the_readme_example_config_starts_as_written",
    "rcs-emulator serve --state redis://": "tests/scale/test_processes.py serves workers on a shared Redis",
    "livenessProbe:": "a Kubernetes manifest's fragment: the probes' paths are tests/control's",
    "for port in 7000 7001 7002;": "tests/redis_server.py makes the suite's Redis Cluster the same way",
    "rcs-emulator verify --provider": "checks a real account: tests/verify/test_verify.py runs verify against a stand-in service",
    "rcs-emulator record --provider": "records from the real service: tests/cassette/test_commands.py records from a stand-in and replays",
}
RUN_HERE = {
    "from emulator import Config, EmulatorServer": "test_the_python_server_block_prints_its_url",
    "rcs-emulator ctl messages --phone": "test_the_ctl_examples_run_as_written",
    "name: checkout": "test_the_scenario_examples_are_valid_scenarios",
    "name: network": "test_the_scenario_examples_are_valid_scenarios",
    "# booking.convo.yaml": "test_the_conversation_conftest_and_file_pass_as_pasted",
    "import os, socket, subprocess, sys, time": "test_the_conversation_conftest_and_file_pass_as_pasted",
    "rcs-emulator conversations run tests/conversations/": "test_the_conversation_commands_run_as_written",
    "jq -n --rawfile text booking.convo.yaml": "test_the_conversation_commands_run_as_written",
    "# partials/greeting.convo.yaml": "test_the_worked_example_passes_as_pasted",
    "# generic-booking.convo.yaml": "test_the_worked_example_passes_as_pasted",
    "  - user: prices": "test_the_worked_example_passes_as_pasted",
}


def blocks(language: str | None = None) -> list[str]:
    found = re.findall(r"^```(\w+)\n(.*?)^```", README, flags=re.S | re.M)
    return [body for lang, body in found if language is None or lang == language]


def block(first: str) -> str:
    [body] = [b for b in blocks() if b.startswith(first)]
    return body


def test_every_pasted_block_is_run_or_says_why_not() -> None:
    for lang, body in re.findall(r"^```(\w+)\n(.*?)^```", README, flags=re.S | re.M):
        if lang in PASTED:
            owners = [k for k in (*RUN_ELSEWHERE, *RUN_HERE) if body.startswith(k)]
            assert owners, f"a {lang} block no test runs: {body[:80]!r}"
    for first, test in RUN_HERE.items():
        assert block(first) and test in globals(), first


def test_the_python_server_block_prints_its_url(tmp_path: Path) -> None:
    script = tmp_path / "server.py"
    script.write_text(block("from emulator import Config, EmulatorServer"))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+\n", done.stdout)


def test_the_ctl_examples_run_as_written() -> None:
    """After the Quick start's Generic send (its chip's postback is `yes`), line by line."""
    lines = [line for line in block("rcs-emulator ctl messages --phone").splitlines() if line]
    body = {"agentId": "my_agent", "number": ["+46701234567"], "messageType": "TextMessage"}
    body |= {"text": "Hello!", "suggestedReplies": [{"text": "Yes", "postbackData": "yes"}]}
    with EmulatorServer(Config(port=0, clock="manual")) as server:
        base = server.base_url
        sent = httpx.post(f"{base}/Rcs/api/v1/Message", json=body, headers=GENERIC_AUTH)
        assert sent.status_code == 200
        env = os.environ | {"RCS_EMULATOR_URL": base, "PATH": f"{BIN}:{os.environ['PATH']}"}
        outputs = []
        for line in lines:
            done = subprocess.run(["bash", "-c", line], env=env, capture_output=True, text=True)
            assert done.returncode == 0, (line, done.stderr)
            outputs.append(done.stdout)
        left = httpx.get(f"{base}/_emulator/messages").json()["total"]
    assert "Hello!" in outputs[0]
    assert outputs[1].startswith("advanced 300 s")
    assert outputs[2].startswith("+46701234567 -> generic my_agent: reply on message ")
    assert outputs[3].startswith("+46701234567 -> generic my_agent: message on message ")
    assert outputs[5] == "reset everything (settings kept)\n" and left == 0


def test_the_scenario_examples_are_valid_scenarios(tmp_path: Path) -> None:
    for first in ("name: checkout", "name: network"):
        path = tmp_path / f"{first.split()[1]}.yaml"
        path.write_text(block(first))
        done = run_cli("scenarios", "validate", str(path))
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith(f"ok   {path}: scenario '{first.split()[1]}'")


def _conversation_suite(pytester: pytest.Pytester) -> None:
    """The README's conftest.py and booking.convo.yaml, and the sample bot as bot.py (the
    conftest takes a free port for the bot itself: nothing is changed)."""
    conftest = block("import os, socket, subprocess, sys, time")
    assert "BOT_PORT = free_port()" in conftest
    pytester.makeconftest(conftest)
    pytester.path.joinpath("booking.convo.yaml").write_text(block("# booking.convo.yaml"))
    pytester.path.joinpath("bot.py").write_text(BOT.read_text())


def test_the_conversation_conftest_and_file_pass_as_pasted(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bot is up before the first conversation begins (it used to be raced); the phone's
    first message and the bot's answers are one conversation, in the file's tenant."""
    monkeypatch.setenv("GENERIC_KEY", "my-bot-key")  # the file's tenant, as the README says
    _conversation_suite(pytester)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=1)
    assert "booking.convo.yaml::books the first slot PASSED" in result.stdout.str()


def test_the_conversation_conftest_says_when_the_bot_does_not_start(
    pytester: pytest.Pytester,
) -> None:
    _conversation_suite(pytester)
    pytester.path.joinpath("bot.py").write_text("raise SystemExit('no bot today')\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    assert "bot.py did not listen on port" in result.stdout.str()


def test_the_conversation_commands_run_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`conversations run|validate` and the jq + curl call, in a folder laid out as the README
    says (tests/conversations/booking.convo.yaml), against the sample bot."""
    folder = tmp_path / "tests" / "conversations"
    folder.mkdir(parents=True)
    (folder / "booking.convo.yaml").write_text(block("# booking.convo.yaml"))
    (tmp_path / "booking.convo.yaml").write_text(block("# booking.convo.yaml"))
    emulator_port, bot_port = free_port(), free_port()
    hook = f"http://127.0.0.1:{bot_port}/webhook"
    monkeypatch.setenv("GENERIC_KEY", "my-bot-key")  # the file's tenant, as the README says
    monkeypatch.setenv("PATH", f"{BIN}:{os.environ['PATH']}")
    monkeypatch.setenv("RCS_EMULATOR_PORT", str(emulator_port))  # the in-process emulator's
    monkeypatch.setenv("RCS_EMULATOR_WEBHOOK_URL", hook)

    def bash(command: str) -> subprocess.CompletedProcess[str]:
        argv = ["bash", "-c", command.replace("8080", str(emulator_port))]
        return subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=120)

    commands = block("rcs-emulator conversations run tests/conversations/").splitlines()
    in_process, running, validate = (c.split("  #")[0].strip() for c in commands)
    bot = Bot(f"http://127.0.0.1:{emulator_port}", tmp_path / "bot.log", bot_port)
    try:
        done = bash(in_process)
        assert done.returncode == 0, done.stdout + done.stderr
        assert (tmp_path / "report.xml").is_file()
        done = bash(validate)
        assert done.returncode == 0 and done.stdout.startswith("ok   tests/conversations/")
        with EmulatorServer(Config(port=emulator_port, clock="manual", webhook_url=hook)):
            done = bash(running)
            assert done.returncode == 0, done.stdout + done.stderr
            done = bash(block("jq -n --rawfile text booking.convo.yaml"))
            assert done.returncode == 0, done.stderr
            assert '"outcome":"passed"' in done.stdout.replace(" ", "")
    finally:
        bot.stop()


def test_the_worked_example_passes_as_pasted(tmp_path: Path) -> None:
    """The worked example's two files, laid out as their comments name them, pass against the
    sample bot; the cards fragment is the sample's own file's, which tests/conversations runs."""
    folder = tmp_path / "conversations"
    (folder / "partials").mkdir(parents=True)
    for first in ("# partials/greeting.convo.yaml", "# generic-booking.convo.yaml"):
        (folder / first.removeprefix("# ")).write_text(block(first))
    cards = (ROOT / "examples/bot/conversations/generic-cards.convo.yaml").read_text()
    assert block("  - user: prices") in cards
    emulator_port, bot_port = free_port(), free_port()
    hook = f"http://127.0.0.1:{bot_port}/webhook"
    env = {"RCS_EMULATOR_PORT": str(emulator_port), "RCS_EMULATOR_WEBHOOK_URL": hook}
    bot = Bot(f"http://127.0.0.1:{emulator_port}", tmp_path / "bot.log", bot_port)
    try:
        done = run_cli("conversations", "run", str(folder), env=env)
    finally:
        bot.stop()
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1] == "1 conversation: 1 passed"
