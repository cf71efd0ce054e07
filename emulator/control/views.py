"""JSON views of core records for the control API (fresh dicts every call)."""

from __future__ import annotations

from typing import Any

from ..core.clock import Clock, iso
from ..core.models import AgentSettings, Message, PhoneSettings
from ..http.exchange import exchange_view


def message_view(
    m: Message, display: dict[str, Any], refusal: str | None, exchange: bool = True
) -> dict[str, Any]:
    """The record, how a client lays it out (`display`, from Emulator.display), whether the
    phone can answer it over RCS (`refusal`, from Emulator.why_no_answer) and the HTTP exchange
    that created it (credentials masked)."""
    view = {
        "id": m.id,
        "provider": m.provider,
        "tenant": m.tenant,
        "agent_id": m.agent_id,
        "phone": m.phone,
        "channel": m.channel.value,
        "kind": m.kind,
        "text": m.text,
        "status": m.status.value,
        "created": iso(m.created_at),
        "send_at": iso(m.send_at),
        "batch": m.batch,
        "external_id": m.external_id,
        "suggestions": [
            {
                "label": s.label,
                "postback": s.postback,
                "kind": s.kind,
                "target": s.target,
                "card": s.card,
            }
            for s in m.suggestions
        ],
        "content": dict(m.content),
        "events": [
            {
                "type": e.type.value,
                "time": iso(e.time),
                "inbound": e.inbound,
                "text": e.text,
                "postback": e.postback,
            }
            for e in m.events
        ],
        "display": display,
        "can_answer": refusal is None,
        "answer_refusal": refusal,
    }
    if exchange:
        view["exchange"] = exchange_view(m.exchange)
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
    return {"mode": clock.mode, "now": iso(now), "epoch": now,
            "speed": getattr(clock, "speed", 1.0)}  # fmt: skip
