"""This process's connection to the shared state: the asyncio client (one Redis, or a Redis
Cluster), its scripts, and what is known of Redis's health, said once in the log when it
changes: lost, back, refusing writes (full), or gone back to an older copy (its generation
changed: restarted without its data, or flushed).

Readiness (can this process serve?) is "Redis answered lately"; liveness never depends on
Redis: a probe that restarted every replica at once on a Redis blip would only add an outage.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path
from typing import Any

import redis
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import OutOfMemoryError, RedisError

from ...core.engine import StateUnavailable
from .join import JOIN, Joined, shown
from .keys import META, ROOT
from .scripts import SCRIPTS

log = logging.getLogger("rcs_emulator.state")

CHECK_EVERY = 1.0  # seconds between looks at Redis's health (and its generation)


class Unreachable(StateUnavailable):
    """The shared state cannot answer now; callers get a 503 saying why."""


class Link:
    def __init__(self, joined: Joined, fingerprint: bytes) -> None:
        self.joined = joined
        self.url = joined.url
        self.fingerprint = fingerprint
        self.generation = joined.generation
        retry = Retry(ExponentialBackoff(cap=0.5, base=0.05), 3)
        options: dict[str, Any] = {"socket_timeout": 5, "socket_connect_timeout": 2,
                                   "retry": retry}  # fmt: skip
        self.client: Any
        if joined.cluster:
            self.client = RedisCluster.from_url(self.url, **options)
        else:
            self.client = Redis.from_url(self.url, health_check_interval=1, **options)
        self.scripts = {name: self.client.register_script(script.source)
                        for name, script in SCRIPTS.items()}  # fmt: skip
        self.error: str | None = None  # why Redis cannot be used now (None: it can)
        self.loop: asyncio.AbstractEventLoop | None = None  # the one the client belongs to
        self.last_ok = time.monotonic()
        self.on_new_generation: list[Any] = []  # what forgets its caches then
        # Tasks inside a call: stopping cancels them first, as a call cut off by a closed
        # connection would otherwise retry, on a new connection that nothing closes.
        self._calling: set[asyncio.Task[Any]] = set()
        self.closed = False
        self.full = False  # Redis refused a write for want of memory (and has not taken one since)
        self._found_nodes = not joined.cluster  # a cluster client knows its nodes (see call)
        self._finding: asyncio.Lock | None = None

    async def run(self, name: str, tenant_root: str, *args: Any) -> Any:
        """A tenant's script (its first key routes it to the tenant's shard)."""
        return await self.call(self.scripts[name](keys=[tenant_root + ROOT["epoch"][0]],
                                                  args=[tenant_root, *args]),
                               wrote=SCRIPTS[name].writes)  # fmt: skip

    async def call(self, pending: Any, *, wrote: bool = False) -> Any:
        """Await a Redis call, keeping what is known of Redis's health (a full Redis is said
        to have room again only once a write went through: reads still answer when full)."""
        if self.closed:
            if asyncio.iscoroutine(pending):
                pending.close()
            raise Unreachable("this process is stopping")
        task = asyncio.current_task()
        if task is not None:
            self._calling.add(task)
        try:
            if not self._found_nodes:
                try:
                    await self._find_nodes()
                except BaseException:
                    if asyncio.iscoroutine(pending):
                        pending.close()  # (never to be awaited)
                    raise
            result = await pending
        except OutOfMemoryError as exc:
            self._failed(f"the shared state ({shown(self.url)}) is full: Redis refuses writes "
                         "past its maxmemory, so nothing new is accepted until it has room "
                         f"(what it accepted is kept): {exc}")  # fmt: skip
            self.full = True
            raise Unreachable(self.error) from None
        except RedisError as exc:
            self._failed(f"the shared state ({shown(self.url)}) cannot be reached: {exc}")
            raise Unreachable(self.error) from None
        except (AttributeError, TypeError) as exc:
            # redis-py's asyncio connection, written to after its transport was torn down (a
            # connection reset, a cluster client re-finding its nodes), raises these instead of
            # a ConnectionError (redis/redis-py#4287): the same outage, said the same way. Only
            # those raised inside redis-py or asyncio: anything else is a bug, and says so.
            if not _from_the_transport(exc):
                raise
            self._failed(f"the shared state ({shown(self.url)}) cannot be reached: the "
                         f"connection was lost ({type(exc).__name__}: {exc})")  # fmt: skip
            raise Unreachable(self.error) from None
        finally:
            if task is not None:
                self._calling.discard(task)
        if not self.full or wrote:
            self._answered()
        if self.loop is None:
            self.loop = asyncio.get_running_loop()
        return result

    async def _find_nodes(self) -> None:
        """A cluster client learns its nodes once, before any call: calls made at once on a
        client that has not (a burst of requests to a process just started) each set about it,
        and tear down the connections the others are writing to."""
        if self._finding is None:
            self._finding = asyncio.Lock()
        async with self._finding:
            if not self._found_nodes:
                await self.client.initialize()
                self._found_nodes = True

    def _failed(self, why: str) -> None:
        if self.error is None:
            log.warning("%s", why)
        self.error = why

    def _answered(self) -> None:
        self.last_ok = time.monotonic()
        self.full = False
        if self.error is not None:
            log.warning("the shared state (%s) answers again", shown(self.url))
            self.error = None

    @property
    def ready(self) -> bool:
        return self.error is None

    async def watch(self, stop: asyncio.Event) -> None:
        """Look at Redis's health every CHECK_EVERY seconds: reachable, and still the state this
        process joined (else it joins the one it finds and says so)."""
        while not stop.is_set():
            with contextlib.suppress(Unreachable):
                found = await self.call(self.client.eval(JOIN, 1, META, _token(),
                                                         self.fingerprint))  # fmt: skip
                generation = found[0].decode()
                if generation != self.generation:
                    log.warning("the shared state (%s) is not the one this process joined (it "
                                "went back to an older copy, or was flushed or restarted "
                                "without its data): what it held before is gone; going on with "
                                "it as it is now", shown(self.url))  # fmt: skip
                    self.generation = generation
                    for forget in self.on_new_generation:
                        forget()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), CHECK_EVERY)

    async def aclose(self) -> None:
        """Close every connection, those a cancelled call left checked out included."""
        self.closed = True
        calling = self._calling - {asyncio.current_task()}
        for task in calling:
            task.cancel()
        if calling:
            await asyncio.wait(calling, timeout=2.0)
        with contextlib.suppress(RedisError, OSError):
            await asyncio.wait_for(self.client.aclose(), 2.0)
        pool = getattr(self.client, "connection_pool", None)
        if pool is not None:
            with contextlib.suppress(RedisError, OSError, TimeoutError):
                await asyncio.wait_for(pool.disconnect(inuse_connections=True), 2.0)


_TRANSPORTS = tuple(str(Path(m.__file__).parent) for m in (redis, asyncio) if m.__file__)


def _from_the_transport(exc: BaseException) -> bool:
    """The error was raised inside redis-py or asyncio (its innermost frame is theirs)."""
    tb = exc.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    return tb.tb_frame.f_code.co_filename.startswith(_TRANSPORTS)


def _token() -> str:
    import secrets

    return secrets.token_hex(8)
