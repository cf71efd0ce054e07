"""Reading what Generic's GET endpoints take in their paths, query strings and the Capability
body; errors are the provider's own."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import UTC

from ...http.validators import is_e164, is_whole_number, parse_iso8601, plus_prefixed
from .errors import GenericApiError, GenericError, validation

DEFAULT_LIMIT = 100


def guid(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise GenericApiError(GenericError.NOT_FOUND) from None


def limit(value: str | None) -> int:
    if value is None or value == "":
        return DEFAULT_LIMIT
    text = value.strip()
    if not is_whole_number(text):
        raise validation("limit", f"The value '{value}' is not valid for limit.")
    return int(text)  # what was checked: "0\x1f" strips to "0" but int() of it would fail


def time(query: Mapping[str, str], name: str) -> float | None:
    value = query.get(name)
    if not value:
        return None
    parsed = parse_iso8601(value)
    if parsed is None:
        raise validation(name, f"The value '{value}' is not a valid ISO 8601 time.")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def phone_filter(value: str | None) -> str | None:
    if not value:
        return None
    phone = plus_prefixed(value)
    if not is_e164(phone):
        raise validation("phoneNumber", "The phoneNumber must be an E.164 number.")
    return phone


def capability_number(raw: str) -> str:
    """The body as a JSON string, bare, or in the document's own brace form {"+46..."}."""
    text = raw
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1].strip()
    if text.startswith('"'):
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            return ""
        return value if isinstance(value, str) else ""  # matched whole: "+46...\n" is refused
    return text
