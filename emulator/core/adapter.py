"""What the core needs from a provider: its callbacks, its retry rule and its layout."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from .models import AgentSettings
from .records import Event, Message, RetryPolicy, StoredFile


class ProviderAdapter(Protocol):
    """What the core needs from a provider: its callbacks and its retry rule."""

    name: str

    def callbacks(self, message: Message, event: Event) -> list[Any]:
        """The webhook payloads this event produces (none if the provider does not push it)."""

    def retry_policy(self, agent: AgentSettings) -> RetryPolicy: ...

    def display(self, message: Message, files: Mapping[str, StoredFile]) -> dict[str, Any]:
        """How a client lays the message out, in core.display's provider-neutral shape."""

    def describe(self, payload: Any) -> dict[str, Any]:
        """A callback as people read it: {"name": the provider's own word for it, "decoded":
        {field: readable text} for fields the payload carries encoded}."""
