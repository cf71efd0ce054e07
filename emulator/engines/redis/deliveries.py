"""Webhook deliveries kept in Redis, and this process's share of making them.

A delivery is created with the event that asks for it (in the same script), so it exists once
and only if the event does. Each recipient's callbacks go out in event order: the first of a
recipient holds its lane until its first attempt ends; the next waits in the lane's list and
becomes ready then (scripts.SETTLE). Any process takes ready attempts (scripts.CLAIM_READY),
leasing each for its timeout and a margin, and settles its outcome; a retry becomes ready again
at its time. A process that stops mid-attempt lets its lease run out, and the attempt is made
again (the receiver may see that one twice: it cannot be known whether it arrived).

Work is found by hints (the tenants with ready attempts, by the earliest) and by this process's
own commits (it makes what it just asked for first); a sweep finds what a lost hint hid.
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

from ...core.clock import TENANT, Clock, ManualClock
from ...core.engine import DeliveryFilter, Found
from ...core.records import Attempt, Delivery, DeliveryState
from ...delivery.attempts import post
from ...delivery.transport import Transport, receiver_of
from . import codec
from .background import Background
from .keys import IDS, READY
from .link import Link, Unreachable
from .tenants import TenantIndex

log = logging.getLogger("rcs_emulator.webhooks")

LEASE_MARGIN = 5.0  # seconds past an attempt's own timeout before another process retakes it
POLL = 0.25  # seconds between looks for work other processes made ready
ID_BLOCK = 1000  # delivery ids taken from Redis at a time
DRAIN_POLL = 0.005


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
        self.client = link.client
        self.clock = clock
        self.tenants = tenants
        self.background = background
        self.process = process  # this process, as the holder of a lease
        self.transport = Transport(concurrency, per_host, http_client)
        self.concurrency = concurrency
        self.per_host = per_host
        self.max_log = max_log
        self.listeners: list[Callable[[Delivery, Attempt], None]] = []
        self._ids: itertools.count[int] | None = None
        self._claims = itertools.count(1)  # each claim's own token: its attempts are its alone
        self._ids_left = 0
        self._slots = asyncio.Semaphore(concurrency)
        self._hosts: dict[str, asyncio.Semaphore] = {}
        self._attempts: dict[str, set[asyncio.Task[None]]] = {}  # by tenant, under way here
        self._wakes: set[str] = set()
        self._woken = asyncio.Event()
        self._stop = asyncio.Event()
        self._loops: list[asyncio.Task[None]] = []
        self._started = False
        link.on_new_generation.append(self._forget_ids)

    def _forget_ids(self) -> None:
        self._ids, self._ids_left = None, 0

    # -- creating ---------------------------------------------------------------------------

    async def _next_id(self) -> int:
        if self._ids is None or self._ids_left == 0:
            last = await self.link.call(self.client.incrby(IDS, ID_BLOCK))
            self._ids, self._ids_left = itertools.count(last - ID_BLOCK + 1), ID_BLOCK
        self._ids_left -= 1
        return next(self._ids)

    async def ops_for(self, deliveries: list[Delivery]) -> list[list[Any]]:
        """The commit ops that create these deliveries (their ids given here)."""
        ops: list[list[Any]] = []
        for d in deliveries:
            d.id = await self._next_id()
            lane = hashlib.blake2b(f"{d.url}\x1f{d.agent_id}\x1f{d.phone}".encode(),
                                   digest_size=8).hexdigest()  # fmt: skip
            ops.append(["C", str(d.id), codec.delivery_record(d), lane,
                        codec.number(d.created_at)])  # fmt: skip
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
        lease = time.time() + self.lease  # a wall time: leases outlive any process
        token = f"{self.process}:{next(self._claims)}"
        found = await self.link.run("CLAIM_READY", self.tenants.root(tenant),
                                    codec.number(self._now_of(tenant)),
                                    str(int(lease * 1000)), str(room), token)  # fmt: skip
        epoch, rest = found[0].decode(), found[1:]
        return [(codec.delivery_of(codec.pairs(rest[i + 1])), epoch, token)
                for i in range(0, len(rest), 2)]  # fmt: skip

    def _start_attempt(self, delivery: Delivery, epoch: str, token: str) -> None:
        task = asyncio.get_running_loop().create_task(self._attempt(delivery, epoch, token))
        tasks = self._attempts.setdefault(delivery.tenant, set())
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    async def _attempt(self, delivery: Delivery, epoch: str, token: str) -> None:
        TENANT.set(delivery.tenant)  # its time, on a manual clock
        host = receiver_of(delivery.url)
        limit = self._hosts.get(host)
        if limit is None:
            limit = self._hosts[host] = asyncio.Semaphore(self.per_host)
        claimed = time.monotonic()
        async with self._slots, limit:
            if time.monotonic() - claimed > LEASE_MARGIN / 2 and not await self._extend(
                delivery, epoch, token
            ):
                return  # it waited here past its lease: another claim makes it
            number = len(delivery.attempts) + 1
            attempt = await post(self.transport, self.clock, delivery, number)
        delivery.attempts.append(attempt)
        state, after = delivery.outcome(attempt, self.clock.stamp(delivery.due_at))
        try:
            root = self.tenants.root(delivery.tenant)
            said = await self.link.run(
                "SETTLE", root, epoch, str(delivery.id), str(number),
                codec.attempt_record(attempt), state.value,
                "" if after is None else codec.number(after), "1" if number == 1 else "0",
                str(self.max_log))  # fmt: skip
        except Unreachable:
            log.warning("webhook %s attempt %s: made, but its outcome could not be kept; the "
                        "attempt will be made again", delivery.id, number)  # fmt: skip
            return
        if said[0] != b"OK":
            return  # settled already (its lease lapsed and another made it), or reset
        delivery.state, delivery.next_attempt_at, delivery.manual = state, after, False
        if state is DeliveryState.FAILED:
            log.warning("webhook %s to %s failed for good", delivery.id, delivery.url)
        if said[1]:
            self.wake(delivery.tenant)
            self.background.later(self.client.zadd(READY, {delivery.tenant: float(said[1])},
                                                    lt=True))  # fmt: skip
        for listener in self.listeners:
            listener(delivery, attempt)

    async def _extend(self, delivery: Delivery, epoch: str, token: str) -> bool:
        """The lease of an attempt that waited for a slot runs from now, if it is still ours."""
        lease = time.time() + self.lease
        with contextlib.suppress(Unreachable):
            return bool(await self.link.run("EXTEND", self.tenants.root(delivery.tenant),
                                            epoch, str(delivery.id), token,
                                            str(int(lease * 1000))))  # fmt: skip
        return False

    async def _work(self) -> None:
        """This process's workers: take ready attempts of woken tenants, and of hinted ones."""
        last_poll = 0.0
        while not self._stop.is_set():
            tenants = set(self._wakes)
            self._wakes.clear()
            self._woken.clear()
            if time.monotonic() - last_poll >= POLL:
                last_poll = time.monotonic()
                with contextlib.suppress(Unreachable):
                    hinted = await self.link.call(self.client.zrange(READY, 0, 63,
                                                                     withscores=True))  # fmt: skip
                    tenants |= {t.decode() for t, when in hinted
                                if when <= self._now_of(t.decode())}  # fmt: skip
            for tenant in tenants:
                with contextlib.suppress(Unreachable):
                    await self._take(tenant)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), POLL)

    async def _take(self, tenant: str) -> int:
        """Claim what the tenant has ready, as much as there is room for, and start them."""
        room = max(1, self.concurrency - sum(len(t) for t in self._attempts.values()))
        claimed = await self._claim(tenant, room)
        for delivery, epoch, token in claimed:
            self._start_attempt(delivery, epoch, token)
        if not claimed:
            with contextlib.suppress(Unreachable):
                busy, later = await self.link.run("BUSY", self.tenants.root(tenant),
                                                  codec.number(self._now_of(tenant)))  # fmt: skip
                if later:  # a retry at its time: the hint says when
                    await self.link.call(self.client.zadd(READY, {tenant: float(later)}))
                elif not busy:
                    await self.link.call(self.client.zrem(READY, tenant))
        return len(claimed)

    async def _reclaim(self) -> None:
        """Attempts whose process went away (their lease ran out) are due again."""
        while not self._stop.is_set():
            with contextlib.suppress(Unreachable):
                for tenant in await self.tenants.all():
                    if await self.link.run("RECLAIM", self.tenants.root(tenant),
                                           str(int(time.time() * 1000))):  # fmt: skip
                        self.wake(tenant)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), 2.0)

    async def drain(self, tenant: str | None = None) -> None:
        """Wait until nothing of the tenant's (or of anyone's) is due and unmade, making what
        is due here (another process may be making some: its settles end the wait)."""
        tenants = [tenant] if tenant is not None else await self.tenants.all()
        for each in tenants:
            root = self.tenants.root(each)
            while True:
                await self._take(each)
                running = self._attempts.get(each)
                if running:
                    await asyncio.gather(*list(running), return_exceptions=True)
                    continue
                busy, _ = await self.link.run("BUSY", root, codec.number(self._now_of(each)))
                if not busy:
                    break
                await asyncio.sleep(DRAIN_POLL)  # under way in another process

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
        plain = where == DeliveryFilter() and matching is None and tenant is not None
        found: list[Delivery] = []
        total = 0
        for each in [tenant] if tenant is not None else await self.tenants.all():
            args = (str(offset), str(limit)) if plain and limit is not None else ("0", "-1")
            answer = await self.link.run("DELIVERIES", self.tenants.root(each), *args)
            total += int(answer[0])
            rest = answer[1:]
            found += [codec.delivery_of(codec.pairs(rest[i + 1]))
                      for i in range(0, len(rest), 2) if rest[i + 1]]  # fmt: skip
        if plain and limit is not None:
            return Found(found, total)
        found = [d for d in found if where.matches(d) and (matching is None or matching(d))]
        found.sort(key=lambda d: d.id)
        stop = None if limit is None else offset + limit
        return Found(found[offset:stop], len(found))

    async def get(self, delivery_id: int) -> Delivery | None:
        every = await self.find(None, DeliveryFilter(), matching=lambda d: d.id == delivery_id)
        return every.items[0] if every.items else None

    async def redeliver(self, delivery_id: int) -> Delivery:
        delivery = await self.get(delivery_id)
        if delivery is None:
            raise KeyError(delivery_id)
        root = self.tenants.root(delivery.tenant)
        said, after = await self.link.run("REDELIVER", root, str(delivery_id),
                                          codec.number(self._now_of(delivery.tenant)))  # fmt: skip
        if said == b"gone":
            raise KeyError(delivery_id)
        if said != b"OK":
            from ...core.clock import iso

            when = f" (next attempt at {iso(float(after))})" if after else ""
            raise ValueError(f"delivery {delivery_id} is {said.decode()}{when}: it is not "
                             "finished, so it cannot be sent again yet")  # fmt: skip
        delivery.state, delivery.manual = DeliveryState.PENDING, True
        self.wake(delivery.tenant)
        return delivery

    async def backlog(self) -> dict[str, int]:
        counts = dict.fromkeys((s.value for s in DeliveryState), 0) | {"dropped_from_log": 0}
        for tenant in await self.tenants.all():
            found = await self.link.run("COUNTS", self.tenants.root(tenant))
            for state, n in codec.pairs(found[4]).items():
                name = "dropped_from_log" if state == b"dropped" else state.decode()
                counts[name] = counts.get(name, 0) + int(n)
        return counts

    # -- running ----------------------------------------------------------------------------

    def _start_soon(self) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return
        self._started = True
        self._loops = [asyncio.get_running_loop().create_task(job())
                       for job in (self._work, self._reclaim)]  # fmt: skip

    async def start(self) -> None:
        if not self._started:
            self._start_soon()

    async def aclose(self) -> None:
        self._stop.set()
        self._woken.set()
        for task in self._loops:
            task.cancel()
        running = [t for tasks in self._attempts.values() for t in tasks]
        for task in running:
            task.cancel()
        pending = [*self._loops, *running]
        if pending:
            await asyncio.wait(pending, timeout=1.0)
        await self.transport.aclose()
