"""The command line as a newcomer meets it: every mistake is one line naming where it came from,
on stderr, with exit 2 (1 for failed validations), never a traceback.

Mistakes found while the command line, the variables and the files are read (before anything
listens) are read by `main` in this process, as the console script calls it; the rest, and a
few of those, run `rcs-emulator` as a process of its own."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from emulator import Config, EmulatorServer
from tests.robustness.process import BIN, Served, run_cli


def _one_line(done) -> str:  # type: ignore[no-untyped-def]
    assert "Traceback" not in done.stderr and "Value error" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return str(lines[0])


def test_version() -> None:
    done = run_cli("--version")
    assert done.returncode == 0
    assert done.stdout.strip().startswith("rcs-emulator ")
    assert done.stdout.strip().split()[1][0].isdigit()


@pytest.mark.parametrize(
    ("env", "line"),
    [
        (
            {"RCS_EMULATOR_PORT": "abc"},
            "rcs-emulator: RCS_EMULATOR_PORT=abc: must be a whole number, not 'abc'",
        ),
        (
            {"RCS_EMULATOR_SPEED": "fast"},
            "rcs-emulator: RCS_EMULATOR_SPEED=fast: must be a number, not 'fast'",
        ),
        (
            {"RCS_EMULATOR_CLOCK": "sundial"},
            "rcs-emulator: RCS_EMULATOR_CLOCK=sundial: must be one of real, scaled, manual, not 'sundial'",
        ),
        (
            {"RCS_EMULATOR_STATE_SAVE_INTERVAL": "0"},
            "rcs-emulator: RCS_EMULATOR_STATE_SAVE_INTERVAL=0: must be greater than 0, not '0'",
        ),
    ],
)
def test_an_environment_error_names_the_variable(cli_main, env, line) -> None:
    done = cli_main("serve", env=env)
    assert done.returncode == 2
    assert _one_line(done) == line


def test_a_config_file_error_names_the_file(cli_main, tmp_path: Path) -> None:
    config = tmp_path / "emulator.yaml"
    config.write_text("port: 8080\nwebhook_timeout: soon\n")
    done = cli_main("serve", "--config", str(config))
    assert done.returncode == 2
    assert _one_line(done) == (
        f"rcs-emulator: {config}: webhook_timeout: must be a number, not 'soon'"
    )


@pytest.mark.parametrize("clock", ["manual", "real"])
def test_a_speed_with_a_clock_that_ignores_it_is_refused(cli_main, clock: str) -> None:
    done = cli_main("serve", "--clock", clock, "--speed", "60")
    assert done.returncode == 2
    line = _one_line(done)
    assert line.startswith(f"rcs-emulator: --clock {clock} and --speed 60")
    assert f"speed 60 goes with a scaled clock, not a {clock} one" in line


def test_validate_names_the_file_of_a_yaml_syntax_error_on_stderr(tmp_path: Path) -> None:
    """As a process of its own: what a CI step sees."""
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: broken\ndefault: [\n")
    good = Path(__file__).parent.parent / "scenarios" / "chatty.yaml"
    done = run_cli("scenarios", "validate", str(broken), str(good))
    assert done.returncode == 1
    assert done.stdout.startswith(f"ok   {good}")
    assert done.stderr.splitlines() == [
        f"FAIL {broken}: not valid YAML: line 3, column 1: expected the node content, but found "
        "'<stream end>'"
    ]


@pytest.mark.parametrize("flag", ["--config", "--scenario"])
def test_a_yaml_syntax_error_in_a_config_or_scenario_file_is_one_line(tmp_path, flag) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("port: 8080\nagents:\n  - {provider: generic, agent_id: a\nphones: {}\n")
    done = run_cli("serve", flag, str(broken))
    assert done.returncode == 2
    assert _one_line(done) == (
        f"rcs-emulator: {broken}: not valid YAML: line 4, column 7: expected ',' or '}}', but "
        "got ':'"
    )


def test_conversation_files_name_the_nearest_provider_and_key(tmp_path) -> None:
    convo = tmp_path / "typos.convo.yaml"
    convo.write_text('provider: genric\nagent: a\nphone: "+46701234567"\nstpes:\n  - user: hi\n')
    done = run_cli("conversations", "validate", str(convo))
    assert done.returncode == 1
    assert done.stderr.splitlines() == [  # stpes is one mistake: not also "steps is required"
        f"FAIL {convo}: provider: unknown provider 'genric' (did you mean 'generic'?); one of "
        "generic, serwersms",
        f"FAIL {convo}: unknown key 'stpes' (did you mean 'steps'?)",
    ]


def test_validate_reports_rules_without_pydantics_prefix(cli_main, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("name: wrong\ndefault:\n  - {after: 1, event: dance}\n")
    done = cli_main("scenarios", "validate", str(wrong))
    assert done.returncode == 1
    assert "unknown event 'dance'" in done.stderr and "Value error" not in done.stderr


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["serve", "--port", "abc"], "rcs-emulator: --port abc: must be a whole number, not 'abc'"),
        (
            ["serve", "--prot", "9000"],
            "rcs-emulator: unrecognized arguments: --prot 9000 (did you mean --port?)",
        ),
        (
            ["serve", "--clock", "Manual"],
            "rcs-emulator: --clock Manual: must be one of real, scaled, manual, not 'Manual' (did you mean 'manual'?)",
        ),
        (
            ["serve", "--workers", "0"],
            "rcs-emulator: --workers 0: must be greater than or equal to 1, not '0'",
        ),
        (
            ["serve", "--log-level", "loud"],
            "rcs-emulator: argument --log-level: invalid choice: 'loud' (choose from 'critical', 'error', 'warning', 'info', 'debug', 'trace')",
        ),
        (
            ["serv"],
            "rcs-emulator: argument COMMAND: invalid choice: 'serv' (choose from 'serve', 'scenarios', 'ctl', 'conversations', 'verify', 'record') (did you mean 'serve'?)",
        ),
        (
            [],
            "rcs-emulator: missing command: one of serve, scenarios, ctl, conversations, verify, record",
        ),
        (["scenarios"], "rcs-emulator: missing scenarios verb: one of list, validate"),
        (
            ["serve", "--webhook-url", "localhost:9000/hook"],
            "rcs-emulator: --webhook-url localhost:9000/hook: 'localhost:9000/hook' is not an http:// or https:// URL with a host (did you mean 'http://localhost:9000/hook'?)",
        ),
    ],
)
def test_every_mistake_on_the_command_line_is_one_line_and_exit_2(cli_main, args, line) -> None:
    done = cli_main(*args)
    assert done.returncode == 2
    assert _one_line(done) == line
    assert "usage:" not in done.stdout + done.stderr


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ["serve", "--scenario", "chaty"],
            "rcs-emulator: unknown scenario 'chaty' (did you mean 'chatty'?); known: chatty, default, no-rcs",
        ),
        (
            ["serve", "--host", "nosuch.invalid", "--port", "0"],
            "rcs-emulator: cannot listen on 'nosuch.invalid': Name or service not known",
        ),
        (["serve", "--port", "abc"], "rcs-emulator: --port abc: must be a whole number, not 'abc'"),
    ],
)
def test_a_mistake_found_on_the_way_to_serving_is_one_line_and_exit_2(args, line) -> None:
    """As a process of its own: what the console script prints and exits with."""
    done = run_cli(*args)
    assert done.returncode == 2
    assert _one_line(done) == line
    assert "usage:" not in done.stdout + done.stderr


def test_a_port_in_use_is_one_line_and_exit_2() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_cli("serve", "--port", str(port))
    assert done.returncode == 2
    assert _one_line(done) == (
        f"rcs-emulator: 127.0.0.1:{port} is in use (another emulator?): "
        "choose another port with --port N or RCS_EMULATOR_PORT=N (0 picks "
        "a free one)"
    )
    assert done.stdout == ""  # no start-up line before it


def test_a_scenario_typo_is_said_before_a_port_in_use() -> None:
    """Both wrong at once: the typo first (the port may well be this user's other emulator)."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_cli("serve", "--port", str(port), "--scenario", "chaty")
    assert done.returncode == 2
    assert _one_line(done) == (
        "rcs-emulator: unknown scenario 'chaty' (did you mean 'chatty'?); known: chatty, "
        "default, no-rcs"
    )


def test_a_webhook_url_without_its_scheme_is_refused_by_every_source(cli_main, tmp_path) -> None:
    said = (
        "'localhost:9000/hook' is not an http:// or https:// URL with a host (did you mean "
        "'http://localhost:9000/hook'?)"
    )
    done = cli_main("serve", env={"RCS_EMULATOR_WEBHOOK_URL": "localhost:9000/hook"})
    assert _one_line(done) == f"rcs-emulator: RCS_EMULATOR_WEBHOOK_URL=localhost:9000/hook: {said}"
    config = tmp_path / "config.yaml"
    config.write_text("webhook_url: localhost:9000/hook\n")
    done = cli_main("serve", "--config", str(config))
    assert _one_line(done) == f"rcs-emulator: {config}: webhook_url: {said}"
    config.write_text(
        "agents:\n  - {provider: generic, agent_id: a, webhook_url: localhost:9000/hook}\n"
    )
    done = cli_main("serve", "--config", str(config))
    assert _one_line(done) == f"rcs-emulator: {config}: agents[0].webhook_url: {said}"
    assert done.returncode == 2
    with EmulatorServer(Config(port=0)) as server:  # the control API says the same
        answer = httpx.put(
            f"{server.base_url}/_emulator/agents/generic/a",
            json={"webhook_url": "localhost:9000/hook"},
        )
    assert answer.status_code == 400
    assert answer.json() == {"error": f"webhook_url: {said}", "field": "webhook_url"}


@pytest.mark.parametrize(
    ("yaml_text", "line"),
    [
        ("generic:\n  keyz: {}\n", "generic: keyz: unknown setting (did you mean 'keys'?)"),
        (
            "serwersms:\n  acounts: []\n",
            "serwersms: acounts: unknown setting (did you mean 'accounts'?)",
        ),
        (
            "phones:\n  '+46701234567': {rcs_capabel: false}\n",
            "phones['+46701234567'].rcs_capabel: unknown setting (did you mean 'rcs_capable'?)",
        ),
        (
            "agents:\n  - {provider: genric, agent_id: a}\n",
            "agents[0].provider: unknown provider 'genric' (did you mean 'generic'?); one of generic, serwersms",
        ),
        (
            "serwersms:\n  accounts: [{username: u, pasword: x}]\n",
            "serwersms: accounts[0].pasword: unknown setting (did you mean 'password'?)",
        ),
        (
            "webhok_url: http://x.test/\n",
            "unknown setting 'webhok_url' (did you mean 'webhook_url'?)",
        ),
        ("scenario_dirs: [./my-scenarios]\n", "scenario_dirs: no such folder: {dir}/my-scenarios"),
    ],
)
def test_config_file_mistakes_name_the_nearest_key(cli_main, tmp_path: Path, yaml_text, line):
    config = tmp_path / "config.yaml"
    config.write_text(yaml_text)
    done = cli_main("serve", "--config", str(config))
    assert done.returncode == 2
    assert _one_line(done) == f"rcs-emulator: {config}: {line.format(dir=tmp_path)}"


def test_a_mistyped_variable_is_warned_naming_the_nearest() -> None:
    env = {"RCS_EMULATOR_PROT": "9000", "RCS_EMULATOR_TOKEN": "x", "RCS_EMULATOR_GENERIC": "{}"}
    done = run_cli("scenarios", "list", env=env)
    assert done.returncode == 0
    assert done.stderr.splitlines() == [
        "WARNING:  RCS_EMULATOR_GENERIC is not a setting of rcs-emulator (a provider's section "
        "goes in the config file, under generic:); it is ignored",
        "WARNING:  RCS_EMULATOR_PROT is not a setting of rcs-emulator (did you mean "
        "RCS_EMULATOR_PORT?); it is ignored",
        "WARNING:  RCS_EMULATOR_TOKEN is not a setting of rcs-emulator (did you mean "
        "RCS_EMULATOR_CONTROL_TOKEN?); it is ignored",
    ]


def test_port_0_serves_on_a_free_port_and_says_which(tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(BIN / "rcs-emulator"), "serve", "--port", "0"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 20
        while not log.read_text().strip() and time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()
            time.sleep(0.05)
        first = log.read_text().splitlines()[0]
        assert first.startswith("rcs-emulator on http://127.0.0.1:")
        port = int(first.split(":")[2].split()[0])
        assert port != 0  # the port it took, not the 0 it was given
        assert httpx.get(f"http://127.0.0.1:{port}/_emulator/health").status_code == 200
    finally:
        proc.terminate()
        proc.wait(20)
    assert proc.returncode == -signal.SIGTERM  # uvicorn's graceful stop ends by the signal it got


def test_the_readme_example_config_starts_as_written(tmp_path: Path) -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    example = readme.split("## Configuration", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "config.yaml").write_text(example)
    served = Served(tmp_path / "serve.log", "--config", "config.yaml", cwd=tmp_path)
    try:
        token = {"X-Emulator-Token": "change-me"}  # the example's control_token
        health = httpx.get(f"{served.base_url}/_emulator/health").json()
        assert health["status"] == "ok"
        agents = httpx.get(f"{served.base_url}/_emulator/agents", headers=token).json()
        assert agents["total"] == 1
    finally:
        served.stop()
    assert served.proc.returncode == -signal.SIGTERM  # uvicorn's graceful stop
    assert "WARNING" not in served.text()  # a normal stop says nothing alarming
    assert (tmp_path / "emulator-state.json").exists()  # its state_file, saved at the stop
