"""The Redis engine: the state itself lives in Redis, as data (keys.py says where), so every
process serving it adds capacity, and a process that joins answers at once: it holds caches only
(which tenants exist, its block of delivery ids), never the records.

- A send is one round trip: the unit collects the messages, their first events and due events,
  and one script stores and indexes them (and creates the callbacks a rule asked for); the
  sends of a tenant that commit while one of its calls is on the way share the next call.
- Reads are one script each, on the tenant's shard.
- Due events are claimed by tenant, with a lease: one process runs a tenant's events at a time
  (a tenant's events stay in order), and a process that stops halfway lets its lease run out;
  a run is committed with the events' removal, fenced by the lease, so an event applies once.
- Webhook deliveries are records too (deliveries.py), claimed per attempt with a lease.
- A tenant's reset moves its epoch on: what it held is left behind at once, and swept later.

Tenants never wait on each other: each one's events, deliveries and leases are its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import IO, Any

import httpx

from ...core.clock import Clock
from ...core.engine import Found, Host, MessageFilter, Unit, Wants
from ...core.records import Due, Message, StoredFile, TimelineEntry
from . import codec, keys
from .background import Background
from .commits import Commits
from .deliveries import RedisDeliveries
from .hints import DueHints
from .join import shown
from .keys import DUE, FAULT_COUNTS, READY
from .link import Link, Unreachable
from .sharing import RedisSharing
from .surprises import RedisSurprises
from .tenants import TenantIndex
from .unit import RedisUnit

log = logging.getLogger("rcs_emulator.state")

LEASE_MS = 10_000  # how long a stopped process's claim on a tenant's due events holds them
SWEEP_EVERY = 5.0  # seconds between looks for work whose hint was lost, and old epochs


class RedisEngine:
    name = "redis"
    poll = 0.25  # a running clock's ticker looks this often for what other processes scheduled

    def __init__(
        self,
        link: Link,
        clock: Clock,
        *,
        max_messages: int | None = None,
        http_client: httpx.AsyncClient | None = None,
        webhook_concurrency: int = 64,
        webhook_per_host: int = 4,
        max_webhook_log: int = 100_000,
        webhook_timeout: float = 10.0,
    ) -> None:
        self.link = link
        self.client = link.client
        self.clock = clock
        self.max_messages = max_messages or 0
        self.token = secrets.token_hex(8)  # this process, as the holder of a lease
        # The parts, and the small objects they share (never each other).
        self.tenants = TenantIndex(link)
        self.hints = DueHints()
        self.background = Background(link)
        self.deliveries = RedisDeliveries(link, clock, self.tenants, self.background,
                                          self.token, http_client, webhook_concurrency,
                                          webhook_per_host, max_webhook_log,
                                          webhook_timeout)  # fmt: skip
        self.sharing = RedisSharing(link)
        self.surprises = RedisSurprises(link, clock, self.tenants)
        self.commits = Commits(link, self.max_messages, self._hint)
        self._stop = asyncio.Event()
        self._loops: list[asyncio.Task[None]] = []
        self._running: dict[str, asyncio.Lock] = {}  # a tenant's run of due events, here

    # -- units of work ----------------------------------------------------------------------

    async def begin(self, tenant: str, wants: Wants | None = None) -> RedisUnit:
        await self.tenants.register(tenant)
        unit = RedisUnit(tenant)
        if wants is not None and wants.messages:
            await self._load(unit, wants.messages)
        return unit

    async def _load(self, unit: RedisUnit, ids: Sequence[str]) -> None:
        root = self.tenants.root(unit.tenant)
        epoch, hashes, _ = await self.link.run("FETCH", root, "0", *ids)
        unit.epoch = epoch.decode()
        unit.named.update(ids)
        for flat in hashes:
            if flat:
                message = codec.message_of(codec.pairs(flat))
                unit.messages[message.id] = message

    async def commit(self, unit: Unit) -> None:
        """Apply the unit's writes (nothing, if the tenant was reset since it loaded: what it
        wrote is moot)."""
        assert isinstance(unit, RedisUnit)
        await self._commit(unit)

    async def _commit(self, unit: RedisUnit) -> str:
        """Apply the unit's writes, all or none (with others of its tenant's: commits.py); "OK",
        or why they were refused (RESET: the tenant was reset since it loaded; FENCED: its lease
        went to another process)."""
        callbacks = await self.deliveries.ops_for(unit.callbacks) if unit.callbacks else []
        ops = unit.written(callbacks)
        if not ops:
            return "OK"
        return await self.commits.apply(unit.tenant, self.tenants.root(unit.tenant),
                                        [unit.epoch, unit.fence, ops])  # fmt: skip

    def _hint(self, tenant: str, due: bytes, ready: bytes) -> None:
        """Tell whoever looks for work that the tenant has some (each looks at its own keys
        before acting on a hint, so a stale one costs a look, a lost one a sweep's wait)."""
        if due and self.hints.earlier(tenant, float(due)):  # (else the hint says so already)
            self.background.later(self.client.zadd(DUE, {tenant: float(due)}, lt=True))
        if ready:
            self.background.later(self.client.zadd(READY, {tenant: float(ready)}, lt=True))
            self.deliveries.wake(tenant)

    # -- reads ------------------------------------------------------------------------------

    def _messages(self, hashes: list[Any], exchanges: list[bytes] | None = None) -> list[Message]:
        blobs = dict(zip(exchanges[0::2], exchanges[1::2], strict=True)) if exchanges else None
        return [codec.message_of(codec.pairs(h), blobs) for h in hashes if h]

    async def message(self, tenant: str | None, message_id: str) -> Message | None:
        for each in [tenant] if tenant is not None else await self.tenants.all():
            _, hashes, exchanges = await self.link.run("FETCH", self.tenants.root(each), "1",
                                                       message_id)  # fmt: skip
            found = self._messages(hashes, exchanges)
            if found:
                return found[0]
        return None

    async def _listed(self, tenant: str, name: str) -> list[Message]:
        _, hashes = await self.link.run("LISTED", self.tenants.root(tenant), name)
        return self._messages(hashes)

    async def batch(self, tenant: str, batch: str) -> Sequence[Message]:
        return await self._listed(tenant, keys.batch(batch))

    async def by_external(self, tenant: str, provider: str, external_id: str) -> list[Message]:
        return await self._listed(tenant, keys.external(provider, external_id))

    async def latest_to(
        self, tenant: str | None, provider: str, agent_id: str, phone: str
    ) -> Message | None:
        newest: Message | None = None
        for each in [tenant] if tenant is not None else await self.tenants.all():
            name = keys.conversation(provider, agent_id, phone)
            _, hashes = await self.link.run("LATEST", self.tenants.root(each), name)
            found = self._messages(hashes)
            if found and (newest is None or found[0].created_at > newest.created_at):
                newest = found[0]
        return newest

    async def sent_between(
        self,
        tenant: str,
        provider: str,
        since: float | None,
        until: float | None,
        *,
        newest_first: bool,
        offset: int,
        limit: int,
    ) -> Found[Message]:
        low = "-inf" if since is None else codec.number(since)
        high = "+inf" if until is None else codec.number(until)
        _, total, hashes = await self.link.run(
            "SENT", self.tenants.root(tenant), keys.sent(provider), low, high,
            "1" if newest_first else "0", str(offset), str(min(limit, 2**31)))  # fmt: skip
        return Found(self._messages(hashes), int(total))

    async def query(
        self,
        tenant: str | None,
        where: MessageFilter,
        *,
        offset: int = 0,
        limit: int | None = None,
        matching: Callable[[Message], bool] | None = None,
    ) -> Found[Message]:
        if tenant is not None:
            return await self._query(tenant, where, offset, limit, matching)
        # Every tenant's: each one's first offset + limit, merged in creation order.
        wanted = None if limit is None else offset + limit
        parts = [await self._query(t, where, 0, wanted, matching) for t in await self.tenants.all()]
        merged = sorted((m for p in parts for m in p.items), key=lambda m: (m.created_at, m.seq))
        stop = None if limit is None else offset + limit
        return Found(merged[offset:stop], sum(p.total for p in parts))

    async def _query(
        self,
        tenant: str,
        where: MessageFilter,
        offset: int,
        limit: int | None,
        matching: Callable[[Message], bool] | None,
    ) -> Found[Message]:
        root = self.tenants.root(tenant)
        indexes = []
        if where.provider is not None:
            indexes.append(keys.agent(where.provider, where.agent) if where.agent is not None
                           else keys.provider(where.provider))  # fmt: skip
        if where.phone is not None:
            indexes.append(keys.phone(where.phone))
        if where.status is not None:
            indexes.append(keys.status(where.status.value))
        # An agent named without its provider, or a search, is tested here, message by message.
        tested = matching is not None or (where.agent is not None and where.provider is None)
        if tested:
            _, _, hashes, exchanges = await self.link.run("QUERY", root, "0", "-1", "1",
                                                          *indexes)  # fmt: skip
            found = [m for m in self._messages(hashes, exchanges)
                     if (where.agent is None or m.agent_id == where.agent)
                     and (matching is None or matching(m))]  # fmt: skip
            stop = None if limit is None else offset + limit
            return Found(found[offset:stop], len(found))
        _, total, hashes, exchanges = await self.link.run(
            "QUERY", root, str(offset), "-1" if limit is None else str(limit), "1",
            *indexes)  # fmt: skip
        return Found(self._messages(hashes, exchanges), int(total))

    async def timeline(
        self,
        tenant: str,
        provider: str,
        agent_id: str,
        phone: str | None,
        since: float | None,
        until: float | None,
        newest: int | None,
    ) -> list[TimelineEntry]:
        low = "-inf" if since is None else codec.number(since)
        high = "+inf" if until is None else codec.number(until)
        name = keys.timeline(provider, agent_id, phone)
        _, members, hashes = await self.link.run("TIMELINE", self.tenants.root(tenant), name,
                                                 low, high,
                                                 str(newest or 0))  # fmt: skip
        messages = {m.id: m for m in self._messages(hashes)}
        entries = []
        for member in members:
            _, message_id, number = member.decode().rsplit("|", 2)
            message = messages.get(message_id)
            if message is not None and int(number) <= len(message.events):
                event = message.events[int(number) - 1]
                entries.append(TimelineEntry(event.time, message, event))
        if newest:
            entries.reverse()  # newest first was read: oldest first is answered
        return entries

    async def file(self, tenant: str | None, file_id: str) -> StoredFile | None:
        for each in [tenant] if tenant is not None else await self.tenants.all():
            found = (await self.file_index(each)).get(file_id)
            if found is not None:
                return found
        return None

    async def files(self, tenant: str | None) -> list[StoredFile]:
        found = [f for each in ([tenant] if tenant is not None else await self.tenants.all())
                 for f in (await self.file_index(each)).values()]  # fmt: skip
        return sorted(found, key=lambda f: f.uploaded_at)  # (stable: each in upload order)

    async def file_index(self, tenant: str) -> Mapping[str, StoredFile]:
        files = codec.pairs(await self.link.run("FILES", self.tenants.root(tenant)))
        return {k.decode(): codec.file_of(v) for k, v in files.items()}

    async def counts(self) -> dict[str, Any]:
        messages = scheduled = evicted = 0
        tenants = await self.tenants.all()
        for tenant in tenants:
            held, due, gone, _, _ = await self.link.run("COUNTS", self.tenants.root(tenant))
            messages, scheduled, evicted = messages + held, scheduled + due, evicted + int(gone)
        return {"messages": messages, "tenants": len(tenants), "scheduled_events": scheduled,
                "max_messages": self.max_messages or None, "evicted_messages": evicted}  # fmt: skip

    # -- the schedule -----------------------------------------------------------------------

    def next_due(self, tenant: str | None = None) -> float | None:
        return self.hints.next(tenant)

    def due_tenants(self) -> list[str]:
        return self.hints.tenants()

    def on_schedule(self, wake: Callable[[float], None] | None) -> None:
        self.hints.wake = wake

    async def refresh_due(self, tenants: Iterable[str] | None = None) -> None:
        """Learn when each tenant's next event is due, from the hints (every tenant's), or from
        the tenants' own schedules (those given)."""
        if tenants is None:
            found = await self.link.call(self.client.zrange(DUE, 0, -1, withscores=True))
            for tenant, score in found:
                self.hints.merge(tenant.decode(), score)
            return
        for tenant in tenants:
            due = await self.link.run("RELEASE", self.tenants.root(tenant), "")
            self.hints.settle(tenant, float(due) if due else None)
            if not due:
                await self.link.call(self.client.zrem(DUE, tenant))

    async def run_due(
        self, tenant: str, until: float, apply: Callable[[Any, float, Due], None], limit: int
    ) -> int:
        # One run of a tenant's events at a time in this process too: the lease is the
        # process's, so two of its own runs (the ticker and an advance) would claim alike.
        lock = self._running.get(tenant)
        if lock is None:
            lock = self._running[tenant] = asyncio.Lock()
        async with lock:
            return await self._run_due(tenant, until, apply, limit)

    async def _run_due(
        self, tenant: str, until: float, apply: Callable[[Any, float, Due], None], limit: int
    ) -> int:
        root = self.tenants.root(tenant)
        while True:
            claim = await self.link.run("CLAIM_DUE", root, self.token, str(LEASE_MS),
                                        codec.number(until), str(limit))  # fmt: skip
            if claim != [b"BUSY"]:
                break
            await asyncio.sleep(0.01)  # another process runs them: it lets go soon
        if not claim:
            await self.refresh_due([tenant])
            return 0
        epoch, found = claim[0].decode(), claim[1:]
        unit = RedisUnit(tenant, epoch, self.token)
        tasks = [(float(found[i + 1]), found[i], codec.due_of(found[i]))
                 for i in range(0, len(found), 2)]  # fmt: skip
        ids = sorted({str(t.ref) for _, _, t in tasks if isinstance(t.ref, str)})
        if ids:
            await self._load(unit, ids)
        for when, member, task in tasks:
            apply(unit, when, task)
            unit.remove_due(member)
        said = await self._commit(unit)
        if said != "OK":
            log.warning("%d due events of a tenant were not applied here (%s): another "
                        "process runs them", len(tasks), said)  # fmt: skip
            return 0
        return len(tasks)

    async def poll_due(self) -> None:
        await self.refresh_due()

    # -- uploads ----------------------------------------------------------------------------

    async def keep_file(self, tenant: str, file_id: str, source: IO[bytes]) -> str:
        await self.tenants.register(tenant)
        await self.link.run("KEEP_FILE", self.tenants.root(tenant), file_id, source.read())
        return f"redis:{file_id}"

    async def file_content(self, stored: StoredFile) -> bytes | None:
        found = await self.link.run("FILE_BYTES", self.tenants.root(stored.tenant), stored.id)
        return bytes(found) if found is not None else None

    # -- health -----------------------------------------------------------------------------

    def bind(self, host: Host) -> None:
        """Settings and the clock other processes change go to the host and the clock; their
        change notices to the host's viewers."""
        self.sharing.bind(host.load_settings, self.clock.restore, host.show)

    def describe(self) -> dict[str, Any]:
        joined = self.link.joined
        return {"engine": self.name, "process": self.token, "url": shown(joined.url),
                "cluster": joined.cluster,
                "reachable": self.link.ready, "error": self.link.error,
                "cautions": list(joined.cautions)}  # fmt: skip

    async def ready(self) -> bool:
        with contextlib.suppress(Unreachable):
            await self.link.call(self.client.ping())
        return self.link.ready

    # -- running ----------------------------------------------------------------------------

    async def start(self) -> None:
        """A served process's own work: watching Redis, hearing other processes, sweeping."""
        if self._loops:
            return
        loop = asyncio.get_running_loop()
        self._loops = [loop.create_task(self.link.watch(self._stop)),
                       loop.create_task(self.sharing.listen(self._stop)),
                       loop.create_task(self._sweep())]  # fmt: skip
        await self.deliveries.start()

    async def _sweep(self) -> None:
        """Now and then, every tenant's own schedule is looked at: a hint lost with a process
        that stopped between a commit and its hint is found again."""
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), SWEEP_EVERY)
            with contextlib.suppress(Unreachable):
                tenants = await self.tenants.all()
                await self.refresh_due(tenants)
                hints = {t: when for t in tenants if (when := self.hints.get(t)) is not None}
                if hints:
                    await self.link.call(self.client.zadd(DUE, hints, lt=True))

    # -- forgetting -------------------------------------------------------------------------

    async def reset(self, tenants: Iterable[str] | None) -> None:
        every = await self.tenants.all() if tenants is None else list(tenants)
        for tenant in every:
            root = self.tenants.root(tenant)
            old = await self.link.run("RESET", root)
            self.hints.settle(tenant, None)
            self.background.spawn(self._unlink(root, old.decode() if isinstance(old, bytes)
                                               else old))  # fmt: skip
        if tenants is None:
            for key in (DUE, READY, FAULT_COUNTS):  # one by one: in a cluster each is anywhere
                await self.link.call(self.client.delete(key))

    async def _unlink(self, root: str, epoch: str) -> None:
        """What a tenant held before a reset, unlinked a slice at a time."""
        with contextlib.suppress(Unreachable):
            # A tenant's keys share its hash tag: on a Redis Cluster they are all on the node
            # of its slot, which is the one scanned (a cluster-wide SCAN has a cursor per node).
            node = (self.client.get_node_from_key(root + keys.ROOT["epoch"][0])
                    if self.link.joined.cluster else None)  # fmt: skip
            cursor: Any = 0
            while True:  # (each step a call of its own: stopping cuts it off cleanly)
                match = f"{root}{epoch}:*"
                if node is None:
                    cursor, found = await self.link.call(
                        self.client.scan(cursor, match=match, count=1000))  # fmt: skip
                else:
                    cursors, found = await self.link.call(self.client.scan(
                        cursor, match=match, count=1000, target_nodes=node))  # fmt: skip
                    cursor = next(iter(cursors.values()), 0)
                if found:
                    await self.link.call(self.client.unlink(*found))
                if not cursor:
                    return

    async def aclose(self) -> None:
        self._stop.set()
        if self._loops:
            await asyncio.wait(self._loops, timeout=1.5)
            for task in self._loops:
                task.cancel()
        await self.deliveries.aclose()
        await self.surprises.aclose()
        await self.background.aclose()
        await self.link.aclose()
