"""The AttemptLedger over the shared log: one process of the cluster makes each webhook attempt.

A claim is a key with a lease (the attempt's timeout and a margin); the outcome is kept as a key
for ten minutes (log.OUTCOME_TTL_S) and appended to the log in the same script, so it reaches
every process in order, and a second outcome for the same attempt (a claim that lapsed while its
POST was still under way) is dropped rather than settled twice.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from dataclasses import asdict
from typing import Any

import orjson

from ..delivery.deliveries import Attempt, Delivery
from ..delivery.dispatcher import AttemptKey, Dispatcher
from .log import CommandLog

log = logging.getLogger("rcs_emulator.webhooks")


class Claim(enum.Enum):
    OURS = "ours"  # this process makes the attempt, then records its outcome
    BUSY = "busy"  # another process holds it (until its lease runs out)
    DONE = "done"  # its outcome is recorded already; it reaches everyone through the log


# Seconds past the attempt's own timeout before another process takes it over: as long again,
# up to five seconds (a POST cut by its timeout has its outcome recorded well within that).
LEASE_MARGIN = 5.0
POLL = 0.01  # seconds between looks while waiting for another process's outcome
_CLAIMS = {0: Claim.OURS, 1: Claim.BUSY, 2: Claim.DONE}


def field(key: AttemptKey) -> str:
    return f"{key[0]}:{key[1]}"


class RedisLedger:
    def __init__(self, log: CommandLog) -> None:
        self.log = log

    async def claim(self, key: AttemptKey, lease: float) -> Claim:
        lease_ms = int((lease + min(LEASE_MARGIN, lease)) * 1000)
        return _CLAIMS[await self.log.claim(field(key), lease_ms)]

    async def record(self, key: AttemptKey, outcome: dict[str, Any]) -> None:
        body = orjson.dumps(outcome)
        head = orjson.dumps({"key": list(key), "outcome": outcome})
        await self.log.record(field(key), body, head)

    async def outcomes(
        self, keys: list[AttemptKey], wait: bool = True
    ) -> dict[AttemptKey, dict[str, Any] | None]:
        found: dict[AttemptKey, dict[str, Any] | None] = {}
        left = list(keys)
        while left:
            answers = await self.log.outcomes([field(k) for k in left])
            held = []
            for key, answer in zip(left, answers, strict=True):
                if answer == b"busy":
                    held.append(key)
                elif answer == b"lapsed":
                    found[key] = None
                else:
                    found[key] = orjson.loads(answer)
            if not wait:
                break
            left = held
            if left:
                await asyncio.sleep(POLL)
        return found


class LedgerAttempts:
    """Who makes an attempt in a cluster whose processes all hold the same deliveries: the one
    that claims it in the ledger. It records the outcome, and every process settles it at the
    same point of the shared order: where the recorded outcome arrives in the log
    (`settle_recorded`), or sooner, inside a command that waits for webhooks (a clock advance,
    an inbound tap). A process that dies holding a claim lets its lease run out; the attempt is
    then made by another (`recheck`)."""

    def __init__(self, ledger: RedisLedger) -> None:
        self.ledger = ledger

    async def make(self, dispatcher: Dispatcher, delivery: Delivery, number: int) -> None:
        key = (delivery.id, number)
        try:
            claim = await self.ledger.claim(key, delivery.policy.timeout)
            if claim is Claim.OURS:
                attempt = await dispatcher.post(delivery, number)
                await self.ledger.record(key, asdict(attempt))
        except Exception:  # the shared state is unreachable: looked at again by recheck()
            log.warning("webhook %s attempt %s: the shared state is unreachable", *key)

    def settle_recorded(
        self, dispatcher: Dispatcher, key: AttemptKey, outcome: dict[str, Any]
    ) -> None:
        """An attempt's recorded outcome, reached in the shared order: settled here unless it
        was already (inside a drain) or its delivery is gone (a reset)."""
        delivery = dispatcher.deliveries.get(key[0])
        if delivery is None or len(delivery.attempts) != key[1] - 1:
            return
        dispatcher.withdraw(delivery)  # this process had not started it: it is done
        dispatcher.finish(delivery, Attempt(**outcome))

    async def settle_owed(self, dispatcher: Dispatcher) -> bool:
        """Wait for the outcome of every attempt under way in the cluster and settle them in
        order (a lapsed claim is made here); False when none was owed."""
        owed = sorted(dispatcher.in_flight)
        if not owed:
            return False
        found = await self.ledger.outcomes(owed)
        for key in owed:
            delivery = dispatcher.in_flight.get(key)
            if delivery is None:
                continue
            outcome = found.get(key)
            if outcome is None:  # its process died: make it now, then wait again
                await self.make(dispatcher, delivery, key[1])
            else:
                dispatcher.finish(delivery, Attempt(**outcome))
        return True

    async def recheck(self, dispatcher: Dispatcher) -> None:
        """Make the attempts whose claims lapsed without an outcome (their process died, or the
        shared state was unreachable when they were due)."""
        if not dispatcher.in_flight or dispatcher.busy:
            return
        keys = sorted(dispatcher.in_flight)
        found = await self.ledger.outcomes(keys, wait=False)
        for key in keys:
            delivery = dispatcher.in_flight.get(key)
            if delivery is not None and key in found and found[key] is None:
                await self.make(dispatcher, delivery, key[1])
