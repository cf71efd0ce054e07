"""From a validated POST /Message to one core Message per recipient."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...core.emulator import Emulator
from ...core.models import NO_CONTENT, Channel, Message, Suggestion
from .provider import NAME
from .schemas import (
    MessageRequest,
    RichCardContent,
    SuggestedAction,
    SuggestedReply,
    _Suggestions,
)

KINDS = {"TextMessage": "text", "RichCard": "richcard", "Carousel": "carousel"}


def _target(action: SuggestedAction) -> str | None:
    if action.open_url_action:
        return action.open_url_action.url
    if action.dial_action:
        return action.dial_action.phone_number
    if action.view_location_action:
        place = action.view_location_action
        if place.lat_long is not None:
            return f"{place.lat_long.latitude},{place.lat_long.longitude}"
        return place.query
    if action.create_calendar_event_action:
        event = action.create_calendar_event_action
        return f"{event.title} ({event.start_time} - {event.end_time})"
    return None


def _chips(holder: _Suggestions, card: int | None) -> list[Suggestion]:
    replies: list[SuggestedReply] = holder.suggested_replies
    chips = [Suggestion(r.text, r.postback_data, "reply", None, card) for r in replies]
    chips += [
        Suggestion(a.text, a.postback_data, a.kind, _target(a), card)
        for a in holder.suggested_actions
    ]
    return chips


def suggestions(request: MessageRequest) -> tuple[Suggestion, ...]:
    """Card chips in card order, then the message's own: the order a user sees them."""
    cards: list[RichCardContent] = []
    if request.rich_card_content is not None:
        cards = [request.rich_card_content]
    elif request.carousel_content is not None:
        cards = request.carousel_content.rich_card_contents
    chips: list[Suggestion] = []
    for index, card in enumerate(cards):
        chips += _chips(card, index)
    return tuple(chips + _chips(request, None))


def summary_text(request: MessageRequest) -> str:
    if request.message_type == "TextMessage":
        return request.body_text or ""
    card = request.rich_card_content or (
        request.carousel_content.rich_card_contents[0] if request.carousel_content else None
    )
    return (card.title or card.description or "") if card else ""


# Held on the record itself (recipient, type, text, chips), so not repeated in its content.
_ON_THE_RECORD = {"agent_id", "number", "message_type", "text", "text_message",
                  "suggested_actions", "suggested_replies"}  # fmt: skip


def extra_content(request: MessageRequest) -> Mapping[str, Any]:
    """The request's content beyond the record's own fields: nothing for a plain text."""
    if (
        request.message_type == "TextMessage"
        and request.tag is None
        and (request.sms_fallback_text is None)
    ):
        return NO_CONTENT
    return request.model_dump(by_alias=True, exclude_none=True, exclude=_ON_THE_RECORD)


def build(emulator: Emulator, request: MessageRequest, tenant: str, tag_id: str) -> list[Message]:
    now = emulator.clock.now()
    content = extra_content(request)
    chips = suggestions(request)
    messages = []
    for number in request.number:
        sms = request.sms_fallback_text is not None and not emulator.capable(number)
        messages.append(
            Message(
                id=emulator.ids.uuid(),
                provider=NAME,
                tenant=tenant,
                agent_id=request.agent_id,
                phone=number,
                channel=Channel.SMS if sms else Channel.RCS,
                kind="sms" if sms else KINDS[request.message_type],
                text=(request.sms_fallback_text or "") if sms else summary_text(request),
                created_at=now,
                send_at=now,
                content=content,
                suggestions=() if sms else chips,
                batch=tag_id,
            )
        )
    return messages
