"""What a full reset leaves of a state's history, as data, and a fresh state given it.

A reset forgets messages, files, events, deliveries, faults and surprises, yet some things go
on: the ids of deliveries and faults and the sequences that order messages and events (a shared
state's ledger is keyed by delivery ids), where each seeded generator's draws stand, a manual
clock's time, the agent, phone and providers' settings a reset may keep, and the change count
of a periodic save. A fresh state given these, right after a reset of its own, holds what the
reset left: field by field (tests/state/test_replicas.py compares them), so a process that joins
a shared state may begin at its last full reset instead of replaying everything before it."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from .clock import ManualClock
from .models import AgentSettings, PhoneSettings

if TYPE_CHECKING:
    from .emulator import Emulator


def carried(emulator: Emulator) -> dict[str, Any]:
    clock = emulator.clock
    return {
        "ids": emulator.ids.carried(),
        "deliveries": emulator.dispatcher.carried(),
        "schedule": emulator.scheduler.carried(),
        "stores": emulator.stores.carried(),
        "manual_now": clock.now() if isinstance(clock, ManualClock) else None,
        "revision": emulator.revision,
        "agents": [[list(key), asdict(a)] for key, a in emulator.agents.items()],
        "phones": [asdict(p) for p in emulator.phones.values()],
        "providers": {name: take() for name, (take, _) in emulator.carriers.items()},
    }


def carry(emulator: Emulator, data: dict[str, Any]) -> None:
    """Give a state that was just reset what the reset left of another's history."""
    emulator.ids.carry(data["ids"])
    emulator.dispatcher.carry(data["deliveries"])
    emulator.scheduler.carry(data["schedule"])
    emulator.stores.carry(data["stores"])
    if data["manual_now"] is not None and isinstance(emulator.clock, ManualClock):
        emulator.clock.set(data["manual_now"])
    emulator.agents = {(provider, tenant, agent_id): AgentSettings(**settings)
                       for (provider, tenant, agent_id), settings in data["agents"]}  # fmt: skip
    emulator.phones = {p["phone"]: PhoneSettings(**p) for p in data["phones"]}
    for name, (_, give) in emulator.carriers.items():
        give(data["providers"].get(name))
    emulator.revision = data["revision"]
