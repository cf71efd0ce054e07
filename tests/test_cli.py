"""The command line as a newcomer meets it: every mistake is one line naming where it came from,
on stderr, with exit 2 (1 for failed validations), never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.robustness.process import run_cli


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
        ({"RCS_EMULATOR_PORT": "abc"}, "rcs-emulator: RCS_EMULATOR_PORT=abc: must be a whole number, not 'abc'"),
        ({"RCS_EMULATOR_SPEED": "fast"}, "rcs-emulator: RCS_EMULATOR_SPEED=fast: must be a number, not 'fast'"),
        ({"RCS_EMULATOR_CLOCK": "sundial"}, "rcs-emulator: RCS_EMULATOR_CLOCK=sundial: must be one of real, scaled, manual, not 'sundial'"),
        ({"RCS_EMULATOR_STATE_SAVE_INTERVAL": "0"}, "rcs-emulator: RCS_EMULATOR_STATE_SAVE_INTERVAL=0: must be greater than 0, not '0'"),
    ],
)  # fmt: skip
def test_an_environment_error_names_the_variable(env, line) -> None:
    done = run_cli("serve", env=env)
    assert done.returncode == 2
    assert _one_line(done) == line


def test_a_config_file_error_names_the_file(tmp_path: Path) -> None:
    config = tmp_path / "emulator.yaml"
    config.write_text("port: 8080\nwebhook_timeout: soon\n")
    done = run_cli("serve", "--config", str(config))
    assert done.returncode == 2
    assert _one_line(done) == (f"rcs-emulator: {config}: webhook_timeout: must be a number, "
                               "not 'soon'")  # fmt: skip


@pytest.mark.parametrize("clock", ["manual", "real"])
def test_a_speed_with_a_clock_that_ignores_it_is_refused(clock: str) -> None:
    done = run_cli("serve", "--clock", clock, "--speed", "60")
    assert done.returncode == 2
    line = _one_line(done)
    assert line.startswith(f"rcs-emulator: --clock {clock} and --speed 60")
    assert f"speed 60 goes with a scaled clock, not a {clock} one" in line


def test_validate_names_the_file_of_a_yaml_syntax_error_on_stderr(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: broken\ndefault: [\n")
    good = Path(__file__).parent.parent / "scenarios" / "chatty.yaml"
    done = run_cli("scenarios", "validate", str(broken), str(good))
    assert done.returncode == 1
    assert done.stdout.startswith(f"ok   {good}")
    assert done.stderr.startswith(f"FAIL {broken}: not valid YAML")
    assert str(broken) in done.stderr.splitlines()[-1]  # YAML's own mark names it too
    assert "<unicode string>" not in done.stderr


def test_validate_reports_rules_without_pydantics_prefix(tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("name: wrong\ndefault:\n  - {after: 1, event: dance}\n")
    done = run_cli("scenarios", "validate", str(wrong))
    assert done.returncode == 1
    assert "unknown event 'dance'" in done.stderr and "Value error" not in done.stderr
