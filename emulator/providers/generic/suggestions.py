"""Generic's suggestions: replies and the actions a chip can carry (dial, view location,
calendar event, open URL, share location), each checked as the document says."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import AfterValidator, BeforeValidator, Field, field_validator, model_validator

from ...http.validators import is_e164, parse_rfc3339, url_problem
from .fields import CIModel, Label, Postback, _number


class LatLng(CIModel):
    latitude: Annotated[float, BeforeValidator(_number), Field(ge=-90, le=90)]
    longitude: Annotated[float, BeforeValidator(_number), Field(ge=-180, le=180)]


def _check_url(value: str) -> str:
    problem = url_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _check_phone(value: str) -> str:
    if not is_e164(value):
        raise ValueError("must be a phone number in E.164 format, e.g. +46701234567")
    return value


def _distinct(numbers: list[str]) -> list[str]:
    """A number listed twice gets one message."""
    return list(dict.fromkeys(numbers))


WebUrl = Annotated[str, AfterValidator(_check_url)]
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
