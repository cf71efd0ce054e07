"""Conversation tests: `*.convo.yaml` files in which the emulator plays the phone against a bot.

- format: the file format as pydantic models, loaded and validated with errors that name the
  file, the step and the key.
- runner: runs a conversation through the control API (so one runner serves the CLI, the HTTP
  endpoint and the pytest plugin, in-process or against a running emulator).
- report: results as text (the CLI and pytest), JSON (the HTTP endpoint) and JUnit XML.
- command: `rcs-emulator conversations run | validate`.
"""

from .format import Conversation, ConversationError, load_conversation, parse_conversation
from .runner import ConversationResult, Limits, Outcome, run_conversations

__all__ = [
    "Conversation",
    "ConversationError",
    "ConversationResult",
    "Limits",
    "Outcome",
    "load_conversation",
    "parse_conversation",
    "run_conversations",
]
