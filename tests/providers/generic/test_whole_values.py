"""Every pattern-checked value of Generic is matched whole: a valid value followed by a line
break, a space, a tab, a NUL or a Unicode separator is refused (never stored with it, where a
later filter by the clean value would miss it), and numbers and times are ASCII digits only.

The many cases run as plain functions on parse.py, the endpoints' own reading of a request; each
value also goes through HTTP once accepted and once refused (the refusal's problem details, and
nothing stored), and the Capability body, which its endpoint reads partly itself, is checked over
HTTP throughout."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from emulator.providers.generic import parse
from emulator.providers.generic.errors import GenericApiError, GenericError
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
    """One pattern-checked value: where a request carries it (a POST /Message body, a GET
    /Message/Agent query parameter, or the Capability body), a valid value, and the refusal."""

    name: str
    valid: str
    key: str  # the errors key of the 400
    message: Callable[[str], str]  # the refused value -> the message under that key
    send: Callable[[str], dict[str, Any]] | None = None  # value -> a POST /Message body
    query: str | None = None  # the GET /Message/Agent parameter
    digits: bool = False  # the value has digits a client could write in another script

    def request(self, value: str) -> tuple[str, str, dict[str, Any]]:
        if self.send is not None:
            return "POST", f"{BASE}/Message", {"json": self.send(value)}
        if self.query is not None:
            return "GET", f"{BASE}/Message/Agent/test_agent", {"params": {self.query: value}}
        return "GET", f"{BASE}/Capability/test_agent", {"content": json.dumps(value)}

    @property
    def plain(self) -> bool:
        """Read wholly by parse.py (the Capability endpoint reads its body partly itself)."""
        return self.send is not None or self.query is not None

    def read(self, value: str) -> object:
        """What parse.py makes of the value, as the endpoint calls it."""
        if self.send is not None:  # (the body as the endpoint gets it: decoded JSON)
            return parse.parse_message(json.loads(json.dumps(self.send(value))))
        if self.query == "phoneNumber":
            return parse.phone_filter(value)
        assert self.query is not None, f"{self.name} is read over HTTP"
        return parse.time({self.query: value}, self.query)


def _field_rule(rule: str) -> Callable[[str], str]:
    return lambda value: rule


E164 = "must be a phone number in E.164 format, e.g. +46701234567."
URI = "must be a valid URI (RFC 3986): it contains characters a URI cannot hold."
RFC3339 = "must be an RFC 3339 date-time, e.g. 2024-10-02T15:01:23Z."
DECIMAL = "must be a number written in decimal digits, e.g. 59.369565."


def ISO8601(value: str) -> str:
    return f"The value '{value}' is not a valid ISO 8601 time."


FIELDS = [
    Field(
        "number",
        "+46701234567",
        "number[0]",
        _field_rule(f"The field number[0] {E164}"),
        send=lambda v: text_message(number=[v]),
        digits=True,
    ),
    Field(
        "dialAction.phoneNumber",
        "+46701234567",
        "suggestedActions[0].dialAction.phoneNumber",
        _field_rule(f"The field phoneNumber {E164}"),
        send=lambda v: _action(dialAction={"phoneNumber": v}),
        digits=True,
    ),
    Field(
        "openUrlAction.url",
        "https://www.generic.se/",
        "suggestedActions[0].openUrlAction.url",
        _field_rule(f"The field url {URI}"),
        send=lambda v: _action(openUrlAction={"url": v}),
    ),
    Field(
        "richCardContent.fileUrl",
        "https://www.generic.se/a.png",
        "richCardContent.fileUrl",
        _field_rule(f"The field fileUrl {URI}"),
        send=lambda v: rich_card(fileUrl=v),
    ),
    Field(
        "createCalendarEventAction.startTime",
        "2030-11-30T10:00:00Z",
        "suggestedActions[0].createCalendarEventAction.startTime",
        _field_rule(f"The field startTime {RFC3339}"),
        send=_calendar,
        digits=True,
    ),
    Field(
        "createCalendarEventAction.endTime",
        "2030-11-30T11:00:00+01:00",
        "suggestedActions[0].createCalendarEventAction.endTime",
        _field_rule(f"The field endTime {RFC3339}"),
        send=lambda v: _calendar("2030-11-30T09:00:00Z", v),
        digits=True,
    ),
    Field(
        "viewLocationAction.latLong.latitude",
        "59.369565",
        "suggestedActions[0].viewLocationAction.latLong.latitude",
        _field_rule(f"The field latitude {DECIMAL}"),
        send=_place,
        digits=True,
    ),
    Field(
        "viewLocationAction.latLong.longitude",
        "15.081701",
        "suggestedActions[0].viewLocationAction.latLong.longitude",
        _field_rule(f"The field longitude {DECIMAL}"),
        send=lambda v: _place("59.369565", v),
        digits=True,
    ),
    Field(
        "messageType",
        "TextMessage",
        "messageType",
        _field_rule("The field messageType must be one of TextMessage, RichCard, Carousel."),
        send=lambda v: text_message(messageType=v),
    ),
    Field(
        "richCardContent.height",
        "TALL",
        "richCardContent.height",
        _field_rule("The field height must be one of 'SHORT', 'MEDIUM' or 'TALL'."),
        send=lambda v: rich_card(height=v),
    ),
    Field(
        "richCardContent.orientation",
        "HORIZONTAL",
        "richCardContent.orientation",
        _field_rule("The field orientation must be one of 'VERTICAL' or 'HORIZONTAL'."),
        send=lambda v: rich_card(orientation=v),
    ),
    Field(
        "richCardContent.thumbnailImageAlignment",
        "RIGHT",
        "richCardContent.thumbnailImageAlignment",
        _field_rule("The field thumbnailImageAlignment must be one of 'LEFT' or 'RIGHT'."),
        send=lambda v: rich_card(thumbnailImageAlignment=v),
    ),
    Field(
        "carouselContent.cardWidth",
        "SMALL",
        "carouselContent.cardWidth",
        _field_rule("The field cardWidth must be one of 'SMALL' or 'MEDIUM'."),
        send=lambda v: carousel(
            carouselContent={
                "cardWidth": v,
                "richCardContents": [{"title": "One"}, {"title": "Two"}],
            }
        ),
    ),
    Field(
        "Message/Agent phoneNumber",
        "46701234567",
        "phoneNumber",
        _field_rule("The phoneNumber must be an E.164 number."),
        query="phoneNumber",
        digits=True,
    ),
    Field(
        "Message/Agent startTime",
        "2024-01-01T00:00:00Z",
        "startTime",
        ISO8601,
        query="startTime",
        digits=True,
    ),
    Field(
        "Message/Agent endTime",
        "2024-01-31T23:59:59+01:00",
        "endTime",
        ISO8601,
        query="endTime",
        digits=True,
    ),
    Field(
        "Capability body",
        "+46701234567",
        "$",
        lambda v: f"{v!r} is not a phone number in E.164 format.",
        digits=True,
    ),
]
IDS = [f.name for f in FIELDS]
PLAIN = [f for f in FIELDS if f.plain]
OVER_HTTP = [f for f in FIELDS if not f.plain]
DIGITS_PLAIN = [f for f in PLAIN if f.digits]
DIGITS_OVER_HTTP = [f for f in OVER_HTTP if f.digits]


def _ids(fields: list[Field]) -> list[str]:
    return [f.name for f in fields]


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


def _refused_by_parse(field: Field, value: str) -> None:
    with pytest.raises(GenericApiError) as refused:
        field.read(value)
    assert refused.value.error is GenericError.VALIDATION
    assert refused.value.errors == {field.key: [field.message(value)]}


# -- Over HTTP: each value accepted, and refused as the client sees it --------------------------


@pytest.mark.parametrize("field", FIELDS, ids=IDS)
async def test_the_valid_value_is_accepted(rcs_client, field: Field) -> None:
    response = await _call(rcs_client, field, field.valid)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("field", FIELDS, ids=IDS)
async def test_a_value_with_a_line_break_after_it_is_refused_and_not_stored(rcs_client, field):
    value = field.valid + "\n"
    _refused(await _call(rcs_client, field, value), field, value)
    messages = (await rcs_client.get("/_emulator/messages")).json()
    assert messages["total"] == 0


@pytest.mark.parametrize("ending", ENDINGS, ids=[repr(e) for e in ENDINGS])
@pytest.mark.parametrize("field", OVER_HTTP, ids=_ids(OVER_HTTP))
async def test_a_value_its_endpoint_reads_with_anything_after_it_is_refused(
    rcs_client, field: Field, ending: str
) -> None:
    value = field.valid + ending
    _refused(await _call(rcs_client, field, value), field, value)


@pytest.mark.parametrize("digits", FOREIGN_DIGITS.values(), ids=list(FOREIGN_DIGITS))
@pytest.mark.parametrize("field", DIGITS_OVER_HTTP, ids=_ids(DIGITS_OVER_HTTP))
async def test_digits_its_endpoint_reads_that_are_not_ascii_are_refused(rcs_client, field, digits):
    value = field.valid.translate(digits)
    assert value != field.valid
    _refused(await _call(rcs_client, field, value), field, value)


# -- As plain functions: every value parse.py reads, with everything a client may add -----------


@pytest.mark.parametrize("field", PLAIN, ids=_ids(PLAIN))
def test_parse_reads_the_valid_value(field: Field) -> None:
    assert field.read(field.valid) is not None


@pytest.mark.parametrize("ending", ENDINGS, ids=[repr(e) for e in ENDINGS])
@pytest.mark.parametrize("field", PLAIN, ids=_ids(PLAIN))
def test_a_value_with_anything_after_it_is_refused(field: Field, ending: str) -> None:
    _refused_by_parse(field, field.valid + ending)


@pytest.mark.parametrize("digits", FOREIGN_DIGITS.values(), ids=list(FOREIGN_DIGITS))
@pytest.mark.parametrize("field", DIGITS_PLAIN, ids=_ids(DIGITS_PLAIN))
def test_digits_that_are_not_ascii_are_refused(field: Field, digits) -> None:
    value = field.valid.translate(digits)
    assert value != field.valid
    _refused_by_parse(field, value)


@pytest.mark.parametrize("offset", ["+01:60", "+24:00", "-24:00", "+99:00", "+1:00", "+0100"])
def test_a_calendar_offset_out_of_range_is_refused(offset: str) -> None:
    field = FIELDS[IDS.index("createCalendarEventAction.startTime")]
    _refused_by_parse(field, f"2030-11-30T10:00:00{offset}")


@pytest.mark.parametrize("offset", ["+23:59", "-23:59", "+00:00", "Z", "z"])
def test_a_calendar_offset_in_range_is_taken(offset: str) -> None:
    body = _calendar(f"2030-11-30T10:00:00{offset}", "2030-12-30T10:00:00Z")
    [action] = parse.parse_message(body).suggested_actions
    assert action.create_calendar_event_action is not None


@pytest.mark.parametrize("offset", ["+01:60", "+24:00", "+0199"])
def test_a_listing_time_with_an_offset_out_of_range_is_refused(offset: str) -> None:
    field = FIELDS[IDS.index("Message/Agent startTime")]
    _refused_by_parse(field, f"2024-01-01T00:00:00{offset}")


async def test_an_unencoded_plus_in_the_phone_filter_still_finds_the_number(rcs_client) -> None:
    """A `+` left unencoded in a query string arrives as a space: that one space is a `+`."""
    await rcs_client.post(f"{BASE}/Message", json=text_message(), headers=AUTH)
    raw = f"{BASE}/Message/Agent/test_agent?phoneNumber=+46701234567"
    response = await rcs_client.get(raw, headers=AUTH)
    assert response.status_code == 200
    assert {e["from"] for e in response.json()} == {"Agent"}
    assert [e["messageId"] for e in response.json()]
