"""One bound on messages (`max_messages`) and one on the webhook log (`max_webhook_log`) for the
whole state, as on the memory engine: past it, the oldest of any tenant leave first.

No key of the whole state holds the count (its shard's loss would stop every tenant's sends):
each partition counts its own, every commit's answer says its partition's count, and this
process adds up the last it heard of each (every partition's is asked again now and then). Past
the bound, each partition's oldest are read, merged, and the oldest of all evicted, each
partition its share, in one call each. The bound is kept in steps: once over it, the state is
brought to 1% under it (one pass per 1% of sends, instead of one per send), so at the bound it
holds between 99% and 100% of it; a process that has not heard of other processes' sends yet
lets it pass by at most what they sent since its last look (a second's worth).

A delivery still under way is never evicted (it is owed to its receiver): the log stops at the
oldest one not finished, as the memory engine's does.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from . import keys
from .link import Link, Unreachable

LOOK_EVERY = 1.0  # seconds between asking every partition its counts (while near a bound)
STEP = 0.01  # the share of a bound evicted past it at once


class Retention:
    def __init__(self, link: Link, max_messages: int, max_log: int) -> None:
        self.link = link
        self.bounds = {"messages": max_messages, "deliveries": max_log}
        self._held = {kind: [0] * keys.PARTITIONS for kind in self.bounds}
        self._asked = 0.0
        self._keeping: asyncio.Lock | None = None

    def seen(self, partition: int, messages: int, deliveries: int) -> None:
        """What a commit's answer says its partition holds."""
        self._held["messages"][partition] = messages
        self._held["deliveries"][partition] = deliveries

    def over(self) -> bool:
        return any(bound and sum(self._held[kind]) > bound for kind, bound in self.bounds.items())

    async def keep(self) -> None:
        """Bring every bound that is passed back under it (one pass at a time here)."""
        if self._keeping is None:
            self._keeping = asyncio.Lock()
        async with self._keeping:
            for kind, bound in self.bounds.items():
                if bound and sum(self._held[kind]) > bound:
                    with contextlib.suppress(Unreachable):
                        await self._keep(kind, bound)

    async def _keep(self, kind: str, bound: int) -> None:
        step = int(bound * STEP)
        found = await self.link.fan_run("HEADS", lambda _: [kind, "0"])
        counts = {p: int(a[0]) for p, a in found.items() if not isinstance(a, Unreachable)}
        for partition, count in counts.items():
            self._held[kind][partition] = count
        over = sum(self._held[kind]) - bound
        if over <= 0:
            return
        want = over + step
        found = await self.link.fan_run("HEADS", lambda _: [kind, str(want)], counts)
        heads: list[tuple[float, bytes, bool, int]] = []
        for partition, answer in found.items():
            if isinstance(answer, Unreachable):
                continue
            rest = answer[1:]
            heads += [
                (float(rest[i + 1]), rest[i], rest[i + 2] == b"1", partition)
                for i in range(0, len(rest), 3)
            ]
        heads.sort()
        chosen = []
        for head in heads:
            if not head[2]:
                break  # (a delivery still owed: the log stops at it)
            chosen.append(head)
            if len(chosen) == want:
                break
        if not chosen:
            return
        score, member = chosen[-1][0], chosen[-1][1]
        shares: dict[int, int] = {}
        for head in chosen:
            shares[head[3]] = shares.get(head[3], 0) + 1
        await self.link.fan_run(
            "EVICT", lambda p: [kind, repr(score), member, str(shares[p])], list(shares)
        )
        self._asked = 0.0  # (what each holds now is asked again at the next look)

    async def look(self) -> None:
        """Every partition's counts, asked again (what other processes added meanwhile)."""
        if time.monotonic() - self._asked < LOOK_EVERY:
            return
        self._asked = time.monotonic()
        found = await self.link.fan_run("HEADS", lambda _: ["messages", "0"])
        for partition, answer in found.items():
            if not isinstance(answer, Unreachable):
                self._held["messages"][partition] = int(answer[0])
        found = await self.link.fan_run("HEADS", lambda _: ["deliveries", "0"])
        for partition, answer in found.items():
            if not isinstance(answer, Unreachable):
                self._held["deliveries"][partition] = int(answer[0])
