"""Turns the curl commands of a provider document into requests, as a shell would run them."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

DATA = Path(__file__).parent / "data"


@dataclass
class CurlExample:
    line: int  # where it starts in the document
    heading: str  # the nearest title above it
    method: str
    path: str  # with the query
    headers: dict[str, str] = field(default_factory=dict)
    data: str | None = None
    forms: list[str] = field(default_factory=list)


def _command(lines: list[str], start: int) -> tuple[list[str], int]:
    """The shell words of the command starting at lines[start], and where it ends."""
    text = ""
    for end in range(start, len(lines)):
        text += lines[end] + "\n"
        try:
            words = shlex.split(text.replace("\\\n", " "))
        except ValueError:
            continue  # a quote is still open
        if not lines[end].rstrip().endswith("\\"):
            return words, end
    raise ValueError(f"unterminated curl command at line {start + 1}")


def examples(document: str) -> list[CurlExample]:
    lines = (DATA / document).read_text(encoding="utf-8").splitlines()
    found = []
    i = 0
    heading = ""
    while i < len(lines):
        stripped = lines[i].strip()
        if not stripped.startswith("curl "):
            if stripped and not stripped.startswith(("-", "{", "}", "[", "]", '"')):
                heading = stripped if len(stripped) < 120 else heading
            i += 1
            continue
        words, end = _command(lines, i)
        example = CurlExample(i + 1, heading, "GET", "")
        it = iter(words[1:])
        for word in it:
            if word == "-X":
                example.method = next(it)
            elif word == "-H":
                name, _, value = next(it).partition(":")
                example.headers[name.strip()] = value.strip()
            elif word == "-d":
                example.data = next(it)
                if example.method == "GET" and "-X" not in words:
                    example.method = "POST"
            elif word == "-F":
                example.forms.append(next(it))
            elif word.startswith("http"):
                parts = urlsplit(word)
                example.path = parts.path + (f"?{parts.query}" if parts.query else "")
        found.append(example)
        i = end + 1
    return found
