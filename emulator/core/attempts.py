"""One webhook attempt and its settling: delivered, failed for good, or a retry on the emulator
clock. A part of the Dispatcher.

Alone (the memory engine), a process makes every attempt and settles it at once. In a cluster
(a shared engine), every process holds the same deliveries, so each attempt is claimed through
the `AttemptLedger`: one process makes it and records its outcome, and every process settles it
at the same point of the shared order: where the recorded outcome arrives in the log, or sooner,
inside a command that waits for webhooks (a clock advance, an inbound tap). A process that dies
holding a claim lets its lease run out; the attempt is then made by another.
"""

# mypy: disable-error-code="misc"
# (Methods of the Dispatcher kept apart by job: `self: Dispatcher` types what they use.)
from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict
from functools import partial
from typing import TYPE_CHECKING, Any

import orjson

from .clock import iso
from .deliveries import Attempt, Delivery
from .engine import AttemptKey, Claim
from .transport import DeliveryError

if TYPE_CHECKING:
    from .webhooks import Dispatcher

log = logging.getLogger("rcs_emulator.webhooks")


class Attempts:
    async def _attempt(self: Dispatcher, delivery: Delivery) -> None:
        number = len(delivery.attempts) + 1
        if self.ledger is None:
            self._finish(delivery, await self._post(delivery, number))
            return
        key = (delivery.id, number)
        try:
            claim = await self.ledger.claim(key, delivery.policy.timeout)
            if claim is Claim.OURS:
                attempt = await self._post(delivery, number)
                await self.ledger.record(key, asdict(attempt))
        except Exception:  # the shared state is unreachable: looked at again by recheck()
            log.warning("webhook %s attempt %s: the shared state is unreachable", *key)

    async def _post(self: Dispatcher, delivery: Delivery, number: int) -> Attempt:
        attempt = Attempt(number=number, time=self.clock.now())
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            body = orjson.dumps(delivery.payload)
            status, text = await self.transport.post(delivery.url, body, delivery.policy.timeout)
            attempt.status = status
            attempt.body = text
            attempt.accepted = delivery.policy.accepts(status, text)
        except DeliveryError as exc:
            attempt.error = str(exc)
        except Exception as exc:  # a bug of ours must not leave the delivery in flight forever
            log.exception("webhook %s to %s: unexpected error", delivery.id, delivery.url)
            attempt.error = f"InternalError: {type(exc).__name__}: {exc}"
        attempt.duration_ms = (loop.time() - started) * 1000
        return attempt

    def _finish(self: Dispatcher, delivery: Delivery, attempt: Attempt) -> None:
        self._in_flight.pop((delivery.id, attempt.number), None)
        delivery.attempts.append(attempt)
        self._settle(delivery)
        if attempt.number == 1:
            self._release(delivery)
        for listener in self.on_attempt:
            listener(delivery, attempt)

    def _settle(self: Dispatcher, delivery: Delivery) -> None:
        manual, delivery.manual = delivery.manual, False
        if delivery.attempts[-1].accepted:
            delivery.state = "delivered"
        elif manual or len(delivery.attempts) >= delivery.policy.max_attempts:
            delivery.state = "failed"
            log.warning("webhook %s to %s failed for good", delivery.id, delivery.url)
        else:
            delivery.state = "retrying"
            due = self.clock.now() + delivery.policy.delays[len(delivery.attempts) - 1]
            delivery.next_attempt_at = due
            self.scheduler.at(due, partial(self.requeue, delivery))

    # -- in a cluster -----------------------------------------------------------------------

    def settle_recorded(self: Dispatcher, key: AttemptKey, outcome: dict[str, Any]) -> None:
        """An attempt's recorded outcome, reached in the shared order: settled here unless it
        was already (inside a drain) or its delivery is gone (a reset)."""
        delivery = self.deliveries.get(key[0])
        if delivery is None or len(delivery.attempts) != key[1] - 1:
            return
        if delivery.state == "pending":  # this process had not started it: it is done
            queue = self._waiting.get(receiver_of(delivery.url))
            if queue is not None and delivery in queue:
                queue.remove(delivery)
                self.waiting -= 1
        self._finish(delivery, Attempt(**outcome))

    async def _settle_owed(self: Dispatcher) -> bool:
        """Wait for the outcome of every attempt under way in the cluster and settle them in
        order (a lapsed claim is made here); False when none was owed."""
        assert self.ledger is not None
        owed = sorted(self._in_flight)
        if not owed:
            return False
        found = await self.ledger.outcomes(owed)
        for key in owed:
            delivery = self._in_flight.get(key)
            if delivery is None:
                continue
            outcome = found.get(key)
            if outcome is None:  # its process died: make it now, then wait again
                await self._attempt(delivery)
            else:
                self._finish(delivery, Attempt(**outcome))
        return True

    async def recheck(self: Dispatcher) -> None:
        """Make the attempts whose claims lapsed without an outcome (their process died, or the
        shared state was unreachable when they were due)."""
        if self.ledger is None or not self._in_flight or self._tasks:
            return
        keys = sorted(self._in_flight)
        found = await self.ledger.outcomes(keys, wait=False)
        for key in keys:
            delivery = self._in_flight.get(key)
            if delivery is not None and key in found and found[key] is None:
                await self._attempt(delivery)

    def redeliver(self: Dispatcher, delivery_id: int) -> Delivery:
        """Send a finished delivery (delivered or failed) once more, now: one attempt, logged
        like the others, with no retries after it. KeyError for an unknown id, ValueError for a
        delivery still under way (it has attempts of its own coming)."""
        delivery = self.deliveries[delivery_id]
        if delivery.state not in ("delivered", "failed"):
            when = f" (next attempt at {iso(delivery.next_attempt_at)})" if (
                delivery.next_attempt_at) else ""  # fmt: skip
            raise ValueError(f"delivery {delivery_id} is {delivery.state}{when}: it is not "
                             "finished, so it cannot be sent again yet")  # fmt: skip
        delivery.manual = True
        self._enqueue(delivery)
        return delivery


def receiver_of(url: str) -> str:
    """The receiver a URL names (scheme, host and port), the unit of connection pooling."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"
