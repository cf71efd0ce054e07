"""Webhook delivery: a bounded pool of async POSTs, a retry policy each provider supplies, and a
log of every attempt. Retries are scheduled on the emulator clock, so a manual clock can run
thirty minutes of back-off instantly. Nothing accepted is dropped: a delivery that waits for a
free slot is listed as pending, and one that exhausts its attempts is kept as failed.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from .clock import Clock, iso
from .scheduler import Scheduler

log = logging.getLogger("rcs_emulator.webhooks")

MAX_BODY_KEPT = 4096  # bytes of a receiver's answer kept in the attempt log


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    delays: tuple[float, ...]  # emulator seconds before each retry; attempts = len + 1
    accepts: Callable[[int, str], bool]  # (status, body) -> the delivery counts as done
    timeout: float = 10.0
    description: str = ""

    @property
    def max_attempts(self) -> int:
        return len(self.delays) + 1


@dataclass(slots=True)
class Attempt:
    number: int
    time: float
    status: int | None = None
    body: str | None = None
    error: str | None = None
    duration_ms: float = 0.0
    accepted: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "attempt": self.number,
            "time": iso(self.time),
            "status": self.status,
            "body": self.body,
            "error": self.error,
            "duration_ms": round(self.duration_ms, 2),
            "accepted": self.accepted,
        }


@dataclass(slots=True)
class Delivery:
    id: int
    provider: str
    tenant: str
    agent_id: str
    phone: str
    message_id: str | None
    event: str
    url: str
    payload: Any
    policy: RetryPolicy
    created_at: float
    state: str = "pending"  # pending, in_flight, retrying, delivered, failed
    next_attempt_at: float | None = None
    attempts: list[Attempt] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "provider": self.provider,
            "agent_id": self.agent_id,
            "phone": self.phone,
            "message_id": self.message_id,
            "event": self.event,
            "url": self.url,
            "payload": self.payload,
            "state": self.state,
            "created": iso(self.created_at),
            "next_attempt_at": iso(self.next_attempt_at) if self.next_attempt_at else None,
            "attempts": [a.to_dict() for a in self.attempts],
            "policy": self.policy.description,
        }


class Dispatcher:
    def __init__(
        self,
        clock: Clock,
        scheduler: Scheduler,
        http_client: httpx.AsyncClient | None = None,
        concurrency: int = 16,
    ) -> None:
        self.clock = clock
        self.scheduler = scheduler
        self.concurrency = concurrency
        self._injected_client = http_client
        self._client: httpx.AsyncClient | None = None
        self._client_loop: asyncio.AbstractEventLoop | None = None
        self._ids = itertools.count(1)
        self.clear()

    def clear(self) -> None:
        self.deliveries: dict[int, Delivery] = {}
        self._waiting: deque[Delivery] = deque()
        self._tasks: set[asyncio.Task[None]] = set()
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
        self._enqueue(delivery)
        return delivery

    def _enqueue(self, delivery: Delivery) -> None:
        if self.deliveries.get(delivery.id) is not delivery:
            return  # reset while it waited for its retry
        delivery.state = "pending"
        delivery.next_attempt_at = None
        self._waiting.append(delivery)
        self._pump()

    def _pump(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop yet: the deliveries wait, listed as pending, for the next pump
        while self._waiting and len(self._tasks) < self.concurrency:
            delivery = self._waiting.popleft()
            delivery.state = "in_flight"
            task = loop.create_task(self._attempt(delivery))
            self._tasks.add(task)
            task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("webhook task failed", exc_info=task.exception())
        self._pump()

    # -- one attempt ------------------------------------------------------------------------

    def _http(self) -> httpx.AsyncClient:
        if self._injected_client is not None:
            return self._injected_client
        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop:
            self._client = httpx.AsyncClient(
                headers={"User-Agent": "rcs-emulator"}, follow_redirects=False
            )
            self._client_loop = loop
        return self._client

    async def _attempt(self, delivery: Delivery) -> None:
        attempt = Attempt(number=len(delivery.attempts) + 1, time=self.clock.now())
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            body = json.dumps(delivery.payload, ensure_ascii=False).encode()
            response = await self._http().post(
                delivery.url,
                content=body,
                headers={"Content-Type": "application/json"},
                timeout=delivery.policy.timeout,
            )
            attempt.status = response.status_code
            attempt.body = response.text[:MAX_BODY_KEPT]
            attempt.accepted = delivery.policy.accepts(response.status_code, response.text)
        except httpx.HTTPError as exc:
            attempt.error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        attempt.duration_ms = (loop.time() - started) * 1000
        delivery.attempts.append(attempt)
        self._settle(delivery)
        for listener in self.on_attempt:
            listener(delivery, attempt)

    def _settle(self, delivery: Delivery) -> None:
        if delivery.attempts[-1].accepted:
            delivery.state = "delivered"
        elif len(delivery.attempts) >= delivery.policy.max_attempts:
            delivery.state = "failed"
            log.warning("webhook %s to %s failed for good", delivery.id, delivery.url)
        else:
            delivery.state = "retrying"
            due = self.clock.now() + delivery.policy.delays[len(delivery.attempts) - 1]
            delivery.next_attempt_at = due
            self.scheduler.at(due, lambda: self._enqueue(delivery))

    def drop_tenant(self, tenant: str) -> None:
        """Forget one tenant's deliveries; their pending retries are void."""
        for key in [k for k, d in self.deliveries.items() if d.tenant == tenant]:
            del self.deliveries[key]
        self._waiting = deque(d for d in self._waiting if d.tenant != tenant)

    # -- waiting and reading ----------------------------------------------------------------

    async def drain(self) -> None:
        """Wait until no attempt is running or waiting for a slot (scheduled retries excepted)."""
        self._pump()
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
            self._pump()

    def backlog(self) -> dict[str, int]:
        counts = {"pending": 0, "in_flight": 0, "retrying": 0, "delivered": 0, "failed": 0}
        for delivery in self.deliveries.values():
            counts[delivery.state] += 1
        return counts

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
