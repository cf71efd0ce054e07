"""One seeded source of ids and fake data per emulator, so a seeded run repeats itself."""

from __future__ import annotations

import contextlib
import random
import string
from collections.abc import Iterator
from contextvars import ContextVar

_ALNUM = string.ascii_letters + string.digits
_V4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48)) & ((1 << 128) - 1)  # version and variant bits
_V4_SET = (0x4000 << 64) | (0x8000 << 48)
DRAWS: ContextVar[random.Random | None] = ContextVar("rcs_emulator_draws", default=None)


class IdSource:
    """Ids, delays and fake texts, drawn from one seeded generator in a process of its own, so a
    seeded run repeats itself. Processes sharing a state draw, inside each unit of work, from a
    generator seeded by the seed, the tenant and the unit's number in that tenant's order
    (`scope`): a seeded tenant repeats itself whichever process serves each request."""

    def __init__(self, seed: int | None = None) -> None:
        self.reseed(seed)

    def reseed(self, seed: int | None) -> None:
        self.seed = seed
        self._rng = random.Random(seed)

    def scope(self, *key: object) -> None:
        """The rest of this task draws from the generator of this key (seeded runs only)."""
        if self.seed is not None:
            DRAWS.set(random.Random(":".join(str(k) for k in (self.seed, *key))))

    @contextlib.contextmanager
    def scoped(self, *key: object) -> Iterator[None]:
        """Draws inside the block come from the generator of this key (seeded runs only), and
        after it from whatever they came from before."""
        if self.seed is None:
            yield
            return
        token = DRAWS.set(random.Random(":".join(str(k) for k in (self.seed, *key))))
        try:
            yield
        finally:
            DRAWS.reset(token)

    def _random(self) -> random.Random:
        return DRAWS.get() or self._rng

    def uuid(self) -> str:
        """A random (version 4) UUID from the seeded source, formatted without uuid.UUID."""
        bits = self._random().getrandbits(128) & _V4_CLEAR | _V4_SET
        h = f"{bits:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def hex(self, length: int) -> str:
        return f"{self._random().getrandbits(length * 4):0{length}x}"

    def alnum(self, length: int) -> str:
        return "".join(self._random().choices(_ALNUM, k=length))

    def uniform(self, low: float, high: float) -> float:
        return self._random().uniform(low, high)

    def random(self) -> random.Random:
        """The seeded generator itself, for a distribution's draws (scenario delays, mixes)."""
        return self._random()
