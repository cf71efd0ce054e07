"""The shape of a value as `verify` compares two answers: its JSON type and, for text, the format
of what it holds (a time's pattern, a UUID, an id's alphabet and length, a phone number, a URL).
Two answers with other ids and times compare alike; a service that writes its times, ids or
numbers another way does not. Pure functions."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    OBJECT = "object"
    ARRAY = "array"
    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"  # with a fraction or exponent
    BOOLEAN = "boolean"
    NULL = "null"


def kind(value: Any) -> Kind:
    if value is None:
        return Kind.NULL
    if isinstance(value, bool):
        return Kind.BOOLEAN
    if isinstance(value, int):
        return Kind.INTEGER
    if isinstance(value, float):
        return Kind.NUMBER
    if isinstance(value, str):
        return Kind.STRING
    if isinstance(value, dict):
        return Kind.OBJECT
    if isinstance(value, list):
        return Kind.ARRAY
    raise TypeError(f"not a JSON value: {type(value).__name__}")


_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_TIME = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:(?P<sep>[T ])(?P<hm>\d{2}:\d{2})(?P<s>:\d{2})?(?P<f>[.,]\d+)?"
    r"(?P<zone>Z|z|[+-]\d{2}:\d{2}|[+-]\d{4}|[+-]\d{2})?)?"
)
_PHONE = re.compile(r"\+[1-9][0-9]{6,14}")
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S+")
_DIGITS = re.compile(r"[0-9]+")
_HEX = re.compile(r"[0-9a-f]+")
_HEX_UPPER = re.compile(r"[0-9A-F]+")
_ALNUM = re.compile(r"[0-9A-Za-z]+")
_TOKEN = re.compile(r"[0-9A-Za-z_\-./+=:]+")
_WORD = re.compile(r"[^\W\d]+(?:[_-][^\W\d]+)*")
ID_LENGTH = 6  # a token at least this long with a digit in it reads as an id


def text_format(value: str) -> str:
    """What a text holds, as a report says it: "time YYYY-MM-DD HH:MM:SS", "uuid", "id hex(10)",
    "phone (E.164)", "URL", "digits", "word", "text" or "empty"."""
    if value == "":
        return "empty"
    if _UUID.fullmatch(value):
        return "uuid" if value.lower() == value else "uuid (upper case)"
    time = _TIME.fullmatch(value)
    if time:
        return _time_pattern(time)
    if _PHONE.fullmatch(value):
        return "phone (E.164)"
    if _URL.fullmatch(value):
        return "URL"
    if _DIGITS.fullmatch(value) and len(value) < ID_LENGTH:
        return "digits"
    if len(value) >= ID_LENGTH and _TOKEN.fullmatch(value) and re.search(r"\d", value):
        return f"id {_alphabet(value)}({len(value)})"
    if _WORD.fullmatch(value):
        return "word"
    return "text"


def _time_pattern(match: re.Match[str]) -> str:
    if match["sep"] is None:
        return "date YYYY-MM-DD"
    pattern = "YYYY-MM-DD" + match["sep"] + "HH:MM"
    if match["s"]:
        pattern += ":SS"
    if match["f"]:
        pattern += match["f"][0] + "F"  # any number of digits: serializers cut trailing zeros
    zone = match["zone"]
    if zone:
        pattern += "Z" if zone in ("Z", "z") else zone[0] + _ZONE_FORMS[len(zone)]
    return "time " + pattern


_ZONE_FORMS = {6: "HH:MM", 5: "HHMM", 3: "HH"}


def _alphabet(value: str) -> str:
    for name, pattern in (
        ("digits", _DIGITS),
        ("hex", _HEX),
        ("HEX", _HEX_UPPER),
        ("alphanumeric", _ALNUM),
    ):
        if pattern.fullmatch(value):
            return name
    return "token"


# A random hex id is all digits now and then (one in a hundred for ten characters): the two are
# the same format. Hex and alphanumeric are not: an alphanumeric id of ten characters is all hex
# about once in a million.
_SAME_ALPHABET = {frozenset({"digits", "hex"}), frozenset({"digits", "HEX"})}


def same_format(a: str, b: str) -> bool:
    """Whether two formats (text_format's) are the same for a report's purposes. A word and an
    id are: an id of letters only reads as a word (an alphanumeric id of ten characters has no
    digit one time in six), and so are a short number and a long one."""
    if a == b:
        return True
    ids = [f[3:].partition("(") for f in (a, b) if f.startswith("id ")]
    if len(ids) == 2:
        (alphabet_a, _, length_a), (alphabet_b, _, length_b) = ids
        return length_a == length_b and frozenset({alphabet_a, alphabet_b}) in _SAME_ALPHABET
    if len(ids) == 1:
        other = b if a.startswith("id ") else a
        return other == "word" or (other == "digits" and ids[0][0] == "digits")
    return False


def describe(value: Any) -> str:
    """A value's shape in a few words: its type, and for text the format of what it holds."""
    found = kind(value)
    if found is not Kind.STRING:
        return found.value
    shown = text_format(value)
    return "text" if shown in ("text", "word") else "empty text" if shown == "empty" else shown
