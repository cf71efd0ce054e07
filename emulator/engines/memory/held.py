"""What the memory engine's state file reads of it and restores into it (snapshot.py, restore.py,
autosave.py): named here, so that they need not import the engine that uses them."""

from __future__ import annotations

from typing import Protocol

from ...core.clock import Clock
from ...core.engine import Unit
from ...core.records import Delivery, Message
from .dispatcher import Dispatcher
from .files import FileVault
from .schedule import Schedule
from .store import Store, StoreObserver


class Held(Protocol):
    clock: Clock
    vault: FileVault
    revision: int  # counts changes: a state file is saved while it moved
    schedule: Schedule
    deliveries: Dispatcher
    observers: list[StoreObserver]

    def stores(self) -> list[Store]: ...

    def holds(self, message: Message) -> bool: ...

    def unit(self, tenant: str) -> Unit:
        """The unit over a tenant's live records."""

    def schedule_retry(self, due: float, delivery: Delivery) -> None: ...
