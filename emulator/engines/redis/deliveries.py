"""Webhook deliveries kept in Redis, and this process's share of making them.

A delivery is created with the event that asks for it (in the same script, which gives it its
id: its partition's counter times PARTITIONS plus the partition), so it exists once and only if
the event does. Each recipient's callbacks go out in event order: the first of a recipient holds
its lane until its first attempt ends; the next waits in the lane's list and becomes ready then
(scripts.SETTLE). Any process takes ready attempts (scripts.CLAIM_READY), leasing each for its
timeout and a margin, and settles its outcome; a retry becomes ready again at its time.

An attempt is made once. Its outcome, once made, is kept by this process until Redis takes it
(an outage of its shard delays it; it is never made again for that): another process takes an
attempt whose lease ran out only when the process that claimed it stopped beating (it is gone),
so the one exception is an attempt whose process died while its POST was on the wire (whether
it arrived cannot be known). A process that stops makes the attempts it started, up to a bound,
and settles them before it goes.

Capacity is per receiver and per tenant: `webhook_per_host` attempts at once to one receiver
(scheme, host and port) for one tenant, so a tenant's hung receiver holds its own attempts only,
whatever receiver other tenants share with it.

Work is found by the hints each partition keeps (its tenants with ready attempts, by the
earliest) and by this process's own commits (it makes what it just asked for first).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import logging
import time
from collections.abc import Callable
from typing import Any

import httpx

from ...core.clock import TENANT, Clock, ManualClock, iso
from ...core.engine import DeliveryFilter, Found
from ...core.records import Attempt, Delivery, DeliveryState
from ...delivery.attempts import post
from ...delivery.transport import Transport, receiver_of
from . import codec, keys
from .background import Background
from .link import Link, Unreachable
from .tenants import TenantIndex

log = logging.getLogger("rcs_emulator.webhooks")

LEASE_MARGIN = 5.0  # seconds past an attempt's own timeout before another process retakes it
LIVE_MS = 5_000  # a process whose beat is older than this is gone: its attempts are retaken
POLL = 0.25  # seconds between looks for work other processes made ready
DRAIN_POLL = 0.005
SETTLE_RETRY = (0.05, 2.0)  # seconds between tries to keep an outcome: first, most
STOP_WAIT = 4.0  # seconds a stopping process waits for the attempts it started


class RedisDeliveries:
    def __init__(
        self,
        link: Link,
        clock: Clock,
        tenants: TenantIndex,
        background: Background,
        process: str,
        http_client: httpx.AsyncClient | None,
        concurrency: int,
        per_host: int,
        max_log: int,
        timeout: float = 10.0,
    ) -> None:
        self.lease = timeout + LEASE_MARGIN  # (every attempt's timeout is the configured one)
        self.link = link
        self.clock = clock
        self.tenants = tenants
        self.background = background
        self.process = process  # this process, as the holder of a lease
        self.transport = Transport(concurrency, per_host, http_client)
        self.concurrency = concurrency
        self.per_host = per_host
        self.max_log = max_log
        self.listeners: list[Callable[[Delivery, Attempt], None]] = []
        self._claims = itertools.count(1)  # each claim's own token: its attempts are its alone
        self._slots = asyncio.Semaphore(concurrency)
        self._hosts: dict[tuple[str, str], asyncio.Semaphore] = {}  # (tenant, receiver)
        self._attempts: dict[str, set[asyncio.Task[None]]] = {}  # by tenant, under way here
        self._settling: set[asyncio.Task[None]] = set()  # outcomes Redis has not taken yet
        self._wakes: set[str] = set()
        self._woken = asyncio.Event()
        self._stop = asyncio.Event()
        self._loops: list[asyncio.Task[None]] = []
        self._started = False
        self.stopping = False

    # -- creating ---------------------------------------------------------------------------

    def ops_for(self, deliveries: list[Delivery], wall: Callable[[], int]) -> list[list[Any]]:
        """The commit ops that create these deliveries (the script gives them their ids; each
        is made at a wall time of this process's, in microseconds, never the same twice: the
        order of every tenant's deliveries)."""
        ops: list[list[Any]] = []
        for d in deliveries:
            now = str(wall() // 1000)
            lane = hashlib.blake2b(
                f"{d.url}\x1f{d.agent_id}\x1f{d.phone}".encode(), digest_size=8
            ).hexdigest()
            ops.append(
                [
                    "C",
                    codec.delivery_record(d),
                    lane,
                    codec.number(d.created_at),
                    now,
                    d.message_id or "",  # (none for a callback no message made)
                    d.provider,
                    d.agent_id,
                    d.phone,
                ]
            )
        return ops

    def wake(self, tenant: str) -> None:
        """The tenant has attempts ready: this process's workers look now."""
        self._wakes.add(tenant)
        self._woken.set()
        if not self._started:
            self._start_soon()

    # -- making them ------------------------------------------------------------------------

    def _now_of(self, tenant: str) -> float:
        clock = self.clock
        return clock.time_of(tenant) if isinstance(clock, ManualClock) else clock.now()

    async def _claim(self, tenant: str, room: int) -> list[tuple[Delivery, str, str]]:
        partition, tag = self.tenants.place(tenant)
        lease = time.time() + self.lease  # a wall time: leases outlive any process
        token = f"{self.process}:{next(self._claims)}"
        found = await self.link.run(
            "CLAIM_READY",
            partition,
            tag,
            codec.number(self._now_of(tenant)),
            str(int(lease * 1000)),
            str(room),
            token,
        )
        epoch, rest = found[0].decode(), found[1:]
        return [
            (codec.delivery_of(codec.pairs(rest[i + 1])), epoch, token)
            for i in range(0, len(rest), 2)
        ]

    def _start_attempt(self, delivery: Delivery, epoch: str, token: str) -> None:
        task = asyncio.get_running_loop().create_task(self._attempt(delivery, epoch, token))
        tasks = self._attempts.setdefault(delivery.tenant, set())
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    async def _attempt(self, delivery: Delivery, epoch: str, token: str) -> None:
        TENANT.set(delivery.tenant)  # its time, on a manual clock
        receiver = (delivery.tenant, receiver_of(delivery.url))
        limit = self._hosts.get(receiver)
        if limit is None:
            limit = self._hosts[receiver] = asyncio.Semaphore(self.per_host)
        claimed = time.monotonic()
        async with self._slots, limit:
            if self.stopping:
                return  # not started: its lease runs out and another process makes it
            if time.monotonic() - claimed > LEASE_MARGIN / 2 and not await self._extend(
                delivery, epoch, token
            ):
                return  # it waited here past its lease: another claim makes it
            number = len(delivery.attempts) + 1
            attempt = await post(self.transport, self.clock, delivery, number)
        delivery.attempts.append(attempt)
        state, after = delivery.outcome(attempt, self.clock.stamp(delivery.due_at))
        # Made: its outcome is kept, whatever Redis does meanwhile (never made again for it).
        settle = asyncio.ensure_future(self._settle(delivery, epoch, attempt, state, after))
        self._settling.add(settle)
        settle.add_done_callback(self._settling.discard)
        await asyncio.shield(settle)

    async def _settle(
        self,
        delivery: Delivery,
        epoch: str,
        attempt: Attempt,
        state: DeliveryState,
        after: float | None,
    ) -> None:
        partition, tag = self.tenants.place(delivery.tenant)
        number = attempt.number
        args = [
            epoch,
            str(delivery.id),
            str(number),
            codec.attempt_record(attempt),
            state.value,
            "" if after is None else codec.number(after),
            "1" if number == 1 else "0",
        ]
        pause, said_once = SETTLE_RETRY[0], False
        while True:
            try:
                said = await self.link.run("SETTLE", partition, tag, *args)
                break
            except Unreachable:
                if self.link.closed:
                    log.warning(
                        "webhook %s attempt %s: made, but the process stopped before "
                        "Redis took its outcome",
                        delivery.id,
                        number,
                    )
                    return
                if not said_once:
                    said_once = True
                    log.warning(
                        "webhook %s attempt %s: made; its outcome is kept here until "
                        "Redis can take it",
                        delivery.id,
                        number,
                    )
                await asyncio.sleep(pause)
                pause = min(pause * 2, SETTLE_RETRY[1])
        if said[0] != b"OK":
            return  # settled already (its lease lapsed and another made it), or reset
        delivery.state, delivery.next_attempt_at, delivery.manual = state, after, False
        if state is DeliveryState.FAILED:
            log.warning("webhook %s to %s failed for good", delivery.id, delivery.url)
        if said[1]:
            self.wake(delivery.tenant)
        for listener in self.listeners:
            listener(delivery, attempt)

    async def _extend(self, delivery: Delivery, epoch: str, token: str) -> bool:
        """The lease of an attempt that waited for a slot runs from now, if it is still ours."""
        partition, tag = self.tenants.place(delivery.tenant)
        lease = time.time() + self.lease
        with contextlib.suppress(Unreachable):
            return bool(
                await self.link.run(
                    "EXTEND", partition, tag, epoch, str(delivery.id), token, str(int(lease * 1000))
                )
            )
        return False

    async def _hinted(self) -> set[str]:
        """The tenants whose attempts are due by their time, as the partitions' hints say."""
        found = await self.link.fan_run("READY_HINTS", lambda _: [])
        tenants: set[str] = set()
        for answer in found.values():
            if isinstance(answer, Unreachable):
                continue
            for i in range(0, len(answer), 2):
                tenant = answer[i].decode()
                if float(answer[i + 1]) <= self._now_of(tenant):
                    tenants.add(tenant)
        return tenants

    async def _work(self) -> None:
        """This process's workers: take ready attempts of woken tenants, and of hinted ones."""
        last_poll = 0.0
        while not self._stop.is_set():
            tenants = set(self._wakes)
            self._wakes.clear()
            self._woken.clear()
            if time.monotonic() - last_poll >= POLL:
                last_poll = time.monotonic()
                tenants |= await self._hinted()
            await asyncio.gather(*(self._take_quietly(t) for t in tenants))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), POLL)

    async def _take_quietly(self, tenant: str) -> None:
        with contextlib.suppress(Unreachable):
            await self._take(tenant)

    async def _take(self, tenant: str) -> int:
        """Claim what the tenant has ready, as much as there is room for, and start them."""
        if self.stopping:
            return 0
        room = max(1, self.concurrency - sum(len(t) for t in self._attempts.values()))
        claimed = await self._claim(tenant, room)
        for delivery, epoch, token in claimed:
            self._start_attempt(delivery, epoch, token)
        return len(claimed)

    async def _reclaim(self) -> None:
        """Attempts whose process went away (their lease ran out, and it beats no more) are due
        again."""
        while not self._stop.is_set():
            # Only where Redis has answered for a while: a process whose beats an outage kept
            # from Redis beats again, and settles what it made meanwhile, before its attempts
            # are taken for lost.
            steady = [p for p in range(keys.PARTITIONS) if self.link.steady(p, LIVE_MS / 1000)]
            found = await self.link.fan_run(
                "RECLAIM", lambda _: [str(int(time.time() * 1000)), str(LIVE_MS)], steady
            )
            for answer in found.values():
                if not isinstance(answer, Unreachable):
                    for tenant in answer:
                        self.wake(tenant.decode())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), 2.0)

    async def drain(self, tenant: str | None = None) -> None:
        """Wait until nothing of the tenant's (or of anyone's) is due and unmade, making what
        is due here (another process may be making some: its settles end the wait)."""
        if tenant is None:
            await self._drain_every()
            return
        partition, tag = self.tenants.place(tenant)
        while True:
            await self._take(tenant)
            running = self._attempts.get(tenant)
            if running:
                await asyncio.gather(*list(running), return_exceptions=True)
                continue
            busy, _ = await self.link.run(
                "BUSY", partition, tag, codec.number(self._now_of(tenant))
            )
            if not busy:
                return
            await asyncio.sleep(DRAIN_POLL)  # under way in another process

    async def _drain_every(self) -> None:
        while True:
            for tenant in await self._hinted():
                await self._take(tenant)
            running = [t for tasks in self._attempts.values() for t in tasks]
            if running:
                await asyncio.gather(*running, return_exceptions=True)
                continue
            if not await self._hinted() and not await self._in_flight():
                return
            await asyncio.sleep(DRAIN_POLL)

    async def _in_flight(self) -> int:
        """Attempts under way anywhere (every partition's count)."""
        found = await self.link.fan_run("COUNTS", lambda _: [])
        flying = 0
        for answer in found.values():
            if isinstance(answer, Unreachable):
                raise answer
            flying += int(codec.pairs(answer[0]).get(b"in_flight", 0))
        return flying

    # -- reading and steering ---------------------------------------------------------------

    async def find(
        self,
        tenant: str | None,
        where: DeliveryFilter,
        *,
        offset: int = 0,
        limit: int | None = None,
        matching: Callable[[Delivery], bool] | None = None,
    ) -> Found[Delivery]:
        if tenant is None:
            return await self._find_every(where, offset, limit, matching)
        partition, tag = self.tenants.place(tenant)
        plain = where == DeliveryFilter() and matching is None
        if plain and limit is not None:
            answer = await self.link.run("DELIVERIES", partition, tag, str(offset), str(limit))
            return Found(self._deliveries(answer[1:]), int(answer[0]))
        if where.message_id is not None:
            found = self._deliveries(
                await self.link.run("DELIVERIES_OF", partition, tag, where.message_id)
            )
        else:
            found = self._deliveries(
                (await self.link.run("DELIVERIES", partition, tag, "0", "-1"))[1:]
            )
        found = [d for d in found if where.matches(d) and (matching is None or matching(d))]
        found.sort(key=lambda d: d.id)
        stop = None if limit is None else offset + limit
        return Found(found[offset:stop], len(found))

    def _deliveries(self, flat: list[Any]) -> list[Delivery]:
        return [
            codec.delivery_of(codec.pairs(flat[i + 1]))
            for i in range(0, len(flat), 2)
            if flat[i + 1]
        ]

    async def _find_every(
        self,
        where: DeliveryFilter,
        offset: int,
        limit: int | None,
        matching: Callable[[Delivery], bool] | None,
    ) -> Found[Delivery]:
        """Every tenant's deliveries, through each partition's index across its tenants."""
        filters = [
            where.state.value if where.state is not None else "",
            where.provider or "",
            where.agent_id or "",
            where.phone or "",
            where.message_id or "",
            "1" if where.failing else "0",
        ]
        want = -1 if limit is None or matching is not None else offset + limit
        total, ids = await self._scan(filters, newest=False, want=want)
        if matching is None and limit is not None and offset + limit > total - offset:
            _, ids = await self._scan(filters, newest=True, want=max(total - offset, 0))
            ids.reverse()
            first = max(len(ids) - (total - offset), 0)
            page = ids[first : first + limit]
        else:
            page = ids if matching is not None else ids[offset:]
            if matching is None and limit is not None:
                page = page[:limit]
        found = await self._fetch(page)
        if matching is not None:
            found = [d for d in found if matching(d)]
            stop = None if limit is None else offset + limit
            return Found(found[offset:stop], len(found))
        return Found(found, total)

    async def _scan(
        self, filters: list[str], *, newest: bool, want: int
    ) -> tuple[int, list[tuple[float, int, int]]]:
        found = await self.link.fan_run(
            "SCAN_DELIVERIES", lambda _: ["1" if newest else "0", str(want), *filters]
        )
        total = 0
        ids: list[tuple[float, int, int]] = []
        for partition, answer in found.items():
            if isinstance(answer, Unreachable):
                raise answer
            total += int(answer[0])
            rest = answer[1:]
            ids += [(float(rest[i + 1]), int(rest[i]), partition) for i in range(0, len(rest), 2)]
        ids.sort(reverse=newest)
        return total, ids if want < 0 else ids[: max(want, 0)]

    async def _fetch(self, ids: list[tuple[float, int, int]]) -> list[Delivery]:
        by_partition: dict[int, list[int]] = {}
        for _, delivery_id, partition in ids:
            by_partition.setdefault(partition, []).append(delivery_id)
        found: dict[int, Delivery] = {}
        answers = await asyncio.gather(
            *(
                self.link.run("FETCH_DELIVERIES", p, "", *(str(i) for i in chosen))
                for p, chosen in by_partition.items()
            )
        )
        for answer in answers:
            for i in range(0, len(answer), 2):
                if answer[i + 1]:
                    delivery = codec.delivery_of(codec.pairs(answer[i + 1]))
                    found[delivery.id] = delivery
        return [found[i] for _, i, _ in ids if i in found]

    async def get(self, delivery_id: int) -> Delivery | None:
        if delivery_id < 0:
            return None
        partition = delivery_id % keys.PARTITIONS
        answer = await self.link.run("FETCH_DELIVERIES", partition, "", str(delivery_id))
        return codec.delivery_of(codec.pairs(answer[1])) if answer[1] else None

    async def redeliver(self, delivery_id: int) -> Delivery:
        delivery = await self.get(delivery_id)
        if delivery is None:
            raise KeyError(delivery_id)
        said = await self.link.run(
            "REDELIVER",
            delivery_id % keys.PARTITIONS,
            "",
            str(delivery_id),
            codec.number(self._now_of(delivery.tenant)),
        )
        if said[0] == b"gone":
            raise KeyError(delivery_id)
        if said[0] != b"OK":
            when = f" (next attempt at {iso(float(said[1]))})" if said[1] else ""
            raise ValueError(
                f"delivery {delivery_id} is {said[0].decode()}{when}: it is not "
                "finished, so it cannot be sent again yet"
            )
        delivery.state, delivery.manual = DeliveryState.PENDING, True
        self.wake(delivery.tenant)
        return delivery

    async def backlog(self) -> dict[str, int]:
        counts = dict.fromkeys((s.value for s in DeliveryState), 0) | {"dropped_from_log": 0}
        found = await self.link.fan_run("COUNTS", lambda _: [])
        for answer in found.values():
            if isinstance(answer, Unreachable):
                raise answer
            for state, n in codec.pairs(answer[0]).items():
                name = state.decode()
                if name == "dropped":
                    counts["dropped_from_log"] += int(n)
                elif name in counts:
                    counts[name] += int(n)
        return counts

    # -- running ----------------------------------------------------------------------------

    def _start_soon(self) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return
        self._started = True
        self._loops = [
            asyncio.get_running_loop().create_task(job()) for job in (self._work, self._reclaim)
        ]

    async def start(self) -> None:
        if not self._started:
            self._start_soon()

    async def stop_taking(self) -> None:
        """Stopping: no attempt is claimed or started from now; those started are made and
        their outcomes kept (up to STOP_WAIT seconds)."""
        self.stopping = True
        self._stop.set()
        self._woken.set()
        for task in self._loops:
            task.cancel()
        running = [t for tasks in self._attempts.values() for t in tasks]
        pending = [*running, *self._settling, *self._loops]
        if pending:
            await asyncio.wait(pending, timeout=STOP_WAIT)

    async def aclose(self) -> None:
        if not self.stopping:
            await self.stop_taking()
        running = [t for tasks in self._attempts.values() for t in tasks]
        for task in [*running, *self._settling]:
            task.cancel()
        if running or self._settling:
            await asyncio.wait([*running, *self._settling], timeout=1.0)
        await self.transport.aclose()
