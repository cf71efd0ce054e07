"""From validated send_rcs parameters to one core Message per valid phone number."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ...core.emulator import SLICE, Emulator
from ...core.models import NO_CONTENT, Channel, Message, Suggestion
from ...http.validators import parse_iso8601
from .errors import SerwerSmsApiError, SerwerSmsError
from .payloads import WARSAW, unsent_item
from .phones import normalize
from .provider import NAME
from .schemas import RcsMessage
from .schemas import Suggestion as SuggestionModel

MAX_NUMBERS = 100_000
_UNIQUE_ID = re.compile(r"[A-Za-z0-9]{3,50}")
_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}(?::[0-9]{2})?")


@dataclass
class Outcome:
    queued: list[Message]
    unsent: list[dict[str, Any]]


def _chips(items: Sequence[SuggestionModel], card: int | None) -> list[Suggestion]:
    chips = []
    for item in items:
        if item.reply is not None:
            chips.append(Suggestion(item.reply.text, item.reply.postback, "reply", None, card))
        elif item.action is not None:
            a = item.action
            chips.append(Suggestion(a.text, a.postback, a.action, a.to, card))
    return chips


def suggestions(message: RcsMessage) -> tuple[Suggestion, ...]:
    chips: list[Suggestion] = []
    for index, card in enumerate(message.cards):
        chips += _chips(card.suggestions, index)
    return tuple(chips + _chips(message.suggestions, None))


def summary(message: RcsMessage) -> str:
    if message.text is not None:
        return message.text
    if message.file is not None:
        return message.file.name
    if message.audio is not None:
        return message.audio.name
    return message.cards[0].title if message.cards else ""


def as_list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, str) and "," in value:
        return [v for v in (p.strip() for p in value.split(",")) if v]
    return [value]


def unique_ids(value: Any, count: int) -> list[str | None]:
    """One client id per phone, in order; a bad id or a count mismatch refuses the request."""
    ids = as_list(value)
    if not ids:
        return [None] * count
    if len(ids) != count:
        raise SerwerSmsApiError(
            SerwerSmsError.INVALID_DATA, f"{len(ids)} unique_id for {count} numbers"
        )
    for uid in ids:
        valid = isinstance(uid, str | int) and not isinstance(uid, bool)
        if not valid or _UNIQUE_ID.fullmatch(str(uid)) is None:
            raise SerwerSmsApiError(SerwerSmsError.INVALID_DATA, f"unique_id {uid!r}")
    if len({str(u) for u in ids}) != len(ids):
        raise SerwerSmsApiError(SerwerSmsError.INVALID_DATA, "unique_id repeated")
    return [str(u) for u in ids]


def send_time(value: Any, now: float) -> float:
    """`date` is Polish local time (or ISO 8601 with an offset); the past means now."""
    if value is None or value == "":
        return now
    parsed = _date(value) if isinstance(value, str) else None
    if parsed is None:
        raise SerwerSmsApiError(SerwerSmsError.INVALID_DATA, f"date {value!r}")
    return max(now, parsed.timestamp())


def _date(text: str) -> datetime | None:
    """`YYYY-MM-DD HH:MM:SS` (or ISO 8601), read whole and in ASCII digits (strptime alone
    would take Arabic-Indic digits and single-digit fields)."""
    if _DATE.fullmatch(text) is not None:
        for fmt in _DATE_FORMATS:
            try:
                return datetime.strptime(text, fmt).replace(tzinfo=WARSAW)
            except ValueError:
                continue
    parsed = parse_iso8601(text)
    if parsed is not None and parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=WARSAW)
    return parsed


def extra_content(message: RcsMessage) -> Mapping[str, Any]:
    """What the record's text and chips do not hold: the file, audio or cards (none for text)."""
    if message.kind == "text":
        return NO_CONTENT
    return message.model_dump(mode="json", exclude_none=True, exclude={"text", "suggestions"})


async def build(
    emulator: Emulator,
    *,
    tenant: str,
    rcs_id: str,
    phones: list[Any],
    message: RcsMessage,
    content: Mapping[str, Any],
    ids: list[str | None],
    send_at: float,
    networks: tuple[str, ...],
) -> Outcome:
    now = emulator.clock.now()
    chips = suggestions(message)
    text = summary(message)
    queued: list[Message] = []
    unsent: list[dict[str, Any]] = []
    invalid = unsupported = 0
    for position, (raw, uid) in enumerate(zip(phones, ids, strict=True)):
        if position and not position % SLICE:
            await asyncio.sleep(0)  # a 100,000-number send lets other clients in
        phone = normalize(raw)
        if phone is None:
            invalid += 1
            error = SerwerSmsError.RCS_INVALID_PHONE
            unsent.append(unsent_item(str(raw), error.code, error.message))
            continue
        if networks and not phone.startswith(networks):
            unsupported += 1
            error = SerwerSmsError.RCS_NETWORK
            unsent.append(unsent_item(phone, error.code, error.message))
            continue
        queued.append(
            Message(
                id=emulator.ids.hex(10),
                provider=NAME,
                tenant=tenant,
                agent_id=rcs_id,
                phone=phone,
                channel=Channel.RCS,
                kind=message.kind,
                text=text,
                created_at=now,
                send_at=send_at,
                content=content,
                suggestions=chips,
                external_id=uid,
            )
        )
    if not queued:
        only_network = unsupported and not invalid
        raise SerwerSmsApiError(
            SerwerSmsError.RCS_NETWORK if only_network else SerwerSmsError.RCS_INVALID_PHONE
        )
    return Outcome(queued, unsent)
