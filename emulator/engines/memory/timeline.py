"""An agent's conversation in time order: its messages' events, as two parallel logs."""

from __future__ import annotations

from ...core.records import Event, Message, TimelineEntry
from .logs import Log


class Timeline:
    """Events in time order with their messages, as two parallel logs: 16 bytes an event
    instead of an entry object each. Events of evicted messages are skipped on reading and
    dropped once they reach the front."""

    __slots__ = ("events", "messages")

    def __init__(self) -> None:
        self.events: Log[Event] = Log()
        self.messages: Log[Message] = Log()

    def append(self, message: Message, event: Event) -> None:
        self.events._items.append(event)  # Log.append without a Python call: the hot path
        self.messages._items.append(message)

    def trim(self, alive: dict[str, Message]) -> None:
        messages = self.messages
        while messages and alive.get(messages.first().id) is not messages.first():
            messages.drop_first()
            self.events.drop_first()

    def between(
        self,
        since: float | None,
        until: float | None,
        newest: int | None,
        alive: dict[str, Message],
    ) -> list[TimelineEntry]:
        events, messages = self.events, self.messages
        lo = 0 if since is None else events.bisect_left(since, key=_event_time)
        hi = len(events) if until is None else events.bisect_right(until, key=_event_time)
        found: list[TimelineEntry] = []
        for i in range(hi - 1, lo - 1, -1):  # newest first, so `newest` stops early
            message = messages[i]
            if alive.get(message.id) is message:
                event = events[i]
                found.append(TimelineEntry(event.time, message, event))
                if newest is not None and len(found) >= newest:
                    break
        found.reverse()
        return found


NO_EVENTS = Timeline()


def _event_time(event: Event) -> float:
    return event.time
