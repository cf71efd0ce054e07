"""Surprises kept in Redis (engine.SurpriseLog), so that a refused request or a webhook not
accepted is seen by the test whichever process served it: each tenant's, the newest 10,000, in
its own list (a tenant's reset leaves them behind with the rest of what it held), and in its
partition's list of the newest of its tenants and of no tenant (a refused control call, kept
in a partition that answers), which a read of every tenant's merges."""

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
from ...core.surprises import KEPT, SurpriseKind, unaccepted
from . import keys
from .link import Link, Unreachable
from .tenants import TenantIndex

log = logging.getLogger("rcs_emulator.state")


class RedisSurprises:
    def __init__(self, link: Link, clock: Clock, tenants: TenantIndex) -> None:
        self.link = link
        self.clock = clock
        self.tenants = tenants
        self._writing: set[asyncio.Task[None]] = set()

    def note(self, kind: SurpriseKind, **details: Any) -> None:
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
        if isinstance(tenant, str):
            partition, tag = self.tenants.place(tenant)
            with contextlib.suppress(Unreachable):
                await self.link.run("NOTE", partition, tag, raw, str(KEPT))
            return
        for partition in range(keys.PARTITIONS):  # the first that answers keeps it
            if not self.link.reachable(partition) and partition < keys.PARTITIONS - 1:
                continue
            with contextlib.suppress(Unreachable):
                await self.link.run("NOTE", partition, "", raw, str(KEPT))
                return

    def webhook_attempt(self, delivery: Delivery, attempt: Attempt) -> None:
        if not attempt.accepted:
            self.note(SurpriseKind.WEBHOOK, **unaccepted(delivery, attempt))

    async def items(self) -> list[dict[str, Any]]:
        if self._writing:  # what this process noted a moment ago is read back too
            await asyncio.wait(list(self._writing), timeout=1.0)
        raws: list[bytes] = []
        for answer in (await self.link.fan_run("NOTED", lambda _: [])).values():
            if isinstance(answer, Unreachable):
                raise answer
            raws += answer
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
        if tenant is None:  # a full reset moves every partition's epoch on: theirs go with it
            await self.link.fan_run("FORGET_SURPRISES", lambda _: [])


def _readable(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if hasattr(value, "keys"):
        return dict(value)
    raise TypeError


def _done(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("a surprise was not kept", exc_info=task.exception())
