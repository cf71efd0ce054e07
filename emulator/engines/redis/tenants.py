"""Where each tenant's keys are: its partition and its tag (keys.py), worked out once and cached.
A part the engine hands to the parts that need it. (Which tenants the state holds is kept in
each partition, by the scripts that write a tenant: reads of every tenant go through the
partitions' indexes, never through a list of tenants.)"""

from __future__ import annotations

from . import keys

MOST_CACHED = 100_000  # tenants whose place is kept; past it the cache starts again


class TenantIndex:
    def __init__(self) -> None:
        self._places: dict[str, tuple[int, str]] = {}

    def place(self, tenant: str) -> tuple[int, str]:
        """The tenant's partition and tag."""
        found = self._places.get(tenant)
        if found is None:
            if len(self._places) > MOST_CACHED:
                self._places.clear()
            found = self._places[tenant] = (keys.partition_of(tenant), keys.tenant_tag(tenant))
        return found

    def partition(self, tenant: str) -> int:
        return self.place(tenant)[0]
