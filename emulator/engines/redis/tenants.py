"""The tenants a Redis state holds: the registry that reads of every tenant go through, and each
tenant's root (keys.py), cached. A part the engine hands to the parts that need it."""

from __future__ import annotations

from . import keys
from .keys import TENANTS
from .link import Link

MOST_CACHED = 100_000  # roots kept; past it the cache starts again (a root is cheap to make)


class TenantIndex:
    def __init__(self, link: Link) -> None:
        self.link = link
        self._roots: dict[str, str] = {}
        self._registered: set[str] = set()  # registered from here (forgotten with the state)
        link.on_new_generation.append(self._registered.clear)

    def root(self, tenant: str) -> str:
        found = self._roots.get(tenant)
        if found is None:
            if len(self._roots) > MOST_CACHED:
                self._roots.clear()
            found = self._roots[tenant] = keys.root(tenant)
        return found

    async def register(self, tenant: str) -> None:
        """The tenant is in the registry that reads of every tenant go through."""
        if tenant not in self._registered:
            await self.link.call(self.link.client.sadd(TENANTS, tenant))
            self._registered.add(tenant)

    async def all(self) -> list[str]:
        found = await self.link.call(self.link.client.smembers(TENANTS))
        return sorted(t.decode() for t in found)
