"""Who makes a webhook attempt. The dispatcher asks its `AttemptMaker`; the engine says which.

Alone (the memory engine), this process makes every attempt and settles it at once
(`LocalAttempts`). An engine shared by several processes gives one that claims each attempt so
that one process in the cluster makes it (the shared state's own module provides it); the
dispatcher itself has no cluster branch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from .deliveries import Delivery

if TYPE_CHECKING:
    from .dispatcher import Dispatcher


class AttemptMaker(Protocol):
    async def make(self, dispatcher: Dispatcher, delivery: Delivery, number: int) -> None:
        """Make attempt `number` of `delivery` (or see that it is made) and settle it through
        `dispatcher.finish` when its outcome is known here."""

    async def settle_owed(self, dispatcher: Dispatcher) -> bool:
        """Wait for attempts under way elsewhere and settle them; False when none was owed."""

    async def recheck(self, dispatcher: Dispatcher) -> None:
        """Make the attempts whose maker went away without an outcome."""


class LocalAttempts:
    """This process makes every attempt and settles it at once."""

    async def make(self, dispatcher: Dispatcher, delivery: Delivery, number: int) -> None:
        dispatcher.finish(delivery, await dispatcher.post(delivery, number))

    async def settle_owed(self, dispatcher: Dispatcher) -> bool:
        return False

    async def recheck(self, dispatcher: Dispatcher) -> None:
        return None
