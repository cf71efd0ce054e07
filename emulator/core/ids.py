"""One seeded source of ids and fake data per emulator, so a seeded run repeats itself."""

from __future__ import annotations

import contextlib
import random
import string
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from faker import Faker

_ALNUM = string.ascii_letters + string.digits
_V4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48)) & ((1 << 128) - 1)  # version and variant bits
_V4_SET = (0x4000 << 64) | (0x8000 << 48)
_ENTROPY = random.SystemRandom()
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


class CommandDraws:
    """A seeded generator that a cluster's commands fork alike: each command's draws start from
    the seed (else the cluster's entropy), a label and the number of commands since the seed was
    set, so every process applying a command draws the same and a seeded cluster repeats itself
    as one process does. Unforked (one process), it is the seeded generator as it is."""

    def __init__(self, seed: int | None, label: str = "") -> None:
        self.seed = seed
        self.label = label
        self.forked = False
        self._rng = random.Random(seed)
        self._commands = 0
        self._pending: str | None = None

    def fork(self, entropy: int) -> None:
        self._commands += 1
        base = entropy if self.seed is None else self.seed
        self._pending = f"{base}{self.label}:{self._commands}"  # seeded at the first draw
        self.forked = True

    def carried(self) -> dict[str, Any]:
        """Where the draws stand, as data (a full reset leaves them going on)."""
        version, state, gauss = self._rng.getstate()
        return {"seed": self.seed, "forked": self.forked, "commands": self._commands,
                "pending": self._pending, "rng": [version, list(state), gauss]}  # fmt: skip

    def carry(self, data: dict[str, Any]) -> None:
        self.seed, self.forked = data["seed"], data["forked"]
        self._commands, self._pending = data["commands"], data["pending"]
        version, state, gauss = data["rng"]
        self._rng.setstate((version, tuple(state), gauss))

    def rng(self) -> random.Random:
        if self._pending is not None:  # most commands draw nothing: they never pay the seeding
            self._rng.seed(self._pending)
            self._pending = None
        return self._rng


class IdSource:
    def __init__(self, seed: int | None = None) -> None:
        self._outside: random.Random | None = None
        self.reseed(seed)

    def reseed(self, seed: int | None) -> None:
        self.seed = seed
        self._draws = CommandDraws(seed)
        self._faker: Faker | None = None  # made at the first fake text: it costs ~0.2 s to start

    def fork(self, entropy: int) -> None:
        """Start the draws of a cluster's next command (CommandDraws)."""
        self._draws.fork(entropy)

    def carried(self) -> dict[str, Any]:
        return self._draws.carried()

    def carry(self, data: dict[str, Any]) -> None:
        self.reseed(data["seed"])
        self._draws.carry(data)

    def _random(self) -> random.Random:
        return self._outside or self._draws.rng()

    @contextlib.contextmanager
    def outside_commands(self) -> Iterator[None]:
        """Draws for an answer given outside every command (a 503 while the shared state cannot
        be reached) come from fresh entropy: drawn from the command draws, they would move this
        process's draws alone, under a command it may be applying meanwhile."""
        self._outside = _ENTROPY
        try:
            yield
        finally:
            self._outside = None

    @property
    def faker(self) -> Faker:
        if self._faker is None:
            from faker import Faker

            self._faker = Faker()
            self._faker.seed_instance(self.seed)
        return self._faker

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
