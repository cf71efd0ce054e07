"""Webhook delivery: a bounded pool of async POSTs, a retry policy each provider supplies, and a
log of every attempt. Retries are scheduled on the emulator clock, so a manual clock can run
thirty minutes of back-off instantly. Nothing accepted is dropped: a delivery that waits for a
free slot is listed as pending, and one that exhausts its attempts is kept as failed.

Callbacks for one recipient (receiver URL, tenant, agent, phone) go out in event order on every
clock: a delivery waits in its recipient's lane until the one before it has had its first
attempt (whatever its outcome; retries do not hold the lane).

This is the memory engine's delivery queue (core/engine.py's DeliveryQueue): this process makes
every attempt, and its retries wait on the engine's schedule (an advance of a manual clock runs
them at their time, among the other due events).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import deque
from collections.abc import Callable, Iterable
from functools import partial

import httpx

from ...core.clock import TENANT, Clock, iso
from ...core.engine import DeliveryFilter, Found
from ...core.records import Attempt, Delivery, DeliveryState
from ...delivery.attempts import post
from ...delivery.transport import Transport, receiver_of

log = logging.getLogger("rcs_emulator.webhooks")

Lane = tuple[str, str, str, str]  # url, tenant, agent, phone: one recipient's callbacks
Receiver = tuple[str, str]  # tenant, receiver (scheme://host:port): a share of capacity
AttemptKey = tuple[int, int]  # delivery id, attempt number
Listener = Callable[[Delivery, Attempt], None]

PENDING, IN_FLIGHT = DeliveryState.PENDING, DeliveryState.IN_FLIGHT
RETRYING, DELIVERED, FAILED = DeliveryState.RETRYING, DeliveryState.DELIVERED, DeliveryState.FAILED


class Dispatcher:
    def __init__(
        self,
        clock: Clock,
        schedule: Callable[[float, Delivery], None],
        http_client: httpx.AsyncClient | None = None,
        concurrency: int = 64,
        per_host: int = 4,
        backlog: int = 100_000,
        max_log: int = 100_000,
        listeners: Iterable[Listener] = (),
    ) -> None:
        self.clock = clock
        self.schedule = schedule  # a retry at an emulator time: (due, delivery) -> requeue()
        self.concurrency = concurrency  # attempts running at once, in all
        # ... and to one receiver: its own small connection pool, so a slow receiver cannot
        # starve the others, and httpcore's per-request walk over the pool stays short.
        self.per_host = per_host
        self.max_waiting = backlog  # attempts that may wait for a slot; past it they fail, said so
        self.max_log = max_log  # finished deliveries kept; the oldest leave first
        self.transport = Transport(concurrency, per_host, http_client)
        self.listeners: list[Listener] = list(listeners)  # told of every attempt's outcome
        self._ids = itertools.count(1)
        self.clear()

    def clear(self) -> None:
        self.deliveries: dict[int, Delivery] = {}
        self.waiting = 0
        self.dropped_from_log = 0
        # Per receiver (scheme, host and port) and tenant, in arrival order: one tenant's hung
        # receiver holds its own attempts only, whatever receiver other tenants share.
        self._waiting: dict[Receiver, deque[Delivery]] = {}
        self._active: dict[Receiver, int] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._serving: dict[asyncio.Task[None], Receiver] = {}  # each worker's receiver
        # Recipients with a delivery before its first attempt's end; each holds what waits.
        self._lanes: dict[Lane, deque[Delivery]] = {}

    # -- intake -----------------------------------------------------------------------------

    def submit(self, delivery: Delivery) -> Delivery:
        """A delivery a rule asked for: numbered, logged and queued in its recipient's lane."""
        delivery.id = next(self._ids)
        delivery.due_at = delivery.created_at
        self.deliveries[delivery.id] = delivery
        self._trim_log()
        lane = delivery.lane
        waiting = self._lanes.get(lane)
        if waiting is not None:
            waiting.append(delivery)  # pending until the one before has had its first attempt
            return delivery
        self._lanes[lane] = deque()
        self._enqueue(delivery)
        return delivery

    def adopt(self, delivery: Delivery) -> None:
        """A delivery restored from saved state, under a fresh id: queued again if it was under
        way, else waiting for its scheduled retry."""
        delivery.id = next(self._ids)
        self.deliveries[delivery.id] = delivery
        if delivery.state in (PENDING, IN_FLIGHT):
            delivery.due_at = self.clock.now()
            self._enqueue(delivery)

    def _release(self, delivery: Delivery) -> None:
        """The delivery's first attempt ended: the next of its recipient may go."""
        waiting = self._lanes.get(delivery.lane)
        if waiting is None:
            return
        while waiting:
            following = waiting.popleft()
            if self.deliveries.get(following.id) is following:
                self._enqueue(following)
                return
        del self._lanes[delivery.lane]

    def _trim_log(self) -> None:
        """Keep at most max_log deliveries: the oldest finished ones leave first."""
        while len(self.deliveries) > self.max_log:
            oldest = next(iter(self.deliveries.values()))
            if not oldest.state.finished:
                break  # never forget one still owed to its receiver
            del self.deliveries[oldest.id]
            self.dropped_from_log += 1

    def retry(self, delivery_id: int) -> None:
        """A delivery's scheduled retry came due (its RETRY event on the engine's schedule)."""
        delivery = self.deliveries.get(delivery_id)
        if delivery is not None:
            self.requeue(delivery)

    def requeue(self, delivery: Delivery) -> None:
        """A scheduled retry came due: queued for its next attempt."""
        if delivery.next_attempt_at is not None:
            delivery.due_at = delivery.next_attempt_at
        self._enqueue(delivery)

    def _enqueue(self, delivery: Delivery) -> None:
        if self.deliveries.get(delivery.id) is not delivery:
            return  # reset while it waited for its retry
        delivery.next_attempt_at = None
        if self.waiting >= self.max_waiting:
            delivery.state = FAILED
            delivery.attempts.append(
                Attempt(
                    len(delivery.attempts) + 1,
                    self.clock.stamp(delivery.due_at),
                    error=f"backlog full: {self.waiting} attempts already waiting",
                )
            )
            log.warning("webhook %s to %s not attempted: backlog full", delivery.id, delivery.url)
            if len(delivery.attempts) == 1:
                self._release(delivery)
            return
        delivery.state = PENDING
        self.waiting += 1
        host = (delivery.tenant, receiver_of(delivery.url))
        queue = self._waiting.get(host)
        if queue is None:
            queue = self._waiting[host] = deque()
        queue.append(delivery)
        if self._active.get(host, 0) < self.per_host:  # else a worker of it will take it
            self._pump()

    # -- workers ----------------------------------------------------------------------------

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
                self._serving[task] = host
                task.add_done_callback(partial(self._done, host=host))

    def _take(self, host: Receiver, queue: deque[Delivery]) -> Delivery:
        delivery = queue.popleft()
        if not queue:
            del self._waiting[host]
        self.waiting -= 1
        delivery.state = IN_FLIGHT
        return delivery

    async def _worker(self, host: Receiver, delivery: Delivery) -> None:
        while True:
            await self.attempt(delivery)
            queue = self._waiting.get(host)
            if not queue:
                return
            others = len(self._waiting) - 1
            if others and len(self._tasks) >= self.concurrency:
                return  # other receivers wait for a slot: give this one up
            delivery = self._take(host, queue)

    def _done(self, task: asyncio.Task[None], *, host: Receiver) -> None:
        self._tasks.discard(task)
        self._serving.pop(task, None)
        self._active[host] -= 1
        if not self._active[host]:
            del self._active[host]
        if not task.cancelled() and task.exception() is not None:
            log.error("webhook task failed", exc_info=task.exception())
        self._pump()

    # -- attempts ---------------------------------------------------------------------------

    async def attempt(self, delivery: Delivery) -> None:
        """The delivery's next attempt, made and settled."""
        TENANT.set(delivery.tenant)  # its time, on a manual clock
        self.finish(delivery, await self.post(delivery, len(delivery.attempts) + 1))

    async def post(self, delivery: Delivery, number: int) -> Attempt:
        """One POST of the delivery's payload: its outcome, never an exception."""
        return await post(self.transport, self.clock, delivery, number)

    def finish(self, delivery: Delivery, attempt: Attempt) -> None:
        """An attempt's outcome: the delivery is done, failed for good, or retries later."""
        delivery.attempts.append(attempt)
        self._settle(delivery, attempt)
        if attempt.number == 1:
            self._release(delivery)
        for listener in self.listeners:
            listener(delivery, attempt)

    def _settle(self, delivery: Delivery, attempt: Attempt) -> None:
        state, due = delivery.outcome(attempt, self.clock.stamp(delivery.due_at))
        delivery.state, delivery.manual = state, False
        if state is FAILED:
            log.warning("webhook %s to %s failed for good", delivery.id, delivery.url)
        if due is not None:
            delivery.next_attempt_at = due
            self.schedule(due, delivery)

    async def redeliver(self, delivery_id: int) -> Delivery:
        """Send a finished delivery (delivered or failed) once more, now: one attempt, logged
        like the others, with no retries after it. KeyError for an unknown id, ValueError for a
        delivery still under way (it has attempts of its own coming)."""
        delivery = self.deliveries[delivery_id]
        if not delivery.state.finished:
            when = (
                f" (next attempt at {iso(delivery.next_attempt_at)})"
                if (delivery.next_attempt_at)
                else ""
            )
            raise ValueError(
                f"delivery {delivery_id} is {delivery.state}{when}: it is not "
                "finished, so it cannot be sent again yet"
            )
        delivery.manual = True
        delivery.due_at = self.clock.now()
        self._enqueue(delivery)
        return delivery

    def drop_tenant(self, tenant: str) -> None:
        """Forget one tenant's deliveries; their pending retries are void."""
        for key in [k for k, d in self.deliveries.items() if d.tenant == tenant]:
            del self.deliveries[key]
        for host, queue in self._waiting.items():
            self._waiting[host] = deque(d for d in queue if d.tenant != tenant)
        self.waiting = sum(len(q) for q in self._waiting.values())
        for lane in [lane for lane in self._lanes if lane[1] == tenant]:
            del self._lanes[lane]

    # -- waiting and reading ----------------------------------------------------------------

    async def drain(self, tenant: str | None = None) -> None:
        """Wait until no attempt (of the tenant's, or of anyone's) is running or waiting for a
        slot (scheduled retries excepted): a tenant's wait is for its own receivers' workers
        only, so another tenant's hung receiver never holds it."""
        self._pump()
        while True:
            running = [
                t for t, (whose, _) in self._serving.items() if tenant is None or whose == tenant
            ]
            if not running:
                if tenant is None or not any(whose == tenant for whose, _ in self._waiting):
                    return
                await asyncio.sleep(0.001)  # (its attempts wait for a slot other tenants hold)
                self._pump()
                continue
            await asyncio.gather(*running, return_exceptions=True)
            self._pump()

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(DeliveryState, 0)
        for delivery in self.deliveries.values():
            counts[delivery.state] += 1
        return {state.value: n for state, n in counts.items()}

    async def backlog(self) -> dict[str, int]:
        return self.counts() | {"dropped_from_log": self.dropped_from_log}

    async def find(
        self,
        tenant: str | None,
        where: DeliveryFilter,
        *,
        offset: int = 0,
        limit: int | None = None,
        matching: Callable[[Delivery], bool] | None = None,
    ) -> Found[Delivery]:
        found = [
            d
            for d in self.deliveries.values()
            if (tenant is None or d.tenant == tenant)
            and where.matches(d)
            and (matching is None or matching(d))
        ]
        stop = None if limit is None else offset + limit
        return Found(found[offset:stop], len(found))

    async def get(self, delivery_id: int) -> Delivery | None:
        return self.deliveries.get(delivery_id)

    async def aclose(self) -> None:
        """Stop: running attempts are cancelled (they stay listed, as not delivered)."""
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.transport.aclose()
