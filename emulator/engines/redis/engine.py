"""The Redis engine: the state itself lives in Redis, as data (keys.py says where), so every
process serving it adds capacity, and a process that joins answers at once: it holds caches only
(where each tenant's keys are, the hints of what is due), never the records.

- A send is one round trip: the unit collects the messages, their first events and due events,
  and one script stores and indexes them (in the tenant's indexes and its partition's), creates
  the callbacks a rule asked for, and leaves the hints of which tenants have work; the sends of
  a tenant that commit while one of its calls is on the way share the next call.
- Reads of a tenant are one script each, on its partition's shard; reads of every tenant go
  through each partition's indexes across its tenants (one script each, all at once), never
  through a list of tenants.
- Due events are claimed by tenant, with a lease: one process runs a tenant's events at a time
  (a tenant's events stay in order), and a process that stops halfway lets its lease run out;
  a run is committed with the events' removal, fenced by the lease, so an event applies once.
- Webhook deliveries are records too (deliveries.py), claimed per attempt with a lease.
- A tenant's reset moves its epoch on (a full reset, every partition's): what it held is left
  behind at once, and swept later.
- One bound on messages and one on the webhook log hold for the whole state (retention.py).

Tenants never wait on each other: each one's events, deliveries and leases are its own; and a
shard's outage is its partitions' tenants' alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import IO, Any

import httpx

from ...core.clock import Clock
from ...core.engine import Conversation, Found, Host, MessageFilter, Unit, Wants
from ...core.records import Due, Message, StoredFile, TimelineEntry
from ...core.stats import Figures
from . import codec, keys
from .background import Background
from .commits import Commits
from .deliveries import RedisDeliveries
from .hints import DueHints
from .link import Link, Unreachable
from .retention import Retention
from .sharing import RedisSharing
from .surprises import RedisSurprises
from .tenants import TenantIndex
from .unit import RedisUnit

log = logging.getLogger("rcs_emulator.state")

Member = tuple[float, bytes, int]  # a message's in a partition's index: its score, name, partition
LEASE_MS = 10_000  # how long a stopped process's claim on a tenant's due events holds them
SWEEP_EVERY = 30.0  # seconds between looks for what a reset left behind (by a process gone)
PRUNE_SLICE = 500  # members a sweep looks at per call


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
        self.clock = clock
        self.max_messages = max_messages or 0
        self.token = secrets.token_hex(8)  # this process, as the holder of a lease
        # The parts, and the small objects they share (never each other).
        self.tenants = TenantIndex()
        self.hints = DueHints()
        self.background = Background(link)
        self.retention = Retention(link, self.max_messages, max_webhook_log)
        self.deliveries = RedisDeliveries(
            link,
            clock,
            self.tenants,
            self.background,
            self.token,
            http_client,
            webhook_concurrency,
            webhook_per_host,
            max_webhook_log,
            webhook_timeout,
        )
        self.sharing = RedisSharing(link, self.token)
        self.surprises = RedisSurprises(link, clock, self.tenants)
        self.commits = Commits(link, self._applied)
        self._stop = asyncio.Event()
        self._loops: list[asyncio.Task[None]] = []
        self._running: dict[str, asyncio.Lock] = {}  # a tenant's run of due events, here
        self._stopping = False
        self._last_wall = 0
        self._providers: list[str] = []  # the host's (bind)

    # -- units of work ----------------------------------------------------------------------

    async def begin(self, tenant: str, wants: Wants | None = None) -> RedisUnit:
        unit = RedisUnit(tenant)
        if wants is not None and wants.messages:
            await self._load(unit, wants.messages)
        return unit

    async def _load(self, unit: RedisUnit, ids: Sequence[str]) -> None:
        partition, tag = self.tenants.place(unit.tenant)
        epoch, hashes, _ = await self.link.run("FETCH", partition, tag, "0", *ids)
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
        ops = unit.written(self.deliveries.ops_for(unit.callbacks, self._wall), self._wall)
        if not ops:
            return "OK"
        partition, tag = self.tenants.place(unit.tenant)
        said = await self.commits.apply(unit.tenant, partition, tag, [unit.epoch, unit.fence, ops])
        if self.retention.over():
            await self.retention.keep()
        return said

    def _wall(self) -> int:
        """The wall time (ns) a message or a delivery is made at, never the same microsecond
        twice in a process: with its creation time, it orders every tenant's records (a
        tenant's sequence is its own)."""
        self._last_wall = max(time.time_ns(), self._last_wall + 1000)
        return self._last_wall

    def _applied(self, tenant: str, partition: int, answer: list[Any]) -> None:
        """A commit call of the tenant's was applied: what it says of the tenant's work (each
        process looks at its own keys before acting on a hint, so a stale one costs a look) and
        of its partition's size."""
        _, due, ready, messages, logged = answer
        if due:
            self.hints.earlier(tenant, float(due))
        if ready:
            self.deliveries.wake(tenant)
        self.retention.seen(partition, int(messages), int(logged))

    # -- reads ------------------------------------------------------------------------------

    def _messages(self, hashes: list[Any], exchanges: list[bytes] | None = None) -> list[Message]:
        blobs = dict(zip(exchanges[0::2], exchanges[1::2], strict=True)) if exchanges else None
        return [codec.message_of(codec.pairs(h), blobs) for h in hashes if h]

    async def _every(self, name: str, *args: Any) -> dict[int, Any]:
        """A script on every partition at once; Unreachable when one cannot answer (a read of
        every tenant would leave its tenants out without saying so)."""
        found = await self.link.fan_run(name, lambda _: list(args))
        for answer in found.values():
            if isinstance(answer, Unreachable):
                raise answer
        return found

    async def message(self, tenant: str | None, message_id: str) -> Message | None:
        if tenant is not None:
            partition, tag = self.tenants.place(tenant)
            _, hashes, exchanges = await self.link.run("FETCH", partition, tag, "1", message_id)
            found = self._messages(hashes, exchanges)
            return found[0] if found else None
        for hashes, exchanges in (await self._every("MESSAGE_ANY", message_id)).values():
            found = self._messages(hashes, exchanges)
            if found:
                return found[0]
        return None

    async def _listed(self, tenant: str, name: str) -> list[Message]:
        partition, tag = self.tenants.place(tenant)
        _, hashes = await self.link.run("LISTED", partition, tag, name)
        return self._messages(hashes)

    async def batch(self, tenant: str, batch: str) -> Sequence[Message]:
        return await self._listed(tenant, keys.batch(batch))

    async def by_external(self, tenant: str, provider: str, external_id: str) -> list[Message]:
        return await self._listed(tenant, keys.external(provider, external_id))

    async def latest_to(
        self, tenant: str | None, provider: str, agent_id: str, phone: str
    ) -> Message | None:
        if tenant is not None:
            partition, tag = self.tenants.place(tenant)
            name = keys.conversation(provider, agent_id, phone)
            _, hashes = await self.link.run("LATEST", partition, tag, name)
            found = self._messages(hashes)
            return found[0] if found else None
        conversation = keys.SEP.join((provider, agent_id, phone))
        found = [
            m
            for hashes in (await self._every("LATEST_ANY", conversation)).values()
            for m in self._messages(hashes)
        ]
        return max(found, key=lambda m: (m.created_at, m.seq), default=None)

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
        partition, tag = self.tenants.place(tenant)
        low = "-inf" if since is None else codec.number(since)
        high = "+inf" if until is None else codec.number(until)
        _, total, hashes = await self.link.run(
            "SENT",
            partition,
            tag,
            keys.sent(provider),
            low,
            high,
            "1" if newest_first else "0",
            str(offset),
            str(min(limit, 2**31)),
        )
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
        if tenant is None:
            return await self._query_every(where, offset, limit, matching)
        partition, tag = self.tenants.place(tenant)
        indexes = []
        if where.provider is not None:
            indexes.append(
                keys.agent(where.provider, where.agent)
                if where.agent is not None
                else keys.provider(where.provider)
            )
        if where.phone is not None:
            indexes.append(keys.phone(where.phone))
        if where.status is not None:
            indexes.append(keys.status(where.status.value))
        # An agent named without its provider, or a search, is tested here, message by message.
        tested = matching is not None or (where.agent is not None and where.provider is None)
        if tested:
            _, _, hashes, exchanges = await self.link.run(
                "QUERY", partition, tag, "0", "-1", "1", *indexes
            )
            found = [
                m
                for m in self._messages(hashes, exchanges)
                if (where.agent is None or m.agent_id == where.agent)
                and (matching is None or matching(m))
            ]
            stop = None if limit is None else offset + limit
            return Found(found[offset:stop], len(found))
        _, total, hashes, exchanges = await self.link.run(
            "QUERY",
            partition,
            tag,
            str(offset),
            "-1" if limit is None else str(limit),
            "1",
            *indexes,
        )
        return Found(self._messages(hashes, exchanges), int(total))

    async def _query_every(
        self,
        where: MessageFilter,
        offset: int,
        limit: int | None,
        matching: Callable[[Message], bool] | None,
    ) -> Found[Message]:
        """Every tenant's messages: each partition's matches from the nearer end of the order
        (its first offset + limit, or its last total - offset), merged; then the page's own."""
        filters = [
            where.provider or "",
            where.agent or "",
            where.phone or "",
            where.status.value if where.status is not None else "",
        ]
        if matching is not None:
            _, every = await self._scan_messages(filters, newest=False, want=-1)
            messages = [m for m in await self._fetch_members(every) if matching(m)]
            stop = None if limit is None else offset + limit
            return Found(messages[offset:stop], len(messages))
        if limit == 0:
            total, _ = await self._scan_messages(filters, newest=False, want=0)
            return Found([], total)
        if limit is None:
            total, members = await self._scan_messages(filters, newest=False, want=-1)
            return Found(await self._fetch_members(members[offset:]), total)
        total, _ = await self._scan_messages(filters, newest=False, want=0)
        if offset >= total:
            return Found([], total)
        if offset + limit <= total - offset:  # nearer the oldest end
            _, members = await self._scan_messages(filters, newest=False, want=offset + limit)
            page = members[offset : offset + limit]
        else:  # nearer the newest: the last total - offset, read from that end
            _, members = await self._scan_messages(filters, newest=True, want=total - offset)
            members.reverse()  # (oldest first again)
            first = len(members) - (total - offset)
            page = members[max(first, 0) : max(first, 0) + limit]
        return Found(await self._fetch_members(page), total)

    async def _scan_messages(
        self, filters: list[str], *, newest: bool, want: int
    ) -> tuple[int, list[Member]]:
        """Every partition's matching members (each's first `want` from the end asked for),
        merged in the order of every tenant's messages (newest first when asked)."""
        found = await self._every("SCAN_MESSAGES", "1" if newest else "0", str(want), *filters)
        total = 0
        members: list[Member] = []
        for partition, answer in found.items():
            total += int(answer[0])
            rest = answer[1:]
            members += [(float(rest[i + 1]), rest[i], partition) for i in range(0, len(rest), 2)]
        members.sort(reverse=newest)
        return total, members if want < 0 else members[: max(want, 0)]

    async def _fetch_members(self, members: list[Member]) -> list[Message]:
        """Messages named by their members of the partitions' indexes, in the order given."""
        by_partition: dict[int, list[str]] = {}
        order: dict[str, int] = {}
        for i, (_, raw, partition) in enumerate(members):
            _, tag, epoch, message_id = raw.decode().split("|", 3)
            name = f"{tag}|{epoch}|{message_id}"
            order[name] = i
            by_partition.setdefault(partition, []).append(name)
        slots: list[Message | None] = [None] * len(members)
        answers = await asyncio.gather(
            *(self.link.run("FETCH_ANY", p, "", "1", *named) for p, named in by_partition.items())
        )
        for names, (hashes, exchanges) in zip(by_partition.values(), answers, strict=True):
            blobs = dict(zip(exchanges[0::2], exchanges[1::2], strict=True)) if exchanges else {}
            for name, flat in zip(names, hashes, strict=True):
                if flat:
                    slots[order[name]] = codec.message_of(codec.pairs(flat), blobs)
        return [m for m in slots if m is not None]

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
        partition, tag = self.tenants.place(tenant)
        low = "-inf" if since is None else codec.number(since)
        high = "+inf" if until is None else codec.number(until)
        name = keys.timeline(provider, agent_id, phone)
        _, members, hashes = await self.link.run(
            "TIMELINE", partition, tag, name, low, high, str(newest or 0)
        )
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
        if tenant is not None:
            return (await self.file_index(tenant)).get(file_id)
        for record in (await self._every("FILE_ANY", file_id)).values():
            if record:
                return codec.file_of(record)
        return None

    async def files(self, tenant: str | None) -> list[StoredFile]:
        if tenant is not None:
            return list((await self.file_index(tenant)).values())
        found: list[tuple[float, StoredFile]] = []
        for answer in (await self._every("FILES_ANY")).values():
            found += [
                (float(answer[i + 1]), codec.file_of(answer[i])) for i in range(0, len(answer), 2)
            ]
        found.sort(key=lambda pair: pair[0])
        return [f for _, f in found]

    async def file_index(self, tenant: str) -> Mapping[str, StoredFile]:
        partition, tag = self.tenants.place(tenant)
        files = codec.pairs(await self.link.run("FILES", partition, tag))
        return {k.decode(): codec.file_of(v) for k, v in files.items()}

    async def counts(self) -> dict[str, Any]:
        messages = scheduled = evicted = tenants = 0
        for held, known in (await self._every("COUNTS")).values():
            counted = codec.pairs(held)
            messages += int(counted.get(b"messages", 0))
            scheduled += int(counted.get(b"scheduled", 0))
            evicted += int(counted.get(b"evicted", 0))
            tenants += int(known)
        return {
            "messages": messages,
            "tenants": tenants,
            "scheduled_events": scheduled,
            "max_messages": self.max_messages or None,
            "evicted_messages": evicted,
        }

    async def conversations(
        self, tenant: str | None, where: MessageFilter, *, offset: int, limit: int | None
    ) -> Found[Conversation]:
        filters = [where.provider or "", where.agent or "", where.phone or ""]
        want = -1 if limit is None else offset + limit
        if tenant is not None:
            partition, tag = self.tenants.place(tenant)
            answers = {
                partition: await self.link.run(
                    "CONVERSATIONS", partition, tag, "0", str(want), *filters
                )
            }
        else:
            answers = await self._every("CONVERSATIONS", "0", str(want), *filters)
        total = 0
        rows: list[tuple[float, bytes, Conversation]] = []
        for answer in answers.values():
            total += int(answer[0])
            rest = answer[1:]
            for i in range(0, len(rest), 6):
                provider, agent, phone = rest[i + 1].decode().split(keys.SEP, 2)
                found = Conversation(
                    rest[i].decode() or (tenant or ""),
                    provider,
                    agent,
                    phone,
                    int(rest[i + 2]),
                    rest[i + 3].decode(),
                    float(rest[i + 4]),
                )
                rows.append((found.latest_at, rest[i + 5], found))
        rows.sort(key=lambda row: (row[0], row[1]))
        stop = None if limit is None else offset + limit
        return Found([row[2] for row in rows[offset:stop]], total)

    async def stats(
        self, tenant: str | None, provider: str | None = None, agent: str | None = None
    ) -> Figures:
        """Counted as messages are written (scripts.py): statuses, and each latency's values
        rounded to three significant digits with their exact sum."""
        if agent is not None:  # (an agent named without its provider: each provider's)
            providers = [provider] if provider is not None else self._providers
            levels = [f"a{keys.SEP}{p}{keys.SEP}{agent}" for p in providers]
        elif provider is not None:
            levels = [f"p{keys.SEP}{provider}"]
        else:
            levels = ["*"]
        answers = []
        for level in levels:
            if tenant is not None:
                partition, tag = self.tenants.place(tenant)
                answers.append(await self.link.run("STATS", partition, tag, level))
            else:
                answers += list((await self._every("STATS", level)).values())
        figures = Figures()
        sums: dict[str, float] = {}
        for flat in answers:
            for field, raw in codec.pairs(flat).items():
                kind, _, rest = field.decode().partition(keys.SEP)
                if kind == "s":
                    figures.statuses[codec.status_of(rest)] += int(raw)
                    continue
                name, _, bucket = rest.partition(keys.SEP)
                if bucket == "+":
                    sums[name] = sums.get(name, 0.0) + float(raw)
                elif name in figures.latencies:
                    figures.latencies[name].add(float(bucket), int(raw), total=0.0)
        for name, total in sums.items():
            if name in figures.latencies:
                figures.latencies[name].total = total
        return figures

    # -- the schedule -----------------------------------------------------------------------

    def next_due(self, tenant: str | None = None) -> float | None:
        return self.hints.next(tenant)

    def due_tenants(self) -> list[str]:
        return self.hints.tenants()

    def on_schedule(self, wake: Callable[[float], None] | None) -> None:
        self.hints.wake = wake

    async def refresh_due(self, tenants: Iterable[str] | None = None) -> None:
        """Learn when each tenant's next event is due, from the hints (every tenant's: those of
        a partition that cannot answer stay as they were), or from the tenants' own schedules
        (those given)."""
        if tenants is None:
            found = await self.link.fan_run("DUE_HINTS", lambda _: [])
            for answer in found.values():
                if isinstance(answer, Unreachable):
                    continue
                for i in range(0, len(answer), 2):
                    self.hints.merge(answer[i].decode(), float(answer[i + 1]))
            return
        for tenant in tenants:
            partition, tag = self.tenants.place(tenant)
            due = await self.link.run("RELEASE", partition, tag, "")
            self.hints.settle(tenant, float(due) if due else None)

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
        partition, tag = self.tenants.place(tenant)
        while True:
            claim = await self.link.run(
                "CLAIM_DUE",
                partition,
                tag,
                self.token,
                str(LEASE_MS),
                codec.number(until),
                str(limit),
            )
            if claim != [b"BUSY"]:
                break
            await asyncio.sleep(0.01)  # another process runs them: it lets go soon
        if not claim:
            await self.refresh_due([tenant])
            return 0
        epoch, found = claim[0].decode(), claim[1:]
        unit = RedisUnit(tenant, epoch, self.token)
        tasks = [
            (float(found[i + 1]), found[i], codec.due_of(found[i])) for i in range(0, len(found), 2)
        ]
        ids = sorted({str(t.ref) for _, _, t in tasks if isinstance(t.ref, str)})
        if ids:
            await self._load(unit, ids)
        for when, member, task in tasks:
            apply(unit, when, task)
            unit.remove_due(member)
        said = await self._commit(unit)
        if said != "OK":
            log.warning(
                "%d due events of a tenant were not applied here (%s): another process runs them",
                len(tasks),
                said,
            )
            return 0
        return len(tasks)

    async def poll_due(self) -> None:
        await self.refresh_due()

    # -- uploads ----------------------------------------------------------------------------

    async def keep_file(self, tenant: str, file_id: str, source: IO[bytes]) -> str:
        partition, tag = self.tenants.place(tenant)
        await self.link.run("KEEP_FILE", partition, tag, file_id, source.read())
        return f"redis:{file_id}"

    async def file_content(self, stored: StoredFile) -> bytes | None:
        partition, tag = self.tenants.place(stored.tenant)
        found = await self.link.run("FILE_BYTES", partition, tag, stored.id)
        return bytes(found) if found is not None else None

    # -- health -----------------------------------------------------------------------------

    def bind(self, host: Host) -> None:
        """Settings and the clock other processes change go to the host and the clock; their
        change notices to the host's viewers."""
        self.sharing.bind(host.load_settings, self.clock.restore, host.show)
        self._providers = list(host.providers)

    def describe(self) -> dict[str, Any]:
        shards = self.link.shards()
        errors = [s["error"] for s in shards if s["error"]]
        return {
            "engine": self.name,
            "process": self.token,
            "url": self.link.shown,
            "cluster": self.link.joined.cluster,
            "reachable": not errors,
            "error": errors[0] if errors else None,
            "shards": shards,
            "cautions": list(self.link.joined.cautions),
        }

    async def ready(self, tenant: str | None = None) -> bool:
        """Whether this process can serve the tenant (its partition's node answers), or any
        tenant at all (some node answers); a stopping process serves none."""
        if self._stopping:
            return False
        partitions = [self.tenants.partition(tenant)] if tenant is not None else None
        await self.link.fan(lambda _, client: client.ping(), partitions, live_only=False)
        if tenant is not None:
            return self.link.reachable(self.tenants.partition(tenant))
        return any(self.link.reachable(p) for p in range(keys.PARTITIONS))

    # -- running ----------------------------------------------------------------------------

    async def start(self) -> None:
        """A served process's own work: watching Redis, hearing other processes, sweeping."""
        if self._loops:
            return
        loop = asyncio.get_running_loop()
        self._loops = [
            loop.create_task(self.link.watch(self._stop)),
            loop.create_task(self.sharing.listen(self._stop)),
            loop.create_task(self._sweep()),
        ]
        await self.deliveries.start()

    async def _sweep(self) -> None:
        """Now and then, what resets left behind that nobody swept (its process stopped)."""
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), SWEEP_EVERY)
            for partition in range(keys.PARTITIONS):
                with contextlib.suppress(Unreachable):
                    await self._prune(partition)

    async def _prune(self, partition: int) -> None:
        """The members reset tenants left in a partition's indexes, removed a slice at a time."""
        stale = await self.link.run("PRUNE", partition, "", "stale", "0", "0")
        if not stale:
            return
        for index in (
            "messages",
            "conversations",
            "deliveries",
            "files",
            "flight",
            "where",
            "delivery_where",
            "file_where",
        ):
            cursor = "0"
            while True:
                cursor = (
                    await self.link.run("PRUNE", partition, "", index, cursor, str(PRUNE_SLICE))
                ).decode()
                if cursor == "0":
                    break
        await self.link.run("PRUNE", partition, "", "pruned", "0", "0", *stale)

    async def _unlink(self, partition: int, pattern: str) -> None:
        """Keys left behind by a reset, unlinked a slice at a time (on the partition's node)."""
        with contextlib.suppress(Unreachable):
            cursor: Any = 0
            while True:  # (each step a call of its own: stopping cuts it off cleanly)

                async def scan(client: Any, at: Any = cursor) -> Any:
                    return await client.scan(at, match=pattern, count=1000)

                cursor, found = await self.link.on(partition, scan)
                if found:

                    async def unlink(client: Any, gone: list[bytes] = found) -> Any:
                        return await client.unlink(*gone)

                    await self.link.on(partition, unlink)
                if not cursor:
                    return

    # -- forgetting -------------------------------------------------------------------------

    async def reset(self, tenants: Iterable[str] | None) -> None:
        if tenants is None:
            found = await self._every("RESET_ALL")
            self.hints.clear()
            for partition, left in found.items():
                self.background.spawn(self._unlink(partition, left.decode() + "*"))
            return
        for tenant in tenants:
            partition, tag = self.tenants.place(tenant)
            old, root = await self.link.run("RESET", partition, tag)
            self.hints.settle(tenant, None)
            self.background.spawn(self._swept(partition, f"{root.decode()}{old.decode()}:*"))

    async def _swept(self, partition: int, pattern: str) -> None:
        with contextlib.suppress(Unreachable):
            await self._prune(partition)
        await self._unlink(partition, pattern)

    async def aclose(self) -> None:
        """Stop: no new work is taken; the attempts under way are made and their outcomes kept
        (deliveries.py: a bounded wait), then the loops, then the connections."""
        self._stopping = True
        try:
            await self.deliveries.stop_taking()
            self._stop.set()
            if self._loops:
                # Hearing others (the second loop) waits up to a beat for a notice; stopping
                # need not. Cancelled in its wait, it still unsubscribes and no longer beats.
                self._loops[1].cancel()
                await asyncio.wait(self._loops, timeout=1.5)
                for task in self._loops:
                    task.cancel()
            await self.deliveries.aclose()
            await self.surprises.aclose()
            await self.sharing.aclose()
            await self.background.aclose()
            await self.link.aclose()
        finally:  # (also when the stop is cut off at its bound: no socket is left open)
            self.link.cut()
