"""The AttemptLedger over the shared log: one process of the cluster makes each webhook attempt.

A claim is a key with a lease (the attempt's timeout and a margin); the outcome is kept as a key
for ten minutes (log.OUTCOME_TTL_S) and appended to the log in the same script, so it reaches
every process in order, and a second outcome for the same attempt (a claim that lapsed while its
POST was still under way) is dropped rather than settled twice.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from ..core.engine import AttemptKey, Claim
from .log import CommandLog

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
