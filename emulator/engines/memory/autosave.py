"""Periodic, crash-safe saving of the memory engine's state (config `state_file`).

Every `interval` seconds, if anything changed, the state is taken on the event loop (one
consistent moment) and written and fsynced in a worker thread, off the request path. A graceful
stop writes it once more marked clean; a state file still marked unclean at start means the
previous process was killed, and the start says so."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path
from typing import Any

from ...core.clock import iso
from ...core.engine import Host
from . import restore, snapshot
from .held import Held
from .statefile import StateFileError

log = logging.getLogger("rcs_emulator.state")


class AutoSaver:
    def __init__(self, engine: Held, host: Host, path: Path, interval: float) -> None:
        self.engine = engine
        self.host = host
        self.path = path
        self.interval = interval
        self.saved_revision = -1
        self.saves = 0
        self.last_error: str | None = None
        self._writing: asyncio.Lock | None = None
        self._snapshotter: snapshot.Snapshotter | None = None

    def restore(self) -> dict[str, Any] | None:
        """Load the state file if there is one (before serving). Raises StateFileError with the
        file's name and the place of the first problem."""
        if not self.path.exists():
            return None
        try:
            state, data = restore.read(self.path, self.host)
            counts = restore.load(
                self.engine, self.host, state, data, snapshot.files_dir(self.path)
            )
        except StateFileError as exc:
            raise StateFileError(f"state file {self.path}: {exc}") from None
        removed = self.engine.vault.keep_only({f.path for f in state.files})
        saved = time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(state.saved_at))
        what = ", ".join(f"{n} {k}" for k, n in counts.items())
        if state.clean:  # a normal start after a normal stop: news, not a warning
            log.info("restored state saved at %s from %s: %s", saved, self.path, what)
        else:
            log.warning(
                "the previous stop was unclean (the process was killed): restored the state "
                "saved at %s (emulator time %s) from %s: %s; anything accepted after that "
                "moment is not in it",
                saved,
                iso(state.clock),
                self.path,
                what,
            )
        if removed:
            log.warning("removed %d uploaded file(s) that no saved record names", removed)
        self.saved_revision = self.engine.revision
        self._snapshotter = snapshot.Snapshotter(self.engine, self.host)  # all is new to it
        return {"clean": state.clean, "saved_at": state.saved_at, **counts}

    async def run(self) -> None:
        """Save every interval while something changed; a failing disk is logged and retried
        at the next interval, never fatal and never destructive."""
        while True:
            await asyncio.sleep(self.interval)
            if self.engine.revision != self.saved_revision:
                await self.save(clean=False)

    async def save(self, clean: bool) -> bool:
        if self._writing is None:
            self._writing = asyncio.Lock()
        async with self._writing:
            revision = self.engine.revision
            if self._snapshotter is None:
                self._snapshotter = snapshot.Snapshotter(self.engine, self.host)
            taken = await self._snapshotter.take(clean)
            counts = taken.counts()
            try:
                await asyncio.to_thread(snapshot.write_atomic, self.path, taken.chunks())
            except OSError as exc:
                message = f"{type(exc).__name__}: {exc}"
                if message != self.last_error:
                    log.error(
                        "state not saved to %s (the previous save stays): %s", self.path, message
                    )
                self.last_error = message
                return False
            self.saved_revision = revision
            self.saves += 1
            self.last_error = None
            if clean:  # a normal stop
                log.info("state saved to %s: %s", self.path, counts)
            return True

    async def stop(self, task: asyncio.Task[None] | None) -> None:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.save(clean=True)
