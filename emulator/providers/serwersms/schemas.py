"""The `message` structure of messages/send_rcs and its suggestions, checked as the document
describes, each failure mapped to the 63xx code the document's table gives it."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from ...core import pydantic_errors
from ...http.validators import is_whole_number, url_problem
from .errors import SerwerSmsApiError, SerwerSmsError
from .phones import normalize

MAX_TEXT = 3072
MAX_SUGGESTIONS = 11
MAX_CARD_SUGGESTIONS = 4

# MIME type -> usable inside an information card (the document's "Works with information cards").
MEDIA_TYPES: dict[str, bool] = {
    "application/ogg": False,
    "application/pdf": False,
    "audio/aac": False,
    "audio/mp3": False,
    "audio/mpeg": False,
    "audio/mpg": False,
    "audio/mp4": False,
    "audio/mp4-latm": False,
    "audio/3gpp": False,
    "image/jpeg": True,
    "image/gif": True,
    "image/png": True,
    "video/h263": True,
    "video/m4v": True,
    "video/mp4": True,
    "video/mpeg4": True,
    "video/mpeg": True,
    "video/webm": True,
}
AUDIO_TYPES = frozenset(t for t in MEDIA_TYPES if t.startswith("audio/") or t.endswith("/ogg"))
CALENDAR_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M")
# Labels and titles inside `to` are one line of text; numbers and times are ASCII, read whole.
_CHAR = r"[^\x00-\x1f\x7f-\x9f\u2028\u2029|]"  # of one line of text, not the separator
_LINE = rf"{_CHAR}*[^\s\x00-\x1f\x7f-\x9f|]{_CHAR}*"  # ... with something not blank
_DECIMAL = r"[+-]?[0-9]+(?:\.[0-9]+)?"
_MAP = re.compile(rf"{_LINE}\|{_DECIMAL}\|{_DECIMAL}")
_TIME = r"[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}(?::[0-9]{2})?"
_CALENDAR = re.compile(rf"(?P<start>{_TIME})\|(?P<end>{_TIME})\|(?P<title>{_LINE})")


def _url(value: str) -> str:
    problem = url_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _size(value: Any) -> Any:
    """Sizes come as numbers or, from form bodies, numeric strings."""
    if isinstance(value, str) and is_whole_number(value.strip()):
        return int(value.strip())
    return value


def _known_type(value: str) -> str:
    if value not in MEDIA_TYPES:
        raise ValueError(f"unsupported media type {value!r}")
    return value


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


Url = Annotated[str, AfterValidator(_url)]
Size = Annotated[int, BeforeValidator(_size), Field(gt=0, le=100 * 1024 * 1024)]
MediaType = Annotated[str, AfterValidator(_known_type)]
Label = Annotated[str, Field(min_length=1, max_length=25)]
Postback = Annotated[str, Field(min_length=1, max_length=2048)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, strict=False)


class Reply(_Model):
    text: Label
    postback: Postback


class Action(_Model):
    text: Label
    postback: Postback
    action: Literal["url", "dial", "map", "calendar"]
    to: str = Field(min_length=1)

    @field_validator("to")
    @classmethod
    def _target(cls, to: str, info: ValidationInfo) -> str:
        action = info.data.get("action")
        return to if action is None else checked_target(action, to)


def checked_target(action: str, to: str) -> str:
    """`to` in the form its action documents, read whole; a bad map is its own error (6314). A
    dial number is corrected as every SerwerSMS number is (`+48` added, separators dropped)."""
    if action == "url" and url_problem(to):
        raise ValueError(f"url: {url_problem(to)}")
    if action == "dial":
        number = normalize(to)
        if number is None:
            raise ValueError("dial: 'to' must be a phone number")
        return number
    if action == "map" and _MAP.fullmatch(to) is None:
        raise PydanticCustomError("map", "map: 'to' must be Label|latitude|longitude")
    if action == "map":
        _, lat, lng = to.split("|")
        if not (-90 <= float(lat) <= 90 and -180 <= float(lng) <= 180):
            raise PydanticCustomError("map", "map: latitude or longitude out of range")
    if action == "calendar":
        match = _CALENDAR.fullmatch(to)
        if match is None or len(match["title"]) > 100:
            raise ValueError("calendar: 'to' must be start|end|title, times YYYY-MM-DD HH:MM:SS")
        start, end = _when(match["start"]), _when(match["end"])
        if start is None or end is None:
            raise ValueError("calendar: start and end are YYYY-MM-DD HH:MM:SS")
        if end <= start:
            raise ValueError("calendar: the end must come after the start")
    return to


def _when(value: str) -> datetime | None:
    for fmt in CALENDAR_FORMATS:
        try:
            return datetime.strptime(value, fmt)
        except ValueError:
            continue
    return None


class Suggestion(_Model):
    reply: Reply | None = None
    action: Action | None = None

    @model_validator(mode="after")
    def _one(self) -> Suggestion:
        if (self.reply is None) == (self.action is None):
            raise ValueError("a suggestion is either a reply or an action")
        return self


Suggestions = Annotated[list[Suggestion], Field(max_length=MAX_SUGGESTIONS)]
CardSuggestions = Annotated[list[Suggestion], Field(max_length=MAX_CARD_SUGGESTIONS)]


class Media(_Model):
    url: Url
    size: Size
    type: MediaType
    thumbnail: Url | None = None
    thumbnailSize: Size | None = None  # noqa: N815 - the document's spelling
    thumbnailType: Annotated[str, AfterValidator(_known_type)] | None = None  # noqa: N815
    height: Annotated[Literal["SHORT", "MEDIUM", "TALL"], BeforeValidator(_upper)] | None = None

    @model_validator(mode="after")
    def _card_capable(self) -> Media:
        if not MEDIA_TYPES[self.type]:
            raise ValueError(f"{self.type} cannot be used in an information card")
        if self.thumbnailType is not None and not self.thumbnailType.startswith("image/"):
            raise ValueError("a thumbnail is an image")
        return self


class Layout(_Model):
    imageAlignment: Annotated[Literal["LEFT", "RIGHT"], BeforeValidator(_upper)] | None = None  # noqa: N815
    cardOrientation: (  # noqa: N815
        Annotated[Literal["VERTICAL", "HORIZONTAL"], BeforeValidator(_upper)] | None
    ) = None


class Card(_Model):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=2000)
    media: Media
    suggestions: CardSuggestions = []
    layout: Layout | None = None


class FileBody(_Model):
    name: str = Field(min_length=1, max_length=255)
    url: Url
    type: MediaType
    size: Size


class AudioBody(_Model):
    name: str = Field(min_length=1, max_length=255)
    url: Url = Field(validation_alias="file")
    type: MediaType | None = None
    size: Size | None = None

    @model_validator(mode="before")
    @classmethod
    def _location(cls, data: Any) -> Any:
        if isinstance(data, dict) and "file" not in data and "url" in data:
            data = {**data, "file": data["url"]}
        return data

    @model_validator(mode="after")
    def _audio(self) -> AudioBody:
        if self.type is not None and self.type not in AUDIO_TYPES:
            raise ValueError("an audio message carries an audio type")
        return self


class RcsMessage(_Model):
    kind: Literal["text", "file", "audio", "richcard", "carousel"]
    text: str | None = None
    file: FileBody | None = None
    audio: AudioBody | None = None
    cards: tuple[Card, ...] = ()
    card_width: Literal["SMALL", "MEDIUM"] | None = None
    suggestions: tuple[Suggestion, ...] = ()


_SUGGESTIONS = TypeAdapter(Suggestions)
_CARDS = TypeAdapter(Annotated[list[Card], Field(min_length=1, max_length=10)])
_PIECES: dict[str, tuple[TypeAdapter[Any], SerwerSmsError]] = {
    "file": (TypeAdapter(FileBody), SerwerSmsError.RCS_BAD_FILE),
    "audio": (TypeAdapter(AudioBody), SerwerSmsError.RCS_BAD_AUDIO),
}


def _fail(exc: ValidationError, default: SerwerSmsError) -> SerwerSmsApiError:
    """The code of the first broken place: suggestions and maps have codes of their own."""
    err = exc.errors(include_url=False)[0]
    if err["type"] == "map":
        code = SerwerSmsError.RCS_BAD_MAP
    elif "suggestions" in err["loc"] or default is SerwerSmsError.RCS_BAD_SUGGESTION:
        code = SerwerSmsError.RCS_BAD_SUGGESTION
    else:
        code = default
    where = ".".join(str(p) for p in err["loc"])
    return SerwerSmsApiError(code, f"{where}: {pydantic_errors.message(err)}")


def parse_message(raw: Any) -> RcsMessage:
    if isinstance(raw, list) and not raw or raw == {} or raw == "":
        raise SerwerSmsApiError(SerwerSmsError.RCS_EMPTY_STRUCTURE)
    if not isinstance(raw, dict):
        raise SerwerSmsApiError(SerwerSmsError.RCS_BAD_STRUCTURE, "message is not a structure")
    kinds = [k for k in ("text", "audio", "file", "richcard") if k in raw]
    if len(kinds) != 1:
        raise SerwerSmsApiError(SerwerSmsError.RCS_NO_TYPE, f"message types given: {kinds}")
    kind = kinds[0]
    fields: dict[str, Any] = {"kind": kind}
    if kind == "text":
        text = raw["text"]
        if not isinstance(text, str):
            raise SerwerSmsApiError(SerwerSmsError.RCS_BAD_STRUCTURE, "text is not a string")
        if not text.strip():
            raise SerwerSmsApiError(SerwerSmsError.RCS_EMPTY_BODY)
        if len(text) > MAX_TEXT:
            raise SerwerSmsApiError(SerwerSmsError.RCS_BAD_STRUCTURE, f"text over {MAX_TEXT}")
        fields["text"] = text
    elif kind in _PIECES:
        adapter, code = _PIECES[kind]
        try:
            fields[kind] = adapter.validate_python(raw[kind])
        except ValidationError as exc:
            raise _fail(exc, code) from None
    else:
        cards = raw["richcard"]
        if isinstance(cards, dict):
            cards = [cards]
        try:
            fields["cards"] = tuple(_CARDS.validate_python(cards))
        except ValidationError as exc:
            raise _fail(exc, SerwerSmsError.RCS_BAD_RICHCARD) from None
        if len(fields["cards"]) > 1:
            fields["kind"] = "carousel"
            width = _upper(raw.get("cardWidth", "MEDIUM"))
            if width not in ("SMALL", "MEDIUM"):
                raise SerwerSmsApiError(SerwerSmsError.RCS_BAD_RICHCARD, "cardWidth")
            fields["card_width"] = width
    suggestions = raw.get("suggestions", [])
    if suggestions in ("", None, {}):
        suggestions = []
    try:
        fields["suggestions"] = tuple(_SUGGESTIONS.validate_python(suggestions))
    except ValidationError as exc:
        raise _fail(exc, SerwerSmsError.RCS_BAD_SUGGESTION) from None
    return RcsMessage(**fields)
