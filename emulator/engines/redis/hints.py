"""When each tenant's next due event is, as far as this process knows: from its own commits, the
hints other processes leave in Redis, and the tenants' own schedules (each process looks at a
tenant's schedule itself before acting on a hint, so a stale hint costs a look). A part the
engine shares with what tells it (its commits) and what asks it (the ticker, advances)."""

from __future__ import annotations

from collections.abc import Callable


class DueHints:
    def __init__(self) -> None:
        self._earliest: dict[str, float] = {}
        self.wake: Callable[[float], None] | None = None  # a running clock's ticker

    def earlier(self, tenant: str, when: float) -> bool:
        """Something of the tenant is due at `when`; True if that is news (earlier than known:
        the ticker is woken for it)."""
        known = self._earliest.get(tenant)
        if known is not None and known <= when:
            return False
        self._earliest[tenant] = when
        if self.wake is not None:
            self.wake(when)
        return True

    def merge(self, tenant: str, when: float) -> None:
        """A hint read from Redis (its own may not have reached Redis yet: the earlier wins)."""
        known = self._earliest.get(tenant)
        self._earliest[tenant] = when if known is None else min(known, when)

    def settle(self, tenant: str, when: float | None) -> None:
        """What the tenant's own schedule says (None: nothing due)."""
        if when is None:
            self._earliest.pop(tenant, None)
        else:
            self._earliest[tenant] = when

    def clear(self) -> None:
        self._earliest.clear()

    def next(self, tenant: str | None = None) -> float | None:
        if tenant is not None:
            return self._earliest.get(tenant)
        return min(self._earliest.values(), default=None)

    def get(self, tenant: str) -> float | None:
        return self._earliest.get(tenant)

    def tenants(self) -> list[str]:
        return list(self._earliest)
