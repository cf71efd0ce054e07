"""Faults a test asks for: the next N requests to a path (or a provider) get a status with the
provider's own error body, a delay, or a dropped connection; a stateful per-key rate limit; or any
of these with a seeded probability. Applied by a middleware in front of the provider routes."""

from __future__ import annotations

import asyncio
import copy
import itertools
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from ..core.clock import Clock
from ..http.ratelimit import RateLimiter
from ..providers import REGISTRY
from ..providers.mount import ProviderMount


class DroppedConnection(Exception):
    """Raised after the response started: the server closes the connection mid-answer."""


@dataclass
class Fault:
    id: int
    provider: str | None
    path: str | None
    status: int | None = None
    delay_ms: float = 0.0
    drop: bool = False
    count: int | None = None  # how many more requests it hits; None: until cleared
    probability: float | None = None
    rate_limit: dict[str, float] | None = None
    hits: int = 0
    limiter: RateLimiter | None = field(default=None, repr=False)

    def matches(self, provider: str | None, path: str) -> bool:
        if self.count is not None and self.count <= 0:
            return False
        if self.provider is not None and self.provider != provider:
            return False
        return self.path is None or self.path.lower() == path.lower()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "provider": self.provider,
            "path": self.path,
            "status": self.status,
            "delay_ms": self.delay_ms,
            "drop": self.drop,
            "count": self.count,
            "probability": self.probability,
            "rate_limit": self.rate_limit,
            "hits": self.hits,
        }


class Faults:
    """The faults in force. Processes sharing a state share them (`data`, `load`: the Emulator's
    shared settings), and a counted fault's hits are taken from one count for all of them
    (`take`, the engine's); a rate limit's bucket, and the draws of a probability, are each
    process's own."""

    def __init__(
        self,
        clock: Clock,
        seed: int | None = None,
        take: Callable[[int, int], Awaitable[bool]] | None = None,
    ) -> None:
        self.clock = clock
        self._ids = itertools.count(1)
        self._take = take
        self.reseed(seed)
        self.items: list[Fault] = []

    def reseed(self, seed: int | None) -> None:
        self.seed = seed
        self._random = random.Random(seed)

    def data(self) -> list[dict[str, Any]]:
        return [f.to_dict() for f in self.items]

    def load(self, data: list[dict[str, Any]]) -> None:
        """The faults another process set (each keeps its hits here if it was here before)."""
        known = {f.id: f for f in self.items}
        self.items = []
        for raw in data:
            fault = known.get(raw["id"])
            if fault is None:
                fault = self._make(
                    raw["id"],
                    raw["provider"],
                    raw["path"],
                    raw["status"],
                    raw["delay_ms"],
                    raw["drop"],
                    raw["count"],
                    raw["probability"],
                    raw["rate_limit"],
                )
            self.items.append(fault)
        newest = max((f.id for f in self.items), default=0)
        self._ids = itertools.count(max(newest + 1, next(copy.copy(self._ids))))

    def add(
        self,
        provider: str | None,
        path: str | None,
        status: int | None = None,
        delay_ms: float = 0.0,
        drop: bool = False,
        count: int | None = None,
        probability: float | None = None,
        rate_limit: dict[str, float] | None = None,
    ) -> Fault:
        """A fault, checked already (the control API's FaultBody says what is valid)."""
        fault = self._make(
            next(self._ids), provider, path, status, delay_ms, drop, count, probability, rate_limit
        )
        self.items.append(fault)
        return fault

    def _make(
        self,
        fault_id: int,
        provider: str | None,
        path: str | None,
        status: int | None,
        delay_ms: float,
        drop: bool,
        count: int | None,
        probability: float | None,
        rate_limit: dict[str, float] | None,
    ) -> Fault:
        limiter = None
        if rate_limit is not None:
            limiter = RateLimiter(
                self.clock, int(rate_limit["requests"]), float(rate_limit["per_seconds"])
            )
        return Fault(
            fault_id,
            provider,
            path,
            status,
            float(delay_ms),
            drop,
            count,
            probability,
            rate_limit,
            limiter=limiter,
        )

    async def pick(
        self, provider: str | None, path: str, key: str
    ) -> tuple[Fault, int | None] | None:
        """The fault that hits this request, and a Retry-After for rate limits."""
        for fault in self.items:
            if not fault.matches(provider, path):
                continue
            if fault.limiter is not None:
                wait = fault.limiter.retry_after(key)
                if wait is None:
                    continue
            else:
                wait = None
            if fault.probability is not None and self._random.random() >= fault.probability:
                continue
            if fault.count is not None and self._take is not None:
                if not await self._take(fault.id, fault.count):
                    fault.count = 0  # spent by other processes
                    continue
            fault.hits += 1
            if fault.count is not None:
                fault.count -= 1
            return fault, wait
        return None

    def remove(self, fault_id: int) -> bool:
        before = len(self.items)
        self.items = [f for f in self.items if f.id != fault_id]
        return len(self.items) != before

    def clear(self) -> None:
        self.items = []

    # -- a part of the Emulator's settings (core/parts.py) ----------------------------------

    name = "faults"

    def restore(self) -> None:
        return None  # (none come from the config)

    def reset(self) -> None:
        """Every full reset ends every fault."""
        self.clear()


class FaultMiddleware:
    """Applies faults to provider requests; the control API is never faulted."""

    def __init__(self, app: ASGIApp, faults: Faults, mounts: Mapping[str, ProviderMount]):
        self.app = app
        self.faults = faults
        self.mounts = mounts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or not self.faults.items
            or scope["path"].startswith("/_emulator")
        ):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        mount = self.mounts.get(REGISTRY.owner(scope["path"]) or "")
        key = mount.tenant_of(request) if mount is not None else "anonymous"
        hit = await self.faults.pick(mount.name if mount else None, scope["path"], key)
        if hit is None:
            await self.app(scope, receive, send)
            return
        fault, retry_after = hit
        if fault.delay_ms:
            await asyncio.sleep(fault.delay_ms / 1000)
        if fault.drop:
            await send({"type": "http.response.start", "status": 200, "headers": []})
            raise DroppedConnection(f"fault {fault.id}: connection dropped")
        status = 429 if fault.limiter is not None else fault.status
        if status is None or mount is None:
            await self.app(scope, receive, send)
            return
        response: Response = mount.fault_response(request, status, retry_after)
        await response(scope, receive, send)
