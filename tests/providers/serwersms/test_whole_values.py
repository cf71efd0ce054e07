"""Every pattern-checked value of SerwerSMS is read whole: a valid value followed by a line break,
a blank, a NUL or a Unicode separator is refused with the code the document gives that place, or,
where SerwerSMS corrects the value (phone numbers: separators dropped, +48 added), stored
corrected, so that a later filter by the clean value finds it. Digits are ASCII only: a number
in fullwidth or Arabic-Indic digits is refused, never kept as "+48" and the digits as given.

The many cases run as plain functions on parse.py, the send endpoint's own reading of a request
(and reports.py's of its dates); each value also goes through HTTP once accepted and once with a
line break (refused with nothing stored, or stored corrected), and the reports' phone filter,
which its endpoint reads itself, is checked over HTTP throughout."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from emulator.providers.serwersms.errors import SerwerSmsApiError
from emulator.providers.serwersms.parse import (
    Outcome,
    as_list,
    build,
    extra_content,
    parse_message,
    send_time,
    unique_ids,
)
from emulator.providers.serwersms.reports import local_time
from tests.conftest import open_client
from tests.providers.hostile import ENDINGS, FOREIGN_DIGITS

from .helpers import AUTH, card, error, media, params

pytestmark = pytest.mark.anyio

SEPARATORS = {"\n", "\r\n", "\r", " ", "\t"}  # what SerwerSMS drops from a phone number
SEND = "/messages/send_rcs.json"


def _with(**message: Any) -> dict[str, Any]:
    return params(message=message)


def _suggest(action: str, to: str) -> dict[str, Any]:
    chip = {"action": {"text": "Label", "postback": "chip", "action": action, "to": to}}
    return _with(text="Pick", suggestions=[chip])


@dataclass(frozen=True)
class Field:
    """One pattern-checked value: where it goes, a valid value, the code of its refusal, and,
    for a value SerwerSMS corrects, what it is stored as."""

    name: str
    valid: str
    body: Callable[[str], dict[str, Any]]
    code: int
    path: str = SEND
    corrected: str | None = None  # stored form when only separators were added
    digits: bool = False
    read_filter: Callable[[str], object] | None = None  # reports' own reading of the value

    @property
    def plain(self) -> bool:
        """Read by pure functions (the reports' phone filter is read inside its search)."""
        return self.path == SEND or self.read_filter is not None

    def read(self, value: str) -> object:
        """What the pure functions make of the value: for a send, the stored form of a
        corrected value (the chip's target, or the phone)."""
        if self.path != SEND:
            assert self.read_filter is not None, f"{self.name} is read over HTTP"
            return self.read_filter(value)
        [message] = sent(self.body(value)).queued
        return message.suggestions[0].target if message.suggestions else message.phone


def sent(body: dict[str, Any]) -> Outcome:
    """A send_rcs body read as its endpoint reads it, a pure step at a time (SerwerSmsApiError
    for a refusal)."""
    message = parse_message(body["message"])
    phones = as_list(body["phone"])
    ids = unique_ids(body.get("unique_id"), len(phones))
    return build(
        now=NOW,
        new_id=lambda: "0123456789",
        tenant="t",
        rcs_id=str(body["rcs_id"]),
        phones=phones,
        message=message,
        content=extra_content(message),
        ids=ids,
        send_at=send_time(body.get("date"), NOW),
        networks=(),
    )


NOW = 1_700_000_000.0


FIELDS = [
    Field(
        "phone",
        "+48500600700",
        lambda v: params(phone=v),
        6306,
        corrected="+48500600700",
        digits=True,
    ),
    Field(
        "phone (national)",
        "500600700",
        lambda v: params(phone=[v]),
        6306,
        corrected="+48500600700",
        digits=True,
    ),
    Field("unique_id", "6asTD3fif98gj", lambda v: params(unique_id=v), 1006),
    Field("date", "2030-02-22 12:25:55", lambda v: params(date=v), 1006, digits=True),
    Field("action url to", "https://serwersms.pl/", lambda v: _suggest("url", v), 6309),
    Field(
        "action dial to",
        "+48100100100",
        lambda v: _suggest("dial", v),
        6309,
        corrected="+48100100100",
        digits=True,
    ),
    Field(
        "action map to",
        "SerwerSMS|50.0904966|18.5803288",
        lambda v: _suggest("map", v),
        6314,
        digits=True,
    ),
    Field(
        "action calendar to (start)",
        "2030-04-05 09:00:00",
        lambda v: _suggest("calendar", f"{v}|2030-04-05 10:00:00|Wydarzenie"),
        6309,
        digits=True,
    ),
    Field(
        "action calendar to (end)",
        "2030-04-05 10:00:00",
        lambda v: _suggest("calendar", f"2030-04-05 09:00:00|{v}|Wydarzenie"),
        6309,
        digits=True,
    ),
    Field(
        "action word",
        "url",
        lambda v: {
            **_suggest("url", "https://serwersms.pl/"),
            "message": {
                "text": "Pick",
                "suggestions": [
                    {
                        "action": {
                            "text": "Label",
                            "postback": "chip",
                            "action": v,
                            "to": "https://serwersms.pl/",
                        }
                    }
                ],
            },
        },
        6309,
    ),
    Field(
        "file url",
        "https://example.pl/film.mp4",
        lambda v: _with(file={"name": "Film", "url": v, "type": "video/mp4", "size": 1489039}),
        6312,
    ),
    Field(
        "file type",
        "video/mp4",
        lambda v: _with(
            file={"name": "Film", "url": "https://example.pl/film.mp4", "type": v, "size": 1489039}
        ),
        6312,
    ),
    Field(
        "audio url",
        "https://example.pl/a.mp3",
        lambda v: _with(audio={"name": "Song", "url": v}),
        6311,
    ),
    Field(
        "audio type",
        "audio/mp3",
        lambda v: _with(audio={"name": "Song", "url": "https://example.pl/a.mp3", "type": v}),
        6311,
    ),
    Field(
        "media url",
        "https://example.pl/a.png",
        lambda v: _with(richcard=[card(media=media(url=v))]),
        6313,
    ),
    Field("media type", "image/png", lambda v: _with(richcard=[card(media=media(type=v))]), 6313),
    Field(
        "media thumbnail",
        "https://example.pl/t.jpg",
        lambda v: _with(richcard=[card(media=media(thumbnail=v))]),
        6313,
    ),
    Field(
        "media thumbnailType",
        "image/jpeg",
        lambda v: _with(richcard=[card(media=media(thumbnailType=v))]),
        6313,
    ),
    Field("media height", "TALL", lambda v: _with(richcard=[card(media=media(height=v))]), 6313),
    Field(
        "layout imageAlignment",
        "RIGHT",
        lambda v: _with(richcard=[card(layout={"imageAlignment": v})]),
        6313,
    ),
    Field(
        "layout cardOrientation",
        "HORIZONTAL",
        lambda v: _with(richcard=[card(layout={"cardOrientation": v})]),
        6313,
    ),
    Field("cardWidth", "SMALL", lambda v: _with(richcard=[card(), card()], cardWidth=v), 6313),
    Field(
        "reports date_from",
        "2020-01-01 00:00:00",
        lambda v: {"date_from": v},
        1006,
        path="/messages/reports.json",
        digits=True,
        read_filter=local_time,
    ),
    Field(
        "reports date_to",
        "2099-01-01 00:00:00",
        lambda v: {"date_to": v},
        1006,
        path="/messages/reports.json",
        digits=True,
        read_filter=local_time,
    ),
    Field(
        "reports phone",
        "+48500600700",
        lambda v: {"phone": v},
        2001,
        path="/messages/reports.json",
        corrected="+48500600700",
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


async def _post(client: httpx.AsyncClient, field: Field, value: str) -> Any:
    response = await client.post(field.path, json=field.body(value), headers=AUTH)
    assert response.status_code == 200  # SerwerSMS answers errors with 200 too
    return response.json()


async def _stored(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    return list((await client.get("/_emulator/messages")).json()["items"])


async def _refused_or_corrected(client: httpx.AsyncClient, field: Field, ending: str) -> None:
    if field.path != SEND:  # the filters read what a send stored
        await _post(client, FIELDS[0], FIELDS[0].valid)
    answer = await _post(client, field, field.valid + ending)
    if field.corrected is not None and ending in SEPARATORS:
        assert "error" not in answer, answer
        if field.path == SEND:
            [message] = await _stored(client)
            chips = message["suggestions"]
            assert (chips[0]["target"] if chips else message["phone"]) == field.corrected
        else:  # the filter by the value read back finds the message stored clean
            assert [i["phone"] for i in answer["items"]] == [field.corrected]
        return
    assert answer == error(field.code)
    if field.path == SEND:
        assert await _stored(client) == []


def _refused_by_parse(field: Field, value: str) -> None:
    with pytest.raises(SerwerSmsApiError) as refused:
        field.read(value)
    assert refused.value.error.body() == error(field.code)


# -- Over HTTP: each value accepted, and with a line break refused or stored corrected ----------


@pytest.mark.parametrize("field", FIELDS, ids=IDS)
async def test_the_valid_value_is_accepted(rcs_client, field: Field) -> None:
    answer = await _post(rcs_client, field, field.valid)
    assert "error" not in answer, answer


@pytest.mark.parametrize("field", FIELDS, ids=IDS)
async def test_a_value_with_a_line_break_after_it_is_refused_or_stored_corrected(rcs_client, field):
    await _refused_or_corrected(rcs_client, field, "\n")


@pytest.mark.parametrize("ending", ENDINGS, ids=[repr(e) for e in ENDINGS])
@pytest.mark.parametrize("field", OVER_HTTP, ids=_ids(OVER_HTTP))
async def test_a_value_its_endpoint_reads_with_anything_after_it_is_refused_or_corrected(
    rcs_client, field: Field, ending: str
) -> None:
    await _refused_or_corrected(rcs_client, field, ending)


@pytest.mark.parametrize("digits", FOREIGN_DIGITS.values(), ids=list(FOREIGN_DIGITS))
@pytest.mark.parametrize("field", DIGITS_OVER_HTTP, ids=_ids(DIGITS_OVER_HTTP))
async def test_digits_its_endpoint_reads_that_are_not_ascii_are_refused(rcs_client, field, digits):
    value = field.valid.translate(digits)
    assert value != field.valid
    if field.path != SEND:  # the filters read what a send stored
        await _post(rcs_client, FIELDS[0], FIELDS[0].valid)
    assert await _post(rcs_client, field, value) == error(field.code)


# -- As plain functions: every value the pure functions read, with everything a client may add --


@pytest.mark.parametrize("field", PLAIN, ids=_ids(PLAIN))
def test_the_valid_value_is_read(field: Field) -> None:
    field.read(field.valid)


@pytest.mark.parametrize("ending", ENDINGS, ids=[repr(e) for e in ENDINGS])
@pytest.mark.parametrize("field", PLAIN, ids=_ids(PLAIN))
def test_a_value_with_anything_after_it_is_refused_or_corrected(field: Field, ending: str) -> None:
    if field.corrected is not None and ending in SEPARATORS:
        assert field.read(field.valid + ending) == field.corrected
    else:
        _refused_by_parse(field, field.valid + ending)


@pytest.mark.parametrize("digits", FOREIGN_DIGITS.values(), ids=list(FOREIGN_DIGITS))
@pytest.mark.parametrize("field", DIGITS_PLAIN, ids=_ids(DIGITS_PLAIN))
def test_digits_that_are_not_ascii_are_refused(field: Field, digits) -> None:
    value = field.valid.translate(digits)
    assert value != field.valid
    _refused_by_parse(field, value)


async def test_one_number_in_foreign_digits_is_unsent_and_the_rest_queued(rcs_client) -> None:
    await _post(rcs_client, FIELDS[1], "500600700")
    body = params(phone=["600700800", "５００６００７００"], details=True)
    answer = (await rcs_client.post(SEND, json=body, headers=AUTH)).json()
    assert (answer["queued"], answer["unsent"]) == (1, 1)
    assert answer["items"][1] == {
        "id": None,
        "phone": "５００６００７００",
        "status": "unsent",
        "error_code": 6306,
        "error_message": "Invalid phone number",
    }
    assert sorted(m["phone"] for m in await _stored(rcs_client)) == ["+48500600700", "+48600700800"]


@pytest.mark.parametrize("code", ["6300%0A", "6300%20", "6300%00", "%EF%BC%96300", "1001x", "9999"])
async def test_an_error_code_is_read_whole(rcs_client, code: str) -> None:
    response = await rcs_client.get(f"/error/{code}")
    assert response.json() == error(2002)


LINE_BREAKS = ["\n", "\r\n", "\r", "\t", "\x00", "\x0b", "\x0c", "\x1b", "\x85", "\u2028", "\u2029"]


@pytest.mark.parametrize("cut", LINE_BREAKS, ids=[repr(c) for c in LINE_BREAKS])
@pytest.mark.parametrize(
    ("action", "to", "code"),
    [
        ("calendar", "2030-04-05 09:00:00|2030-04-05 10:00:00|Meet{}ing", 6309),
        ("calendar", "2030-04-05 09:00:00|2030-04-05 10:00:00|Meeting{}", 6309),
        ("map", "Serwer{}SMS|50.0904966|18.5803288", 6314),
    ],
)
def test_a_title_or_label_inside_to_is_one_line(action, to, code, cut) -> None:
    with pytest.raises(SerwerSmsApiError) as refused:
        sent(_suggest(action, to.format(cut)))
    assert refused.value.error.body() == error(code)
