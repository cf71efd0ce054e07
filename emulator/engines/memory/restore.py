"""Restoring a saved state: the file read and validated whole (statefile.parse), then applied to
a fresh memory engine and the service it keeps the state of. Everything that can refuse is
checked before the first record is applied; the records are then read back through their data
forms (records.py), the same forms that wrote them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...core.clock import ManualClock
from ...core.engine import Host
from ...core.records import DELIVERY, DUE, EVENT, FILE, MESSAGE, Delivery, DeliveryState, DueKind
from .held import Held
from .statefile import StateFile, StateFileError, parse


def read(path: Path, host: Host) -> tuple[StateFile, dict[str, Any]]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise StateFileError(f"cannot be read: {exc.strerror}") from None
    return parse(raw, host.policy_of)


def load(
    engine: Held, host: Host, state: StateFile, data: dict[str, Any], folder: Path
) -> dict[str, int]:
    """Restore a validated state (`data`: the same file as data) into a fresh engine and its
    host. Everything that can refuse is checked before the first record is applied, so a
    refused file leaves nothing half-loaded."""
    providers = [("messages", i, m.provider) for i, m in enumerate(state.messages)]
    providers += [("deliveries", i, d.provider) for i, d in enumerate(state.deliveries)]
    for section, i, provider in providers:
        if provider not in host.providers:
            raise StateFileError(f"{section}[{i}].provider: unknown provider {provider!r}")
    try:
        host.load_settings(data["settings"])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise StateFileError(f"settings: not settings this emulator reads ({exc})") from None
    clock = engine.clock
    if isinstance(clock, ManualClock):
        if state.clock > clock.time_of(None):
            clock.set(state.clock)
        clock.ahead.update(state.clock_ahead)
    exchanges = {e.key: e.data for e in state.exchanges}  # one object per request, shared again
    for raw in data["messages"]:
        key = raw.pop("exchange", None)
        events = raw.pop("events")
        message = MESSAGE.load(raw)  # (its status as saved; its events appended below)
        message.exchange = exchanges.get(key) if key is not None else None
        unit = engine.unit(message.tenant)
        unit.add(message)
        for e in events:
            unit.record(message, EVENT.load(e))
    for f in data["files"]:
        stored = FILE.load(f | {"path": str(folder / f["path"])})
        engine.unit(stored.tenant).add_file(stored)
    deliveries = {d["id"]: _restore_delivery(engine, DELIVERY.load(d)) for d in data["deliveries"]}
    for entry in data["scheduled"]:
        due = entry.pop("due")
        task = DUE.load(entry)
        if task.kind is DueKind.RETRY:
            delivery = deliveries[task.ref]
            delivery.next_attempt_at = due
            engine.schedule_retry(due, delivery)
        else:
            engine.schedule.at(due, task)
    return {
        "messages": len(state.messages),
        "files": len(state.files),
        "deliveries": len(deliveries),
        "scheduled": len(state.scheduled),
    }


def _restore_delivery(engine: Held, delivery: Delivery) -> Delivery:
    """A delivery owed when the state was saved: under a fresh id, queued again at once if it
    was under way, else waiting for its scheduled retry."""
    if delivery.state is not DeliveryState.RETRYING:
        delivery.state = DeliveryState.PENDING
    engine.deliveries.adopt(delivery)
    return delivery
