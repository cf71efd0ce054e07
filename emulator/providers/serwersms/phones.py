"""Phone numbers as SerwerSMS reads them: Polish numbers without +48 are corrected to it.

Separators (ASCII spaces, tabs, line breaks, hyphens, dots, parentheses) are dropped, and what is
left is matched whole in ASCII digits: a number in fullwidth or Arabic-Indic digits is not a
number (refused, never kept half-corrected as "+48" and the digits as given)."""

from __future__ import annotations

import re

_STRIP = re.compile(r"[ \t\r\n\-().]")
_POLISH = re.compile(r"\+48[0-9]{9}")
_NATIONAL = re.compile(r"[0-9]{9}")
_POLISH_NO_PLUS = re.compile(r"48[0-9]{9}")
_INTERNATIONAL_NO_PLUS = re.compile(r"[1-9][0-9]{9,14}")
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")


def normalize(raw: object) -> str | None:
    """The full international form, or None when `raw` is not a phone number."""
    if isinstance(raw, str) and _POLISH.fullmatch(raw):
        return raw  # the full form already: the common case
    if not isinstance(raw, str | int) or isinstance(raw, bool):
        return None
    s = _STRIP.sub("", str(raw))
    if s.startswith("00"):
        s = "+" + s[2:]
    if _NATIONAL.fullmatch(s):
        s = "+48" + s
    elif _POLISH_NO_PLUS.fullmatch(s) or _INTERNATIONAL_NO_PLUS.fullmatch(s):
        s = "+" + s
    if _E164.fullmatch(s) is None:
        return None
    if s.startswith("+48") and len(s) != 12:
        return None
    return s
