"""What the core asks of a shared state engine, beyond what it keeps in memory itself.

With the memory engine (the default) one process holds the state and makes every webhook
attempt itself: the core needs nothing from here. With a shared engine (Redis), every process
applies the same commands in the same order (see emulator/state), so each holds the same state;
what must still happen once in the whole cluster, the POST of a webhook attempt, is settled
through an `AttemptLedger`: one process claims an attempt, makes it and records its outcome,
which every process then applies at the same point of the shared order.
"""

from __future__ import annotations

import enum
from typing import Any, Protocol

AttemptKey = tuple[int, int]  # delivery id, attempt number


class Claim(enum.Enum):
    OURS = "ours"  # this process makes the attempt, then records its outcome
    BUSY = "busy"  # another process holds it (until its lease runs out)
    DONE = "done"  # its outcome is recorded already; it reaches everyone through the log


class AttemptLedger(Protocol):
    async def claim(self, key: AttemptKey, lease: float) -> Claim:
        """Take an attempt to make, unless it is made (DONE) or under way elsewhere (BUSY);
        held for `lease` seconds (and a margin) before another process may take it over."""

    async def record(self, key: AttemptKey, outcome: dict[str, Any]) -> None:
        """Keep an attempt's outcome and append it to the shared order, in one step."""

    async def outcomes(
        self, keys: list[AttemptKey], wait: bool = True
    ) -> dict[AttemptKey, dict[str, Any] | None]:
        """The recorded outcomes of these attempts; None for one not recorded and whose claim
        has lapsed (its process died): the caller makes it. With `wait`, until each is one or
        the other; else at once, leaving out those still held."""
