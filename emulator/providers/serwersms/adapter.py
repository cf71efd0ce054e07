"""What the core needs from SerwerSMS: its notifications, its retry rules (an answer tag the
receiver must echo, when the bot has one) and how a message is laid out on a phone."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from ...core.models import AgentSettings
from ...core.records import Event, Message, RetryPolicy, StoredFile
from . import display, payloads
from .provider import NAME

RETRY_EVERY = 30 * 60.0


class SerwerSmsAdapter:
    name = NAME
    PLAIN = RetryPolicy(
        delays=(RETRY_EVERY,) * 4,
        description="2xx accepted; every 30 min, 5 attempts",
    )

    def __init__(self) -> None:
        self._tagged: dict[str, RetryPolicy] = {}  # one policy per answer tag, made once

    def callbacks(self, message: Message, event: Event) -> list[Any]:
        payload = payloads.notification(message, event)
        return [payload] if payload is not None else []

    def display(self, message: Message, files: Mapping[str, StoredFile]) -> dict[str, Any]:
        return display.layout(message, files)

    def retry_policy(self, agent: AgentSettings) -> RetryPolicy:
        tag = agent.answer_tag
        if not tag:
            return self.PLAIN
        policy = self._tagged.get(tag)
        if policy is None:
            policy = self._tagged[tag] = RetryPolicy(
                delays=(RETRY_EVERY,) * 4,
                answer_must_contain=tag,
                description=f"answer must contain {tag!r}; every 30 min, 5 attempts",
            )
        return policy

    def describe(self, payload: Any) -> dict[str, Any]:
        """Its notifications are a one-item array; texts travel base64-encoded."""
        item = payload[0] if isinstance(payload, list) and payload else {}
        kind = item.get("type")
        name = f"{kind} ({item['status']})" if kind == "report" and "status" in item else kind
        decoded: dict[str, str | None] = {}
        if isinstance(item.get("text"), str):
            try:
                decoded["text"] = base64.b64decode(item["text"], validate=True).decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                decoded["text"] = None
        return {"name": name, "decoded": decoded}
