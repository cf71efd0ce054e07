"""Surprises kept in Redis (engine.SurpriseLog), so that a refused request or a webhook not
accepted is seen by the test whichever process served it: each tenant's, the newest 10,000, in
its own list (a tenant's reset leaves them behind with the rest of what it held), and those of
no tenant (a refused control call) in one list of their own."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import time
from typing import Any

import orjson

from ...core.clock import Clock, iso
from ...core.records import Attempt, Delivery
from ...core.surprises import KEPT
from .keys import SURPRISES
from .link import Link, Unreachable
from .tenants import TenantIndex

log = logging.getLogger("rcs_emulator.state")


class RedisSurprises:
    def __init__(self, link: Link, clock: Clock, tenants: TenantIndex) -> None:
        self.link = link
        self.clock = clock
        self.tenants = tenants
        self._writing: set[asyncio.Task[None]] = set()

    def note(self, kind: str, **details: Any) -> None:
        item = {"kind": kind, "time": iso(self.clock.now()), **details, "_n": time.time_ns()}
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # a sync exception handler, in Starlette's thread pool
            if self.link.loop is not None:
                self.link.loop.call_soon_threadsafe(self._spawn, item)
            return
        self._spawn(item)

    def _spawn(self, item: dict[str, Any]) -> None:
        task = asyncio.get_running_loop().create_task(self._keep(item))
        self._writing.add(task)
        task.add_done_callback(_done)
        task.add_done_callback(self._writing.discard)

    async def _keep(self, item: dict[str, Any]) -> None:
        if isinstance(item.get("exchange"), bytes):  # a request's exchange: bytes, kept as is
            item = item | {"exchange": {"b64": base64.b64encode(item["exchange"]).decode()}}
        raw = orjson.dumps(item, default=_readable)
        tenant = item.get("tenant")
        with contextlib.suppress(Unreachable):
            if isinstance(tenant, str):
                await self.tenants.register(tenant)
                await self.link.run("NOTE", self.tenants.root(tenant), raw, str(KEPT))
            else:
                pipe = self.link.client.pipeline(transaction=False)
                pipe.lpush(SURPRISES, raw)
                pipe.ltrim(SURPRISES, 0, KEPT - 1)
                await self.link.call(pipe.execute())

    def webhook_attempt(self, delivery: Delivery, attempt: Attempt) -> None:
        if attempt.accepted:
            return
        self.note("webhook", provider=delivery.provider, tenant=delivery.tenant,
                  url=delivery.url, payload=delivery.payload, status=attempt.status,
                  error=attempt.error, body=attempt.body, attempt=attempt.number)  # fmt: skip

    async def items(self) -> list[dict[str, Any]]:
        if self._writing:  # what this process noted a moment ago is read back too
            await asyncio.wait(list(self._writing), timeout=1.0)
        raws = list(await self.link.call(self.link.client.lrange(SURPRISES, 0, -1)))
        for tenant in await self.tenants.all():
            raws += await self.link.run("NOTED", self.tenants.root(tenant))
        found = [orjson.loads(r) for r in raws]
        for item in found:
            if isinstance(item.get("exchange"), dict):
                item["exchange"] = base64.b64decode(item["exchange"]["b64"])
        found.sort(key=lambda s: s.pop("_n", 0))  # in the order they were noted, here or there
        return found

    async def aclose(self) -> None:
        if self._writing:
            await asyncio.wait(list(self._writing), timeout=1.0)

    async def forget(self, tenant: str | None = None) -> None:
        if tenant is None:  # a full reset moves every tenant's epoch on: theirs go with it
            await self.link.call(self.link.client.delete(SURPRISES))


def _readable(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if hasattr(value, "keys"):
        return dict(value)
    raise TypeError


def _done(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("a surprise was not kept", exc_info=task.exception())
