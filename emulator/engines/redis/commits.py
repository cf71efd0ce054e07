"""Group commit: the units of work of one tenant that reach their commit while another of its
commits is on its way to Redis go together in the next call, one script run for all of them,
each still applied all or none (the script checks and answers each unit on its own).

Under load most of what a lone commit costs is the round trip itself, not the writes: redis-py's
asyncio client spends ~150 us of CPU on a call whatever it carries (bench/scale.py measures the
whole), and Redis a read, a write and an fsync. So the sends of a busy tenant share those, and
nothing waits at low load: a commit with none of its tenant's on the way goes at once. Tenants
never share a call: each one's commits go on their own, so a tenant's large batch delays only
its own.

A call carries a token: if its answer is lost and redis-py sends it again, the script answers
from what the first run did instead of applying the units twice (twice would mean two copies of
each due event: two callbacks).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from typing import Any

import msgpack

from .link import Link

log = logging.getLogger("rcs_emulator.state")

MOST_OPS = 4_000  # writes one call carries at most (a big send's slices go a few at a time)
Wire = list[Any]  # a unit as the script reads it: [epoch, fence, ops]


class Commits:
    def __init__(self, link: Link, applied: Callable[[str, int, list[Any]], None]) -> None:
        self.link = link
        self.applied = applied  # (tenant, partition, the call's answer) once a call applied
        self._waiting: dict[str, list[tuple[Wire, asyncio.Future[str]]]] = {}
        self._flying: dict[str, asyncio.Task[None]] = {}  # tenant: its call on the way

    async def apply(self, tenant: str, partition: int, tag: str, unit: Wire) -> str:
        """Apply one unit of the tenant's: "OK", or why the script refused it (RESET: the
        tenant was reset since it loaded; FENCED: its lease went to another process)."""
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(tenant, []).append((unit, future))
        if tenant not in self._flying:
            self._flying[tenant] = asyncio.get_running_loop().create_task(
                self._fly(tenant, partition, tag)
            )
        return await future

    async def _fly(self, tenant: str, partition: int, tag: str) -> None:
        """Carry the tenant's waiting units, a call at a time, until none wait."""
        try:
            while waiting := self._waiting.get(tenant):
                batch: list[tuple[Wire, asyncio.Future[str]]] = []
                size = 0
                while waiting and (not batch or size + len(waiting[0][0][2]) <= MOST_OPS):
                    entry = waiting.pop(0)
                    batch.append(entry)
                    size += len(entry[0][2])
                if not waiting:
                    del self._waiting[tenant]
                await self._call(tenant, partition, tag, batch)
        finally:
            del self._flying[tenant]
            for _, future in self._waiting.pop(tenant, ()):  # (cut short: the process stops)
                future.cancel()

    async def _call(
        self, tenant: str, partition: int, tag: str, batch: list[tuple[Wire, asyncio.Future[str]]]
    ) -> None:
        try:
            # (raw strings: Redis's cmsgpack reads no "bin" type; Lua has one string type anyway)
            packed = msgpack.packb([unit for unit, _ in batch], use_bin_type=False)
            answer = await self.link.run(
                "COMMIT", partition, tag, secrets.token_hex(8), str(partition), tenant, packed
            )
            said = [s.decode() for s in answer[0]]
            if len(said) != len(batch):
                raise RuntimeError(f"COMMIT answered {len(said)} units of {len(batch)}")
        except asyncio.CancelledError:  # (the process stops: its waiters are cancelled too)
            for _, future in batch:
                future.cancel()
            raise
        except Exception as exc:  # Redis cannot be reached: every waiter hears why
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), status in zip(batch, said, strict=True):
            if future.done():
                continue
            if status == "MALFORMED":  # (a bug of ours: its caller fails, the others go on)
                future.set_exception(RuntimeError("the COMMIT script refused a malformed unit"))
            else:
                future.set_result(status)
        if "OK" in said:
            try:
                self.applied(tenant, partition, answer)
            except Exception:  # (a lost hint costs a sweep's wait; the units are applied)
                log.exception("the hint of a commit was not given")
