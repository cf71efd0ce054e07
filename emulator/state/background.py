"""What a process's replica does in the background: follow the log (others' commands reach its
live viewers and pending waits), tick (real and scaled clocks), recheck lapsed webhook claims,
move the log's oldest commands into the archive and drop what precedes the newest full reset;
and what it tells a health probe. Every loop survives Redis outages: it retries
every RETRY seconds and resumes by itself."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ..engines.memory import MemoryEngine
from .cluster import shown
from .log import Unreachable

if TYPE_CHECKING:
    import redis.asyncio as aioredis

    from ..core.emulator import Emulator
    from .archive import Archive
    from .cluster import Cluster
    from .log import CommandLog, Entry

log = logging.getLogger("rcs_emulator.state")

POLL = 0.02  # seconds between looks for due events (real and scaled clocks)
QUIET = 0.02  # seconds without an append of its own before a process reads the log itself
BUSY_PAUSE = 0.01  # after applying what it found, before looking again: fewer empty reads
RETRY = 0.5  # seconds between tries while Redis is unreachable
RECHECK = 1.0  # seconds between looks for lapsed webhook claims
ARCHIVE_EVERY = 2.0  # seconds between looks at the stream's length
WAIT_MS = 500  # an idle process's blocking wait for the log's next entry (then it looks again)


class Background:
    """Mixed into SharedState: its loops, their start and their stop."""

    cluster: Cluster
    origin: str
    error: str | None
    client: aioredis.Redis
    log: CommandLog
    archive: Archive
    emulator: Emulator | None
    last: bytes
    _started: bool
    _stop: asyncio.Event
    _tasks: list[asyncio.Task[None]]
    _catching: asyncio.Task[None] | None
    _appended: float

    if TYPE_CHECKING:  # SharedState's own

        async def _read(self) -> list[Entry]: ...
        async def _apply(self, entries: list[Entry]) -> None: ...
        async def _guard(self, call: Awaitable[Any]) -> Any: ...
        async def catch_up(self) -> None: ...

    async def start(self) -> None:
        """Follow the log in the background (every read and command catches up first anyway);
        the first request or the lifespan starts it."""
        if self._started:
            return
        self._started = True
        self._stop.clear()
        loop = asyncio.get_running_loop()
        jobs = [self._follow, self._recheck, self._archive]
        if self.emulator is not None and self.emulator.clock.mode != "manual":
            jobs.append(self._tick)  # a manual clock moves by its advance commands only
        for job in jobs:
            self._tasks.append(loop.create_task(self._forever(job)))

    async def _pause(self, seconds: float) -> None:
        """Sleep, unless the process stops meanwhile."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)

    async def _forever(self, job: Callable[[], Awaitable[None]]) -> None:
        while not self._stop.is_set():
            try:
                await job()
            except Unreachable:
                await self._pause(RETRY)
            except Exception:
                log.exception("shared state: %s failed", getattr(job, "__name__", job))
                await self._pause(RETRY)

    async def _follow(self) -> None:
        """Others' commands reach this process's live viewers and pending waits. While this
        process appends, each reply brings every entry before its own, so the log is read only
        when it has appended nothing for a while (reading it as well sent every entry twice)."""
        if asyncio.get_running_loop().time() - self._appended < QUIET:
            await self._pause(QUIET)
            return
        entries = await self._read()
        if entries:
            await self._apply(entries)
            await self._pause(BUSY_PAUSE)
        else:  # wait in Redis for the next entry (a change notice) rather than asking again
            await self._guard(self.log.wait(self.last, WAIT_MS))

    async def _tick(self) -> None:
        """Append a tick when an event comes due (real and scaled clocks)."""
        emulator = self.emulator
        assert emulator is not None
        due = emulator.engine.next_due()
        wait = POLL if due is None else emulator.clock.wall_delay(due - emulator.clock.now())
        if wait > 0:
            await self._pause(min(wait, POLL))
            return
        await self._guard(self.log.tick())
        await self.catch_up()
        await self._pause(BUSY_PAUSE)

    async def _recheck(self) -> None:
        await self._pause(RECHECK)
        assert self.emulator is not None
        engine = self.emulator.engine
        assert isinstance(engine, MemoryEngine)  # each process holds a memory replica
        await self._guard(engine.deliveries.recheck())

    async def _archive(self) -> None:
        await self._pause(ARCHIVE_EVERY)
        await self._guard(self.archive.drop())  # what precedes the newest full reset
        while not self._stop.is_set() and await self._guard(self.archive.maybe()):
            pass  # a chunk at a time, until the stream holds less than two

    async def catch_up_within(self, seconds: float) -> None:
        """catch_up() for a caller that must answer soon (a health probe: a process that
        joins a long log replays it for a while, and a liveness probe that timed out meanwhile
        would restart it, and it would replay again): it waits `seconds` at most, and the
        catch-up goes on without it (describe() says so)."""
        if self._catching is None or self._catching.done():
            self._catching = asyncio.get_running_loop().create_task(self.catch_up())
            self._catching.add_done_callback(_retrieve)  # a failure is met by the next caller
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._catching), seconds)

    def describe(self) -> dict[str, Any]:
        """For the health endpoint: which state, this process, how far it has applied."""
        return {
            "engine": "redis",
            "url": shown(self.cluster.url),
            "process": self.origin,
            "applied": self.last.decode(),
            "catching_up": self._catching is not None and not self._catching.done(),
            "reachable": self.error is None,
        }

    async def aclose(self) -> None:
        """Stop following the log. Loops end at their next turn (a Redis call cancelled midway
        can leave redis-py waiting on its connection); one still busy after a second is
        cancelled and left to finish on its own."""
        self._stop.set()
        if self._catching is not None:  # a probe's catch-up nobody waits for any more
            self._catching.cancel()
        if self._tasks:
            _, busy = await asyncio.wait(self._tasks, timeout=1.0)
            for task in busy:
                task.cancel()
        self._tasks = []
        closing = asyncio.ensure_future(self.client.aclose())
        await asyncio.wait([closing], timeout=1.0)


def _retrieve(task: asyncio.Task[None]) -> None:
    if not task.cancelled():
        task.exception()
