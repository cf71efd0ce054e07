"""Request models for POST /Message. Property names and enum values are matched without regard
to case, as the ASP.NET service does; every rule the document states is checked here, and a
failure names the field (by the document's own spelling) and the rule."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from ...core import pydantic_errors
from ...http.validators import without_nulls
from .errors import GenericApiError, GenericError
from .fields import (
    MAX_CARD_SUGGESTIONS,
    MAX_DESCRIPTION,
    MAX_SUGGESTIONS,
    MAX_TEXT,
    MAX_TITLE,
    Alignment,
    CardWidth,
    CIModel,
    Height,
    Orientation,
)
from .suggestions import Phone, SuggestedAction, SuggestedReply, WebUrl, _distinct


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
