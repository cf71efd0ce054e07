"""Restoring a saved state: the file read and validated whole (statefile.parse), then applied to a
fresh emulator on the memory engine. Everything that can refuse is checked before the first
record is applied."""

from __future__ import annotations

from pathlib import Path

from ..core.clock import ManualClock
from ..core.emulator import Emulator
from ..core.engine import Due, DueKind
from ..core.models import (
    AgentSettings,
    Event,
    Message,
    PhoneSettings,
    Status,
    StoredFile,
    Suggestion,
)
from ..core.scenarios import Step
from ..delivery.deliveries import Attempt, Delivery, DeliveryState
from ..engines.memory import MemoryEngine
from .statefile import DeliveryRecord, RetryEntry, StateFile, StateFileError, StepEntry, parse


def read(path: Path) -> StateFile:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise StateFileError(f"cannot be read: {exc.strerror}") from None
    return parse(raw)


def load(emulator: Emulator, state: StateFile, folder: Path) -> dict[str, int]:
    """Restore a validated state into a fresh emulator. Everything that can refuse is checked
    before the first record is applied, so a refused file leaves nothing half-loaded."""
    engine = emulator.engine
    assert isinstance(engine, MemoryEngine), "a state file restores the memory engine's state"
    providers = [("messages", i, m.provider) for i, m in enumerate(state.messages)]
    providers += [("deliveries", i, d.provider) for i, d in enumerate(state.deliveries)]
    for section, i, provider in providers:
        if provider not in emulator.providers:
            raise StateFileError(f"{section}[{i}].provider: unknown provider {provider!r}")
    clock = emulator.clock
    if isinstance(clock, ManualClock):
        if state.clock > clock.time_of(None):
            clock.set(state.clock)
        clock.ahead.update(state.clock_ahead)
    exchanges = {e.key: e.data for e in state.exchanges}  # one object per request, shared again
    for raw in state.messages:
        message = Message(
            id=raw.id, provider=raw.provider, tenant=raw.tenant, agent_id=raw.agent_id,
            phone=raw.phone, channel=raw.channel, kind=raw.kind, text=raw.text,
            created_at=raw.created_at, send_at=raw.send_at, content=raw.content,
            suggestions=tuple(Suggestion(**s.model_dump()) for s in raw.suggestions),
            batch=raw.batch, external_id=raw.external_id,
            exchange=exchanges.get(raw.exchange) if raw.exchange is not None else None,
        )  # fmt: skip
        unit = engine.unit(raw.tenant)
        unit.add(message)
        for e in raw.events:
            unit.record(message, Event(e.type, e.time, e.text, e.postback, e.ref))
        if message.status is not raw.status:
            unit.set_status(message, Status(raw.status))
    for f in state.files:
        stored = StoredFile(**(f.model_dump() | {"path": str(folder / f.path)}))
        engine.unit(f.tenant).add_file(stored)
    directory = emulator.directory
    for a in state.agents:
        agent = AgentSettings(**a.model_dump())
        directory.agents[(agent.provider, agent.tenant, agent.agent_id)] = agent
    for p in state.phones:
        directory.phones[p.phone] = PhoneSettings(**p.model_dump())
    deliveries = {d.id: _restore_delivery(emulator, d) for d in state.deliveries}
    for entry in state.scheduled:
        if isinstance(entry, RetryEntry):
            delivery = deliveries[entry.delivery]
            delivery.next_attempt_at = entry.due
            engine.schedule.at(entry.due, Due(DueKind.RETRY, delivery.tenant, delivery.id))
        elif isinstance(entry, StepEntry):
            step = Step.model_validate(entry.step)
            engine.schedule.at(entry.due, Due(DueKind.STEP, entry.tenant, entry.message_id, step))
        else:
            engine.schedule.at(entry.due, Due(DueKind.SEND, entry.tenant, entry.message_id))
    return {"messages": len(state.messages), "files": len(state.files),
            "deliveries": len(deliveries), "scheduled": len(state.scheduled)}  # fmt: skip


def _restore_delivery(emulator: Emulator, raw: DeliveryRecord) -> Delivery:
    agent = emulator.directory.agent_for(raw.provider, raw.agent_id, raw.tenant)
    retrying = raw.state == DeliveryState.RETRYING
    delivery = Delivery(
        id=0, provider=raw.provider, tenant=raw.tenant,
        agent_id=raw.agent_id, phone=raw.phone, message_id=raw.message_id,
        event=raw.event, url=raw.url, payload=raw.payload,
        policy=emulator.lifecycle.policy(emulator.providers[raw.provider].retry_policy(agent)),
        created_at=raw.created_at,
        attempts=[Attempt(**a.model_dump()) for a in raw.attempts],
        state=DeliveryState.RETRYING if retrying else DeliveryState.PENDING,
    )  # fmt: skip
    engine = emulator.engine
    assert isinstance(engine, MemoryEngine)
    engine.deliveries.adopt(delivery)  # a fresh id; queued again at once if it was under way
    return delivery
