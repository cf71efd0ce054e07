"""Who is who: tenants by the names clients use, agent and phone settings, and what a phone
number does (its scenario rule, its RCS capability). A part the Emulator owns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, replace
from typing import Any

from .models import AgentSettings, PhoneSettings
from .scenarios import Resolution, ScenarioBook
from .settings import EmulatorSettings


class Directory:
    """Its agents and phones are a part (parts.Part) of the service's settings."""

    name = "directory"

    def __init__(
        self,
        settings: EmulatorSettings,
        scenarios: ScenarioBook,
        aliases: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.scenarios = scenarios
        # Other names a tenant is known by (an account's token, beside its username).
        self.aliases: dict[str, str] = dict(aliases or {})
        self.agents: dict[tuple[str, str | None, str], AgentSettings] = {}
        self.phones: dict[str, PhoneSettings] = {}
        self.restore()

    def data(self) -> dict[str, Any]:
        """The settings as data (what other processes take when they change)."""
        return {
            "agents": [asdict(a) for a in self.agents.values()],
            "phones": [asdict(p) for p in self.phones.values()],
        }

    def load(self, data: dict[str, Any]) -> None:
        """Settings given as data (another process changed them)."""
        agents = [AgentSettings(**a) for a in data["agents"]]
        self.agents = {(a.provider, a.tenant, a.agent_id): a for a in agents}
        self.phones = {p["phone"]: PhoneSettings(**p) for p in data["phones"]}

    def tenant(self, name: str | None) -> str | None:
        """The tenant a client-side name (API key, token, username) stands for."""
        if not name:
            return None
        return self.aliases.get(name, name)

    def restore(self) -> None:
        """Agents and phones back to what the config says (control-API changes undone)."""
        self.agents = {k: replace(v) for k, v in self.settings.agents.items()}
        self.phones = {k: replace(v) for k, v in self.settings.phones.items()}

    def reset(self) -> None:
        return None  # (settings only: nothing of a run)

    def agent(self, provider: str, agent_id: str, tenant: str | None = None) -> AgentSettings:
        """The settings to edit: this tenant's own (tenant given) or everyone's."""
        key = (provider, tenant, agent_id)
        settings = self.agents.get(key)
        if settings is None:
            settings = self.agents[key] = AgentSettings(provider, agent_id, tenant=tenant)
        return settings

    def agent_for(self, provider: str, agent_id: str, tenant: str) -> AgentSettings:
        """The settings in force for a tenant's agent: its own, else everyone's."""
        own = self.agents.get((provider, tenant, agent_id))
        return own if own is not None else self.agent(provider, agent_id)

    def phone(self, phone: str) -> PhoneSettings:
        """The settings to edit for a number."""
        settings = self.phones.get(phone)
        if settings is None:
            settings = self.phones[phone] = PhoneSettings(phone)
        return settings

    def resolve(self, phone: str) -> Resolution:
        """What the scenario in force (or the number's own) says of the number, with the
        number's capability setting over it."""
        override = self.phones.get(phone)
        resolution = self.scenarios.resolve(phone, override.scenario if override else None)
        if override is not None and override.rcs_capable is not None:
            return replace(resolution, capable=override.rcs_capable)
        return resolution

    def capable(self, phone: str) -> bool:
        return self.resolve(phone).capable
