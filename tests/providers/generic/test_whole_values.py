"""Every pattern-checked value of Generic is matched whole: a valid value followed by a line
break, a space, a tab, a NUL or a Unicode separator is refused (never stored with it, where a
later filter by the clean value would miss it), and numbers and times are ASCII digits only."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import open_client
from tests.providers.hostile import ENDINGS, FOREIGN_DIGITS

from .helpers import AUTH, BASE, carousel, rich_card, text_message

pytestmark = pytest.mark.anyio


def _action(**action: Any) -> dict[str, Any]:
    return text_message(suggestedActions=[{"text": "Go", "postbackData": "go", **action}])


def _calendar(start: str, end: str = "2030-11-30T11:00:00Z") -> dict[str, Any]:
    event = {"title": "Meeting", "description": "Plans", "startTime": start, "endTime": end}
    return _action(createCalendarEventAction=event)


def _place(latitude: str, longitude: str = "15.081701") -> dict[str, Any]:
    return _action(viewLocationAction={"latLong": {"latitude": latitude, "longitude": longitude}})


@dataclass(frozen=True)
class Field:
    """One pattern-checked value: how a request carries it, a valid value, and the refusal."""

    name: str
    valid: str
    request: Callable[[str], tuple[str, str, dict[str, Any]]]  # value -> method, path, kwargs
    key: str  # the errors key of the 400
    message: Callable[[str], str]  # the refused value -> the message under that key
    digits: bool = False  # the value has digits a client could write in another script


def _send(build: Callable[[str], dict[str, Any]]) -> Callable[[str], tuple[str, str, dict]]:
    return lambda value: ("POST", f"{BASE}/Message", {"json": build(value)})


def _field_rule(rule: str) -> Callable[[str], str]:
    return lambda value: rule


E164 = "must be a phone number in E.164 format, e.g. +46701234567."
URI = "must be a valid URI (RFC 3986): it contains characters a URI cannot hold."
RFC3339 = "must be an RFC 3339 date-time, e.g. 2024-10-02T15:01:23Z."
DECIMAL = "must be a number written in decimal digits, e.g. 59.369565."

FIELDS = [
    Field("number", "+46701234567", _send(lambda v: text_message(number=[v])), "number[0]",
          _field_rule(f"The field number[0] {E164}"), digits=True),
    Field("dialAction.phoneNumber", "+46701234567",
          _send(lambda v: _action(dialAction={"phoneNumber": v})),
          "suggestedActions[0].dialAction.phoneNumber", _field_rule(f"The field phoneNumber {E164}"),
          digits=True),
    Field("openUrlAction.url", "https://www.generic.se/",
          _send(lambda v: _action(openUrlAction={"url": v})), "suggestedActions[0].openUrlAction.url",
          _field_rule(f"The field url {URI}")),
    Field("richCardContent.fileUrl", "https://www.generic.se/a.png",
          _send(lambda v: rich_card(fileUrl=v)), "richCardContent.fileUrl",
          _field_rule(f"The field fileUrl {URI}")),
    Field("createCalendarEventAction.startTime", "2030-11-30T10:00:00Z", _send(_calendar),
          "suggestedActions[0].createCalendarEventAction.startTime",
          _field_rule(f"The field startTime {RFC3339}"), digits=True),
    Field("createCalendarEventAction.endTime", "2030-11-30T11:00:00+01:00",
          _send(lambda v: _calendar("2030-11-30T09:00:00Z", v)),
          "suggestedActions[0].createCalendarEventAction.endTime",
          _field_rule(f"The field endTime {RFC3339}"), digits=True),
    Field("viewLocationAction.latLong.latitude", "59.369565", _send(_place),
          "suggestedActions[0].viewLocationAction.latLong.latitude",
          _field_rule(f"The field latitude {DECIMAL}"), digits=True),
    Field("viewLocationAction.latLong.longitude", "15.081701",
          _send(lambda v: _place("59.369565", v)),
          "suggestedActions[0].viewLocationAction.latLong.longitude",
          _field_rule(f"The field longitude {DECIMAL}"), digits=True),
    Field("messageType", "TextMessage", _send(lambda v: text_message(messageType=v)), "messageType",
          _field_rule("The field messageType must be one of TextMessage, RichCard, Carousel.")),
    Field("richCardContent.height", "TALL", _send(lambda v: rich_card(height=v)),
          "richCardContent.height",
          _field_rule("The field height must be one of 'SHORT', 'MEDIUM' or 'TALL'.")),
    Field("richCardContent.orientation", "HORIZONTAL", _send(lambda v: rich_card(orientation=v)),
          "richCardContent.orientation",
          _field_rule("The field orientation must be one of 'VERTICAL' or 'HORIZONTAL'.")),
    Field("richCardContent.thumbnailImageAlignment", "RIGHT",
          _send(lambda v: rich_card(thumbnailImageAlignment=v)),
          "richCardContent.thumbnailImageAlignment",
          _field_rule("The field thumbnailImageAlignment must be one of 'LEFT' or 'RIGHT'.")),
    Field("carouselContent.cardWidth", "SMALL",
          _send(lambda v: carousel(carouselContent={"cardWidth": v, "richCardContents": [
              {"title": "One"}, {"title": "Two"}]})),
          "carouselContent.cardWidth",
          _field_rule("The field cardWidth must be one of 'SMALL' or 'MEDIUM'.")),
    Field("Message/Agent phoneNumber", "46701234567",
          lambda v: ("GET", f"{BASE}/Message/Agent/test_agent", {"params": {"phoneNumber": v}}),
          "phoneNumber", _field_rule("The phoneNumber must be an E.164 number."), digits=True),
    Field("Message/Agent startTime", "2024-01-01T00:00:00Z",
          lambda v: ("GET", f"{BASE}/Message/Agent/test_agent", {"params": {"startTime": v}}),
          "startTime", lambda v: f"The value '{v}' is not a valid ISO 8601 time.", digits=True),
    Field("Message/Agent endTime", "2024-01-31T23:59:59+01:00",
          lambda v: ("GET", f"{BASE}/Message/Agent/test_agent", {"params": {"endTime": v}}),
          "endTime", lambda v: f"The value '{v}' is not a valid ISO 8601 time.", digits=True),
    Field("Capability body", "+46701234567",
          lambda v: ("GET", f"{BASE}/Capability/test_agent", {"content": json.dumps(v)}),
          "$", lambda v: f"{v!r} is not a phone number in E.164 format.", digits=True),
]  # fmt: skip
IDS = [f.name for f in FIELDS]


@pytest.fixture
async def rcs_client() -> AsyncIterator[httpx.AsyncClient]:
    """A fresh in-process emulator: a format check is the same in every mode."""
    async with open_client("asgi") as client:
        yield client


async def _call(client: httpx.AsyncClient, field: Field, value: str) -> httpx.Response:
    method, path, kwargs = field.request(value)
    return await client.request(method, path, headers=AUTH, **kwargs)


def _refused(response: httpx.Response, field: Field, value: str) -> None:
    assert response.status_code == 400, response.text
    problem = response.json()
    assert problem["title"] == "One or more validation errors occurred."
    assert problem["errors"] == {field.key: [field.message(value)]}


@pytest.mark.parametrize("field", FIELDS, ids=IDS)
async def test_the_valid_value_is_accepted(rcs_client, field: Field) -> None:
    response = await _call(rcs_client, field, field.valid)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("ending", ENDINGS, ids=[repr(e) for e in ENDINGS])
@pytest.mark.parametrize("field", FIELDS, ids=IDS)
async def test_a_value_with_anything_after_it_is_refused(rcs_client, field: Field, ending: str):
    value = field.valid + ending
    _refused(await _call(rcs_client, field, value), field, value)
    messages = (await rcs_client.get("/_emulator/messages")).json()
    assert messages["total"] == 0


@pytest.mark.parametrize("digits", FOREIGN_DIGITS.values(), ids=list(FOREIGN_DIGITS))
@pytest.mark.parametrize("field", [f for f in FIELDS if f.digits], ids=[f.name for f in FIELDS if f.digits])  # fmt: skip
async def test_digits_that_are_not_ascii_are_refused(rcs_client, field: Field, digits) -> None:
    value = field.valid.translate(digits)
    assert value != field.valid
    _refused(await _call(rcs_client, field, value), field, value)


@pytest.mark.parametrize("offset", ["+01:60", "+24:00", "-24:00", "+99:00", "+1:00", "+0100"])
async def test_a_calendar_offset_out_of_range_is_refused(rcs_client, offset: str) -> None:
    field = FIELDS[IDS.index("createCalendarEventAction.startTime")]
    value = f"2030-11-30T10:00:00{offset}"
    _refused(await _call(rcs_client, field, value), field, value)


@pytest.mark.parametrize("offset", ["+23:59", "-23:59", "+00:00", "Z", "z"])
async def test_a_calendar_offset_in_range_is_taken(rcs_client, offset: str) -> None:
    body = _calendar(f"2030-11-30T10:00:00{offset}", "2030-12-30T10:00:00Z")
    response = await rcs_client.post(f"{BASE}/Message", json=body, headers=AUTH)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("offset", ["+01:60", "+24:00", "+0199"])
async def test_a_listing_time_with_an_offset_out_of_range_is_refused(rcs_client, offset: str):
    field = FIELDS[IDS.index("Message/Agent startTime")]
    value = f"2024-01-01T00:00:00{offset}"
    _refused(await _call(rcs_client, field, value), field, value)


async def test_an_unencoded_plus_in_the_phone_filter_still_finds_the_number(rcs_client) -> None:
    """A `+` left unencoded in a query string arrives as a space: that one space is a `+`."""
    await rcs_client.post(f"{BASE}/Message", json=text_message(), headers=AUTH)
    raw = f"{BASE}/Message/Agent/test_agent?phoneNumber=+46701234567"
    response = await rcs_client.get(raw, headers=AUTH)
    assert response.status_code == 200
    assert {e["from"] for e in response.json()} == {"Agent"}
    assert [e["messageId"] for e in response.json()]
