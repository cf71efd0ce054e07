"""The shared log's older commands, kept compressed: the same entries in far less of Redis.

A command's entry is ~0.75 KB in the stream (its head and body as received); the log's entries
repeat each other (the same headers, paths and payload shapes), so a chunk of a few thousand
compresses ~20x. Once the stream holds two chunks' worth, one process (whoever takes the lock)
moves its oldest `chunk` entries into one compressed value and trims them from the stream, in one
script that first checks they are still the stream's oldest. Nothing else changes: every process
applies the same entries in the same order; a process whose place is before the archived ones (a
process that joins late, or was stopped a long time) reads the chunks first, then the stream.
Chunks never change once written, so reading them needs no lock.

Nothing before the newest full reset is needed any more: a process whose place is before it
begins at the reset's checkpoint (checkpoint.py), so the log up to it is dropped, chunks and
stream alike, and Redis holds what came since the last full reset.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import itertools
import struct
import zlib
from typing import Any

from redis.exceptions import LockError

from .log import CommandLog, Entry, order
from .scripts import OLDER

LEVEL = 6  # zlib: ~35 B an entry against ~46 at level 1, for ~1.3 us more to write it once
LEASE_S = 60  # an archiver that dies mid-chunk holds the others off no longer than this
# A chunk also ends past this many bytes (at least one entry): uploads ride in the log, up to
# 100 MB each, and an archiver holds a chunk whole while it compresses it.
MAX_CHUNK_BYTES = 16 * 1024 * 1024
PAGE = 50  # entries read at a time while gathering a chunk: few big uploads past the bound
_LENGTH = struct.Struct(">I")

# KEYS log, meta, archived, chunks, chunk; ARGV generation, first id, last id, blob
ARCHIVE = """
if redis.call('HGET', KEYS[2], 'generation') ~= ARGV[1] then return 0 end
local oldest = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
if #oldest == 0 or oldest[1][1] ~= ARGV[2] then return 0 end
if #redis.call('XRANGE', KEYS[1], ARGV[3], ARGV[3]) == 0 then return 0 end
redis.call('SET', KEYS[5], ARGV[4])
redis.call('RPUSH', KEYS[4], ARGV[3])
redis.call('SET', KEYS[3], ARGV[3])
local ms, seq = string.match(ARGV[3], '(%d+)-(%d+)')
redis.call('XTRIM', KEYS[1], 'MINID', ms .. '-' .. (tonumber(seq) + 1))
return 1
"""

# KEYS meta, checkpoint, floor, log, chunks; ARGV generation, chunk key prefix. The floor moves
# up to the newest checkpoint; the stream's entries before it go, and the chunks that end at it or
# before (chunk keys are named from their ends: Redis Cluster is refused, cluster.py).
DROP = (
    OLDER
    + """
if redis.call('HGET', KEYS[1], 'generation') ~= ARGV[1] then return 0 end
local at = redis.call('HGET', KEYS[2], 'id')
if not at or not older(redis.call('GET', KEYS[3]) or '0-0', at) then return 0 end
redis.call('SET', KEYS[3], at)
redis.call('XTRIM', KEYS[4], 'MINID', at)
while true do
  local first = redis.call('LINDEX', KEYS[5], 0)
  if not first or older(at, first) then break end
  redis.call('DEL', ARGV[2] .. first)
  redis.call('LPOP', KEYS[5])
end
return 1
"""
)


class MissingChunk(Exception):
    """A chunk the archive lists is gone (the database was flushed or tampered with)."""


def encode(entries: list[Entry]) -> bytes:
    """Entries as one compressed value: each its field count, then its id and fields as
    length-prefixed bytes (a body's bytes as they were, uploads too, with no escaping)."""
    parts: list[bytes] = []
    for entry_id, fields in entries:
        parts.append(_LENGTH.pack(len(fields)))
        for item in (entry_id, *itertools.chain.from_iterable(fields.items())):
            parts += (_LENGTH.pack(len(item)), item)
    return zlib.compress(b"".join(parts), LEVEL)


def decode(blob: bytes) -> list[Entry]:
    raw = zlib.decompress(blob)
    at = 0

    def take() -> bytes:
        nonlocal at
        (size,) = _LENGTH.unpack_from(raw, at)
        at += _LENGTH.size + size
        return raw[at - size : at]

    entries: list[Entry] = []
    while at < len(raw):
        (count,) = _LENGTH.unpack_from(raw, at)
        at += _LENGTH.size
        entry_id = take()
        entries.append((entry_id, {take(): take() for _ in range(count)}))
    return entries


class Archive:
    def __init__(self, log: CommandLog, chunk: int) -> None:
        self.log = log
        self.chunk = chunk
        self._script = log.client.register_script(ARCHIVE)
        self._drop = log.client.register_script(DROP)

    async def after(self, place: bytes) -> list[Entry]:
        """The archived entries after `place` in the first chunk that holds any (one chunk at a
        time: a process replaying a long history holds one chunk's entries at once, not all);
        none once `place` is at the last archived entry (the stream holds the rest)."""
        ends: list[bytes] = await self.log.client.lrange(self.log.key("chunks"), 0, -1)  # type: ignore[misc,assignment]
        here = order(place)
        start = bisect.bisect_right([order(end) for end in ends], here)
        if start == len(ends):
            return []
        blob: Any = await self.log.client.get(self.log.key(f"chunk:{ends[start].decode()}"))
        if blob is None:
            raise MissingChunk(ends[start].decode())
        return [e for e in await asyncio.to_thread(decode, blob) if order(e[0]) > here]

    async def maybe(self) -> bool:
        """Move the stream's oldest chunk into the archive when it holds two chunks' worth (the
        newest stay in the stream, where live processes read)."""
        client, key = self.log.client, self.log.key
        if await client.xlen(key("log")) < 2 * self.chunk:
            return False
        # redis-py's lock: released only by its holder; its lease ends a dead holder's hold.
        lock = client.lock(key("archiving"), timeout=LEASE_S, blocking=False, thread_local=False)
        if not await lock.acquire():
            return False
        try:
            entries = await self._oldest()
            blob = await asyncio.to_thread(encode, entries)
            first, last = entries[0][0], entries[-1][0]
            keys = [key("log"), key("meta"), key("archived"), key("chunks"),
                    key(f"chunk:{last.decode()}")]  # fmt: skip
            return bool(
                await self._script(keys=keys, args=[self.log.generation, first, last, blob])
            )
        finally:
            with contextlib.suppress(LockError):  # the lease ran out: the check above held
                await lock.release()

    async def drop(self) -> bool:
        """Drop the log before the newest full reset, if it was not dropped yet."""
        key = self.log.key
        keys = [key("meta"), key("checkpoint"), key("floor"), key("log"), key("chunks")]
        return bool(await self._drop(keys=keys, args=[self.log.generation, key("chunk:")]))

    async def _oldest(self) -> list[Entry]:
        """The stream's oldest `chunk` entries, or fewer that reach MAX_CHUNK_BYTES."""
        entries: list[Entry] = []
        size, start = 0, "-"
        while len(entries) < self.chunk and size < MAX_CHUNK_BYTES:
            count = min(PAGE, self.chunk - len(entries))
            raw: Any = await self.log.client.xrange(self.log.key("log"), start, "+", count=count)
            for entry_id, fields in raw:
                entries.append((entry_id, dict(fields)))
                size += sum(len(v) for v in fields.values())
                if size >= MAX_CHUNK_BYTES:
                    break
            if len(raw) < count:
                break
            start = "(" + entries[-1][0].decode()
        return entries
