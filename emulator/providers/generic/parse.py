"""What a Generic request says, read as the real API reads it (pure and synchronous): the field
types with the document's limits, suggestions and their actions, the POST /Message model, what GET
endpoints take in paths, queries and the Capability body, which uploads are taken, and the drafts
of one send: a Message per recipient. Endpoints parse here, call the emulator, and render with
payloads."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC
from typing import Annotated, Any, ClassVar, Literal

import filetype
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from ...core import pydantic_errors
from ...core.models import NO_CONTENT, Channel
from ...core.records import Message, Suggestion
from ...http.validators import (
    is_e164,
    is_whole_number,
    parse_iso8601,
    parse_rfc3339,
    plus_prefixed,
    web_url,
    without_nulls,
)
from .errors import GenericApiError, GenericError, validation
from .provider import NAME

# -- Field types: the document's limits, enum words in any case, names in any case ----------------

MAX_TEXT = 3072
MAX_LABEL = 25
MAX_POSTBACK = 2048
MAX_SUGGESTIONS = 11
MAX_CARD_SUGGESTIONS = 4
MAX_TITLE = 200
MAX_DESCRIPTION = 2000


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


_DECIMAL = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")


def _number(value: Any) -> Any:
    """Coordinates come as numbers or numeric strings ("59.369565", as the document writes
    them); a string is read whole, in ASCII digits (float() would also take " 59.3\n", "1e2",
    "1_0" and Arabic-Indic digits)."""
    if isinstance(value, str):
        if _DECIMAL.fullmatch(value) is None:
            raise ValueError("must be a number written in decimal digits, e.g. 59.369565")
        return float(value)
    return value


Height = Annotated[Literal["SHORT", "MEDIUM", "TALL"], BeforeValidator(_upper)]
Orientation = Annotated[Literal["VERTICAL", "HORIZONTAL"], BeforeValidator(_upper)]
Alignment = Annotated[Literal["LEFT", "RIGHT"], BeforeValidator(_upper)]
CardWidth = Annotated[Literal["SMALL", "MEDIUM"], BeforeValidator(_upper)]
Label = Annotated[str, Field(min_length=1, max_length=MAX_LABEL)]
Postback = Annotated[str, Field(min_length=1, max_length=MAX_POSTBACK)]


class CIModel(BaseModel):
    """A model whose JSON property names match case-insensitively; unknown names are ignored."""

    model_config = ConfigDict(populate_by_name=False, extra="ignore", frozen=True, strict=False)
    _aliases: ClassVar[dict[str, str]]
    _canonical: ClassVar[frozenset[str]]

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls._aliases = {}
        for name, info in cls.model_fields.items():
            for key in (info.alias or name, *getattr(cls, "_extra_aliases", {}).get(name, ())):
                cls._aliases[key.lower()] = info.alias or name
        cls._canonical = frozenset(info.alias or name for name, info in cls.model_fields.items())

    @model_validator(mode="before")
    @classmethod
    def _fold_case(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        if cls._canonical.issuperset(data):
            return data  # the usual case: the client spelt every name as the document does
        folded: dict[str, Any] = {}
        for key, value in data.items():
            alias = cls._aliases.get(key.lower()) if isinstance(key, str) else None
            if alias is not None:
                folded[alias] = value
        return folded


# -- Suggestions: replies and the actions a chip carries ------------------------------------------


class LatLng(CIModel):
    latitude: Annotated[float, BeforeValidator(_number), Field(ge=-90, le=90)]
    longitude: Annotated[float, BeforeValidator(_number), Field(ge=-180, le=180)]


def _check_phone(value: str) -> str:
    if not is_e164(value):
        raise ValueError("must be a phone number in E.164 format, e.g. +46701234567")
    return value


def _distinct(numbers: list[str]) -> list[str]:
    """A number listed twice gets one message."""
    return list(dict.fromkeys(numbers))


WebUrl = Annotated[str, AfterValidator(web_url)]
Phone = Annotated[str, AfterValidator(_check_phone)]


class DialAction(CIModel):
    phone_number: Phone = Field(alias="phoneNumber")


class ViewLocationAction(CIModel):
    _extra_aliases: ClassVar[dict[str, tuple[str, ...]]] = {"lat_long": ("latLng",)}
    lat_long: LatLng | None = Field(default=None, alias="latLong")
    label: str | None = Field(default=None, max_length=100)
    query: str | None = Field(default=None, min_length=1, max_length=1000)

    @model_validator(mode="after")
    def _place(self) -> ViewLocationAction:
        if self.lat_long is None and self.query is None:
            raise ValueError("viewLocationAction needs latLong or query")
        return self


class CreateCalendarEventAction(CIModel):
    start_time: str = Field(alias="startTime")
    end_time: str = Field(alias="endTime")
    title: str = Field(min_length=1, max_length=100)
    description: str = Field(min_length=1, max_length=500)

    @field_validator("start_time", "end_time")
    @classmethod
    def _rfc3339(cls, value: str) -> str:
        if parse_rfc3339(value) is None:
            raise ValueError("must be an RFC 3339 date-time, e.g. 2024-10-02T15:01:23Z")
        return value

    @model_validator(mode="after")
    def _order(self) -> CreateCalendarEventAction:
        start, end = parse_rfc3339(self.start_time), parse_rfc3339(self.end_time)
        if start and end and end <= start:
            raise ValueError("endTime must be after startTime")
        return self


class OpenUrlAction(CIModel):
    url: WebUrl


class ShareLocationAction(CIModel):
    pass


ACTION_FIELDS = {
    "open_url_action": "url",
    "dial_action": "dial",
    "view_location_action": "map",
    "create_calendar_event_action": "calendar",
    "share_location_action": "share_location",
}


class SuggestedReply(CIModel):
    text: Label
    postback_data: Postback = Field(alias="postbackData")


class SuggestedAction(CIModel):
    text: Label
    postback_data: Postback = Field(alias="postbackData")
    open_url_action: OpenUrlAction | None = Field(default=None, alias="openUrlAction")
    dial_action: DialAction | None = Field(default=None, alias="dialAction")
    view_location_action: ViewLocationAction | None = Field(
        default=None, alias="viewLocationAction"
    )
    create_calendar_event_action: CreateCalendarEventAction | None = Field(
        default=None, alias="createCalendarEventAction"
    )
    share_location_action: ShareLocationAction | None = Field(
        default=None, alias="shareLocationAction"
    )

    @model_validator(mode="after")
    def _one_action(self) -> SuggestedAction:
        given = [name for name in ACTION_FIELDS if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(
                "A suggested action needs exactly one of openUrlAction, dialAction, "
                "viewLocationAction, createCalendarEventAction, shareLocationAction "
                f"(got {len(given)})"
            )
        return self

    @property
    def kind(self) -> str:
        return next(ACTION_FIELDS[n] for n in ACTION_FIELDS if getattr(self, n) is not None)


# -- The POST /Message request --------------------------------------------------------------------


class _Suggestions(CIModel):
    suggested_actions: list[SuggestedAction] = Field(default_factory=list, alias="suggestedActions")
    suggested_replies: list[SuggestedReply] = Field(default_factory=list, alias="suggestedReplies")


class RichCardContent(_Suggestions):
    height: Height | None = None
    orientation: Orientation | None = None
    thumbnail_image_alignment: Alignment | None = Field(
        default=None, alias="thumbnailImageAlignment"
    )
    title: str | None = Field(default=None, max_length=MAX_TITLE)
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION)
    file_url: WebUrl | None = Field(default=None, alias="fileUrl")
    file_id: str | None = Field(default=None, alias="fileId", min_length=1)

    @model_validator(mode="after")
    def _content(self) -> RichCardContent:
        total = len(self.suggested_actions) + len(self.suggested_replies)
        if total > MAX_CARD_SUGGESTIONS:
            raise ValueError(
                f"A rich card holds at most {MAX_CARD_SUGGESTIONS} suggested replies and actions "
                f"(got {total})"
            )
        if not (self.title or self.description or self.file_url or self.file_id):
            raise ValueError("A rich card needs at least one of title, description, media")
        if self.file_url and self.file_id:
            raise ValueError("Give the media as fileUrl or fileId, not both")
        return self


class CarouselContent(CIModel):
    card_width: CardWidth = Field(default="MEDIUM", alias="cardWidth")
    rich_card_contents: list[RichCardContent] = Field(
        alias="richCardContents", min_length=2, max_length=10
    )


class TextMessageContent(CIModel):
    text: str = Field(min_length=1, max_length=MAX_TEXT)


MESSAGE_TYPES = {"textmessage": "TextMessage", "text": "TextMessage"}
MESSAGE_TYPES |= {"richcard": "RichCard", "carousel": "Carousel"}


class MessageRequest(_Suggestions):
    agent_id: str = Field(alias="agentId", min_length=1, max_length=200)
    number: Annotated[list[Phone], AfterValidator(_distinct)] = Field(min_length=1)
    message_type: str = Field(alias="messageType")
    tag: str | None = Field(default=None, max_length=200)
    text: str | None = Field(default=None, max_length=MAX_TEXT)
    text_message: TextMessageContent | None = Field(default=None, alias="textMessage")
    rich_card_content: RichCardContent | None = Field(default=None, alias="richCardContent")
    carousel_content: CarouselContent | None = Field(default=None, alias="carouselContent")
    sms_fallback_text: str | None = Field(default=None, alias="smsFallbackText", min_length=1)

    @field_validator("message_type")
    @classmethod
    def _type(cls, value: str) -> str:
        canonical = MESSAGE_TYPES.get(value.lower())
        if canonical is None:
            raise ValueError("must be one of TextMessage, RichCard, Carousel")
        return canonical

    def field_problems(self) -> dict[str, list[str]]:
        """Rules on the request as a whole, keyed by the field that breaks them."""
        problems: dict[str, list[str]] = {}
        if self.message_type == "TextMessage" and not self.body_text:
            problems["text"] = ["The text field is required for messageType TextMessage."]
        if self.message_type == "RichCard" and self.rich_card_content is None:
            problems["richCardContent"] = [
                "The richCardContent field is required for messageType RichCard."
            ]
        if self.message_type == "Carousel" and self.carousel_content is None:
            problems["carouselContent"] = [
                "The carouselContent field is required for messageType Carousel."
            ]
        total = len(self.suggested_actions) + len(self.suggested_replies)
        if total > MAX_SUGGESTIONS:
            key = "suggestedActions" if self.suggested_actions else "suggestedReplies"
            problems[key] = [
                f"At most {MAX_SUGGESTIONS} suggested replies and actions combined are allowed "
                f"outside the cards (got {total})."
            ]
        return problems

    @property
    def body_text(self) -> str | None:
        return self.text or (self.text_message.text if self.text_message else None)


_MESSAGES = {
    "missing": "The {field} field is required.",
    "string_too_long": "The field {field} must be a string with a maximum length of {max_length}.",
    "string_too_short": "The field {field} must be a string with a minimum length of {min_length}.",
    "too_long": "The field {field} must have at most {max_length} items.",
    "too_short": "The field {field} must have at least {min_length} items.",
    "string_type": "The field {field} must be a string.",
    "list_type": "The field {field} must be a JSON array.",
    "model_type": "The field {field} must be a JSON object.",
    "model_attributes_type": "The field {field} must be a JSON object.",
    "dict_type": "The field {field} must be a JSON object.",
    "float_parsing": "The field {field} must be a number.",
    "float_type": "The field {field} must be a number.",
    "literal_error": "The field {field} must be one of {expected}.",
    "greater_than_equal": "The field {field} must be at least {ge}.",
    "less_than_equal": "The field {field} must be at most {le}.",
    "finite_number": "The field {field} must be a finite number.",
}


def field_path(loc: tuple[Any, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif isinstance(part, str) and not part.startswith(("function-", "literal[", "lax-")):
            path += ("." if path else "") + part
    return path or "$"


def describe(error: dict[str, Any]) -> tuple[str, str]:
    path = field_path(tuple(error["loc"]))
    field = path.rsplit(".", 1)[-1] if path != "$" else "request body"
    ctx = error.get("ctx") or {}
    template = _MESSAGES.get(error["type"])
    if template is not None:
        try:
            return path, template.format(field=field, **ctx)
        except (KeyError, IndexError):
            pass
    message = pydantic_errors.message(error)
    if error["type"] == "value_error":
        if message.startswith("must "):
            message = f"The field {field} {message}"
        return path, message + ("" if message.endswith(".") else ".")
    return path, f"The field {field} is invalid: {message}."


def parse_message(data: Any) -> MessageRequest:
    if not isinstance(data, dict):
        raise GenericApiError(
            GenericError.VALIDATION, errors={"$": ["The request body must be a JSON object."]}
        )
    try:
        request = MessageRequest.model_validate(without_nulls(data))
    except ValidationError as exc:
        errors: dict[str, list[str]] = {}
        for err in exc.errors(include_url=False):
            path, message = describe(dict(err))
            errors.setdefault(path, []).append(message)
        raise GenericApiError(GenericError.VALIDATION, errors=errors) from None
    problems = request.field_problems()
    if problems:
        raise GenericApiError(GenericError.VALIDATION, errors=problems)
    return request


# -- What GET endpoints take: paths, query strings, the Capability body ---------------------------

DEFAULT_LIMIT = 100


def guid(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise GenericApiError(GenericError.NOT_FOUND) from None


def limit(value: str | None) -> int:
    if value is None or value == "":
        return DEFAULT_LIMIT
    text = value.strip()
    if not is_whole_number(text):
        raise validation("limit", f"The value '{value}' is not valid for limit.")
    return int(text)  # what was checked: "0\x1f" strips to "0" but int() of it would fail


def time(query: Mapping[str, str], name: str) -> float | None:
    value = query.get(name)
    if not value:
        return None
    parsed = parse_iso8601(value)
    if parsed is None:
        raise validation(name, f"The value '{value}' is not a valid ISO 8601 time.")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def phone_filter(value: str | None) -> str | None:
    if not value:
        return None
    phone = plus_prefixed(value)
    if not is_e164(phone):
        raise validation("phoneNumber", "The phoneNumber must be an E.164 number.")
    return phone


def capability_number(raw: str) -> str:
    """The body as a JSON string, bare, or in the document's own brace form {"+46..."}."""
    text = raw
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1].strip()
    if text.startswith('"'):
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            return ""
        return value if isinstance(value, str) else ""  # matched whole: "+46...\n" is refused
    return text


# -- One send's drafts: a Message per recipient ---------------------------------------------------

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
_ON_THE_RECORD = {
    "agent_id",
    "number",
    "message_type",
    "text",
    "text_message",
    "suggested_actions",
    "suggested_replies",
}


def extra_content(request: MessageRequest) -> Mapping[str, Any]:
    """The request's content beyond the record's own fields: nothing for a plain text."""
    if (
        request.message_type == "TextMessage"
        and request.tag is None
        and (request.sms_fallback_text is None)
    ):
        return NO_CONTENT
    return request.model_dump(by_alias=True, exclude_none=True, exclude=_ON_THE_RECORD)


def build(
    request: MessageRequest,
    tenant: str,
    tag_id: str,
    *,
    now: float,
    new_id: Callable[[], str],
    capable: Callable[[str], bool],
) -> list[Message]:
    """One Message per recipient, at `now`, ids from `new_id`; an SMS where the request has a
    fallback text and the number is not RCS-capable."""
    content = extra_content(request)
    chips = suggestions(request)
    messages = []
    for number in request.number:
        sms = request.sms_fallback_text is not None and not capable(number)
        messages.append(
            Message(
                id=new_id(),
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


# -- Which uploads the platform takes -------------------------------------------------------------

IMAGE_TYPES = ("image/jpeg", "image/jpg", "image/gif", "image/png")
VIDEO_TYPES = (
    "video/h263",
    "video/m4v",
    "video/mp4",
    "video/mpeg",
    "video/mpeg4",
    "video/webm",
)
ALLOWED = frozenset(IMAGE_TYPES + VIDEO_TYPES)
_ALIASES = {"image/jpg": "image/jpeg", "video/x-m4v": "video/m4v", "video/mpeg4": "video/mp4"}
_UNSPECIFIC = ("", "application/octet-stream")


def sniff(head: bytes) -> str | None:
    """The MIME type the first bytes show, among the allowed ones; None if none of them."""
    if len(head) >= 3 and head[0] == 0 and head[1] == 0 and head[2] & 0xFC == 0x80:
        return "video/h263"  # H.263 picture start code
    if head[4:8] == b"ftyp" and head[8:11] == b"M4V":
        return "video/m4v"
    kind = filetype.guess(head)
    if kind is None:
        return None
    mime = _ALIASES.get(kind.mime, kind.mime)
    if kind.mime in ("video/quicktime", "video/3gpp"):
        return None
    return mime if mime in ALLOWED else None


def accepted_type(declared: str, head: bytes) -> str | None:
    """The stored type of an upload, or None when it is refused."""
    actual = sniff(head)
    if actual is None:
        return None
    if declared in _UNSPECIFIC:
        return actual
    if declared not in ALLOWED:
        return None
    same_family = declared.split("/")[0] == actual.split("/")[0]
    return actual if same_family else None
