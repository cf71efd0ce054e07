"""A YAML syntax error as one line, the same for every file the emulator reads (config, scenario,
conversation and cassette files): where PyYAML writes four or five lines naming "<unicode
string>", this says "line 3, column 5: expected ',' or ']', but got '<stream end>'"; the caller
names the file."""

from __future__ import annotations

import yaml


def yaml_problem(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.reader.ReaderError):
        return f"character #x{exc.character:04x} at position {exc.position} cannot be in YAML"
    mark = getattr(exc, "problem_mark", None)
    problem = " ".join((getattr(exc, "problem", None) or str(exc)).split())
    return f"line {mark.line + 1}, column {mark.column + 1}: {problem}" if mark else problem
