"""Records as the Redis engine keeps them: a message, a delivery, a file as the fields of a hash
(JSON for what never changes, a field per event or attempt for what grows), and back.

A message's hash: `r` its record (JSON), `q` its sequence in its tenant, `w` the wall time it was
made (ns: an order across tenants, whose sequences are each their own), `s` its status, `n` how
many events, `e<i>` each event and `t<i>` its member in the timelines, `x` its exchange's key;
and, for the scripts that evict or filter without parsing JSON, `p` provider, `a` agent, `ph`
phone, `b` batch, `ex` the client's own id, `ca` creation time, `u` "1" for a thread a phone
opened.
A delivery's: `r` its record, `st` state, `n` attempts, `a<i>` each, `na` the next attempt's
time, `due` when its next attempt is due, `m` "1" for a redelivery under way, `ln` its lane.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import orjson

from ...core.engine import Due, DueKind
from ...core.models import (
    USER_MESSAGE,
    Channel,
    Event,
    EventType,
    Message,
    Status,
    StoredFile,
    Suggestion,
)
from ...core.scenario_files import Step
from ...delivery.deliveries import Attempt, Delivery, DeliveryState, RetryPolicy

Fields = Mapping[bytes, bytes]


def _content(value: Any) -> Any:
    if hasattr(value, "keys"):  # a message's shared content is a read-only mapping
        return dict(value)
    raise TypeError


def message_record(m: Message) -> bytes:
    return orjson.dumps(
        {"id": m.id, "provider": m.provider, "tenant": m.tenant, "agent_id": m.agent_id,
         "phone": m.phone, "channel": m.channel.value, "kind": m.kind, "text": m.text,
         "created_at": m.created_at, "send_at": m.send_at, "content": m.content,
         "suggestions": [[s.label, s.postback, s.kind, s.target, s.card]
                         for s in m.suggestions],
         "batch": m.batch, "external_id": m.external_id},
        default=_content,
    )  # fmt: skip


def event_record(e: Event) -> bytes:
    return orjson.dumps([e.type.value, e.time, e.text, e.postback, e.ref])


def is_user_message(m: Message) -> bool:
    return m.kind == USER_MESSAGE


def message_of(fields: Fields, exchanges: Mapping[bytes, bytes] | None = None) -> Message:
    raw = orjson.loads(fields[b"r"])
    events = []
    for i in range(1, int(fields.get(b"n", b"0")) + 1):
        etype, time, text, postback, ref = orjson.loads(fields[b"e%d" % i])
        events.append(Event(EventType(etype), time, text, postback, ref))
    key = fields.get(b"x")
    return Message(
        id=raw["id"], provider=raw["provider"], tenant=raw["tenant"], agent_id=raw["agent_id"],
        phone=raw["phone"], channel=Channel(raw["channel"]), kind=raw["kind"], text=raw["text"],
        created_at=raw["created_at"], send_at=raw["send_at"], content=raw["content"],
        suggestions=tuple(Suggestion(*s) for s in raw["suggestions"]), batch=raw["batch"],
        external_id=raw["external_id"], status=Status(fields[b"s"].decode()), events=events,
        seq=int(fields.get(b"w", b"0")),  # the wall time it was made: an order across tenants
        exchange=exchanges.get(key) if exchanges is not None and key else None,
    )  # fmt: skip


def pairs(flat: list[bytes]) -> dict[bytes, bytes]:
    """A hash as HGETALL answers it inside a script: [field, value, field, value, ...]."""
    return dict(zip(flat[0::2], flat[1::2], strict=True))


def file_record(f: StoredFile) -> bytes:
    return orjson.dumps({"id": f.id, "tenant": f.tenant, "agent_id": f.agent_id, "name": f.name,
                         "mime": f.mime, "size": f.size, "uploaded_at": f.uploaded_at,
                         "expires_at": f.expires_at, "path": f.path})  # fmt: skip


def file_of(raw: bytes) -> StoredFile:
    return StoredFile(**orjson.loads(raw))


def delivery_record(d: Delivery) -> bytes:
    return orjson.dumps({"id": d.id, "provider": d.provider, "tenant": d.tenant,
                         "agent_id": d.agent_id, "phone": d.phone, "message_id": d.message_id,
                         "event": d.event, "url": d.url, "payload": d.payload,
                         "created_at": d.created_at})  # fmt: skip


def attempt_record(a: Attempt) -> bytes:
    return orjson.dumps([a.number, a.time, a.status, a.body, a.error, a.duration_ms, a.accepted])


def delivery_of(fields: Fields, policy_of: Callable[[str, str, str], RetryPolicy]) -> Delivery:
    raw = orjson.loads(fields[b"r"])
    attempts = [Attempt(*orjson.loads(fields[b"a%d" % i]))
                for i in range(1, int(fields.get(b"n", b"0")) + 1)]  # fmt: skip
    after = fields.get(b"na")
    return Delivery(
        id=raw["id"], provider=raw["provider"], tenant=raw["tenant"], agent_id=raw["agent_id"],
        phone=raw["phone"], message_id=raw["message_id"], event=raw["event"], url=raw["url"],
        payload=raw["payload"], policy=policy_of(raw["provider"], raw["tenant"], raw["agent_id"]),
        created_at=raw["created_at"], state=DeliveryState(fields[b"st"].decode()),
        next_attempt_at=float(after) if after else None, attempts=attempts,
        manual=fields.get(b"m") == b"1", due_at=float(fields.get(b"due", b"0")),
    )  # fmt: skip


_STEPS: dict[int, tuple[Step, bytes]] = {}  # a timeline's steps are shared objects: dumped once


def due_record(task: Due) -> bytes:
    step = b"null"
    if task.step is not None:
        known = _STEPS.get(id(task.step))
        if known is None or known[0] is not task.step:
            if len(_STEPS) > 10_000:
                _STEPS.clear()
            dumped = orjson.dumps(task.step.model_dump(by_alias=True, exclude_defaults=True))
            known = _STEPS[id(task.step)] = (task.step, dumped)
        step = known[1]
    ref = orjson.dumps(task.ref)
    return b'{"k":"%s","r":%s,"s":%s}' % (task.kind.value.encode(), ref, step)


def due_of(tenant: str, member: bytes) -> Due:
    """A due event from its member of the schedule ("seq|JSON")."""
    raw = orjson.loads(member.split(b"|", 1)[1])
    step = Step.model_validate(raw["s"]) if raw["s"] is not None else None
    return Due(DueKind(raw["k"]), tenant, raw["r"], step)


def number(value: float) -> str:
    """A float as a script reads it back exactly (repr round-trips)."""
    return repr(float(value))
