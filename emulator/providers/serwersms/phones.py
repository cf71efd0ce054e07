"""Phone numbers as SerwerSMS reads them: Polish numbers without +48 are corrected to it."""

from __future__ import annotations

import re

_STRIP = re.compile(r"[\s\-().]")
_POLISH = re.compile(r"\+48\d{9}")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def normalize(raw: object) -> str | None:
    """The full international form, or None when `raw` is not a phone number."""
    if isinstance(raw, str) and _POLISH.fullmatch(raw):
        return raw  # the full form already: the common case
    if not isinstance(raw, str | int) or isinstance(raw, bool):
        return None
    s = _STRIP.sub("", str(raw))
    if s.startswith("00"):
        s = "+" + s[2:]
    if re.fullmatch(r"\d{9}", s):
        s = "+48" + s
    elif re.fullmatch(r"48\d{9}", s):
        s = "+" + s
    elif re.fullmatch(r"[1-9]\d{9,14}", s):
        s = "+" + s
    if not _E164.match(s):
        return None
    if s.startswith("+48") and len(s) != 12:
        return None
    return s
