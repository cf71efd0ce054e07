"""Who reaches which tenants through the control API and the inbox, and how tenants are shown.

On a deployment shared by teams, each team has a control token of its own (config `teams`):
with it a caller sees and acts on its team's tenants only, as if no other existed (a record of
another's is not found; naming another's tenant is refused, 403); what would act on every tenant
at once (a scenario, the seed, faults, phone settings, a global agent's settings, a global
clock) is the admin's. The admin's token (`control_token`) reaches every tenant; with no token
configured, anyone is the admin.

Tenants are named as their clients know them (`?tenant=` takes the API key, the account's token
or username, a configured name, or the label shown). They are shown by the name configured for
them (`tenant_names`); else, on a deployment shared by teams, by a short fingerprint of the key
(`t-` and 8 hex digits), never the key in clear, to anyone; else (one team's emulator, whose keys
are its own) by the key, as its clients and tests know it.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.types import Scope

from ..core.emulator import Emulator
from ..core.engine import Found
from ..core.lifecycle import DEFAULT_TENANT
from ..http.operations import ApiError
from ..labels import fingerprint

T = TypeVar("T")
SCOPE_KEY = "rcs.access"
Reach = str | frozenset[str] | None  # one tenant, some (a team's), or every one (None)


@dataclass(frozen=True)
class Access:
    """What a caller reaches: every tenant (the admin), or a team's."""

    team: str | None = None
    tenants: frozenset[str] | None = None  # None: every tenant

    @property
    def admin(self) -> bool:
        return self.tenants is None


ADMIN = Access()


def given_token(scope: Scope) -> str:
    """The token a request carries (X-Emulator-Token header, or ?token=)."""
    given = dict(scope["headers"]).get(b"x-emulator-token", b"").decode("latin-1")
    if not given:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        given = (query.get("token") or [""])[0]
    return given


def refusal(scope: Scope, what: str) -> str:
    """Why a request whose token reaches nothing may not use `what` (the control API, the
    inbox): it gave none, or one that is no token of this emulator's (a stale variable, another
    emulator's), said apart."""
    if not given_token(scope):
        return f"{what} needs its token (X-Emulator-Token header or ?token=)"
    return f"{what} refuses this token: it is not the emulator's control_token"


class Tenants:
    """Labels, and access: built from the config, with the emulator's own resolution of the
    names a tenant is known by (an account's token beside its username)."""

    def __init__(
        self,
        resolve: Callable[[str | None], str | None],
        admin_token: str | None,
        teams: Iterable[Any] = (),
        names: dict[str, str] | None = None,
    ) -> None:
        self.resolve_key = resolve
        self.admin_token = admin_token
        self.names = {resolve(k) or k: v for k, v in (names or {}).items()}
        self.by_name = {v: k for k, v in self.names.items()}
        self.teams = {
            t.token: Access(t.name, frozenset(resolve(k) or k for k in t.tenants)) for t in teams
        }
        # The labels shown so far, and every team's tenants': a label is a name to ask by.
        self.by_label: dict[str, str] = {
            fingerprint(key): key for access in self.teams.values() for key in access.tenants or ()
        }

    # -- who calls --------------------------------------------------------------------------

    def access(self, scope: Scope) -> Access | None:
        """What the request's token reaches (None: no token it may use)."""
        if self.admin_token is None:
            return ADMIN
        given = given_token(scope).encode()
        if given and hmac.compare_digest(given, self.admin_token.encode()):
            return ADMIN
        for token, access in self.teams.items():
            if given and hmac.compare_digest(given, token.encode()):
                return access
        return None

    # -- how tenants are named and shown ----------------------------------------------------

    def label(self, tenant: str | None) -> str | None:
        if tenant is None:
            return None
        if tenant == DEFAULT_TENANT:  # (the emulator's own name for threads of no tenant)
            return tenant
        shown = self.names.get(tenant)
        if shown is None:
            if (
                not self.teams
            ):  # one team's emulator: its keys are its own, shown as clients know them
                return tenant
            shown = fingerprint(tenant)
            self.by_label.setdefault(shown, tenant)
        return shown

    def named(self, given: str | None) -> str | None:
        """The tenant a `?tenant=` names: its key (or another name its client knows it by), its
        configured name, or the label it is shown by."""
        if not given:
            return None
        return self.by_name.get(given) or self.by_label.get(given) or self.resolve_key(given)

    # -- what a call acts on ----------------------------------------------------------------

    def reach(self, request: Request, given: str | None) -> Reach:
        """The tenants a read covers: the one named (if the caller may), else every one the
        caller may (a team's: its own, or its one)."""
        access = of(request)
        tenant = self.named(given)
        if access.tenants is None:
            return tenant
        if tenant is not None:
            if tenant not in access.tenants:
                raise ApiError(403, "that tenant is not one this token reaches")
            return tenant
        if len(access.tenants) == 1:
            return next(iter(access.tenants))
        return access.tenants

    def one(self, request: Request, given: str | None, *, needed: bool = False) -> str | None:
        """The one tenant a change acts on: the one named (if the caller may); else a team's
        only one; else none (every tenant: the admin's alone)."""
        found = self.reach(request, given)
        if isinstance(found, frozenset):
            raise ApiError(400, "name the tenant (tenant): this token reaches several")
        if found is None and needed:
            raise ApiError(400, "name the tenant (tenant)")
        return found

    def sees(self, request: Request, tenant: str) -> bool:
        """Whether the caller reaches a record of this tenant's (one it does not is, for it,
        not found)."""
        reached = of(request).tenants
        return reached is None or tenant in reached

    def admin_only(self, request: Request, what: str) -> None:
        if not of(request).admin:
            raise ApiError(403, f"{what} acts on every tenant: the admin's token only")


def of(request: Request) -> Access:
    found = request.scope.get(SCOPE_KEY, ADMIN)
    assert isinstance(found, Access)
    return found


def tenants_of(emulator: Emulator) -> Tenants:
    """The Tenants the app was built with (create_app sets them on the emulator's app)."""
    found = getattr(emulator, "access", None)
    assert isinstance(found, Tenants)
    return found


async def gathered(
    reach: Reach,
    fetch: Callable[[str | None, int, int | None], Awaitable[Found[T]]],
    key: Callable[[T], Any],
    offset: int,
    limit: int | None,
) -> Found[T]:
    """A page of what several tenants hold (a team's), merged in the order `key` gives: each
    one's first offset + limit, merged."""
    if not isinstance(reach, frozenset):
        return await fetch(reach, offset, limit)
    parts = [await fetch(t, 0, None if limit is None else offset + limit) for t in sorted(reach)]
    merged = sorted((item for part in parts for item in part.items), key=key)
    stop = None if limit is None else offset + limit
    return Found(merged[offset:stop], sum(part.total for part in parts))
