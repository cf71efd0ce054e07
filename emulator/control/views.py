"""JSON views of core records for the control API (fresh dicts every call)."""

from __future__ import annotations

from typing import Any

from ..core.clock import Clock, iso
from ..core.models import AgentSettings, PhoneSettings
from ..core.records import ATTEMPT, DELIVERY, MESSAGE, Attempt, Delivery, Message
from ..http.exchange import exchange_view


def message_view(
    m: Message, display: dict[str, Any], refusal: str | None, exchange: bool = True
) -> dict[str, Any]:
    """The record in its data form (records.py), times as ISO 8601, with how a client lays it
    out (`display`, from Emulator.display), whether the phone can answer it over RCS
    (`refusal`, from Emulator.why_no_answer) and the HTTP exchange that created it (credentials
    masked)."""
    view = MESSAGE.dump(m)
    view["created"] = iso(view.pop("created_at"))
    view["send_at"] = iso(m.send_at)
    view["events"] = [
        event | {"time": iso(e.time), "inbound": e.inbound}
        for e, event in zip(m.events, view["events"], strict=True)
    ]
    view["display"] = display
    view["can_answer"] = refusal is None
    view["answer_refusal"] = refusal
    if exchange:
        view["exchange"] = exchange_view(m.exchange)
    return view


def delivery_view(d: Delivery) -> dict[str, Any]:
    """A delivery in its data form, times as ISO 8601, its policy said in words (the tenant is
    who asks: not repeated)."""
    view = DELIVERY.dump(d)
    for internal in ("tenant", "manual", "due_at"):
        del view[internal]
    view["created"] = iso(view.pop("created_at"))
    view["next_attempt_at"] = iso(d.next_attempt_at) if d.next_attempt_at else None
    view["attempts"] = [attempt_view(a) for a in d.attempts]
    view["policy"] = d.policy.description
    return view


def attempt_view(a: Attempt) -> dict[str, Any]:
    view = ATTEMPT.dump(a)
    view["attempt"] = view.pop("number")
    view["time"] = iso(a.time)
    view["duration_ms"] = round(a.duration_ms, 2)
    return view


def surprise_view(surprise: dict[str, Any]) -> dict[str, Any]:
    view = dict(surprise)
    if "exchange" in view:
        view["exchange"] = exchange_view(view["exchange"])
    return view


def agent_view(a: AgentSettings) -> dict[str, Any]:
    return {
        "provider": a.provider,
        "agent_id": a.agent_id,
        "webhook_url": a.webhook_url,
        "answer_tag": a.answer_tag,
        "name": a.name,
        "tenant": a.tenant,
    }


def phone_view(p: PhoneSettings) -> dict[str, Any]:
    return {"phone": p.phone, "rcs_capable": p.rcs_capable, "scenario": p.scenario}


def clock_view(clock: Clock, now: float | None = None) -> dict[str, Any]:
    now = clock.now() if now is None else now
    return {
        "mode": clock.mode,
        "now": iso(now),
        "epoch": now,
        "speed": getattr(clock, "speed", 1.0),
    }
