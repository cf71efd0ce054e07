"""Conversations run at once against one emulator, as CI runs them (`rcs-emulator serve` and the
sample bot as real processes): `--jobs`, several runs side by side each with `--reset`, what a
reset of everything does to settings and what the hint then says, and JUnit classnames that do
not depend on how the files were named."""

from __future__ import annotations

import os
import re
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.ports import free_port
from tests.robustness.process import BIN, Served, run_cli

from .conftest import EXAMPLES, Bot

PASSING = EXAMPLES / "conversations"


def copies(folder: Path, count: int) -> list[Path]:
    """`count` conversation files made from the passing examples, each on a phone of its own
    (the partial they include beside them)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "greeting.convo.yaml").write_text(
        (PASSING / "partials/greeting.convo.yaml").read_text()
    )
    sources = sorted(p for p in PASSING.glob("*.convo.yaml") if "greetings" not in p.name)
    made = []
    for i in range(count):
        source = sources[i % len(sources)]
        text = source.read_text()
        number = f"{5000 + i:07d}"
        text = re.sub(r'phone: "\+(4670|4850)(\d+)"', rf'phone: "+\g<1>{number}"', text)
        text = re.sub(r"^name: (.*)$", rf"name: \1 ({i})", text, count=1, flags=re.M)
        path = folder / f"{i:02d}-{source.name}"
        path.write_text(text)
        made.append(path)
    return made


@pytest.fixture(scope="module")
def rcs_shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One `rcs-emulator serve` (manual clock) and the sample bot, shared by the module's runs."""
    logs = tmp_path_factory.mktemp("shared")
    port = free_port()
    served = Served(
        logs / "emulator.log",
        "--clock",
        "manual",
        "--webhook-url",
        f"http://127.0.0.1:{port}/webhook",
    )
    try:
        bot = Bot(served.base_url, logs / "bot.log", port)
        try:
            yield served
        finally:
            bot.stop()
    finally:
        served.stop()


def start(*args: str, cwd: Path | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(BIN / "rcs-emulator"), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        env=os.environ,
    )


def test_twenty_files_with_jobs_and_reset_each_all_pass(rcs_shared: Served, tmp_path: Path):
    files = copies(tmp_path / "twenty", 20)
    done = run_cli(
        "conversations",
        "run",
        *map(str, files),
        "--url",
        rcs_shared.base_url,
        "--jobs",
        "8",
        "--reset",
        "--junit",
        str(tmp_path / "r.xml"),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[-2:] == ["20 conversations: 20 passed", f"JUnit report: {tmp_path / 'r.xml'}"]
    # Each conversation's lines come together, whatever ran beside it.
    firsts = [i for i, line in enumerate(lines) if line.startswith(str(tmp_path))]
    assert len(firsts) == 20
    for at, end in zip(firsts, [*firsts[1:], len(lines) - 2], strict=True):
        assert lines[end - 1].startswith("  PASSED "), lines[at:end]
        steps = [line for line in lines[at + 1 : end - 1] if not line.startswith("  note: ")]
        assert all(line.startswith("  ok ") for line in steps)
    # The files name no tenant: of each agent, only a first phone that wrote before its bot was
    # ever seen has its message filed apart (a note); the others, run beside it, waited for it.
    notes = [line for line in lines if line.startswith("  note: ")]
    agents = [re.search(r"for agent (\S+)\)", note) for note in notes]
    named = [m.group(1) for m in agents if m is not None]
    assert len(named) == len(notes) and len(set(named)) == len(named), notes


def test_runs_side_by_side_each_resetting_do_not_touch_each_other(rcs_shared: Served, tmp_path):
    # Issue 35, defect 2: a run's --reset wiped the others' state (and the webhook log their
    # hints read). Four runs at once, each of five files, each resetting before each file.
    files = copies(tmp_path / "side", 20)
    runs = [
        start(
            "conversations", "run", *map(str, files[i::4]), "--url", rcs_shared.base_url, "--reset"
        )
        for i in range(4)
    ]
    outputs = [run.communicate(timeout=120) for run in runs]
    for run, (out, err) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, out + err
        assert out.splitlines()[-1] == "5 conversations: 5 passed"
        assert "hint:" not in out


def test_a_reset_of_everything_and_the_settings_it_returns(tmp_path: Path):
    # A webhook URL given only through the control API: --reset-all returns it to the config
    # (none), and the hint says that the run's own reset did it.
    served = Served(tmp_path / "emulator.log", "--clock", "manual")
    port = free_port()
    bot = Bot(served.base_url, tmp_path / "bot.log", port)
    try:
        agent = httpx.put(
            served.base_url + "/_emulator/agents/generic/booking_agent",
            json={"webhook_url": f"http://127.0.0.1:{port}/webhook"},
        )
        assert agent.status_code == 200, agent.text
        conversation = tmp_path / "hi.convo.yaml"
        conversation.write_text(
            'provider: generic\nagent: booking_agent\nphone: "+46701234567"\n'
            "timeout: 1\nsteps:\n  - user: hi\n  - expect: {text_contains: "
            "Hello}\n"
        )
        url = served.base_url
        kept = run_cli(
            "conversations",
            "run",
            str(conversation),
            "--url",
            url,
            "--reset-all",
            "--keep-settings",
        )
        wiped = run_cli("conversations", "run", str(conversation), "--url", url, "--reset-all")
        alone = run_cli("conversations", "run", str(conversation), "--url", url, "--keep-settings")
    finally:
        bot.stop()
        served.stop()
    assert kept.returncode == 0, kept.stdout + kept.stderr
    assert wiped.returncode == 1
    assert (
        "           hint: step 1 made no callback: agent booking_agent has no webhook URL (give "
        "webhook_url in the file, in the emulator's config, or through PUT /_emulator/agents/...)"
        "; this run's reset of everything returned agent settings made through the control API "
        "to the config first (--keep-settings keeps them)"
    ) in wiped.stdout.splitlines()
    assert alone.returncode == 2
    assert alone.stderr.strip() == (
        "rcs-emulator: --keep-settings goes with --reset-all (a "
        "conversation's own reset never touches settings)"
    )


def classnames(report: Path) -> list[str | None]:
    return [case.get("classname") for case in ET.parse(report).getroot().iter("testcase")]


def test_junit_classnames_do_not_depend_on_how_the_files_were_named(rcs_shared, tmp_path):
    # Issue 35, defect 7: a relative path, an absolute one and a folder gave three classnames.
    folder = tmp_path / "convos"
    copies(folder / "pass", 1)
    url = rcs_shared.base_url
    runs = {
        "relative": (["pass/00-generic-booking.convo.yaml"], folder),
        "absolute": ([str(folder / "pass/00-generic-booking.convo.yaml")], None),
        "inside": (["00-generic-booking.convo.yaml"], folder / "pass"),
    }
    for name, (given, cwd) in runs.items():  # one after another: they share a phone
        run = start(
            "conversations",
            "run",
            *given,
            "--url",
            url,
            "--junit",
            str(tmp_path / f"{name}.xml"),
            cwd=cwd,
        )
        out, err = run.communicate(timeout=60)
        assert run.returncode == 0, out + err
        assert classnames(tmp_path / f"{name}.xml") == ["pass.00-generic-booking"]
