"""What a provider package tells `verify`, `record` and `--replay` about its real service: how
credentials travel (and so how they are masked), which headers and which values of an answer
matter, the fixed set of harmless requests `verify` sends, and how a request and a callback
name their agent and phones. The machinery that uses it (emulator/verify, emulator/cassette)
knows no provider; each provider's `upstream.py` holds its own knowledge.

Kept light (no starlette, no httpx): the CLI reads it before anything is served."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol

MASK = "***"


class CredentialError(ValueError):
    """Credentials a provider cannot use (a name missing or unknown): one line, never the
    values."""


class HeaderCheck(Enum):
    """How `verify` compares a header that matters."""

    MEDIA_TYPE = "media type"  # Content-Type without its parameters (charset and the like)
    VALUE = "value"  # the whole value, as sent
    PRESENCE = "presence"  # only whether it is there (its value varies: Retry-After)


class Credentials:
    """The credentials given to `verify` (name -> value). The secret ones (`secret`: keys,
    tokens, logins and passwords; not an agent's id) are never shown: `repr` masks them, and
    `scrub` masks each of them in any text before it is printed or written."""

    def __init__(self, values: Mapping[str, str], secret: Iterable[str]) -> None:
        self._values = dict(values)
        self._secret = frozenset(secret)

    def __getitem__(self, name: str) -> str:
        return self._values[name]

    def get(self, name: str) -> str | None:
        return self._values.get(name)

    def names(self) -> tuple[str, ...]:
        return tuple(self._values)

    def __repr__(self) -> str:
        shown = (f"{k}={MASK if k in self._secret else v}" for k, v in self._values.items())
        return "Credentials(" + ", ".join(shown) + ")"

    def secrets(self) -> tuple[str, ...]:
        return tuple(v for k, v in self._values.items() if v and k in self._secret)

    def scrub(self, text: str) -> str:
        return scrub(text, self.secrets())


SCRUBBED_FROM = 4  # characters: a shorter secret is masked where it is carried, not searched for


def scrub(text: str, secrets: Iterable[str]) -> str:
    """`text` with every occurrence of each secret (the longest first) masked. A secret of
    fewer than 4 characters is not searched for: it would mask every such word of the text
    (and no real key, token or password is that short)."""
    for secret in sorted({s for s in secrets if len(s) >= SCRUBBED_FROM}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


@dataclass(frozen=True)
class ProbeRequest:
    """One request as `verify` sends it to both sides: a path under the provider's base path
    (with its query), headers, and a body (`json`, else `content`)."""

    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    json: Any = None
    content: bytes | None = None


@dataclass(frozen=True)
class ProbeContext:
    """What a probe is built from: the credentials, the user's own number (only with
    --allow-sends) and the answers this side gave to the probes before it (name -> parsed
    JSON body, or None when it was not JSON), so a read can name what a send created."""

    credentials: Credentials
    to: str | None
    answers: Mapping[str, Any]
    media_url: str | None = None  # the picture a card or file send shows (--media-url)


@dataclass(frozen=True)
class Probe:
    """One request of the fixed set. `sends`: it may deliver a message to `--to` (only with
    --allow-sends). `reads`: the sends whose answers it reads (only with --allow-sends too; it
    waits `--settle` seconds after them on the real service, and the emulator's clock moves as
    far). `build` returns None when an answer it needs has nothing to read (a refused send)."""

    name: str
    description: str  # what it sends and why that is harmless, as README and --list say
    build: Callable[[ProbeContext], ProbeRequest | None]
    sends: bool = False
    reads: tuple[str, ...] = ()


class Upstream(Protocol):
    """A provider's real service, as verify, record and replay need to know it."""

    # The path every route of the provider starts with on the emulator ("" for none): a base
    # URL given without it (the host alone) gets it, and the recorder forwards what follows.
    base_path: str
    paths_case_insensitive: bool  # ASP.NET-style routing: /rcs/API/v1/message is /Message
    credential_names: tuple[str, ...]  # what `--credentials` may name, as name=value
    headers: Mapping[str, HeaderCheck]  # answer headers that matter (lower case)
    # Body paths compared by value, not only by shape: error codes and texts, counts and
    # status words ("error.code", "errors.*.*": "*" stands for any key or list index).
    values: tuple[str, ...]
    secret_headers: frozenset[str]  # request headers that carry credentials (lower case)
    secret_fields: frozenset[str]  # query, form or JSON fields that carry credentials
    ignored_fields: frozenset[str]  # fields clients add that change nothing ("system")
    default_media_url: str  # the picture its sends show unless --media-url names another

    def credentials(self, given: Mapping[str, str]) -> Credentials:
        """The credentials checked (CredentialError naming what is missing or unknown)."""
        ...

    def emulator_section(self, credentials: Credentials, to: str | None) -> dict[str, Any]:
        """The config section of the emulator `verify` compares with: strict, admitting exactly
        these credentials, so a bad key is refused there as on the real service."""
        ...

    def probes(self) -> list[Probe]:
        """The fixed set, in the order it is sent."""
        ...

    def agent_of(self, path: str, body: Any) -> str | None:
        """The agent (or bot) a request acts for, from its path and parsed body."""
        ...

    def request_phones(self, body: Any) -> set[str]:
        """The recipients a request names (in the form callbacks give them)."""
        ...

    def callback_phones(self, payload: Any) -> set[str]:
        """The phones a callback payload is about."""
        ...

    def callback_agent(self, payload: Any) -> str | None:
        """The agent (or bot) a callback payload is for."""
        ...


_TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


def bearer(value: str) -> str | None:
    """The credential of an `Authorization: Bearer ...` value, or None."""
    scheme, _, credential = value.strip().partition(" ")
    credential = credential.strip()
    return credential if scheme.lower() == "bearer" and _TOKEN.fullmatch(credential) else None
