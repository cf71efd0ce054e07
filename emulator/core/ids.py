"""One seeded source of ids and fake data per emulator, so a seeded run repeats itself."""

from __future__ import annotations

import random
import string
import uuid

from faker import Faker

_ALNUM = string.ascii_letters + string.digits


class IdSource:
    def __init__(self, seed: int | None = None) -> None:
        self.reseed(seed)

    def reseed(self, seed: int | None) -> None:
        self.seed = seed
        self._rng = random.Random(seed)
        self.faker = Faker()
        self.faker.seed_instance(seed)

    def uuid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def hex(self, length: int) -> str:
        return f"{self._rng.getrandbits(length * 4):0{length}x}"

    def alnum(self, length: int) -> str:
        return "".join(self._rng.choices(_ALNUM, k=length))

    def uniform(self, low: float, high: float) -> float:
        return self._rng.uniform(low, high)

    def sentence(self) -> str:
        return str(self.faker.sentence())

    def random(self) -> float:
        return self._rng.random()
