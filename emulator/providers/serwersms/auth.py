"""SerwerSMS accounts. Two documented ways in: `Authorization: Bearer <token>`, or `username` and
`password` among the parameters. By default any credentials in either form are accepted and name
their own tenant, as the client knows them: the token itself, or the username. A configured
account is one tenant (its username, else its token) that either name reaches in the control
API. Strict mode (config `serwersms.strict`) admits only the listed accounts."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from ...http.headers import header
from .errors import SerwerSmsApiError, SerwerSmsError
from .provider import SerwerSmsSection


@dataclass(frozen=True)
class Account:
    tenant: str
    rcs: bool = True  # permission to send RCS (6300 without it)
    active: bool = True
    api: bool = True
    ips: frozenset[str] | None = None  # None: any address
    bots: Mapping[str, bool] | None = None  # rcs_id -> active; None: any bot

    def check_bot(self, rcs_id: str) -> None:
        if self.bots is not None and not self.bots.get(rcs_id, False):
            raise SerwerSmsApiError(SerwerSmsError.RCS_INVALID_BOT, f"bot {rcs_id!r}")

    def ip_allowed(self, request: Request) -> bool:
        return self.ips is None or (request.client is not None and request.client.host in self.ips)


def _bots(value: list[str] | Mapping[str, bool] | None) -> Mapping[str, bool] | None:
    if value is None:
        return None
    if isinstance(value, list):
        return dict.fromkeys(value, True)
    return dict(value)


class Accounts:
    def __init__(self, section: SerwerSmsSection) -> None:
        self.strict = section.strict
        self.aliases: dict[str, str] = {}  # its tokens: other names of its tenants
        self._open: dict[str, Account] = {}
        self.by_token: dict[str, tuple[Account, str]] = {}
        self.by_user: dict[str, tuple[Account, str]] = {}
        for entry in section.accounts:
            tenant = str(entry.username or entry.token)
            account = Account(
                tenant=tenant,
                rcs=entry.rcs,
                active=entry.active,
                api=entry.api,
                ips=frozenset(entry.ips) if entry.ips else None,
                bots=_bots(entry.bots),
            )
            if entry.token:
                self.aliases[entry.token] = tenant  # the account is found by either name
                self.by_token[entry.token] = (account, entry.token)
            if entry.username:
                self.by_user[entry.username] = (account, entry.password or "")

    def forget_open(self) -> None:
        """The accounts met without config (any credentials pass unless strict) are made
        again, alike, when next met: a reset forgets them with the rest."""
        self._open.clear()

    def identify(self, request: Request, params: Mapping[str, Any]) -> Account:
        value = header(request, b"authorization") or ""
        token = value[7:].strip() if value[:7].lower() == "bearer " else ""
        username, password = params.get("username"), params.get("password")
        if token:
            return self._check(self.by_token.get(token), token, token)
        if isinstance(username, str) and isinstance(password, str) and username and password:
            return self._check(self.by_user.get(username), password, username)
        raise SerwerSmsApiError(SerwerSmsError.INVALID_USER, "no credentials")

    def _check(self, known: tuple[Account, str] | None, secret: str, tenant: str) -> Account:
        if not self.strict:
            if known:
                return known[0]
            account = self._open.get(tenant)
            if account is None:  # one Account per tenant, not one per request
                account = self._open[tenant] = Account(tenant)
            return account
        if known is None or not hmac.compare_digest(known[1], secret):
            raise SerwerSmsApiError(SerwerSmsError.INVALID_USER)
        account = known[0]
        if not account.api:
            raise SerwerSmsApiError(SerwerSmsError.NO_API_ACCESS)
        if not account.active:
            raise SerwerSmsApiError(SerwerSmsError.ACCOUNT_INACTIVE)
        return account
