"""A unit of work over one tenant's records in Redis: copies of what it loaded, and the writes
the rules make, kept as deltas (a message added, an event appended, a status moved, a due event,
a callback, a file) that one script applies at commit, all of them or none.

The rules see the copies change as they write (an event appended is on the message they hold),
so a rule that reads what an earlier one wrote in the same unit sees it; the script applies the
deltas, never the copies, so another process's writes to the same records in between are kept
(events append, a status only moves forward there too)."""

from __future__ import annotations

import time

from ...core.engine import Due
from ...core.models import STATUS_RANK, Event, Message, Status, StoredFile
from ...delivery.deliveries import Callback
from . import codec


class RedisUnit:
    __slots__ = ("tenant", "epoch", "fence", "messages", "latest", "ops", "exchanges",
                 "callbacks", "files", "removed")  # fmt: skip

    def __init__(self, tenant: str, epoch: str = "", fence: str = "") -> None:
        self.tenant = tenant
        self.epoch = epoch  # the tenant's epoch the loads saw ('' none: a send, which loads none)
        self.fence = fence  # the lease a run of due events holds ('' none)
        self.messages: dict[str, Message] = {}
        self.latest: dict[tuple[str, str, str], Message | None] = {}
        self.ops: list[str | bytes] = []
        self.exchanges: dict[int, str] = {}  # id() of an exchange written: its key
        self.callbacks: list[Callback] = []  # made once committed (their ids are given then)
        self.files: list[StoredFile] = []

    # -- reads ------------------------------------------------------------------------------

    def message(self, message_id: str) -> Message | None:
        return self.messages.get(message_id)

    def latest_to(self, provider: str, agent_id: str, phone: str) -> Message | None:
        return self.latest.get((provider, agent_id, phone))

    def alive(self, message: Message) -> bool:
        return self.messages.get(message.id) is message

    # -- writes -----------------------------------------------------------------------------

    def add(self, message: Message) -> None:
        self.messages[message.id] = message
        xkey = ""
        if message.exchange is not None:
            xkey = self.exchanges.get(id(message.exchange), "")
            if not xkey:
                xkey = self.exchanges[id(message.exchange)] = message.id
                self.ops += ("X", xkey, message.exchange)
        self.ops += (
            "M", message.id, codec.message_record(message), str(time.time_ns()),
            message.status.value,
            codec.number(message.created_at), message.provider, message.agent_id, message.phone,
            message.batch or "", message.external_id or "",
            "1" if codec.is_user_message(message) else "0", xkey,
        )  # fmt: skip
        for event in message.events:  # none yet, unless a rule recorded before adding
            self.ops += ("E", message.id, codec.event_record(event), codec.number(event.time),
                         "")  # fmt: skip

    def record(self, message: Message, event: Event, status: Status | None = None) -> bool:
        message.events.append(event)
        moved = status is not None and STATUS_RANK[status] > STATUS_RANK[message.status]
        if moved:
            assert status is not None
            message.status = status
        self.ops += ("E", message.id, codec.event_record(event), codec.number(event.time),
                     status.value if moved and status is not None else "")  # fmt: skip
        return moved

    def set_status(self, message: Message, status: Status) -> None:
        message.status = status
        self.ops += ("S", message.id, status.value)

    def schedule(self, due: float, task: Due) -> None:
        self.ops += ("D", codec.number(due), codec.due_record(task))

    def deliver(self, callback: Callback) -> None:
        self.callbacks.append(callback)

    def add_file(self, stored: StoredFile) -> None:
        self.files.append(stored)
        self.ops += ("F", stored.id, codec.file_record(stored))

    def remove_due(self, member: bytes) -> None:
        """A due event this unit ran (its member of the schedule), removed at commit."""
        self.ops += ("R", member)
