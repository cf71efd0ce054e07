"""Finding reports: the filters of messages/reports and messages/view over one tenant's store."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...core.emulator import Emulator
from ...core.engine import Found, MessageFilter
from ...core.models import USER_MESSAGE
from ...core.records import Message
from ...http.validators import is_whole_number
from . import payloads
from .errors import SerwerSmsApiError, SerwerSmsError
from .parse import as_list, normalize, send_time
from .provider import NAME


async def find(
    emulator: Emulator, tenant: str, params: Mapping[str, Any], offset: int, limit: int
) -> Found[Message]:
    """One page of the matching messages, newest first unless order=asc, and how many matched.
    Without filters beyond dates the page is read off the time index: paging the newest 100 of
    a million reads 100."""
    ids = as_list(params.get("id"))
    uids = as_list(params.get("unique_id"))
    ascending = str(params.get("order", "desc")).lower() == "asc"
    phone = normalize(params["phone"]) if params.get("phone") else None
    if params.get("phone") and phone is None:  # not "no filter": it would list every message
        raise SerwerSmsApiError(SerwerSmsError.INVALID_PHONE, f"phone {params['phone']!r}")
    status = params.get("status") or None
    wanted = payloads.STATUS_FILTERS.get(str(status), set()) if status else None
    if ids:
        candidates = [m for i in ids if (m := await emulator.message(tenant, str(i)))]
    elif uids:
        candidates = [m for u in uids for m in await emulator.by_external(tenant, NAME, str(u))]
    elif phone is not None:
        where = MessageFilter(provider=NAME, phone=phone)
        candidates = (await emulator.messages(tenant, where)).items
    else:
        since = local_time(params.get("date_from"))
        until = local_time(params.get("date_to"))
        if wanted is None:
            return await emulator.sent_between(
                tenant, NAME, since, until, newest_first=not ascending, offset=offset, limit=limit
            )
        every = await emulator.sent_between(
            tenant, NAME, since, until, newest_first=False, offset=0, limit=2**62
        )
        candidates = every.items
    found = [
        m
        for m in candidates
        if m.provider == NAME
        and m.kind != USER_MESSAGE  # a thread a phone opened: the phone's message, not a report
        and (phone is None or m.phone == phone)
        and (wanted is None or m.status in wanted)
    ]
    if not ascending:
        found.reverse()
    return Found(found[offset : offset + limit], len(found))


def positive(value: Any, default: int) -> int:
    text = str(value).strip() if value is not None else ""
    return int(text) if is_whole_number(text) and int(text) > 0 else default


def local_time(value: Any) -> float | None:
    if not value:
        return None
    return send_time(value, float("-inf"))
