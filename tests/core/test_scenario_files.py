"""Scenario files are validated at load, with errors naming the file, the place and the rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator.cli import main
from emulator.core.scenarios import ScenarioError, builtin_dir, load_scenario, parse_scenario


def test_every_shipped_scenario_loads():
    names = {load_scenario(p).name for p in sorted(builtin_dir().glob("*.yaml"))}
    assert {"default", "chatty", "no-rcs"} <= names


@pytest.mark.parametrize(
    ("data", "place", "rule"),
    [
        ({"name": "x", "default": [{"event": "explode"}]}, "default[0].event", "unknown event"),
        (
            {"name": "x", "default": [{"event": "delivered", "after": "soon"}]},
            "default[0].after",
            "must be seconds: a number, or as '500ms'",
        ),
        (
            {"name": "x", "default": [{"event": "delivered", "after": [5, 1]}]},
            "default[0].after",
            "low <= high",
        ),
        (
            {"name": "x", "default": [{"event": "delivered", "after": -1}]},
            "default[0].after",
            "cannot be negative",
        ),
        (
            {"name": "x", "default": [{"event": "delivered", "after": "-5"}]},
            "default[0].after",
            "cannot be negative",
        ),
        ({"name": "x", "default": [{"event": "tap"}]}, "default[0]", "exactly one of"),
        (
            {"name": "x", "default": [{"event": "read", "text": "hi"}]},
            "default[0]",
            "'text' belongs to a message step",
        ),
        (
            {"name": "x", "rules": [{"name": "bad", "match": {}}]},
            "rules[0] (bad).match",
            "a match names",
        ),
        (
            {"name": "x", "rules": [{"name": "re", "match": {"pattern": "("}}]},
            "rules[0] (re).match.pattern",
            "not a regular expression",
        ),
        (
            {"name": "x", "default": [{"event": "read", "colour": "red"}]},
            "default[0]",
            "unknown key 'colour'",
        ),
        (
            {"name": "x", "defualt": []},
            "top level",
            "unknown key 'defualt' (did you mean 'default'?)",
        ),
        (
            {"name": "x", "default": [{"event": "tap", "sugestion": 1}]},
            "default[0]",
            "unknown key 'sugestion' (did you mean 'suggestion'?)",
        ),
        (
            {"name": "x", "rules": [{"name": "r", "match": {"prefx": "+46"}}]},
            "rules[0] (r).match",
            "unknown key 'prefx' (did you mean 'prefix'?)",
        ),
        (
            {"name": "x", "rules": [{"nam": "r", "match": {"prefix": "+46"}}]},
            "rules[0]",
            "unknown key 'nam' (did you mean 'name'?)",
        ),
        ({"default": []}, "top level", "name is required"),
        (
            {"name": "x", "default": [{"event": "raed"}]},
            "default[0].event",
            "unknown event 'raed' (did you mean 'read'?); one of: delivered",
        ),
        ({"name": "x", "rules": [{"name": "r"}]}, "rules[0] (r)", "match is required"),
    ],
)
def test_errors_name_the_place_and_the_rule(data, place, rule):
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(data, "my.yaml")
    message = str(caught.value)
    assert message.startswith("my.yaml: ")
    assert f"at {place}:" in message, message
    assert rule in message


def test_a_misspelt_required_key_is_one_mistake():
    """`nmae:` is said once, as the unknown key with its nearest, not also as "name is required"."""
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(
            {"nmae": "x", "rules": [{"nmae": "r", "macth": {"prefix": "+46"}}]}, "s.yaml"
        )
    assert str(caught.value) == (
        "s.yaml: at rules[0]: unknown key 'nmae' (did you mean 'name'?); at rules[0]: unknown "
        "key 'macth' (did you mean 'match'?); at top level: unknown key 'nmae' (did you mean "
        "'name'?)"
    )


def test_yaml_syntax_errors_name_the_file(tmp_path: Path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: [unclosed\n")
    with pytest.raises(ScenarioError, match="broken.yaml: not valid YAML"):
        load_scenario(path)


def test_cli_validate_and_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    good = builtin_dir() / "default.yaml"
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\ndefault:\n  - {event: nope}\n")
    assert main(["scenarios", "validate", str(good)]) == 0
    assert main(["scenarios", "validate", str(good), str(bad)]) == 1
    captured = capsys.readouterr()
    assert "ok   " in captured.out and "FAIL " not in captured.out
    assert captured.err.startswith(f"FAIL {bad}") and "unknown event 'nope'" in captured.err
    assert main(["scenarios", "list"]) == 0
    assert "* default" in capsys.readouterr().out
