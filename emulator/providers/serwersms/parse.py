"""What a SerwerSMS request says, read as the real API reads it (pure and synchronous): phone
numbers corrected to +48, JSON or PHP-style form parameters, the send_rcs message model with the
document's limits, and the drafts of one send: a Message per valid number, the rest refused,
each with its error. Endpoints parse here, call the emulator, and render with payloads."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

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
from ...core.models import NO_CONTENT, Channel
from ...core.records import Message
from ...core.records import Suggestion as Chip
from ...http.validators import is_whole_number, parse_iso8601, url_problem, web_url
from .errors import SerwerSmsApiError, SerwerSmsError
from .provider import NAME

# -- Phone numbers: Polish ones corrected to +48 --------------------------------------------------

_STRIP = re.compile(r"[ \t\r\n\-().]")
_POLISH = re.compile(r"\+48[0-9]{9}")
_NATIONAL = re.compile(r"[0-9]{9}")
_POLISH_NO_PLUS = re.compile(r"48[0-9]{9}")
_INTERNATIONAL_NO_PLUS = re.compile(r"[1-9][0-9]{9,14}")
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")


def normalize(raw: object) -> str | None:
    """The full international form, or None when `raw` is not a phone number."""
    if isinstance(raw, str) and _POLISH.fullmatch(raw):
        return raw  # the full form already: the common case
    if not isinstance(raw, str | int) or isinstance(raw, bool):
        return None
    s = _STRIP.sub("", str(raw))
    if s.startswith("00"):
        s = "+" + s[2:]
    if _NATIONAL.fullmatch(s):
        s = "+48" + s
    elif _POLISH_NO_PLUS.fullmatch(s) or _INTERNATIONAL_NO_PLUS.fullmatch(s):
        s = "+" + s
    if _E164.fullmatch(s) is None:
        return None
    if s.startswith("+48") and len(s) != 12:
        return None
    return s


# -- Parameters as PHP reads them: JSON, or form bodies with bracketed keys -----------------------

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_PART = re.compile(r"\[([^\[\]]*)\]")
MAX_DEPTH = 16


class ParamError(ValueError):
    pass


def parse_form(body: str) -> dict[str, Any]:
    root: dict[str, Any] = {}
    try:
        pairs = parse_qsl(
            body, keep_blank_values=True, strict_parsing=False, max_num_fields=200_000
        )
    except ValueError as exc:
        raise ParamError(str(exc)) from None
    for key, value in pairs:
        match = _KEY.match(key)
        if match is None:
            continue  # PHP drops keys it cannot read; so do we
        path = [match.group(1), *_PART.findall(match.group(2))]
        if len(path) > MAX_DEPTH:
            raise ParamError("parameters are nested too deeply")
        _assign(root, path, value)
    return _listify(root)


def _assign(node: dict[str, Any], path: list[str], value: str) -> None:
    for i, part in enumerate(path):
        last = i == len(path) - 1
        if part == "":
            part = str(_next_index(node))
        if last:
            node[part] = value
            return
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child


def _next_index(node: dict[str, Any]) -> int:
    numeric = [int(k) for k in node if is_whole_number(k)]
    return max(numeric) + 1 if numeric else 0


def _listify(value: Any) -> Any:
    """Dicts keyed 0..n become lists, as PHP arrays with sequential keys serialise to JSON."""
    if not isinstance(value, dict):
        return value
    folded = {k: _listify(v) for k, v in value.items()}
    keys = list(folded)
    if keys and all(is_whole_number(k) for k in keys):
        order = sorted(keys, key=int)
        if [int(k) for k in order] == list(range(len(order))):
            return [folded[k] for k in order]
    return folded


def truthy(value: Any) -> bool:
    """Booleans arrive as true, "true", "1" or 1."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value == 1
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "on")
    return False


# -- The send_rcs `message` and its suggestions ---------------------------------------------------

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


Url = Annotated[str, AfterValidator(web_url)]
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


# -- One send's drafts: a Message per valid number ------------------------------------------------

MAX_NUMBERS = 100_000
WARSAW = ZoneInfo("Europe/Warsaw")  # where SerwerSMS reads and writes its local times
_UNIQUE_ID = re.compile(r"[A-Za-z0-9]{3,50}")
_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}(?::[0-9]{2})?")


@dataclass
class Outcome:
    queued: list[Message]
    refused: list[Refused]


def _chips(items: Sequence[Suggestion], card: int | None) -> list[Chip]:
    chips = []
    for item in items:
        if item.reply is not None:
            chips.append(Chip(item.reply.text, item.reply.postback, "reply", None, card))
        elif item.action is not None:
            a = item.action
            chips.append(Chip(a.text, a.postback, a.action, a.to, card))
    return chips


def suggestions(message: RcsMessage) -> tuple[Chip, ...]:
    chips: list[Chip] = []
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


@dataclass
class Refused:
    """A number the send could not take, and the error that says why."""

    phone: str
    error: SerwerSmsError


def build(
    *,
    now: float,
    new_id: Callable[[], str],
    tenant: str,
    rcs_id: str,
    phones: list[Any],
    message: RcsMessage,
    content: Mapping[str, Any],
    ids: list[str | None],
    send_at: float,
    networks: tuple[str, ...],
) -> Outcome:
    """One Message per valid phone number (the rest refused, each with its error); a send with
    none valid is refused whole. The emulator stores them a slice at a time."""
    chips = suggestions(message)
    text = summary(message)
    queued: list[Message] = []
    refused: list[Refused] = []
    invalid = unsupported = 0
    for raw, uid in zip(phones, ids, strict=True):
        phone = normalize(raw)
        if phone is None:
            invalid += 1
            refused.append(Refused(str(raw), SerwerSmsError.RCS_INVALID_PHONE))
            continue
        if networks and not phone.startswith(networks):
            unsupported += 1
            refused.append(Refused(phone, SerwerSmsError.RCS_NETWORK))
            continue
        queued.append(
            Message(
                id=new_id(),
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
    return Outcome(queued, refused)
