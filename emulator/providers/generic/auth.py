"""Who may call: a Bearer API key on every request. By default any well-formed key is accepted
and is its own tenant; strict mode (config `generic.strict`) admits only the listed keys, each for
its listed agents."""

from __future__ import annotations

import re

from starlette.requests import Request

from ...http.headers import header
from .errors import GenericApiError, GenericError
from .provider import GenericSection

_BEARER = re.compile(r"Bearer +([A-Za-z0-9\-._~+/]+=*) *", re.IGNORECASE)


class Access:
    def __init__(self, section: GenericSection) -> None:
        self.strict = section.strict
        self.keys: dict[str, frozenset[str] | None] = {}
        for key, agents in section.keys.items():
            if agents is None or agents == "*" or "*" in agents:
                self.keys[key] = None  # every agent
            else:
                self.keys[key] = frozenset(agents)

    def api_key(self, request: Request) -> str:
        value = header(request, b"authorization") or ""
        match = _BEARER.fullmatch(value)
        if match is None:
            detail = "Authorization header missing." if not value else "Malformed Bearer key."
            raise GenericApiError(
                GenericError.UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"}
            )
        key = match.group(1)
        if self.strict and key not in self.keys:
            raise GenericApiError(
                GenericError.UNAUTHORIZED,
                "The API key is not valid.",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        return key

    def check_agent(self, key: str, agent_id: str) -> None:
        if not self.strict:
            return
        allowed = self.keys.get(key)
        if allowed is not None and agent_id not in allowed:
            raise GenericApiError(
                GenericError.FORBIDDEN, f"This API key may not use agent {agent_id!r}."
            )
