"""The parts of the service's state that are not records: settings every process holds alike
(agents and phones, faults, a provider's own such as contact groups) and per-run state
(a rate limiter's buckets, accounts opened on first use). The Emulator is built with its parts
and treats them alike: it hands their data to the engine (which shares or saves it), gives
another process's data back to each, and resets them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol


class Part(Protocol):
    name: str  # its key in the settings' data

    def data(self) -> Any:
        """What every process holds alike, as JSON-able data (None: nothing)."""

    def load(self, data: Any) -> None:
        """Data another process changed, or a saved state holds."""

    def restore(self) -> None:
        """Back to what the config says (a full reset that does not keep settings)."""

    def reset(self) -> None:
        """Per-run state forgotten (every full reset)."""


class Timer(Protocol):
    """Something of a part's own due on the emulator's clock (a replayed cassette's callbacks):
    whenever time moves, what is due runs, and an advance waits for it as for due events."""

    async def run_due(self) -> None: ...


class RunState:
    """A part with nothing to share or keep: per-run state (a limiter's buckets, accounts met
    on first use) that every full reset forgets."""

    def __init__(self, name: str, forget: Callable[[], None]) -> None:
        self.name = name
        self.forget = forget

    def data(self) -> None:
        return None

    def load(self, data: Any) -> None:
        return None

    def restore(self) -> None:
        return None

    def reset(self) -> None:
        self.forget()
