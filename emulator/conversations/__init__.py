"""Conversation tests: `*.convo.yaml` files in which the emulator plays the phone against a bot.

- format: the file format as pydantic models, loaded and validated with errors that name the
  file, the step and the key.
- plan: files to test cases: includes spliced in, utterance variants, captured values' names.
- runner: runs cases through the control API, several at once without touching each other (so
  one runner serves the CLI, the HTTP endpoint and the pytest plugin, in-process or against a
  running emulator); the tenant an agent's bot sends as, for files that name none.
- report: results as text (the CLI and pytest), JSON (the HTTP endpoint) and JUnit XML.
- command: `rcs-emulator conversations run | validate`.
"""

from .format import Conversation, ConversationError, load_conversation, parse_conversation
from .plan import Case, plan
from .runner import BotTenants, ConversationResult, Limits, Options, Outcome, run_conversations

__all__ = [
    "BotTenants",
    "Case",
    "Conversation",
    "ConversationError",
    "ConversationResult",
    "Limits",
    "Options",
    "Outcome",
    "load_conversation",
    "parse_conversation",
    "plan",
    "run_conversations",
]
