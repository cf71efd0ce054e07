"""Config: pydantic-settings reads every RCS_EMULATOR_* variable, later sources win (defaults <
file < environment < flags), provider sections are checked by their registry models, and every
refusal is one line naming where the value came from."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from emulator import Config, ConfigError
from emulator.config_errors import ConflictError


def test_sources_in_order(tmp_path: Path) -> None:
    file = tmp_path / "emulator.yaml"
    file.write_text("port: 8001\nseed: 1\nscenario: chatty\n")
    env = {"RCS_EMULATOR_PORT": "8002", "RCS_EMULATOR_SEED": "2"}
    config = Config.from_sources(str(file), env=env, port=8003)
    assert (config.port, config.seed, config.scenario) == (8003, 2, "chatty")


def test_every_field_has_its_variable(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    env = {
        "RCS_EMULATOR_WEBHOOK_CONCURRENCY": "8",
        "RCS_EMULATOR_REQUEST_TIMEOUT": "2.5",
        "RCS_EMULATOR_ALLOWED_HOSTS": "Rcs.Example.com, .test.internal",
        "RCS_EMULATOR_SCENARIO_DIRS": f"{tmp_path / 'a'}:{tmp_path / 'b'}",
        "RCS_EMULATOR_AGENTS": '[{"provider": "generic", "agent_id": "shop"}]',
        "RCS_EMULATOR_PHONES": '{"+46701234567": {"rcs_capable": false}}',
        "RCS_EMULATOR_MAX_MESSAGES": "10",
    }
    config = Config.from_sources(env=env)
    assert config.webhook_concurrency == 8 and config.request_timeout == 2.5
    assert config.allowed_hosts == ("rcs.example.com", ".test.internal")
    assert config.scenario_dirs == (str(tmp_path / "a"), str(tmp_path / "b"))
    assert config.agents[0].agent_id == "shop"
    assert config.phones["+46701234567"].rcs_capable is False  # type: ignore[union-attr]
    assert config.max_messages == 10


def test_empty_variables_are_not_given() -> None:
    assert Config.from_sources(env={"RCS_EMULATOR_PORT": ""}).port == 8080


def test_direct_construction_ignores_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RCS_EMULATOR_PORT", "9999")
    assert Config().port == 8080  # a library user's Config(...) is what it says
    assert Config.from_sources().port == 9999


@pytest.mark.parametrize(
    ("env", "line"),
    [
        (
            {"RCS_EMULATOR_PORT": "70000"},
            "RCS_EMULATOR_PORT=70000: must be less than or equal to 65535",
        ),
        ({"RCS_EMULATOR_AGENTS": "[oops"}, "RCS_EMULATOR_AGENTS: must be JSON"),
        (
            {"RCS_EMULATOR_AGENTS": '[{"provider": "nope", "agent_id": "a"}]'},
            "unknown provider 'nope'",
        ),
        ({"RCS_EMULATOR_SPEED": "true"}, "RCS_EMULATOR_SPEED=true: must be a number"),
        (
            {"RCS_EMULATOR_WORKERS": "0"},
            "RCS_EMULATOR_WORKERS=0: must be greater than or equal to 1",
        ),
        ({"RCS_EMULATOR_WORKERS": "true"}, "RCS_EMULATOR_WORKERS=true: must be a whole number"),
    ],
)
def test_environment_errors_name_the_variable(env: dict[str, str], line: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(line)):
        Config.from_sources(env=env)


def test_file_errors_name_the_file_and_the_setting(tmp_path: Path) -> None:
    file = tmp_path / "emulator.yaml"
    file.write_text("generic:\n  rate_limit: {requests: 0, per_seconds: 1}\n")
    with pytest.raises(ConfigError) as refused:
        Config.from_sources(str(file), env={})
    assert str(refused.value) == (
        f"{file}: generic: rate_limit.requests: must be greater than or equal to 1, not 0"
    )
    file.write_text("webhok_url: http://x.test/\n")
    with pytest.raises(
        ConfigError,
        match=r"emulator.yaml: unknown setting 'webhok_url' \(did you mean 'webhook_url'\?\)",
    ):
        Config.from_sources(str(file), env={})


@pytest.mark.parametrize(
    ("section", "says"),
    [
        ({"generic": {"strict": "maybe"}}, "generic: strict: must be a valid boolean"),
        ({"generic": {"keyz": {}}}, "generic: keyz: unknown setting"),
        ({"generic": {"max_upload_bytes": 0}}, "generic: max_upload_bytes: must be greater"),
        (
            {"serwersms": {"accounts": [{"password": "x"}]}},
            "needs a username (with a password) or a token",
        ),
        ({"serwersms": {"networks": "+48"}}, "serwersms: networks: must be a valid list"),
        (
            {"phones": {"+46701234567": {"rcs": True}}},
            "phones['+46701234567'].rcs: unknown setting",
        ),
    ],
)
def test_provider_sections_are_checked_by_their_models(section: dict, says: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(says)):
        Config(**section)


def test_sections_are_typed_and_defaulted() -> None:
    config = Config(serwersms={"accounts": [{"username": "demo", "password": 1234}]})
    assert config.section("serwersms").accounts[0].password == "1234"
    assert config.section("generic").strict is False


def test_a_speed_alone_means_a_scaled_clock_and_a_conflict_names_both_sources() -> None:
    assert Config.from_sources(env={}, speed=60).clock == "scaled"
    with pytest.raises(ConflictError, match="^--clock manual and --speed 60: speed 60 goes with"):
        Config.from_sources(env={}, clock="manual", speed=60)


def test_with_overrides_keeps_the_rest_and_checks_the_new() -> None:
    base = Config(clock="manual", generic={"strict": True})
    changed = base.with_overrides(port=0, seed=None)
    assert changed.port == 0 and changed.clock == "manual"
    assert changed.section("generic").strict is True
    with pytest.raises(ConfigError, match="port: must be a whole number"):
        base.with_overrides(port="x")
