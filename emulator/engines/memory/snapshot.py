"""The memory engine's state as a JSON file (config `state_file`): written atomically every
`state_save_interval` while something changed, and on a graceful stop; validated whole and
then restored on start. Uploaded bytes live beside it, in `<state_file>.files/`, under names the
emulator makes; the file records name them, never a path.

What is saved: messages with their events, file records, the settings every process holds alike
(agents, phones, providers' own, faults), webhook deliveries not yet done, and everything
scheduled (sends, scenario steps, retries) as data: each record in its data form (records.py)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ...core.clock import ManualClock
from ...core.engine import Host
from ...core.records import DELIVERY, DUE, FILE, MESSAGE, Due, Message
from .changes import ChangeTracker
from .exchanges import ExchangeRefs, key_of
from .held import Held
from .statefile import VERSION
from .store import by_seq

SLICE = 1000  # records serialised per turn of the event loop


def files_dir(state_file: Path) -> Path:
    return Path(f"{state_file}.files")


def _message(m: Message) -> dict[str, Any]:
    data = MESSAGE.dump(m)
    data["exchange"] = key_of(m.exchange) if m.exchange is not None else None
    return data


def _default(value: Any) -> Any:
    if hasattr(value, "keys"):  # a message's shared content is a read-only mapping
        return dict(value)
    raise TypeError


class Snapshotter:
    """Takes the state for saving. Each message, scheduled entry and delivery keeps its JSON
    between saves and is serialised again only when it changed (the store and the scheduler
    say what changed), so a save costs in proportion to what changed, not to all that is held.

    `take` serialises what changed a slice at a time, letting requests in between slices, then
    finishes at one moment with whatever changed meanwhile: the result is the state at that
    moment, and no slice holds the loop for more than a few milliseconds."""

    def __init__(self, engine: Held, host: Host, track: bool = True) -> None:
        self.host = host
        self.engine = engine
        # Everything held counts as changed at first (in the order added); with `track`, the
        # tracker then observes every later change, else this is a one-off full dump.
        self.changes = self.schedule = tracker = ChangeTracker()
        held = sorted((m for s in engine.stores() for m in s.messages.values()), key=by_seq)
        tracker.messages.update(((m.tenant, m.id), m) for m in held)
        tracker.added.extend(engine.schedule.entries())
        if track:
            engine.observers.append(tracker)
            engine.schedule.observers.append(tracker)
        self.messages: dict[tuple[str, str], bytes] = {}
        self.scheduled: dict[int, tuple[tuple[str, str] | int, bytes]] = {}  # seq: (ref, json)
        self.deliveries: dict[int, tuple[int, str, bytes]] = {}  # id: (attempts, state, json)
        # Exchanges are shared by the messages of one request: saved once, while one is held.
        self.exchanges = ExchangeRefs()

    async def take(self, clean: bool, size: int = SLICE) -> Taken:
        pending, self.changes.messages = self.changes.messages, {}
        self._resets()
        items = list(pending.items())
        for start in range(0, len(items), size):
            self._serialise_messages(items[start : start + size])
            await asyncio.sleep(0)
        added, self.schedule.added = self.schedule.added, []
        for start in range(0, len(added), size):
            self._serialise_scheduled(added[start : start + size])
            await asyncio.sleep(0)
        return self.take_now(clean)

    def take_now(self, clean: bool) -> Taken:
        """The state at this moment, as parts ready to write (on the event loop, no yielding)."""
        collecting = gc.isenabled()
        gc.disable()  # many short-lived objects: a full collection would walk the whole store
        try:
            self._resets()
            self._serialise_messages(list(self.changes.messages.items()))
            self.changes.messages.clear()
            self._serialise_scheduled(self.schedule.added)
            for seq in self.schedule.ran:
                self.scheduled.pop(seq, None)
            self.schedule.added.clear()
            self.schedule.ran.clear()
            # dict copies are one C call each: the thread writes from them, not from ours
            return Taken(
                self._head(clean),
                self.messages.copy(),
                self.scheduled.copy(),
                self._deliveries(),
                self.exchanges.blobs(),
            )
        finally:
            if collecting:
                gc.enable()

    def _head(self, clean: bool) -> bytes:
        """The small sections, as a JSON object without its closing brace."""
        files = [
            FILE.dump(f) | {"path": Path(f.path).name}
            for store in self.engine.stores()
            for f in store.files.values()
        ]
        clock = self.engine.clock
        manual = clock if isinstance(clock, ManualClock) else None
        head = {
            "version": VERSION,
            "clock": manual.time_of(None) if manual else clock.now(),
            "clock_ahead": dict(manual.ahead) if manual else {},
            "saved_at": time.time(),
            "clean": clean,
            "files": files,
            "settings": self.host.settings_data(),
        }
        return orjson.dumps(head, default=_default)[:-1]

    def _resets(self) -> None:
        changes, schedule = self.changes, self.schedule
        if changes.cleared_all:
            self.messages.clear()
            self.exchanges.clear()
            changes.cleared_all = False
        if changes.dropped:
            gone = changes.dropped
            self.messages = {k: v for k, v in self.messages.items() if k[0] not in gone}
            self.exchanges.drop_tenants(gone)
            changes.dropped = set()
        if schedule.schedule_was_cleared:
            self.scheduled.clear()
            schedule.schedule_was_cleared = False

    def _serialise_messages(self, items: list[tuple[tuple[str, str], Message]]) -> None:
        cached, engine = self.messages, self.engine
        exchanges = self.exchanges
        for key, message in items:
            if engine.holds(message):
                cached[key] = orjson.dumps(_message(message), default=_default)
                exchanges.hold(key, message.exchange)
            else:
                cached.pop(key, None)  # evicted, or its tenant reset
                exchanges.hold(key, None)

    def _serialise_scheduled(self, added: list[tuple[float, int, Due]]) -> None:
        for due, seq, task in added:
            ref: tuple[str, str] | int
            if isinstance(task.ref, int):
                ref = task.ref  # a retry's delivery
            else:
                ref = (task.tenant, task.ref)
            self.scheduled[seq] = (ref, orjson.dumps(DUE.dump(task) | {"due": due}))

    def _deliveries(self) -> list[tuple[int, bytes]]:
        owed: list[tuple[int, bytes]] = []
        cached = self.deliveries
        fresh: dict[int, tuple[int, str, bytes]] = {}
        for d in self.engine.deliveries.deliveries.values():
            if d.state.finished:
                continue
            known = cached.get(d.id)
            if known is None or known[0] != len(d.attempts) or known[1] != d.state:
                known = (len(d.attempts), d.state, orjson.dumps(DELIVERY.dump(d), default=_default))
            fresh[d.id] = known
            owed.append((d.id, known[2]))
        self.deliveries = fresh
        return owed


@dataclass(slots=True)
class Taken:
    head: bytes  # the small sections, as a JSON object without its closing brace
    messages: dict[tuple[str, str], bytes]
    scheduled: dict[int, tuple[tuple[str, str] | int, bytes]]
    deliveries: list[tuple[int, bytes]]
    exchanges: list[bytes]

    def counts(self) -> dict[str, int]:
        return {
            "messages": len(self.messages),
            "deliveries": len(self.deliveries),
            "scheduled": len(self.scheduled),
        }

    def chunks(self) -> Iterator[bytes]:
        """The file's bytes, piece by piece. Scheduled entries of messages or deliveries that
        are not in the file (evicted, reset, delivered) are left out: they would be no-ops."""
        live_messages = self.messages
        live_deliveries = {key for key, _ in self.deliveries}
        yield self.head
        yield b',"exchanges":['
        yield from _joined(self.exchanges)
        yield b'],"messages":['
        yield from _joined(self.messages.values())
        yield b'],"deliveries":['
        yield from _joined(blob for _, blob in self.deliveries)
        yield b'],"scheduled":['
        yield from _joined(
            blob
            for ref, blob in self.scheduled.values()
            if (ref in live_deliveries if isinstance(ref, int) else ref in live_messages)
        )
        yield b"]}"


def _joined(blobs: Iterable[bytes], batch: int = 4096) -> Iterator[bytes]:
    pending: list[bytes] = []
    first = True
    for blob in blobs:
        pending.append(blob)
        if len(pending) == batch:
            yield (b"" if first else b",") + b",".join(pending)
            first, pending = False, []
    if pending:
        yield (b"" if first else b",") + b",".join(pending)


def dump(engine: Held, host: Host, clean: bool) -> bytes:
    """The whole state as one JSON document (a fresh Snapshotter serialises everything)."""
    return b"".join(Snapshotter(engine, host, track=False).take_now(clean).chunks())


def write_atomic(path: Path, data: bytes | Iterable[bytes]) -> None:
    """Temp file, fsync, rename, fsync of the folder: the file is the old state or the new one,
    whatever stops the process, and a failed write leaves the old one as it was."""
    temporary = path.with_name(path.name + ".tmp")
    try:
        with open(temporary, "wb") as out:
            if isinstance(data, bytes):
                out.write(data)
            else:
                out.writelines(data)
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
