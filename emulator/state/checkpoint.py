"""Full resets as places to begin: a process that joins a shared state starts at the newest full
reset instead of replaying every command before it.

A full reset forgets everything a command can leave but a few things that go on (state/carry.py:
counters, draws, a manual clock's time, kept settings). After applying one, the process that
sent it records them with the reset's place in the log; a process whose place is still the log's
start (it just joined, or restarted) gives its fresh state those, as if it had applied the reset,
and reads on from there. Exact, not approximate: tests/state/test_replicas.py compares such a
process with one that replayed everything, field by field. So the log before the newest reset
is dropped (archive.py), and a running process whose place was among the dropped commands (it
was stopped meanwhile) begins at the reset the same way; one that can still replay what it
missed does.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import orjson
from redis.exceptions import RedisError

from .carry import carried, carry
from .log import Unreachable

if TYPE_CHECKING:
    from ..control.injection import Faults
    from ..core.emulator import Emulator
    from .log import CommandLog

log = logging.getLogger("rcs_emulator.state")


class Checkpoints:
    def __init__(self, commands: CommandLog) -> None:
        self.commands = commands
        self.seen = False  # a full reset ran in the command being applied

    def watch(self, emulator: Emulator) -> None:
        emulator.on_reset.append(self._seen)  # full resets only (a tenant's returns before)

    def _seen(self) -> None:
        self.seen = True

    def taken(self, emulator: Emulator, faults: Faults) -> bytes:
        """What the reset just applied left; taken before the next command is applied."""
        return orjson.dumps({"emulator": carried(emulator), "faults": faults.carried()})

    async def record(self, entry_id: bytes, data: bytes) -> None:
        """Best effort: without it, a process that joins replays from further back."""
        try:
            await self.commands.checkpoint(entry_id, data)
        except RedisError as exc:
            log.warning("the reset at %s was not recorded as a checkpoint: %s", entry_id, exc)

    async def newest(self) -> tuple[bytes, bytes] | None:
        return await self.commands.newest_checkpoint()

    async def begin_at(self, emulator: Emulator, faults: Faults, data: bytes) -> None:
        """A fresh state as the recorded reset left the cluster's: reset alike (its hooks,
        the config's settings), then given what the reset left."""
        try:
            left = orjson.loads(data)
            await emulator.reset()
            self.seen = False
            carry(emulator, left["emulator"])
            faults.carry(left["faults"])
        except (ValueError, LookupError, TypeError) as exc:  # written by hand, or cut short
            raise Unreachable(
                "the shared state's newest checkpoint cannot be read "
                f"({type(exc).__name__}: {exc}); flush that database to begin afresh, then "
                "restart the emulator processes"
            ) from None
