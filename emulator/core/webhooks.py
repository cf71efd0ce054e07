"""Webhook delivery: a bounded pool of async POSTs, a retry policy each provider supplies, and a
log of every attempt. Retries are scheduled on the emulator clock, so a manual clock can run
thirty minutes of back-off instantly. Nothing accepted is dropped: a delivery that waits for a
free slot is listed as pending, and one that exhausts its attempts is kept as failed.

Callbacks for one recipient (receiver URL, tenant, agent, phone) go out in event order on every
clock: a delivery waits in its recipient's lane until the one before it has had its first
attempt (whatever its outcome; retries do not hold the lane).
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import logging
from collections import deque
from collections.abc import Callable
from functools import partial
from typing import Any

import httpx

from .attempts import Attempts, receiver_of
from .clock import Clock
from .deliveries import Attempt, Delivery, RetryPolicy
from .engine import AttemptKey, AttemptLedger
from .scheduler import Scheduler
from .transport import Transport

log = logging.getLogger("rcs_emulator.webhooks")

Lane = tuple[str, str, str, str]  # url, tenant, agent, phone: one recipient's callbacks


class Dispatcher(Attempts):
    def __init__(
        self,
        clock: Clock,
        scheduler: Scheduler,
        http_client: httpx.AsyncClient | None = None,
        concurrency: int = 64,
        per_host: int = 4,
        backlog: int = 100_000,
        max_log: int = 100_000,
        ledger: AttemptLedger | None = None,
    ) -> None:
        self.clock = clock
        self.scheduler = scheduler
        self.concurrency = concurrency  # attempts running at once, in all
        # ... and to one receiver: its own small connection pool, so a slow receiver cannot
        # starve the others, and httpcore's per-request walk over the pool stays short.
        self.per_host = per_host
        self.max_waiting = backlog  # attempts that may wait for a slot; past it they fail, said so
        self.max_log = max_log  # finished deliveries kept; the oldest leave first
        self.transport = Transport(concurrency, per_host, http_client)
        self._ids = itertools.count(1)
        self.ledger = ledger  # a cluster's: who makes each attempt (None: this process)
        self.clear()

    def carried(self) -> dict[str, Any]:
        """What a full reset leaves (clear() keeps counting delivery ids: they key a shared
        state's ledger of attempts)."""
        return {"next_id": next(copy.copy(self._ids))}

    def carry(self, data: dict[str, Any]) -> None:
        self._ids = itertools.count(data["next_id"])

    def clear(self) -> None:
        self.deliveries: dict[int, Delivery] = {}
        self.waiting = 0
        self.dropped_from_log = 0
        self._waiting: dict[str, deque[Delivery]] = {}  # per receiver host, in arrival order
        self._active: dict[str, int] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        # Recipients with a delivery before its first attempt's end; each holds what waits.
        self._lanes: dict[Lane, deque[Delivery]] = {}
        self._in_flight: dict[AttemptKey, Delivery] = {}  # taken, not yet settled
        self.on_attempt: list[Callable[[Delivery, Attempt], None]] = getattr(self, "on_attempt", [])

    # -- intake -----------------------------------------------------------------------------

    def submit(
        self,
        *,
        provider: str,
        tenant: str,
        agent_id: str,
        phone: str,
        message_id: str | None,
        event: str,
        url: str,
        payload: Any,
        policy: RetryPolicy,
    ) -> Delivery:
        delivery = Delivery(
            next(self._ids),
            provider,
            tenant,
            agent_id,
            phone,
            message_id,
            event,
            url,
            payload,
            policy,
            self.clock.now(),
        )
        self.deliveries[delivery.id] = delivery
        self._trim_log()
        lane = (url, tenant, agent_id, phone)
        waiting = self._lanes.get(lane)
        if waiting is not None:
            waiting.append(delivery)  # pending until the one before has had its first attempt
            return delivery
        self._lanes[lane] = deque()
        self._enqueue(delivery)
        return delivery

    def _release(self, delivery: Delivery) -> None:
        """The delivery's first attempt ended: the next of its recipient may go."""
        lane = (delivery.url, delivery.tenant, delivery.agent_id, delivery.phone)
        waiting = self._lanes.get(lane)
        if waiting is None:
            return
        while waiting:
            following = waiting.popleft()
            if self.deliveries.get(following.id) is following:
                self._enqueue(following)
                return
        del self._lanes[lane]

    def _trim_log(self) -> None:
        """Keep at most max_log deliveries: the oldest finished ones leave first."""
        while len(self.deliveries) > self.max_log:
            oldest = next(iter(self.deliveries.values()))
            if oldest.state not in ("delivered", "failed"):
                break  # never forget one still owed to its receiver
            del self.deliveries[oldest.id]
            self.dropped_from_log += 1

    def next_id(self) -> int:
        return next(self._ids)

    def requeue(self, delivery: Delivery) -> None:
        """Queue a delivery again (a retry that came due, or one restored from saved state)."""
        self._enqueue(delivery)

    def _enqueue(self, delivery: Delivery) -> None:
        if self.deliveries.get(delivery.id) is not delivery:
            return  # reset while it waited for its retry
        delivery.next_attempt_at = None
        if self.waiting >= self.max_waiting:
            delivery.state = "failed"
            delivery.attempts.append(
                Attempt(
                    len(delivery.attempts) + 1,
                    self.clock.now(),
                    error=f"backlog full: {self.waiting} attempts already waiting",
                )  # fmt: skip
            )
            log.warning("webhook %s to %s not attempted: backlog full", delivery.id, delivery.url)
            if len(delivery.attempts) == 1:
                self._release(delivery)
            return
        delivery.state = "pending"
        self.waiting += 1
        host = receiver_of(delivery.url)
        queue = self._waiting.get(host)
        if queue is None:
            queue = self._waiting[host] = deque()
        queue.append(delivery)
        if self._active.get(host, 0) < self.per_host:  # else a worker of it will take it
            self._pump()

    def _pump(self) -> None:
        """Start a worker for each receiver with deliveries waiting, up to its share. Workers
        live as long as their receiver has work (no task per attempt: a busy receiver is served
        by the same few coroutines, as a plain client loop would)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop yet: the deliveries wait, listed as pending, for the next pump
        for host, queue in list(self._waiting.items()):
            active = self._active.get(host, 0)
            spare = min(self.per_host - active, len(queue), self.concurrency - len(self._tasks))
            for _ in range(spare):
                first = self._take(host, queue)  # in flight from now: the backlog frees a place
                self._active[host] = self._active.get(host, 0) + 1
                task = loop.create_task(self._worker(host, first))
                self._tasks.add(task)
                task.add_done_callback(partial(self._done, host=host))

    def _take(self, host: str, queue: deque[Delivery]) -> Delivery:
        delivery = queue.popleft()
        if not queue:
            del self._waiting[host]
        self.waiting -= 1
        delivery.state = "in_flight"
        self._in_flight[(delivery.id, len(delivery.attempts) + 1)] = delivery
        return delivery

    async def _worker(self, host: str, delivery: Delivery) -> None:
        while True:
            await self._attempt(delivery)
            queue = self._waiting.get(host)
            if not queue:
                return
            others = len(self._waiting) - 1
            if others and len(self._tasks) >= self.concurrency:
                return  # other receivers wait for a slot: give this one up
            delivery = self._take(host, queue)

    def _done(self, task: asyncio.Task[None], *, host: str) -> None:
        self._tasks.discard(task)
        self._active[host] -= 1
        if not self._active[host]:
            del self._active[host]
        if not task.cancelled() and task.exception() is not None:
            log.error("webhook task failed", exc_info=task.exception())
        self._pump()

    def drop_tenant(self, tenant: str) -> None:
        """Forget one tenant's deliveries; their pending retries are void."""
        for key in [k for k, d in self.deliveries.items() if d.tenant == tenant]:
            del self.deliveries[key]
        for host, queue in self._waiting.items():
            self._waiting[host] = deque(d for d in queue if d.tenant != tenant)
        self.waiting = sum(len(q) for q in self._waiting.values())
        for lane in [lane for lane in self._lanes if lane[1] == tenant]:
            del self._lanes[lane]
        for taken in [k for k, d in self._in_flight.items() if d.tenant == tenant]:
            del self._in_flight[taken]

    # -- waiting and reading ----------------------------------------------------------------

    async def drain(self) -> None:
        """Wait until no attempt is running or waiting for a slot (scheduled retries excepted);
        in a cluster, until every attempt under way anywhere is settled here."""
        while True:
            self._pump()
            while self._tasks:
                await asyncio.gather(*list(self._tasks), return_exceptions=True)
                self._pump()
            if self.ledger is None or not await self._settle_owed():
                return

    def backlog(self) -> dict[str, int]:
        counts = {"pending": 0, "in_flight": 0, "retrying": 0, "delivered": 0, "failed": 0}
        for delivery in self.deliveries.values():
            counts[delivery.state] += 1
        return counts

    async def aclose(self) -> None:
        """Stop: running attempts are cancelled (they stay listed, as not delivered)."""
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.transport.aclose()
