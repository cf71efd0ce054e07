"""The /_emulator control API: one module per resource, each a list of Operations whose bodies
and query strings are pydantic models; the OpenAPI description is generated from them."""

from __future__ import annotations

from ..core.emulator import Emulator
from ..http.operations import Operation
from . import (
    agents,
    clock,
    conversations,
    faults,
    files,
    inbound,
    messages,
    phones,
    providers,
    scenarios,
    seed,
    state,
    stats,
    stream,
    surprises,
    webhooks,
)
from .access import Tenants
from .injection import Faults


def control_operations(emulator: Emulator, injected: Faults, tenants: Tenants) -> list[Operation]:
    return [
        *state.operations(emulator, tenants),
        *providers.operations(),
        *messages.operations(emulator, tenants),
        *stats.operations(emulator, tenants),
        *webhooks.operations(emulator, tenants),
        *surprises.operations(emulator, tenants),
        *files.operations(emulator, tenants),
        *agents.operations(emulator, tenants),
        *phones.operations(emulator, tenants),
        *scenarios.operations(emulator),
        *clock.operations(emulator, tenants),
        *inbound.operations(emulator, tenants),
        *conversations.operations(emulator),
        *faults.operations(emulator, injected, tenants),
        *seed.operations(emulator, injected, tenants),
        *stream.operations(emulator, tenants),
    ]
