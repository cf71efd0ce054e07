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
from .injection import Faults


def control_operations(emulator: Emulator, injected: Faults) -> list[Operation]:
    return [
        *state.operations(emulator),
        *providers.operations(),
        *messages.operations(emulator),
        *stats.operations(emulator),
        *webhooks.operations(emulator),
        *surprises.operations(emulator),
        *files.operations(emulator),
        *agents.operations(emulator),
        *phones.operations(emulator),
        *scenarios.operations(emulator),
        *clock.operations(emulator),
        *inbound.operations(emulator),
        *conversations.operations(emulator),
        *faults.operations(emulator, injected),
        *seed.operations(emulator, injected),
        *stream.operations(emulator),
    ]
