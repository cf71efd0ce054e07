"""The memory engine's state as a JSON file (config `state_file`): written atomically every
`state_save_interval` while something changed, and on a graceful stop; validated whole and
then restored on start. Uploaded bytes live beside it, in `<state_file>.files/`, under names the
emulator makes; the file records name them, never a path.

What is saved: messages with their events, file records, agent and phone settings, webhook
deliveries not yet done, and everything scheduled (sends, scenario steps, retries) as data."""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import asdict
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from .models import (
    AgentSettings,
    Event,
    Message,
    PhoneSettings,
    Status,
    StoredFile,
    Suggestion,
)
from .scenarios import Step
from .statefile import (
    UNFINISHED,
    VERSION,
    DeliveryRecord,
    RetryEntry,
    StateFile,
    StateFileError,
    StepEntry,
    parse,
)
from .webhooks import Attempt, Delivery

if TYPE_CHECKING:
    from .emulator import Emulator


def files_dir(state_file: Path) -> Path:
    return Path(f"{state_file}.files")


def _message(m: Message) -> dict[str, Any]:
    return {
        "id": m.id, "provider": m.provider, "tenant": m.tenant, "agent_id": m.agent_id,
        "phone": m.phone, "channel": m.channel, "kind": m.kind, "text": m.text,
        "created_at": m.created_at, "send_at": m.send_at, "content": m.content,
        "suggestions": m.suggestions, "batch": m.batch, "external_id": m.external_id,
        "status": m.status, "events": m.events,
    }  # fmt: skip


def _scheduled(emulator: Emulator, due: float, action: Any) -> dict[str, Any] | None:
    """A scheduled action as data: the scheduler holds functools.partial objects of three kinds."""
    func = getattr(action, "func", None)
    args: tuple[Any, ...] = getattr(action, "args", ())
    if func == emulator.dispatch:
        return {"kind": "dispatch", "due": due, "tenant": args[0].tenant, "message_id": args[0].id}
    if func == emulator.run_step:
        return {"kind": "step", "due": due, "tenant": args[0].tenant, "message_id": args[0].id,
                "step": args[1].model_dump(by_alias=True, exclude_defaults=True)}  # fmt: skip
    if func == emulator.dispatcher.requeue:
        return {"kind": "retry", "due": due, "delivery": args[0].id}
    return None


def _delivery(d: Delivery) -> dict[str, Any]:
    return {
        "id": d.id, "provider": d.provider, "tenant": d.tenant, "agent_id": d.agent_id,
        "phone": d.phone, "message_id": d.message_id, "event": d.event, "url": d.url,
        "payload": d.payload, "created_at": d.created_at, "state": d.state,
        "attempts": d.attempts,
    }  # fmt: skip


def _default(value: Any) -> Any:
    if hasattr(value, "keys"):  # a message's shared content is a read-only mapping
        return dict(value)
    raise TypeError


def dump(emulator: Emulator, clean: bool) -> tuple[bytes, dict[str, int]]:
    """The whole state as bytes, taken at one moment (it runs on the event loop, so nothing
    changes while it is taken). orjson writes the dataclasses itself."""
    messages: list[dict[str, Any]] = []
    files = []
    live: set[tuple[str, str]] = set()
    for tenant in emulator.stores.tenants():
        store = emulator.stores.of(tenant)
        for m in store.messages.values():
            messages.append(_message(m))
            live.add((m.tenant, m.id))
        files += [asdict(f) | {"path": Path(f.path).name} for f in store.files.values()]
    deliveries = [d for d in emulator.dispatcher.deliveries.values() if d.state in UNFINISHED]
    owed = {d.id for d in deliveries}
    scheduled = []
    for due, action in emulator.scheduler.pending():
        entry = _scheduled(emulator, due, action)
        if entry is None:
            continue
        alive = (entry["delivery"] in owed) if entry["kind"] == "retry" else (
            (entry["tenant"], entry["message_id"]) in live)  # fmt: skip
        if alive:  # a reset or evicted message's steps are void: they would run as no-ops
            scheduled.append(entry)
    messages.sort(key=lambda m: m["created_at"])
    state = {
        "version": VERSION,
        "clock": emulator.clock.now(),
        "saved_at": time.time(),
        "clean": clean,
        "messages": messages,
        "files": files,
        "agents": [asdict(a) for a in emulator.agents.values()],
        "phones": [asdict(p) for p in emulator.phones.values()],
        "deliveries": [_delivery(d) for d in deliveries],
        "scheduled": scheduled,
    }
    counts = {"messages": len(messages), "files": len(files), "deliveries": len(deliveries),
              "scheduled": len(scheduled)}  # fmt: skip
    return orjson.dumps(state, default=_default), counts


def write_atomic(path: Path, data: bytes) -> None:
    """Temp file, fsync, rename, fsync of the folder: the file is the old state or the new one,
    whatever stops the process, and a failed write leaves the old one as it was."""
    temporary = path.with_name(path.name + ".tmp")
    try:
        with open(temporary, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    sync_folder(path.parent)


def sync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system lets a folder be synced
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def save(emulator: Emulator, path: Path, clean: bool = True) -> dict[str, int]:
    data, counts = dump(emulator, clean)
    write_atomic(path, data)
    return counts


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
    restored: dict[tuple[str, str], Message] = {}
    for raw in state.messages:
        message = Message(
            id=raw.id, provider=raw.provider, tenant=raw.tenant, agent_id=raw.agent_id,
            phone=raw.phone, channel=raw.channel, kind=raw.kind, text=raw.text,
            created_at=raw.created_at, send_at=raw.send_at, content=raw.content,
            suggestions=tuple(Suggestion(**s.model_dump()) for s in raw.suggestions),
            batch=raw.batch, external_id=raw.external_id,
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
