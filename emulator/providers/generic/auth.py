"""Who may call: a Bearer API key on every request. By default any well-formed key is accepted
and is its own tenant; strict mode (config `generic.strict`) admits only the listed keys, each for
its listed agents."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request

from ...http.headers import header
from .errors import GenericApiError, GenericError

_BEARER = re.compile(r"Bearer +([A-Za-z0-9\-._~+/]+=*) *", re.IGNORECASE)


class Access:
    def __init__(self, section: Mapping[str, Any]) -> None:
        self.strict = bool(section.get("strict", False))
        self.keys: dict[str, frozenset[str] | None] = {}
        for key, agents in (section.get("keys") or {}).items():
            everything = agents in (None, "*") or (isinstance(agents, list) and "*" in agents)
            self.keys[str(key)] = None if everything else frozenset(map(str, agents))

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
