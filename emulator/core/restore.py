"""Restoring a saved state: the file read and validated whole (statefile.parse), then applied to a
fresh emulator. Everything that can refuse is checked before the first record is applied."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from .emulator import Emulator
from .models import AgentSettings, Event, Message, PhoneSettings, Status, StoredFile, Suggestion
from .scenarios import Step
from .statefile import DeliveryRecord, RetryEntry, StateFile, StateFileError, StepEntry, parse
from .webhooks import Attempt, Delivery


def read(path: Path) -> StateFile:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise StateFileError(f"cannot be read: {exc.strerror}") from None
    return parse(raw)


def load(emulator: Emulator, state: StateFile, folder: Path) -> dict[str, int]:
    """Restore a validated state into a fresh emulator. Everything that can refuse is checked
    before the first record is applied, so a refused file leaves nothing half-loaded."""
    providers = [("messages", i, m.provider) for i, m in enumerate(state.messages)]
    providers += [("deliveries", i, d.provider) for i, d in enumerate(state.deliveries)]
    for section, i, provider in providers:
        if provider not in emulator.providers:
            raise StateFileError(f"{section}[{i}].provider: unknown provider {provider!r}")
    clock = emulator.clock
    if getattr(clock, "mode", "") == "manual" and state.clock > clock.now():
        clock.set(state.clock)  # type: ignore[attr-defined]
    exchanges = {e.key: e.data for e in state.exchanges}  # one object per request, shared again
    restored: dict[tuple[str, str], Message] = {}
    for raw in state.messages:
        message = Message(
            id=raw.id, provider=raw.provider, tenant=raw.tenant, agent_id=raw.agent_id,
            phone=raw.phone, channel=raw.channel, kind=raw.kind, text=raw.text,
            created_at=raw.created_at, send_at=raw.send_at, content=raw.content,
            suggestions=tuple(Suggestion(**s.model_dump()) for s in raw.suggestions),
            batch=raw.batch, external_id=raw.external_id,
            exchange=exchanges.get(raw.exchange) if raw.exchange is not None else None,
        )  # fmt: skip
        store = emulator.stores.add(message)
        for e in raw.events:
            store.record(message, Event(e.type, e.time, e.text, e.postback, e.ref))
        if message.status is not raw.status:
            store.set_status(message, Status(raw.status))
        restored[(raw.tenant, raw.id)] = message
    for f in state.files:
        emulator.stores.of(f.tenant).add_file(
            StoredFile(**(f.model_dump() | {"path": str(folder / f.path)}))
        )
    for a in state.agents:
        agent = AgentSettings(**a.model_dump())
        emulator.agents[(agent.provider, agent.tenant, agent.agent_id)] = agent
    for p in state.phones:
        emulator.phones[p.phone] = PhoneSettings(**p.model_dump())
    deliveries = {d.id: _restore_delivery(emulator, d) for d in state.deliveries}
    for entry in state.scheduled:
        if isinstance(entry, RetryEntry):
            delivery = deliveries[entry.delivery]
            delivery.next_attempt_at = entry.due
            emulator.scheduler.at(entry.due, partial(emulator.dispatcher.requeue, delivery))
            continue
        message = restored[(entry.tenant, entry.message_id)]
        if isinstance(entry, StepEntry):
            step = Step.model_validate(entry.step)
            emulator.scheduler.at(entry.due, partial(emulator.run_step, message, step))
        else:
            emulator.scheduler.at(entry.due, partial(emulator.dispatch, message))
    for d in deliveries.values():
        if d.state in ("pending", "in_flight"):  # was under way: try again at once
            emulator.dispatcher.requeue(d)
    return {"messages": len(state.messages), "files": len(state.files),
            "deliveries": len(deliveries), "scheduled": len(state.scheduled)}  # fmt: skip


def _restore_delivery(emulator: Emulator, raw: DeliveryRecord) -> Delivery:
    dispatcher = emulator.dispatcher
    agent = emulator.agent_for(raw.provider, raw.agent_id, raw.tenant)
    delivery = Delivery(
        id=dispatcher.next_id(), provider=raw.provider, tenant=raw.tenant,
        agent_id=raw.agent_id, phone=raw.phone, message_id=raw.message_id,
        event=raw.event, url=raw.url, payload=raw.payload,
        policy=emulator.providers[raw.provider].retry_policy(agent), created_at=raw.created_at,
        attempts=[Attempt(**a.model_dump()) for a in raw.attempts],
        state="retrying" if raw.state == "retrying" else "pending",
    )  # fmt: skip
    dispatcher.deliveries[delivery.id] = delivery
    return delivery
