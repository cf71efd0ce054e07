"""The control API's shared field types: phone numbers, provider names, webhook URLs. Each
refuses bad input with a message that says what is expected."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, WithJsonSchema

from ..http.validators import is_e164, plus_prefixed, webhook_url_problem
from ..providers import REGISTRY


def phone(raw: str) -> str:
    value = plus_prefixed(raw)
    if not is_e164(value):
        raise ValueError(f"{raw!r} is not a phone number in E.164 format (+46701234567)")
    return value


def provider(name: str) -> str:
    if REGISTRY.get(name) is None:
        raise ValueError(REGISTRY.unknown(name))
    return name


def webhook_url(url: str) -> str:
    """Where callbacks go: the same check as the config's (validators.webhook_url_problem)."""
    problem = webhook_url_problem(url)
    if problem:
        raise ValueError(problem)
    return url


Phone = Annotated[
    str,
    AfterValidator(phone),
    WithJsonSchema({"type": "string", "description": "E.164, e.g. +46701234567"}),
]
ProviderName = Annotated[
    str,
    AfterValidator(provider),
    WithJsonSchema({"type": "string", "enum": list(REGISTRY.names())}),
]
WebhookUrl = Annotated[
    str,
    AfterValidator(webhook_url),
    WithJsonSchema({"type": "string", "format": "uri", "pattern": "^https?://"}),
]
