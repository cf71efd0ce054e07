"""Response bodies and callback payloads of the Generic API, built fresh on every call."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from ...core.models import Channel, EventType, Status
from ...core.records import Event, Message, TimelineEntry

AGENT = "Agent"  # how the message thread names the business side

EVENT_TYPES = {
    EventType.DELIVERED: "DELIVERED",
    EventType.READ: "READ",
    EventType.REPLY: "REPLY",
    EventType.ACTION: "ACTION",
    EventType.MESSAGE: "TEXT",
    EventType.NO_CAPABILITY: "NO_CAPABILITY",
    EventType.UNDELIVERED: "UNDELIVERED",
    EventType.EXPIRED: "EXPIRED",
    EventType.FAILED: "FAILED",
}
MESSAGE_TYPES = {"text": "TextMessage", "richcard": "RichCard", "carousel": "Carousel"}
# Pushed to the callback URL: what the user did, and receipts.
CALLBACK_EVENTS = frozenset(
    {EventType.DELIVERED, EventType.READ, EventType.REPLY, EventType.ACTION, EventType.MESSAGE}
)
_REACTIONS = frozenset({EventType.REPLY, EventType.ACTION, EventType.MESSAGE})


def local_time(ts: float) -> str:
    """The read endpoints' form: ISO 8601 without an offset, UTC."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def zulu_time(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def send_response(tag_id: str) -> dict[str, Any]:
    return {"tagId": tag_id}


def _event_type(message: Message, event: Event) -> str:
    if event.type is EventType.SENT:
        return MESSAGE_TYPES.get(message.kind, "TextMessage")
    return EVENT_TYPES[event.type]


def _reached(message: Message) -> bool:
    return message.status in (Status.DELIVERED, Status.READ)


def tag_statistics(messages: Iterable[Message]) -> dict[str, Any]:
    rcs: list[dict[str, str]] = []
    sms: list[dict[str, str]] = []
    delivered_rcs = read_rcs = replied_rcs = delivered_sms = 0
    for m in messages:
        entry = {"number": m.phone, "messageId": m.id}
        if m.channel is Channel.SMS:
            sms.append(entry)
            delivered_sms += _reached(m)
            continue
        rcs.append(entry)
        delivered_rcs += _reached(m)
        read_rcs += m.status is Status.READ
        replied_rcs += any(e.type in _REACTIONS for e in m.events)
    return {
        "totalNumberMessages": len(rcs) + len(sms),
        "smsNumbers": len(sms),
        "rcsNumbers": len(rcs),
        "deliveredSms": delivered_sms,
        "deliveredRcs": delivered_rcs,
        "readRcs": read_rcs,
        "repliedRcs": replied_rcs,
        "rcs": rcs,
        "sms": sms,
    }


def message_thread(message: Message) -> list[dict[str, Any]]:
    """Every event of one message, newest first; an SMS fallback has a single entry."""
    if message.channel is Channel.SMS:
        sent = message.events[0].time if message.events else message.created_at
        return [
            {
                "from": message.agent_id,
                "to": message.phone.lstrip("+"),
                "time": local_time(sent),
                "messageType": "SMS",
                "status": _sms_status(message.status),
            }
        ]
    thread = []
    for event in reversed(message.events):
        item: dict[str, Any] = {
            "from": message.phone if event.inbound else AGENT,
            "to": AGENT if event.inbound else message.phone,
            "time": local_time(event.time),
            "messageType": _event_type(message, event),
        }
        if event.type in _REACTIONS and event.text is not None:
            item["reply"] = event.text
        thread.append(item)
    return thread


def _sms_status(status: Status) -> str:
    return {Status.READ: "delivered", Status.SCHEDULED: "queued"}.get(status, status.value)


def agent_messages(entries: Iterable[TimelineEntry], agent_name: str) -> list[dict[str, Any]]:
    out = []
    for entry in entries:
        message, event = entry.message, entry.event
        item: dict[str, Any] = {
            "agentId": message.agent_id,
            "time": local_time(event.time),
            "messageId": message.id,
            "messageType": "SMS"
            if message.channel is Channel.SMS and event.type is EventType.SENT
            else _event_type(message, event),
            "to": agent_name if event.inbound else message.phone,
            "from": message.phone if event.inbound else agent_name,
        }
        if event.postback is not None:
            item["postbackData"] = event.postback
        if event.type in _REACTIONS and event.text is not None:
            item["response"] = event.text
        out.append(item)
    return out


def callback(message: Message, event: Event) -> dict[str, Any]:
    return {
        "AgentId": message.agent_id,
        "MessageId": message.id,
        "Time": zulu_time(event.time),
        "SenderPhoneNo": message.phone,
        "PostbackData": event.postback,
        "Text": event.text,
        "Type": EVENT_TYPES[event.type],
    }
