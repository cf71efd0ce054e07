"""What the core takes from the config: where callbacks go and how long a receiver may take,
seeding, uploads, and the agents and phones set up from the start. (Retention and the delivery
pool are the engine's settings.)"""

from __future__ import annotations

from dataclasses import dataclass, field

from .models import AgentSettings, PhoneSettings


@dataclass(slots=True)
class EmulatorSettings:
    """The parts of the config the core uses; the rest stays with the app and providers."""

    default_webhook_url: str | None = None
    seed: int | None = None
    webhook_timeout: float | None = None  # overrides the providers' own (10 s) when set
    agents: dict[tuple[str, str | None, str], AgentSettings] = field(default_factory=dict)
    phones: dict[str, PhoneSettings] = field(default_factory=dict)
