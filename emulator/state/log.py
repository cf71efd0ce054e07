"""The shared log in Redis: one stream of commands every process applies in its order, and the
ledger of webhook attempts. Each operation is one Lua script (scripts.py), so one round trip
and atomic.

Keys (all under one prefix, in the database the URL names):
  log       stream: k kind (http, tick, settle), n command number, t Redis time, o origin
            process, r its request id, h head (JSON), b body
  n         the last command number (a seeded run draws from it: same commands, same ids)
  meta      hash: generation, epoch, entropy, config (see cluster.py)
  tick      Redis time (ms) of the last tick: N processes' tickers add one tick, not N
  batch:P:B the last entry of process P's batch B, for a minute (redis-py's tries of one batch
            end within ~30 s: four of at most 7 s): a resent batch is not appended twice
  archived  the last entry kept compressed in a chunk rather than in the stream (archive.py)
  chunks    list: each chunk's last entry, in order; chunk:E the chunk ending at entry E
  outcome:D:A  attempt A of delivery D's outcome (JSON), for OUTCOME_TTL_S (ledger.py)
  checkpoint hash: id, data: the newest full reset's entry and what it left (checkpoint.py)
  floor     the checkpoint before which the log was dropped (archive.py): a place before it
            begins at the checkpoint again
  claim:D:A one attempt's claim, with a lease (PX): the process making it
"""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis
from redis.commands.core import AsyncScript

from .scripts import APPEND, CHECKPOINT, CLAIM, OUTCOMES, READ, RECORD, TICK

Entry = tuple[bytes, dict[bytes, bytes]]


def order(entry_id: bytes) -> tuple[int, int]:
    """An entry id ("ms-seq") as what sorts in the log's order."""
    ms, _, seq = entry_id.partition(b"-")
    return int(ms), int(seq or 0)


class Unreachable(Exception):
    """The shared state cannot be reached; said in the caller's provider's own form."""


class Behind(Exception):
    """The caller's place is before entries now kept in chunks: it reads those first."""


class Jump(Exception):
    """The caller's place is before the log's floor: the commands from there to the floor were
    dropped, and it begins at the newest checkpoint instead (checkpoint.py)."""


# An attempt's outcome is kept this long (and, as a settle command, in the log for good): long
# enough for every running process to reach its settle command, so none makes the attempt again;
# a process stopped longer than this while the attempt was its to make may make it once more.
# Kept for ever, outcomes were Redis's largest use with webhooks (~170 B an attempt).
OUTCOME_TTL_S = 600


class CommandLog:
    def __init__(self, client: aioredis.Redis, prefix: str, generation: str, origin: str) -> None:
        self.client = client
        self.prefix = prefix
        self.generation = generation
        self.origin = origin
        k = self.key
        self._log_keys = [k("log"), k("n"), k("meta")]
        self._place_keys = [k("floor"), k("archived")]  # what a caller's place is checked against
        self._append: AsyncScript = client.register_script(APPEND)
        self._read: AsyncScript = client.register_script(READ)
        self._tick: AsyncScript = client.register_script(TICK)
        self._claim: AsyncScript = client.register_script(CLAIM)
        self._record: AsyncScript = client.register_script(RECORD)
        self._outcomes: AsyncScript = client.register_script(OUTCOMES)
        self._checkpoint: AsyncScript = client.register_script(CHECKPOINT)

    def key(self, name: str) -> str:
        return f"{self.prefix}{name}"

    async def append(
        self, batch: str, after: bytes, requests: list[tuple[bytes, bytes, bytes]]
    ) -> list[Entry]:
        """Append requests (request id, head, body) as commands, in one step, once per `batch`
        however often it is sent; every entry after `after` up to the last of them, in order."""
        args: list[Any] = [self.generation, after, self.origin]
        for request in requests:
            args.extend(request)
        keys = [*self._log_keys, self.key(f"batch:{self.origin}:{batch}"), *self._place_keys]
        reply = _placed(await self._append(keys=keys, args=args))
        before, own = reply
        entries = _entries(before)
        if own:
            stamp, origin = own[0], self.origin.encode()
            for (request_id, head, body), entry_id, n in zip(
                requests, own[1::2], own[2::2], strict=True
            ):
                entries.append((entry_id, {b"k": b"http", b"n": str(n).encode(), b"t": stamp,
                                           b"o": origin, b"r": request_id, b"h": head,
                                           b"b": body}))  # fmt: skip
        return entries

    async def read(self, after: bytes, count: int = 1000) -> list[Entry]:
        keys = [*self._log_keys, *self._place_keys]
        return _entries(_placed(await self._read(keys=keys, args=[self.generation, after, count])))

    async def wait(self, after: bytes, block_ms: int) -> bool:
        """Whether an entry after `after` arrived within `block_ms` (XREAD BLOCK of one entry:
        a change notice; the caller then reads what came)."""
        return bool(await self.client.xread({self.key("log"): after}, count=1, block=block_ms))

    async def tick(self, least_gap_ms: int = 5) -> bool:
        keys = [*self._log_keys, self.key("tick")]
        return bool(await self._tick(keys=keys, args=[self.generation, self.origin, least_gap_ms]))

    async def claim(self, field: str, lease_ms: int) -> int:
        keys = [self.key(f"outcome:{field}"), self.key(f"claim:{field}")]
        return int(await self._claim(keys=keys, args=[self.origin, lease_ms]))

    async def record(self, field: str, outcome: bytes, head: bytes) -> bool:
        keys = [*self._log_keys, self.key(f"outcome:{field}"), self.key(f"claim:{field}")]
        args: list[Any] = [self.generation, outcome, self.origin, head, OUTCOME_TTL_S]
        return bool(await self._record(keys=keys, args=args))

    async def checkpoint(self, entry_id: bytes, data: bytes) -> bool:
        """Record what a full reset at `entry_id` left (state/checkpoint.py)."""
        keys = [self.key("meta"), self.key("checkpoint")]
        return bool(await self._checkpoint(keys=keys, args=[self.generation, entry_id, data]))

    async def newest_checkpoint(self) -> tuple[bytes, bytes] | None:
        entry_id, data = await self.client.hmget(self.key("checkpoint"), ["id", "data"])
        if isinstance(entry_id, bytes) and isinstance(data, bytes):
            return entry_id, data
        return None

    async def floor(self) -> bytes:
        """The checkpoint before which the log was dropped ("0-0": none was)."""
        floor = await self.client.get(self.key("floor"))
        return floor if isinstance(floor, bytes) else b"0-0"

    async def outcomes(self, fields: list[str]) -> list[bytes]:
        prefixes = [self.key("outcome:"), self.key("claim:")]
        return list(await self._outcomes(keys=[], args=[*prefixes, *fields]))


def _placed(reply: Any) -> Any:
    """A script's reply, unless it says where the caller must read first."""
    if reply == b"BEHIND":
        raise Behind
    if reply == b"JUMP":
        raise Jump
    return reply


def _entries(raw: Any) -> list[Entry]:
    """XRANGE's reply inside a script: [[id, [field, value, ...]], ...]."""
    entries: list[Entry] = []
    for entry_id, flat in raw:
        entries.append((entry_id, dict(zip(flat[::2], flat[1::2], strict=True))))
    return entries
