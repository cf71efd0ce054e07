"""Finding reports: the filters of messages/reports and messages/view over one tenant's store."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ...core.emulator import Emulator
from ...core.models import USER_MESSAGE, Message
from ...http.validators import is_whole_number
from . import payloads
from .messages import as_list, send_time
from .phones import normalize
from .provider import NAME


def find(emulator: Emulator, tenant: str, params: Mapping[str, Any]) -> Sequence[Message]:
    """Matching messages, newest first unless order=asc. Without filters beyond dates the
    answer is a view of the time index: paging the newest 100 of a million copies 100."""
    store = emulator.stores.of(tenant)
    ids = as_list(params.get("id"))
    uids = as_list(params.get("unique_id"))
    ascending = str(params.get("order", "desc")).lower() == "asc"
    phone = normalize(params["phone"]) if params.get("phone") else None
    status = params.get("status") or None
    wanted = payloads.STATUS_FILTERS.get(str(status), set()) if status else None
    if ids:
        candidates: Sequence[Message] = [m for i in ids if (m := store.get(str(i)))]
    elif uids:
        candidates = [m for u in uids for m in store.by_external(NAME, str(u))]
    elif phone is not None:
        candidates = [m for m in store.query(provider=NAME, phone=phone)]
    else:
        since = local_time(params.get("date_from"))
        until = local_time(params.get("date_to"))
        candidates = store.sent_between(NAME, since, until)
        if wanted is None and not store.user_messages:
            return candidates if ascending else _Newest(candidates)
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
    return found


class _Newest(Sequence[Message]):
    """A sequence read back to front, without copying it."""

    def __init__(self, items: Sequence[Message]) -> None:
        self._items = items

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index):  # type: ignore[no-untyped-def, override]
        n = len(self._items)
        if isinstance(index, slice):
            start, stop, _ = index.indices(n)
            if start >= stop:
                return []
            return list(reversed(self._items[n - stop : n - start]))
        return self._items[n - 1 - index]


def positive(value: Any, default: int) -> int:
    text = str(value).strip() if value is not None else ""
    return int(text) if is_whole_number(text) and int(text) > 0 else default


def local_time(value: Any) -> float | None:
    if not value:
        return None
    return send_time(value, float("-inf"))
