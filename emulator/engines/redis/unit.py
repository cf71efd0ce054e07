"""A unit of work over one tenant's records in Redis: copies of what it loaded, and the writes
the rules make, kept as deltas (a message added, an event appended, a status moved, a due event,
a callback, a file) that one script applies at commit, all of them or none.

The rules see the copies change as they write (an event appended is on the message they hold),
so a rule that reads what an earlier one wrote in the same unit sees it; the script applies the
deltas, never the copies, so another process's writes to the same records in between are kept
(events append, a status only moves forward there too). A message the unit made is the one
exception: nobody else can have written it yet, so it is written once, whole, at commit."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ...core.engine import UnitMisuse
from ...core.models import STATUS_RANK, Status
from ...core.records import Delivery, Due, Event, Message, StoredFile
from . import codec

Op = list[Any]  # one write as the COMMIT script reads it (scripts.py lists them)


class RedisUnit:
    __slots__ = (
        "tenant",
        "epoch",
        "fence",
        "messages",
        "named",
        "fresh",
        "ops",
        "exchanges",
        "callbacks",
        "files",
    )

    def __init__(self, tenant: str, epoch: str = "", fence: str = "") -> None:
        self.tenant = tenant
        self.epoch = epoch  # the epochs the loads saw ("<partition's>:<tenant's>"; '' none)
        self.fence = fence  # the lease a run of due events holds ('' none)
        self.messages: dict[str, Message] = {}
        self.named: set[str] = set()  # the messages it was asked to load (found or not)
        # Messages made in this unit: written whole at commit, with the events and the status
        # the rules gave them meanwhile (one write each, not one per change).
        self.fresh: dict[str, Message] = {}
        self.ops: list[Op] = []
        self.exchanges: dict[int, str] = {}  # id() of an exchange written: its key
        self.callbacks: list[Delivery] = []  # made once committed (their ids are given then)
        self.files: list[StoredFile] = []

    # -- reads ------------------------------------------------------------------------------

    def message(self, message_id: str) -> Message | None:
        if message_id not in self.named:
            raise UnitMisuse(
                f"message {message_id} was read, but the unit was not asked to load it (Wants)"
            )
        return self.messages.get(message_id)

    def alive(self, message: Message) -> bool:
        return self.messages.get(message.id) is message

    # -- writes -----------------------------------------------------------------------------

    def add(self, message: Message) -> None:
        self.messages[message.id] = message
        self.named.add(message.id)
        self.fresh[message.id] = message
        if message.exchange is not None and id(message.exchange) not in self.exchanges:
            self.exchanges[id(message.exchange)] = message.id
            self.ops.append(["X", message.id, message.exchange])

    def record(self, message: Message, event: Event, status: Status | None = None) -> bool:
        message.events.append(event)
        moved = status is not None and STATUS_RANK[status] > STATUS_RANK[message.status]
        if moved:
            assert status is not None
            message.status = status
        if self.fresh.get(message.id) is not message:
            self.ops.append(
                [
                    "E",
                    message.id,
                    codec.event_record(event),
                    codec.number(event.time),
                    status.value if moved and status is not None else "",
                    event.type.value,
                ]
            )
        return moved

    def set_status(self, message: Message, status: Status) -> None:
        message.status = status
        if self.fresh.get(message.id) is not message:
            self.ops.append(["S", message.id, status.value])

    def schedule(self, due: float, task: Due) -> None:
        self.ops.append(["D", codec.number(due), codec.due_record(task)])

    def deliver(self, delivery: Delivery) -> None:
        self.callbacks.append(delivery)

    def add_file(self, stored: StoredFile) -> None:
        self.files.append(stored)
        self.ops.append(["F", stored.id, codec.file_record(stored), str(time.time_ns() // 1000)])

    def remove_due(self, member: bytes) -> None:
        """A due event this unit ran (its member of the schedule), removed at commit."""
        self.ops.append(["R", member])

    def written(self, callbacks: list[Op], wall: Callable[[], int]) -> list[Op]:
        """Every write of the unit, as the COMMIT script applies them: its new messages first
        (whole, each with the wall time it is made at: `wall`), then the rest in the order the
        rules made them, then its callbacks."""
        made = [self._made(m, wall()) for m in self.fresh.values()]
        return made + self.ops + callbacks if made or callbacks else self.ops

    def _made(self, m: Message, made_at: int) -> Op:
        wall = f"{made_at:020d}"
        exchange = self.exchanges.get(id(m.exchange), "") if m.exchange is not None else ""
        return [
            "M",
            m.id,
            codec.message_record(m),
            wall,
            m.status.value,
            codec.number(m.created_at),
            m.provider,
            m.agent_id,
            m.phone,
            m.batch or "",
            m.external_id or "",
            "1" if codec.is_user_message(m) else "0",
            exchange,
            [[codec.event_record(e), codec.number(e.time), e.type.value] for e in m.events],
        ]
