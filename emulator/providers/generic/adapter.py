"""What the core needs from Generic: which events become callbacks, how it retries, and how a
message is laid out on a phone."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...core.models import AgentSettings
from ...core.records import Event, Message, RetryPolicy, StoredFile
from . import display, payloads
from .provider import NAME


class GenericAdapter:
    name = NAME
    # Not documented: 2xx counts, anything else is retried after 10 s, 1 min, 5 min and 30 min.
    POLICY = RetryPolicy(
        delays=(10.0, 60.0, 300.0, 1800.0),
        description="2xx accepted; retried after 10 s, 1 min, 5 min, 30 min (5 attempts)",
    )

    def callbacks(self, message: Message, event: Event) -> list[Any]:
        if event.type not in payloads.CALLBACK_EVENTS or message.channel.value != "RCS":
            return []
        return [payloads.callback(message, event)]

    def display(self, message: Message, files: Mapping[str, StoredFile]) -> dict[str, Any]:
        return display.layout(message, files)

    def retry_policy(self, agent: AgentSettings) -> RetryPolicy:
        return self.POLICY

    def describe(self, payload: Any) -> dict[str, Any]:
        return {"name": payload.get("Type") if isinstance(payload, dict) else None, "decoded": {}}
