"""SharedState: this process's replica of a cluster's state, kept by applying the shared log.

Every request that may change state (every provider request, every control call but a read) is
appended to the log as a command and applied, in the log's order, by every process through the
same app; so each process holds the same messages, events, deliveries and settings, and the core
and the providers run unchanged. The command's Redis time is the clock's "now" while it applies
(real and scaled clocks), and its number seeds the ids, delays and fake texts it draws; so all
processes compute the same thing. A read first applies whatever the log holds beyond this
process's place (one round trip), so a caller sees its own writes on every replica.

Time passes by commands too: a ticker in each process appends a tick when an event comes due
(one tick for the cluster, however many notice it), and a manual clock moves only by its advance
commands. Webhook attempts are made once in the cluster (ledger.py). The log's older commands are
kept compressed (archive.py); a process whose place is before them reads them there first. The
loops that run beside requests are in background.py.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

import orjson
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import RedisError
from starlette.types import ASGIApp

from ..control.injection import DEFERRED_DELAYS
from ..core.clock import SharedClock
from ..engines.memory import MemoryEngine
from .archive import Archive, MissingChunk
from .background import Background
from .checkpoint import Checkpoints
from .cluster import PREFIX, Cluster, where, why
from .commands import Answer, discard, head_of, replay_receive, scope_of
from .ledger import LedgerAttempts, RedisLedger
from .log import Behind, CommandLog, Entry, Jump, Unreachable, order

if TYPE_CHECKING:
    from ..control.injection import Faults
    from ..core.emulator import Emulator

log = logging.getLogger("rcs_emulator.state")

# Batches of requests on their way to Redis at once: one would leave the process idle while
# Redis writes (and fsyncs) the last; each reply carries every entry up to its own, so replies
# may come back in any order and are still applied in the log's.
IN_FLIGHT = 4


class SharedState(Background):
    def __init__(self, cluster: Cluster, chunk: int = 5000) -> None:
        self.cluster = cluster
        self.origin = secrets.token_hex(6)
        # A command lost on a broken connection is sent again (appends are idempotent per
        # batch), a few times within a second; a connection idle across a Redis restart is
        # checked before use. Past that, callers get 503s until Redis is back.
        self.client = aioredis.Redis.from_url(
            cluster.url,
            socket_timeout=5,
            socket_connect_timeout=2,
            retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), 3),
            health_check_interval=1,
        )
        self.log = CommandLog(self.client, PREFIX, cluster.generation, self.origin)
        self.ledger = RedisLedger(self.log)
        self.attempts = LedgerAttempts(self.ledger)  # who makes each webhook attempt
        self.archive = Archive(self.log, chunk)
        self.checkpoints = Checkpoints(self.log)
        self._begun = False  # whether this process looked for a checkpoint to begin at
        self.app: ASGIApp | None = None  # the emulator's own stack, set by the middleware
        self.root: ASGIApp | None = None  # the Starlette app (routing reads it from the scope)
        self.emulator: Emulator | None = None
        self.faults: Faults | None = None
        self.last = b"0-0"  # the newest command applied here
        self._last = (0, 0)
        self._lock = asyncio.Lock()
        self._waiters: dict[bytes, asyncio.Future[Answer]] = {}
        self._batch: list[tuple[bytes, bytes, bytes]] = []  # waiting for the next round trip
        self._sending = 0  # batches on their way
        self._senders: set[asyncio.Task[None]] = set()
        self._appended = 0.0  # loop time of the last reply to this process's batch
        self._request_ids = itertools.count(1)
        self._batch_ids = itertools.count(1)
        self._tasks: list[asyncio.Task[None]] = []
        self._catching: asyncio.Task[None] | None = None  # a probe's catch-up (catch_up_within)
        self._started = False
        self._stop = asyncio.Event()  # set by aclose(): the loops end at their next turn
        self.error: str | None = None  # why Redis cannot be reached, while it cannot

    def bind(self, emulator: Emulator, faults: Faults) -> None:
        self.emulator = emulator
        self.faults = faults
        self.checkpoints.watch(emulator)

    # -- commands ---------------------------------------------------------------------------

    async def submit(self, scope: dict[str, Any], body: bytes) -> Answer:
        """Append a request to the log and apply the log up to it; its answer. Requests that
        arrive while a batch is on its way to Redis go together in the next one."""
        await self.start()
        request_id = str(next(self._request_ids)).encode()
        answer: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._waiters[request_id] = answer
        self._batch.append((request_id, head_of(scope), body))
        if self._sending < IN_FLIGHT:  # else a sender on its way takes this batch next
            self._sending += 1
            sender = asyncio.get_running_loop().create_task(self._send_batches())
            self._senders.add(sender)
            sender.add_done_callback(self._senders.discard)
        return await answer  # set where it was applied: here, or by a read that came first

    async def _send_batches(self) -> None:
        """Send what waits, batch after batch, until nothing does (a task: a caller waits for
        its own answer only, never for others' round trips)."""
        try:
            while self._batch:
                await self._send_batch()
        finally:
            self._sending -= 1

    async def _send_batch(self) -> None:
        batch, self._batch = self._batch, []
        batch_id = str(next(self._batch_ids))
        try:
            await self._begin()
            while True:
                try:
                    entries = await self._guard(self.log.append(batch_id, self.last, batch))
                    break
                except Behind:  # nothing appended: read the archive, then send it again
                    await self._apply(await self._behind())
                except Jump:
                    await self._jump()
        except BaseException as exc:
            for request_id, _, _ in batch:
                waiter = self._waiters.pop(request_id, None)
                if waiter is not None and not waiter.done():
                    waiter.set_exception(exc if isinstance(exc, Unreachable) else Unreachable(
                        f"the request could not be appended: {exc!r}"))  # fmt: skip
            if not isinstance(exc, Exception):
                raise
            return
        self._appended = asyncio.get_running_loop().time()
        await self._apply(entries)

    async def catch_up(self) -> None:
        """Apply every command the log holds beyond this process's place."""
        await self.start()
        while True:
            entries = await self._read()
            if not entries:
                return
            await self._apply(entries)

    async def _read(self) -> list[Entry]:
        """What follows this process's place: from the stream, or first from the archive."""
        await self._begin()
        while True:
            try:
                return await self._guard(self.log.read(self.last))  # type: ignore[no-any-return]
            except Behind:
                entries = await self._behind()
            except Jump:
                await self._jump()
                continue
            if entries:  # else another caller applied the archive meanwhile: the stream now
                return entries

    async def _behind(self) -> list[Entry]:
        """The next archived entries after this process's place (none once it is past them, or
        once it began at a full reset the log was dropped up to meanwhile)."""
        try:
            return await self._guard(self.archive.after(self.last))  # type: ignore[no-any-return]
        except MissingChunk as exc:
            if order(self.last) < order(await self._guard(self.log.floor())):
                await self._jump()  # dropped while this process read the chunk list
                return []
            raise Unreachable(f"{where(self.cluster.url)} lost chunk {exc} of its log; restart "
                              "the emulator processes to begin afresh") from None  # fmt: skip

    async def _guard(self, call: Awaitable[Any]) -> Any:
        try:
            result = await call
        except RedisError as exc:
            self.error = why(self.cluster.url, exc)
            raise Unreachable(self.error) from None
        self.error = None
        return result

    async def _begin(self) -> None:
        """A process at the log's start begins at the newest full reset (checkpoint.py)."""
        if self._begun:
            return
        async with self._lock:
            if not self._begun and self.last == b"0-0":
                await self._begin_at(await self._guard(self.checkpoints.newest()))
            self._begun = True

    async def _jump(self) -> None:
        """This process's place is before the log's floor (it was stopped while a full reset
        went by, and the log before it was dropped): it begins at the newest full reset, as a
        process that joins does."""
        floor = order(await self._guard(self.log.floor()))
        found = await self._guard(self.checkpoints.newest())
        async with self._lock:
            if found is None or order(found[0]) < floor:  # no place to begin at, past the floor
                raise Unreachable(f"{where(self.cluster.url)} dropped its log up to a full "
                                  "reset whose checkpoint is gone; restart the emulator "
                                  "processes")  # fmt: skip
            if order(found[0]) > self._last:  # else another caller of this process jumped
                log.warning("this process was behind the log's floor: it begins at the full "
                            "reset at %s", found[0].decode())  # fmt: skip
                await self._begin_at(found)

    async def _begin_at(self, found: tuple[bytes, bytes] | None) -> None:
        if found is not None:
            assert self.emulator is not None and self.faults is not None
            await self.checkpoints.begin_at(self.emulator, self.faults, found[1])
            self.last, self._last = found[0], order(found[0])

    async def _apply(self, entries: list[Entry]) -> None:
        async with self._lock:
            for entry_id, fields in entries:
                place = order(entry_id)
                if place <= self._last:  # applied already (another caller's catch-up came
                    self._orphaned(fields)  # first), or before a full reset it began at
                    continue
                await self._apply_one(fields)
                self._last = place
                self.last = entry_id
                if self.checkpoints.seen:  # a full reset: its sender records what it left
                    self.checkpoints.seen = False
                    if fields.get(b"o") == self.origin.encode():
                        assert self.emulator is not None and self.faults is not None
                        left = self.checkpoints.taken(self.emulator, self.faults)
                        await self.checkpoints.record(entry_id, left)

    def _orphaned(self, fields: dict[bytes, bytes]) -> None:
        """A command of this process's that it will not apply: it began at a full reset past
        it (it was stopped with the command's answer on its way), so its answer is unknown."""
        if fields.get(b"o") == self.origin.encode():
            waiter = self._waiters.pop(fields.get(b"r", b""), None)
            if waiter is not None and not waiter.done():
                waiter.set_exception(Unreachable("this process was stopped while its request "
                    "was applied, and began again at a later full reset: the request was "
                    "accepted, but its answer is unknown"))  # fmt: skip

    async def _apply_one(self, fields: dict[bytes, bytes]) -> None:
        emulator, faults = self.emulator, self.faults
        assert emulator is not None and faults is not None and self.app is not None
        token = int(fields[b"n"])
        emulator.ids.fork(self.cluster.entropy)
        faults.fork(self.cluster.entropy)
        clock = emulator.clock if isinstance(emulator.clock, SharedClock) else None
        if clock is not None:
            clock.pinned = float(fields[b"t"])
        try:
            kind = fields[b"k"]
            if kind == b"http":
                await self._apply_request(fields)
            elif kind == b"tick":
                await emulator.run_due()
            elif kind == b"settle":
                settled = orjson.loads(fields[b"h"])
                engine = emulator.engine
                assert isinstance(engine, MemoryEngine)  # each process holds a replica
                self.attempts.settle_recorded(engine.deliveries, tuple(settled["key"]),
                                              settled["outcome"])  # fmt: skip
        except Exception:  # one broken command must not stop the cluster's state
            log.exception("command %s failed", token)
        finally:
            if clock is not None:
                clock.pinned = None

    async def _apply_request(self, fields: dict[bytes, bytes]) -> None:
        assert self.app is not None
        waiter = None
        if fields[b"o"].decode() == self.origin:
            waiter = self._waiters.pop(fields[b"r"], None)
        scope = scope_of(fields[b"h"])
        scope["app"] = self.root
        delays: list[float] = []
        scope[DEFERRED_DELAYS] = delays
        answer = Answer()
        try:
            await self.app(scope, replay_receive(fields[b"b"]),
                           answer.send if waiter is not None else discard)  # fmt: skip
        except Exception as exc:  # raised alike everywhere; its caller sees it (a 500, a drop)
            answer.error = exc
            if waiter is None:
                log.debug("a command from another process raised %r", exc)
        answer.delay = sum(delays)
        if waiter is not None and not waiter.done():
            waiter.set_result(answer)
