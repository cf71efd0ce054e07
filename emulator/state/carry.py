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

from ..core.clock import ManualClock
from ..core.models import AgentSettings, PhoneSettings
from ..engines.memory import MemoryEngine

if TYPE_CHECKING:
    from ..core.emulator import Emulator


def _engine(emulator: Emulator) -> MemoryEngine:
    engine = emulator.engine
    assert isinstance(engine, MemoryEngine)  # each process of the log holds a memory replica
    return engine


def carried(emulator: Emulator) -> dict[str, Any]:
    clock = emulator.clock
    directory = emulator.directory
    return {
        "ids": emulator.ids.carried(),
        "engine": _engine(emulator).carried(),
        "manual_now": clock.now() if isinstance(clock, ManualClock) else None,
        "revision": emulator.notices.revision,
        "agents": [[list(key), asdict(a)] for key, a in directory.agents.items()],
        "phones": [asdict(p) for p in directory.phones.values()],
        "providers": {name: take() for name, (take, _) in emulator.carriers.items()},
    }


def carry(emulator: Emulator, data: dict[str, Any]) -> None:
    """Give a state that was just reset what the reset left of another's history."""
    emulator.ids.carry(data["ids"])
    _engine(emulator).carry(data["engine"])
    if data["manual_now"] is not None and isinstance(emulator.clock, ManualClock):
        emulator.clock.set(data["manual_now"])
    directory = emulator.directory
    directory.agents = {(provider, tenant, agent_id): AgentSettings(**settings)
                        for (provider, tenant, agent_id), settings in data["agents"]}  # fmt: skip
    directory.phones = {p["phone"]: PhoneSettings(**p) for p in data["phones"]}
    for name, (_, give) in emulator.carriers.items():
        give(data["providers"].get(name))
    emulator.notices.revision = data["revision"]
