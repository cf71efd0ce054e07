"""SerwerSMS response bodies and webhook notifications, built fresh on every call. Times are
Polish local time, `YYYY-MM-DD HH:MM:SS`, as the document shows them."""

from __future__ import annotations

import base64
from datetime import datetime
from functools import lru_cache
from typing import Any

from ...core.models import EventType, Status
from ...core.records import Event, Message
from .parse import WARSAW

# The official clients' vocabulary (in_progress: queued for sending; saved: in the scheduler),
# with RCS's "displayed" for read.
STATUS_WORDS = {
    Status.SCHEDULED: "saved",
    Status.QUEUED: "in_progress",
    Status.SENT: "sent",
    Status.DELIVERED: "delivered",
    Status.READ: "displayed",
    Status.UNDELIVERED: "undelivered",
    Status.EXPIRED: "undelivered",
    Status.NO_CAPABILITY: "undelivered",
    Status.FAILED: "undelivered",
}
REASONS = {
    Status.EXPIRED: "message_expired",
    Status.NO_CAPABILITY: "unsupported_number",
    Status.UNDELIVERED: "message_rejected",
    Status.FAILED: "other_error",
}
# Status filters of messages/reports: its own words, and "pending" for anything not yet sent.
STATUS_FILTERS = {
    word: {s for s, w in STATUS_WORDS.items() if w == word} for word in set(STATUS_WORDS.values())
}
STATUS_FILTERS["pending"] = {Status.SCHEDULED, Status.QUEUED}
REPORT_EVENTS = {
    EventType.DELIVERED: "delivered",
    EventType.READ: "displayed",
    EventType.UNDELIVERED: "undelivered",
    EventType.NO_CAPABILITY: "undelivered",
    EventType.EXPIRED: "undelivered",
    EventType.FAILED: "undelivered",
}


@lru_cache(maxsize=4096)
def _local_second(second: int) -> str:
    return datetime.fromtimestamp(second, WARSAW).strftime("%Y-%m-%d %H:%M:%S")


def local(ts: float) -> str:
    """Polish local time to the second (cached: many events share a second)."""
    return _local_second(int(ts))


def b64(text: str | None) -> str:
    return base64.b64encode((text or "").encode("utf-8")).decode("ascii")


def queued_item(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "phone": message.phone,
        "status": "queued",
        "queued": local(message.created_at),
        "text": message.text,
    }


def unsent_item(phone: str, code: int, reason: str) -> dict[str, Any]:
    return {
        "id": None,
        "phone": phone,
        "status": "unsent",
        "error_code": code,
        "error_message": reason,
    }


def send_response(queued: list[Message], unsent: list[dict[str, Any]], details: bool) -> Any:
    body: dict[str, Any] = {"success": True, "queued": len(queued), "unsent": len(unsent)}
    if details:
        body["items"] = [queued_item(m) for m in queued] + unsent
    return body


def _first(message: Message, *types: EventType) -> str | None:
    for event in message.events:
        if event.type in types:
            return local(event.time)
    return None


def report_item(message: Message) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": message.id,
        "phone": message.phone,
        "status": STATUS_WORDS[message.status],
        "queued": local(message.created_at),
        "sent": _first(message, EventType.SENT),
        "delivered": _first(message, EventType.DELIVERED, EventType.READ),
        "displayed": _first(message, EventType.READ),
        "sender": message.agent_id,
        "type": "rcs",
        "rcs_id": message.agent_id,
        "text": message.text,
    }
    if message.external_id is not None:
        item["unique_id"] = message.external_id
    if message.status in REASONS:
        item["reason"] = REASONS[message.status]
    return item


def reports(items: list[Message], page: int, pages: int) -> dict[str, Any]:
    return {"paging": {"page": page, "count": pages}, "items": [report_item(m) for m in items]}


def notification(message: Message, event: Event) -> list[dict[str, Any]] | None:
    """The JSON array one event pushes to the bot's webhook, or None if it pushes nothing."""
    common = {"rcs_id": message.agent_id, "phone": message.phone}
    if event.type in REPORT_EVENTS:
        return [
            {
                "type": "report",
                "status": REPORT_EVENTS[event.type],
                "smsid": message.id,
                **common,
                "date": local(event.time),
            }
        ]
    if event.type in (EventType.REPLY, EventType.ACTION):
        return [
            {
                "type": "reply" if event.type is EventType.REPLY else "action",
                "data": event.postback,
                "text": b64(event.text),
                **common,
                "msgid": event.ref,
                "date": local(event.time),
            }
        ]
    if event.type is EventType.MESSAGE:
        return [
            {
                "type": "message",
                "text": b64(event.text),
                **common,
                "msgid": event.ref,
                "date": local(event.time),
            }
        ]
    return None
