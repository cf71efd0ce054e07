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
# What sentence() puts together: how customers start a reply to a business, and what they ask.
_REPLY_OPENINGS = ("", "", "Hi!", "Hello,", "Thanks!", "Great, thanks.", "OK.", "Sorry,",
                   "Quick question:", "Hi there,")  # fmt: skip
_REPLY_REQUESTS = (
    "when will my order arrive?", "can I change the delivery address?",
    "is this still in stock?", "do you deliver on Saturdays?", "can I pay on delivery?",
    "please call me back after 5 pm.", "I'd like to cancel my order.",
    "what time do you open tomorrow?", "can you send me the invoice?",
    "is there a discount for two?", "the parcel hasn't come yet.", "I'll pick it up myself.",
    "which size would you recommend?", "can I book for Friday at 10?",
    "how much is shipping to Kraków?", "yes, that works for me.", "not now, maybe next week.",
    "where can I find the tracking number?", "can I return it if it doesn't fit?",
    "please stop sending me offers.",
)  # fmt: skip


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

    def sentence(self) -> str:
        """A reply a customer might type to a business (a scenario's `message` step with no
        text): an opening and a request drawn from a small phrase book, not Faker's word salad
        ("Whose tonight fill."). Drawn from the seeded source, so a seeded run repeats."""
        rng = self._random()
        opening = rng.choice(_REPLY_OPENINGS)
        request = rng.choice(_REPLY_REQUESTS)
        if not opening.endswith((",", ":")):  # a new sentence begins
            request = request[0].upper() + request[1:]
        return f"{opening} {request}".lstrip()
