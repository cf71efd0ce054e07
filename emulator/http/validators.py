"""Format checks both providers need: E.164 numbers, web URLs, RFC 3339 and ISO 8601 times.

Every check matches the whole value (`fullmatch`: `$` would let a final line break through, to
be stored with it) and reads digits as ASCII only (`\\d` also takes fullwidth and Arabic-Indic
digits, which would then be kept half-normalised)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_URL_CHARS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
MAX_URL = 2048
# An offset is -23:59 to +23:59 (RFC 3339's time-numoffset: time-hour ":" time-minute).
_OFFSET = r"(?:[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?"
    r"(?:[Zz]|" + _OFFSET + ")"
)
# ISO 8601 as .NET and Python read it: a date, optionally a time (to the minute, second or a
# fraction), optionally an offset (Z, +HH:MM, +HHMM or +HH).
_ISO8601 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[Tt ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?"
    r"(?:[Zz]|[+-](?:[01][0-9]|2[0-3])(?::?[0-5][0-9])?)?)?"
)


def without_nulls(value: Any) -> Any:
    """The value with every `"key": null` left out, at every level (objects inside arrays too).

    Typed clients (C#, Java, PHP, TypeScript serialisers) write `null` for every property they
    leave unset; both providers read that as "not given". A required field sent as null is then
    simply missing, and gets the provider's own "required" error. Nulls inside arrays stay (a
    `[null]` phone list is a bad number, not an empty list)."""
    if not _has_null(value):
        return value  # the usual request: nothing to copy (this runs on every send)
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) if isinstance(v, dict | list) else v for v in value]
    return value


def _has_null(value: Any) -> bool:
    """A `"key": null` anywhere in the value (nulls directly inside arrays do not count)."""
    items: Iterable[Any]
    if isinstance(value, dict):
        items = value.values()
        if None in items:  # one C-level scan for the common flat case
            return True
    elif isinstance(value, list):
        items = value
    else:
        return False
    for item in items:
        if type(item) in _CONTAINERS and _has_null(item):
            return True
    return False


_CONTAINERS = (dict, list)


def is_e164(value: str) -> bool:
    return E164.fullmatch(value) is not None


def plus_prefixed(value: str) -> str:
    """A number as clients often write it, with its "+": given without it ("46701234567"), or
    with the "+" of a query string left unencoded, which arrives as a space (" 46701234567").
    Nothing else is trimmed: the result is then matched whole."""
    if value[:1] == " ":
        value = "+" + value[1:]
    return value if not value or value.startswith("+") else "+" + value


def url_problem(value: str) -> str | None:
    """Why `value` is not an absolute http(s) URI per RFC 3986 of at most 2,048 characters."""
    if len(value) > MAX_URL:
        return f"must be at most {MAX_URL} characters"
    if _URL_CHARS.fullmatch(value) is None:
        return "must be a valid URI (RFC 3986): it contains characters a URI cannot hold"
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return "must be a valid URI (RFC 3986)"
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return "must be an absolute http or https URL (RFC 3986)"
    return None


def web_url(value: str) -> str:
    """`value` if it is an absolute http(s) URL (url_problem), else ValueError saying why: a
    validator for a model's URL fields."""
    problem = url_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def webhook_url_problem(url: str) -> str | None:
    """Why callbacks cannot go to `url`, or None: it must be an absolute http(s) URL with a host
    and nothing else (no blanks or control characters anywhere). The one check of every place
    that takes one: the CLI, the environment, the config file and the control API."""
    try:
        parts = urlsplit(url)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:
        valid = False
    if valid and not any(c.isspace() or not c.isprintable() for c in url):
        return None
    hint = ""
    if "://" not in url and url[:1].isalnum() and webhook_url_problem("http://" + url) is None:
        hint = f" (did you mean 'http://{url}'?)"
    return f"{url!r} is not an http:// or https:// URL with a host{hint}"


def parse_rfc3339(value: str) -> datetime | None:
    """A datetime with its offset, or None when `value` is not an RFC 3339 date-time (an offset
    out of range, +01:60 or +24:00, included)."""
    if _RFC3339.fullmatch(value) is None:
        return None
    try:
        return datetime.fromisoformat(value.replace("z", "Z").replace("t", "T"))
    except ValueError:  # a month 13, a day 31 in April, an hour 24...
        return None


def parse_iso8601(value: str) -> datetime | None:
    """A datetime (naive when `value` has no offset), or None when `value` is not ISO 8601 as
    `_ISO8601` spells it, whole, with its offset in range."""
    if _ISO8601.fullmatch(value) is None:
        return None
    try:
        return datetime.fromisoformat(value.replace("z", "Z").replace("t", "T"))
    except ValueError:
        return None


def is_whole_number(text: str) -> bool:
    """ASCII digits only: str.isdigit() also takes '²' and other digits int() refuses."""
    return text.isascii() and text.isdigit()
