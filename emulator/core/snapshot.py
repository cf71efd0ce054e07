"""The emulator's state as a JSON file: written on shutdown, read on start (config
`state_file`), so a demo survives a restart. Messages with their events, uploaded files (their
bytes beside the file, in `<state_file>.files/`), agent and phone settings, webhook deliveries
not yet done, and everything scheduled (sends, scenario steps, retries) as data."""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import asdict
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .models import (
    AgentSettings,
    Channel,
    Event,
    EventType,
    Message,
    PhoneSettings,
    Status,
    StoredFile,
    Suggestion,
)
from .scenarios import Step
from .webhooks import Attempt, Delivery

if TYPE_CHECKING:
    from .emulator import Emulator

log = logging.getLogger("rcs_emulator.state")
VERSION = 1
UNFINISHED = ("pending", "in_flight", "retrying")


def _message(m: Message) -> dict[str, Any]:
    return {
        "id": m.id, "provider": m.provider, "tenant": m.tenant, "agent_id": m.agent_id,
        "phone": m.phone, "channel": m.channel.value, "kind": m.kind, "text": m.text,
        "created_at": m.created_at, "send_at": m.send_at, "content": dict(m.content),
        "suggestions": [asdict(s) for s in m.suggestions], "batch": m.batch,
        "external_id": m.external_id, "status": m.status.value,
        "events": [{"type": e.type.value, "time": e.time, "text": e.text,
                    "postback": e.postback, "ref": e.ref} for e in m.events],
    }  # fmt: skip


def _describe(emulator: Emulator, action: Any) -> list[Any] | None:
    """A scheduled action as data: the scheduler holds functools.partial objects of three kinds."""
    func = getattr(action, "func", None)
    args: tuple[Any, ...] = getattr(action, "args", ())
    if func == emulator.dispatch:
        return ["dispatch", args[0].tenant, args[0].id]
    if func == emulator.run_step:
        return ["step", args[0].tenant, args[0].id, args[1].model_dump(by_alias=True)]
    if func == emulator.dispatcher.requeue:
        return ["retry", args[0].id]
    return None


def save(emulator: Emulator, path: Path) -> dict[str, int]:
    files_dir = Path(f"{path}.files")
    shutil.rmtree(files_dir, ignore_errors=True)
    files_dir.mkdir(parents=True, exist_ok=True)
    messages, files = [], []
    for tenant in emulator.stores.tenants():
        store = emulator.stores.of(tenant)
        messages += [_message(m) for m in store.messages.values()]
        for stored in store.files.values():
            kept = files_dir / Path(stored.path).name
            if Path(stored.path).exists():
                shutil.copyfile(stored.path, kept)
            files.append(asdict(stored) | {"path": kept.name})
    unfinished = [d for d in emulator.dispatcher.deliveries.values() if d.state in UNFINISHED]
    state: dict[str, Any] = {
        "version": VERSION,
        "clock": emulator.clock.now(),
        "messages": sorted(messages, key=lambda m: m["created_at"]),
        "files": files,
        "agents": [asdict(a) for a in emulator.agents.values()],
        "phones": [asdict(p) for p in emulator.phones.values()],
        "deliveries": [
            {
                "id": d.id,
                "provider": d.provider,
                "tenant": d.tenant,
                "agent_id": d.agent_id,
                "phone": d.phone,
                "message_id": d.message_id,
                "event": d.event,
                "url": d.url,
                "payload": d.payload,
                "created_at": d.created_at,
                "state": d.state,
                "attempts": [asdict(a) for a in d.attempts],
            }
            for d in unfinished
        ],  # fmt: skip
        "scheduled": [
            (due, what)
            for due, action in emulator.scheduler.pending()
            if (what := _describe(emulator, action)) is not None
        ],
    }
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(json.dumps(state), encoding="utf-8")
    os.replace(temporary, path)  # never a half-written state file
    return {"messages": len(messages), "deliveries": len(unfinished),
            "scheduled": len(state["scheduled"])}  # fmt: skip


def load(emulator: Emulator, path: Path) -> dict[str, int]:
    state = json.loads(path.read_text(encoding="utf-8"))
    if state.get("version") != VERSION:
        raise ValueError(f"{path}: state version {state.get('version')} is not {VERSION}")
    clock = emulator.clock
    if getattr(clock, "mode", "") == "manual" and state["clock"] > clock.now():
        clock.set(state["clock"])  # type: ignore[attr-defined]
    for raw in state["messages"]:
        message = Message(
            id=raw["id"], provider=raw["provider"], tenant=raw["tenant"],
            agent_id=raw["agent_id"], phone=raw["phone"], channel=Channel(raw["channel"]),
            kind=raw["kind"], text=raw["text"], created_at=raw["created_at"],
            send_at=raw["send_at"], content=raw["content"],
            suggestions=tuple(Suggestion(**s) for s in raw["suggestions"]),
            batch=raw["batch"], external_id=raw["external_id"],
        )  # fmt: skip
        store = emulator.stores.add(message)
        for e in raw["events"]:
            event = Event(EventType(e["type"]), e["time"], e["text"], e["postback"], e["ref"])
            store.record(message, event)
        if message.status.value != raw["status"]:
            store.set_status(message, Status(raw["status"]))
    files_dir = Path(f"{path}.files")
    for raw in state["files"]:
        emulator.stores.of(raw["tenant"]).add_file(
            StoredFile(**(raw | {"path": str(files_dir / raw["path"])}))
        )
    for raw in state["agents"]:
        agent = AgentSettings(**raw)
        emulator.agents[(agent.provider, agent.tenant, agent.agent_id)] = agent
    for raw in state["phones"]:
        emulator.phones[raw["phone"]] = PhoneSettings(**raw)
    deliveries = _deliveries(emulator, state["deliveries"])
    _schedule(emulator, state["scheduled"], deliveries)
    return {"messages": len(state["messages"]), "deliveries": len(deliveries),
            "scheduled": len(state["scheduled"])}  # fmt: skip


def _deliveries(emulator: Emulator, raws: list[dict[str, Any]]) -> dict[int, Delivery]:
    dispatcher = emulator.dispatcher
    restored: dict[int, Delivery] = {}
    for raw in raws:
        adapter = emulator.providers.get(raw["provider"])
        if adapter is None:
            continue
        agent = emulator.agent_for(raw["provider"], raw["agent_id"], raw["tenant"])
        delivery = Delivery(
            id=dispatcher.next_id(), provider=raw["provider"], tenant=raw["tenant"],
            agent_id=raw["agent_id"], phone=raw["phone"], message_id=raw["message_id"],
            event=raw["event"], url=raw["url"], payload=raw["payload"],
            policy=adapter.retry_policy(agent), created_at=raw["created_at"],
            attempts=[Attempt(**a) for a in raw["attempts"]],
        )  # fmt: skip
        dispatcher.deliveries[delivery.id] = delivery
        restored[raw["id"]] = delivery
        if raw["state"] in ("pending", "in_flight"):  # was under way: try again at once
            dispatcher.requeue(delivery)
        else:
            delivery.state = "retrying"
    return restored


def _schedule(emulator: Emulator, entries: list[Any], deliveries: dict[int, Delivery]) -> None:
    for due, what in entries:
        kind = what[0]
        if kind == "retry":
            delivery = deliveries.get(what[1])
            if delivery is not None:
                delivery.next_attempt_at = due
                emulator.scheduler.at(due, partial(emulator.dispatcher.requeue, delivery))
            continue
        message = emulator.stores.of(what[1]).get(what[2])
        if message is None:
            continue
        if kind == "dispatch":
            emulator.scheduler.at(due, partial(emulator.dispatch, message))
        elif kind == "step":
            step = Step.model_validate(what[3])
            emulator.scheduler.at(due, partial(emulator.run_step, message, step))
