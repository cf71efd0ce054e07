"""This process's connection to the shared state: a client for each Redis node that holds
partitions (one Redis: itself; a Redis Cluster: each master, found from its slots and found
again when a master fails over or a slot moves), the scripts, and what is known of each node's
health, said in the log once when it changes, each line with its time: lost, back, refusing
writes (full), taking them again, or gone back to an older copy of a partition (its generation
changed: restarted without its data, or flushed).

A call goes to the node of its partition only, through that node's own client: a node that is
down, full or failing over delays and refuses only the calls of its partitions' tenants.
(redis-py's RedisCluster client re-learns the whole cluster on any node's error, stalling the
calls to every other node for a second or more: measured in docs/decisions.md.)

Readiness (can this process serve a tenant?) is "its partition's node answered lately";
liveness never depends on Redis: a probe that restarted every replica at once on a Redis blip
would only add an outage.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import redis
from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection, BlockingConnectionPool, parse_url
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import (
    AskError,
    BusyLoadingError,
    ClusterDownError,
    MasterDownError,
    MovedError,
    NoScriptError,
    OutOfMemoryError,
    ReadOnlyError,
    RedisError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from ...core.clock import iso
from ...core.engine import StateUnavailable
from ...redact import redacted
from . import keys
from .join import Joined, owners_of_slots
from .scripts import SCRIPTS, Grows

log = logging.getLogger("rcs_emulator.state")
T = TypeVar("T")

CHECK_EVERY = 1.0  # seconds between looks at each partition's health (and its generation)
WAIT_MS = 1000  # how long a commit waits for its replicas at most (then it answers anyway)
MOST_CONNECTIONS = 128  # to one node at once; past them a call waits for one to be free
REMAP_EVERY = 0.5  # seconds at least between two looks at where a cluster's slots are
# What says a node cannot answer now (as opposed to a bug of ours, which says itself).
DOWN = (
    RedisConnectionError,
    RedisTimeoutError,
    BusyLoadingError,
    ClusterDownError,
    MasterDownError,
    TryAgainError,
    OSError,
)
ELSEWHERE = (MovedError, AskError, ReadOnlyError)  # the partition is served by another node now


class Unreachable(StateUnavailable):
    """The shared state (of a tenant's partition) cannot answer now; callers get a 503."""


@dataclass
class Node:
    """One Redis node holding partitions (a master of a Redis Cluster, or the one Redis)."""

    address: str  # host:port, as the log and /ready show it (no credentials)
    client: Redis
    partitions: list[int] = field(default_factory=list)
    error: str | None = None  # why it cannot be used now (None: it can)
    full: bool = False  # it refused a write for want of memory (and took none since)
    since: float = 0.0  # wall time its outage (or fullness) began
    answering: float = field(default_factory=time.monotonic)  # since when it answers (monotonic)

    def view(self) -> dict[str, Any]:
        return {
            "node": self.address,
            "partitions": list(self.partitions),
            "reachable": self.error is None,
            "full": self.full,
            "error": self.error,
        }


def said(when: float | None = None) -> str:
    """The time a line of the log is about (the lines of an outage carry it themselves)."""
    return iso(time.time() if when is None else when)


class Link:
    def __init__(self, joined: Joined, fingerprint: bytes, wait_replicas: int = 0) -> None:
        self.joined = joined
        self.shown = redacted(joined.url)
        self.fingerprint = fingerprint
        self.generations = dict(joined.generations)  # partition: the copy it joined
        self.wait_replicas = wait_replicas  # replicas a commit waits for (0: none)
        self._options: dict[str, Any] = {
            **parse_url(joined.url),
            "socket_timeout": 5,
            "socket_connect_timeout": 2,
            # (one quick retry: a connection reset mends, a node that is down is said so soon)
            "retry": Retry(ExponentialBackoff(cap=0.1, base=0.02), 1),
            "health_check_interval": 1,
        }
        self.nodes: dict[str, Node] = {}
        self.owner: list[Node] = []
        self._place(joined.owners)
        any_client = next(iter(self.nodes.values())).client
        self.scripts = {name: any_client.register_script(s.source) for name, s in SCRIPTS.items()}
        self.loop: asyncio.AbstractEventLoop | None = None  # the one the clients belong to
        self.on_new_generation: list[Callable[[int], None]] = []  # what forgets a partition
        self.on_back: list[Callable[[], None]] = []  # what catches up a node that answers again
        # Tasks inside a call: stopping cancels them first, as a call cut off by a closed
        # connection would otherwise retry, on a new connection that nothing closes.
        self._calling: set[asyncio.Task[Any]] = set()
        self.closed = False
        self._remapped = 0.0
        self._remapping: asyncio.Lock | None = None

    # -- where each partition is ------------------------------------------------------------

    def _place(self, owners: list[str]) -> None:
        """Each partition's node (address "host:port", or "" for the one Redis of a URL)."""
        for node in self.nodes.values():
            node.partitions = []
        placed = []
        for partition, address in enumerate(owners):
            found = self.nodes.get(address)
            if found is None:
                options = dict(self._options)
                if address:
                    host, _, port = address.rpartition(":")
                    options |= {"host": host, "port": int(port)}
                shown = address or _address(self._options)
                pool = _Pool(max_connections=MOST_CONNECTIONS, timeout=5, **options)
                found = self.nodes[address] = Node(shown, Redis(connection_pool=pool))
            found.partitions.append(partition)
            placed.append(found)
        self.owner = placed

    async def _remap(self) -> None:
        """A Redis Cluster's slots, asked again of any node that answers (after a failover or
        a slot moved): the partitions go to the nodes that serve them now."""
        if not self.joined.cluster or time.monotonic() - self._remapped < REMAP_EVERY:
            return
        if self._remapping is None:
            self._remapping = asyncio.Lock()
        async with self._remapping:
            if time.monotonic() - self._remapped < REMAP_EVERY:
                return
            self._remapped = time.monotonic()
            for node in sorted(self.nodes.values(), key=lambda n: n.error is not None):
                with contextlib.suppress(RedisError, OSError):
                    slots = await asyncio.wait_for(node.client.cluster("slots"), 1.0)
                    owners = owners_of_slots(slots)
                    if owners is None:
                        continue  # (a node that lost its view of the cluster)
                    before = [n.address for n in self.owner]
                    self._place(owners)
                    after = [n.address for n in self.owner]
                    if before != after:
                        pairs = enumerate(zip(before, after, strict=True))
                        moved = [p for p, (b, a) in pairs if b != a]
                        log.warning(
                            "%s: partitions %s of the shared state (%s) are served by %s now",
                            said(),
                            _list(moved),
                            self.shown,
                            ", ".join(sorted({after[p] for p in moved})),
                        )
                    return

    # -- calls ------------------------------------------------------------------------------

    async def run(self, name: str, partition: int, tag: str, *args: Any) -> Any:
        """A script of a partition (and of one tenant of it, `tag`; "" none) on its node."""
        script = self.scripts[name]
        root = keys.ROOTS[partition]
        grows = SCRIPTS[name].kind is Grows
        wait = self.wait_replicas if name == "COMMIT" else 0

        async def call(client: Redis) -> Any:
            if not wait:
                return await script(keys=[root + "epoch"], args=[root, tag, *args], client=client)
            # WAIT counts the writes of its own connection: the script and it go down one.
            pipe = client.pipeline(transaction=False)
            pipe.evalsha(script.sha, 1, root + "epoch", root, tag, *args)
            pipe.wait(wait, WAIT_MS)
            try:
                answer, _ = await pipe.execute()
            except NoScriptError:  # (the node has not seen the script yet: loaded, then again)
                await client.script_load(script.script)
                return await call(client)
            return answer

        return await self.on(partition, call, grows=grows)

    async def on(
        self, partition: int, make: Callable[[Redis], Awaitable[T]], *, grows: bool = False
    ) -> T:
        """A call to the partition's node, keeping what is known of the node's health (a full
        node is said to have room again only once a write that grows the state went through:
        the others still answer when full). A partition served elsewhere since the last look
        (a failover) is looked for again, and the call made there."""
        for tries_left in (1, 0):
            node = self.owner[partition]
            try:
                result = await self._call(node, make(node.client))
            except ELSEWHERE:
                await self._remap()
                if tries_left and self.owner[partition] is not node:
                    continue
                self._down(
                    node,
                    f"partition {partition} is not served by {node.address} "
                    "any more (a failover under way?)",
                )
                raise Unreachable(node.error) from None
            except OutOfMemoryError as exc:
                self._full(node, str(exc))
                raise Unreachable(
                    f"the shared state ({self.shown}) is full: Redis refuses "
                    "writes past its maxmemory, so nothing new is accepted until "
                    "it has room (what it accepted is kept)"
                ) from None
            except DOWN as exc:
                self._down(node, _why(exc))
                raise Unreachable(node.error) from None
            except (AttributeError, TypeError) as exc:
                # redis-py's asyncio connection, written to after its transport was torn down,
                # raises these instead of a ConnectionError (redis/redis-py#4287): the same
                # outage, said the same way. Only those raised inside redis-py or asyncio.
                if not _from_the_transport(exc):
                    raise
                self._down(node, f"the connection was lost ({type(exc).__name__}: {exc})")
                raise Unreachable(node.error) from None
            self._answered(node, grew=grows)
            return result
        raise AssertionError("unreachable")  # (the loop returns or raises)

    async def _call(self, node: Node, pending: Awaitable[T]) -> T:
        if self.closed:
            if asyncio.iscoroutine(pending):
                pending.close()
            raise Unreachable("this process is stopping")
        task = asyncio.current_task()
        if task is not None:
            self._calling.add(task)
        try:
            result = await pending
        finally:
            if task is not None:
                self._calling.discard(task)
        if self.loop is None:
            self.loop = asyncio.get_running_loop()
        return result

    async def fan(
        self,
        make: Callable[[int, Redis], Awaitable[T]],
        partitions: Iterable[int] | None = None,
        *,
        live_only: bool = True,
    ) -> dict[int, T | Unreachable]:
        """One call per partition, all at once: each one's answer, or why it had none (a
        partition whose node is known to be down is not asked, unless `live_only` is False:
        the watch finds when it answers again)."""
        chosen = list(range(keys.PARTITIONS) if partitions is None else partitions)

        async def one(partition: int) -> T | Unreachable:
            error = self.owner[partition].error
            if live_only and error is not None:
                return Unreachable(error)
            try:
                return await self.on(partition, lambda client: make(partition, client))
            except Unreachable as exc:
                return exc

        return dict(zip(chosen, await asyncio.gather(*(one(p) for p in chosen)), strict=True))

    async def fan_run(
        self,
        name: str,
        args: Callable[[int], list[Any]],
        partitions: Iterable[int] | None = None,
        *,
        live_only: bool = True,
    ) -> dict[int, Any]:
        """A script on each partition, all at once: each one's answer, or its Unreachable (see
        fan for `live_only`)."""
        chosen = list(range(keys.PARTITIONS) if partitions is None else partitions)

        async def one(partition: int) -> Any:
            error = self.owner[partition].error
            if live_only and error is not None:
                return Unreachable(error)
            try:
                return await self.run(name, partition, "", *args(partition))
            except Unreachable as exc:
                return exc

        return dict(zip(chosen, await asyncio.gather(*(one(p) for p in chosen)), strict=True))

    # -- health -----------------------------------------------------------------------------

    def _down(self, node: Node, why: str) -> None:
        if node.error is None:
            node.since = time.time()
            log.warning(
                "%s: the shared state (%s) cannot be reached at %s (partitions %s, "
                "their tenants get 503s): %s",
                said(node.since),
                self.shown,
                node.address,
                _list(node.partitions),
                why,
            )
        node.error = f"the shared state ({self.shown}) cannot be reached at {node.address}: {why}"

    def _full(self, node: Node, why: str) -> None:
        if not node.full:
            node.full = True
            log.warning(
                "%s: the shared state (%s) is full at %s (partitions %s): Redis refuses "
                "writes past its maxmemory, so sends are refused with 503s until it has "
                "room (what it accepted is kept): %s",
                said(),
                self.shown,
                node.address,
                _list(node.partitions),
                why,
            )
        self._answered(node, grew=False)

    def _answered(self, node: Node, grew: bool) -> None:
        if node.error is not None:
            node.error = None
            node.answering = time.monotonic()
            for back in self.on_back:
                back()
            log.warning(
                "%s: the shared state (%s) answers again at %s (partitions %s; it could "
                "not be reached for %.1f s)",
                said(),
                self.shown,
                node.address,
                _list(node.partitions),
                time.time() - node.since,
            )
        if grew and node.full:
            node.full = False
            log.warning(
                "%s: the shared state (%s) takes writes again at %s (partitions %s)",
                said(),
                self.shown,
                node.address,
                _list(node.partitions),
            )

    def reachable(self, partition: int) -> bool:
        return self.owner[partition].error is None

    def steady(self, partition: int, seconds: float) -> bool:
        """The partition's node has answered for at least `seconds` without a break."""
        node = self.owner[partition]
        return node.error is None and time.monotonic() - node.answering >= seconds

    def error_of(self, partition: int) -> str | None:
        return self.owner[partition].error

    def shards(self) -> list[dict[str, Any]]:
        """Each node, its partitions and its health (what /ready and /health say)."""
        return [
            n.view()
            for n in sorted(self.nodes.values(), key=lambda n: n.partitions or [99])
            if n.partitions
        ]

    def lost(self, node: Node, exc: BaseException) -> None:
        """A call outside `on` (a subscription) found the node gone: said, as `on` would."""
        self._down(node, _why(exc))

    def first_reachable(self) -> int:
        """The first partition whose node answered lately (0 when none did)."""
        return next((p for p in range(keys.PARTITIONS) if self.reachable(p)), 0)

    def any_node(self) -> Node:
        """A node that answered lately (for what any node can do: pub/sub)."""
        placed = [n for n in self.nodes.values() if n.partitions]
        return next((n for n in placed if n.error is None), placed[0])

    async def watch(self, stop: asyncio.Event) -> None:
        """Look at each partition every CHECK_EVERY seconds: its node answers, and it is still
        the copy this process joined (else it joins the one it finds and says so); on a Redis
        Cluster, where its slots are served, when a node does not answer."""
        while not stop.is_set():
            if any(n.error is not None for n in self.nodes.values() if n.partitions):
                with contextlib.suppress(Unreachable):
                    await self._remap()
            found = await self.fan_run(
                "JOIN",
                lambda _: [secrets.token_hex(8), self.fingerprint, repr(self.joined.epoch)],
                live_only=False,
            )
            lost: list[int] = []
            for partition, answer in found.items():
                if isinstance(answer, Unreachable):
                    continue
                generation = answer[0].decode()
                if generation != self.generations.get(partition, generation):
                    lost.append(partition)
                    for forget in self.on_new_generation:
                        forget(partition)
                self.generations[partition] = generation
            for node in {self.owner[p].address: self.owner[p] for p in lost}.values():
                gone = [p for p in lost if self.owner[p] is node]
                log.warning(
                    "%s: the shared state (%s) is not the one this process joined at %s "
                    "(partitions %s: it went back to an older copy, or was flushed or "
                    "restarted without its data): what their tenants held before is gone; "
                    "going on with it as it is now",
                    said(),
                    self.shown,
                    node.address,
                    _list(gone),
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), CHECK_EVERY)

    async def aclose(self) -> None:
        """Close every connection, those a cancelled call left checked out included."""
        self.closed = True
        calling = self._calling - {asyncio.current_task()}
        if calling:  # (a call cut off while it connects may leave its socket open)
            await asyncio.wait(calling, timeout=1.0)
        calling = self._calling - {asyncio.current_task()}
        for task in calling:
            task.cancel()
        if calling:
            await asyncio.wait(calling, timeout=2.0)
        closing = [asyncio.ensure_future(_close(node.client)) for node in self.nodes.values()]
        await asyncio.wait(closing, timeout=2.0)  # (never waits on a cancel it ignores)
        self.cut()
        await asyncio.sleep(0)  # (the loop closes the sockets cut: their transports' last step)

    def cut(self) -> None:
        """Every socket cut at once, without waiting: what a close that did not end in time (a
        busy machine, a stop cut off at its bound) left open would otherwise go to the garbage
        collector after the loop is gone."""
        self.closed = True
        for node in self.nodes.values():
            pool = node.client.connection_pool
            if isinstance(pool, _Pool):
                pool.closed = True
            _abort(node.client)


class _Pool(BlockingConnectionPool):
    """redis-py's pool, whose taking back of a connection cannot be cut off: a call cancelled
    while it gives its connection back (a stop, a bounded wait) would leave the connection to
    the garbage collector still open (redis-py 8 holds the connections in use weakly), and a
    stop could not cut it."""

    closed = False  # (its link's cut: a call that outlived it gives back no open socket)

    async def release(self, connection: AbstractConnection) -> None:
        if self.closed:  # (redis-py retries a cut connection on a new socket: cut that too)
            cut_connection(connection)
        await asyncio.shield(super().release(connection))


def cut_connection(connection: AbstractConnection | None) -> None:
    """One connection's socket cut at once (see Link.cut)."""
    writer = getattr(connection, "_writer", None)
    if connection is not None and writer is not None:
        writer.transport.abort()
        connection._reader = connection._writer = None


def _abort(client: Redis) -> None:
    """Cut every socket the client's pool still holds (redis-py has no synchronous close; these
    are its pool's and connections' own fields)."""
    pool = client.connection_pool
    held = [*getattr(pool, "_available_connections", ()), *getattr(pool, "_in_use_connections", ())]
    for connection in held:
        cut_connection(connection)


async def _close(client: Redis) -> None:
    with contextlib.suppress(RedisError, OSError):
        await client.aclose()
    with contextlib.suppress(RedisError, OSError):
        await client.connection_pool.disconnect(inuse_connections=True)


def _address(options: dict[str, Any]) -> str:
    if "path" in options:
        return f"unix:{options['path']}"
    return f"{options.get('host', 'localhost')}:{options.get('port', 6379)}"


def _list(partitions: list[int]) -> str:
    return ",".join(str(p) for p in partitions) or "none"


def _why(exc: BaseException) -> str:
    if isinstance(exc, BusyLoadingError):
        return "Redis is loading its data into memory"
    return redacted(str(exc)) or type(exc).__name__


_TRANSPORTS = tuple(str(Path(m.__file__).parent) for m in (redis, asyncio) if m.__file__)


def _from_the_transport(exc: BaseException) -> bool:
    """The error was raised inside redis-py or asyncio (its innermost frame is theirs)."""
    tb = exc.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    return tb.tb_frame.f_code.co_filename.startswith(_TRANSPORTS)
