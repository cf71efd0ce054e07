"""Who is who: tenants by the names clients use, agent and phone settings, and what a phone
number does (its scenario rule, its RCS capability). A part of the Emulator aggregate."""

# mypy: disable-error-code="misc"
# (Methods of the Emulator kept apart by job: `self: Emulator` types every attribute they use;
# mypy would have a mixin's self be a supertype of the mixin itself.)
from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from .models import AgentSettings, PhoneSettings
from .scenarios import Resolution

if TYPE_CHECKING:
    from .emulator import Emulator


class Directory:
    def tenant(self: Emulator, name: str | None) -> str | None:
        """The tenant a client-side name (API key, token, username) stands for."""
        if not name:
            return None
        return self.tenant_aliases.get(name, name)

    def restore_settings(self: Emulator) -> None:
        """Agents and phones back to what the config says (control-API changes undone)."""
        self.agents = {k: replace(v) for k, v in self.settings.agents.items()}
        self.phones = {k: replace(v) for k, v in self.settings.phones.items()}
        for hook in self.on_restore:
            hook()

    def agent(
        self: Emulator, provider: str, agent_id: str, tenant: str | None = None
    ) -> AgentSettings:
        """The settings to edit: this tenant's own (tenant given) or everyone's."""
        key = (provider, tenant, agent_id)
        settings = self.agents.get(key)
        if settings is None:
            settings = self.agents[key] = AgentSettings(provider, agent_id, tenant=tenant)
        return settings

    def agent_for(self: Emulator, provider: str, agent_id: str, tenant: str) -> AgentSettings:
        """The settings in force for a tenant's agent: its own, else everyone's."""
        own = self.agents.get((provider, tenant, agent_id))
        return own if own is not None else self.agent(provider, agent_id)

    def phone(self: Emulator, phone: str) -> PhoneSettings:
        settings = self.phones.get(phone)
        if settings is None:
            settings = self.phones[phone] = PhoneSettings(phone)
        return settings

    def resolve(self: Emulator, phone: str) -> Resolution:
        override = self.phones.get(phone)
        resolution = self.scenarios.resolve(phone, override.scenario if override else None)
        if override is not None and override.rcs_capable is not None:
            return Resolution(
                resolution.scenario,
                resolution.rule,
                override.rcs_capable,
                resolution.timeline,
                resolution.sms_timeline,
            )
        return resolution

    def capable(self: Emulator, phone: str) -> bool:
        return self.resolve(phone).capable
