"""Records as the Redis engine keeps them: a message, a delivery, a file as the fields of a hash,
and back, through each record's one data form (core/records.py): `r` holds the form (JSON) but
for what changes, which has fields of its own; events and attempts are rows of their forms.

A message's hash: `r` its record, `q` its sequence in its tenant, `w` the wall time it was
made (ns: an order across tenants, whose sequences are each their own), `s` its status, `n` how
many events, `e<i>` each event and `t<i>` its member in the timelines, `x` its exchange's key;
and, for the scripts that evict or filter without parsing JSON, `p` provider, `a` agent, `ph`
phone, `b` batch, `ex` the client's own id, `ca` creation time, `u` "1" for a thread a phone
opened.
A delivery's: `id` its id, `r` its record, `st` state, `n` attempts, `a<i>` each, `na` the next
attempt's time, `due` when its next attempt is due, `m` "1" for a redelivery under way, `ln` its
lane, `by` the claim of its attempt under way; and, for the scripts that filter without parsing
JSON, `p` provider, `a` agent, `ph` phone, `mid` its message's id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from ...core.models import USER_MESSAGE, Status
from ...core.records import (
    ATTEMPT,
    DELIVERY,
    DUE,
    EVENT,
    FILE,
    MESSAGE,
    Attempt,
    Delivery,
    Due,
    Event,
    Message,
    StoredFile,
)

Fields = Mapping[bytes, bytes]

# What a message's and a delivery's hash keep in fields of their own (they change), beside the
# rest of the record's data form in `r`.
_MESSAGE_APART = ("status", "events")
_DELIVERY_APART = ("state", "attempts", "next_attempt_at", "manual", "due_at")


def _content(value: Any) -> Any:
    if hasattr(value, "keys"):  # a message's shared content is a read-only mapping
        return dict(value)
    raise TypeError


def message_record(m: Message) -> bytes:
    data = MESSAGE.dump(m)
    for name in _MESSAGE_APART:
        del data[name]
    return orjson.dumps(data, default=_content)


def event_record(e: Event) -> bytes:
    return orjson.dumps(EVENT.row(e))


def is_user_message(m: Message) -> bool:
    return m.kind == USER_MESSAGE


def message_of(fields: Fields, exchanges: Mapping[bytes, bytes] | None = None) -> Message:
    data = orjson.loads(fields[b"r"])
    data["status"] = fields[b"s"].decode()
    message = MESSAGE.load(data)
    message.events = [
        EVENT.from_row(orjson.loads(fields[b"e%d" % i]))
        for i in range(1, int(fields.get(b"n", b"0")) + 1)
    ]
    message.seq = int(fields.get(b"w", b"0"))  # the wall time it was made: an order across tenants
    key = fields.get(b"x")
    if exchanges is not None and key:
        message.exchange = exchanges.get(key)
    return message


def pairs(flat: list[bytes]) -> dict[bytes, bytes]:
    """A hash as HGETALL answers it inside a script: [field, value, field, value, ...]."""
    return dict(zip(flat[0::2], flat[1::2], strict=True))


def file_record(f: StoredFile) -> bytes:
    return orjson.dumps(FILE.dump(f))


def file_of(raw: bytes) -> StoredFile:
    return FILE.load(orjson.loads(raw))


def delivery_record(d: Delivery) -> bytes:
    data = DELIVERY.dump(d)
    for name in _DELIVERY_APART:
        del data[name]
    return orjson.dumps(data, default=_content)


def attempt_record(a: Attempt) -> bytes:
    return orjson.dumps(ATTEMPT.row(a))


def delivery_of(fields: Fields) -> Delivery:
    data = orjson.loads(fields[b"r"])
    after = fields.get(b"na")
    data |= {
        "id": int(fields[b"id"]),  # (given by the script that made it)
        "state": fields[b"st"].decode(),
        "next_attempt_at": float(after) if after else None,
        "manual": fields.get(b"m") == b"1",
        "due_at": float(fields.get(b"due", b"0")),
    }
    delivery = DELIVERY.load(data)
    delivery.attempts = [
        ATTEMPT.from_row(orjson.loads(fields[b"a%d" % i]))
        for i in range(1, int(fields.get(b"n", b"0")) + 1)
    ]
    return delivery


def due_record(task: Due) -> bytes:
    return orjson.dumps(DUE.row(task))


def due_of(member: bytes) -> Due:
    """A due event from its member of the schedule ("seq|JSON")."""
    return DUE.from_row(orjson.loads(member.split(b"|", 1)[1]))


def status_of(name: str) -> Status:
    return Status(name)


def number(value: float) -> str:
    """A float as a script reads it back exactly (repr round-trips)."""
    return repr(float(value))
