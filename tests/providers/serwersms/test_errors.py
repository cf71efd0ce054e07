"""Each of 6300-6317 is reachable by the input the document's table describes; a refused
request stores nothing."""

from __future__ import annotations

from typing import Any

import pytest

from emulator import Config
from tests.conftest import open_client

from .helpers import BOT, card, error, media, params, send

pytestmark = pytest.mark.anyio


def text(**message: Any) -> dict[str, Any]:
    return params(message={"text": "Hi", **message})


def suggestion(kind: str, **fields: Any) -> dict[str, Any]:
    return text(suggestions=[{kind: {"text": "Label", "postback": "pb", **fields}}])


CASES: list[tuple[str, dict[str, Any], int]] = [
    ("message is a string", params(message="Hello"), 6302),
    ("text is not a string", params(message={"text": ["a"]}), 6302),
    ("text over 3072", params(message={"text": "a" * 3073}), 6302),
    ("no rcs_id", params(rcs_id=None), 6303),
    ("no phone", params(phone=None), 6303),
    ("no message", params(message=None), 6303),
    ("empty phone list", params(phone=[]), 6303),
    ("every number invalid", params(phone=["123", "abc"]), 6306),
    ("empty message object", params(message={}), 6307),
    ("empty message array", params(message=[]), 6307),
    ("no message type", params(message={"suggestions": []}), 6308),
    ("two message types", params(message={"text": "a", "file": {}}), 6308),
    ("suggestion neither reply nor action", text(suggestions=[{"other": {}}]), 6309),
    ("suggestions not a list", text(suggestions="yes"), 6309),
    ("label over 25", suggestion("reply", text="x" * 26), 6309),
    ("reply without postback", text(suggestions=[{"reply": {"text": "Label"}}]), 6309),
    ("unknown action", suggestion("action", action="email", to="a@b.pl"), 6309),
    ("url action with a bad url", suggestion("action", action="url", to="not a url"), 6309),
    ("dial action with a bad number", suggestion("action", action="dial", to="call me"), 6309),
    (
        "calendar without title",
        suggestion("action", action="calendar", to="2022-04-05 09:00:00|2022-04-05 10:00:00"),
        6309,
    ),
    (
        "calendar in the document's broken form",
        suggestion(
            "action", action="calendar", to="2022-04-05 09:00:00|2022-04-05-10:00:00|Wydarzenie"
        ),
        6309,
    ),
    (
        "calendar ending before it starts",
        suggestion("action", action="calendar", to="2022-04-05 10:00:00|2022-04-05 09:00:00|Event"),
        6309,
    ),
    (
        "twelve suggestions",
        text(suggestions=[{"reply": {"text": f"r{i}", "postback": "p"}} for i in range(12)]),
        6309,
    ),
    (
        "five suggestions on a card",
        params(
            message={
                "richcard": [
                    card(
                        suggestions=[
                            {"reply": {"text": f"r{i}", "postback": "p"}} for i in range(5)
                        ]
                    )
                ]
            }
        ),
        6309,
    ),
    ("blank text", params(message={"text": "   "}), 6310),
    ("empty text", params(message={"text": ""}), 6310),
    ("audio without name", params(message={"audio": {"url": "https://e.pl/a.mp3"}}), 6311),
    (
        "audio with a video type",
        params(message={"audio": {"name": "a", "url": "https://e.pl/a", "type": "video/mp4"}}),
        6311,
    ),
    (
        "file without size",
        params(
            message={"file": {"name": "f", "url": "https://e.pl/f.pdf", "type": "application/pdf"}}
        ),
        6312,
    ),
    (
        "file of an unknown type",
        params(
            message={"file": {"name": "f", "url": "https://e.pl/f", "type": "text/html", "size": 1}}
        ),
        6312,
    ),
    (
        "file with a bad url",
        params(
            message={"file": {"name": "f", "url": "f.pdf", "type": "application/pdf", "size": 1}}
        ),
        6312,
    ),
    (
        "card without media",
        params(message={"richcard": [{"title": "t", "description": "d"}]}),
        6313,
    ),
    ("card without title", params(message={"richcard": [card(title=None)]}), 6313),
    (
        "media without size",
        params(
            message={"richcard": [card(media={"url": "https://e.pl/a.png", "type": "image/png"})]}
        ),
        6313,
    ),
    (
        "pdf inside a card",
        params(message={"richcard": [card(media=media(type="application/pdf"))]}),
        6313,
    ),
    (
        "audio inside a card",
        params(message={"richcard": [card(media=media(type="audio/mp3"))]}),
        6313,
    ),
    (
        "layout placeholder",
        params(
            message={
                "richcard": [
                    card(layout={"imageAlignment": "LEFT|RIGHT", "cardOrientation": "VERTICAL"})
                ]
            }
        ),
        6313,
    ),
    (
        "height placeholder",
        params(message={"richcard": [card(media=media(height="SHORT|MEDIUM|TALL")), card()]}),
        6313,
    ),
    (
        "card width placeholder",
        params(message={"richcard": [card(), card()], "cardWidth": "SMALL|MEDIUM"}),
        6313,
    ),
    ("eleven cards", params(message={"richcard": [card() for _ in range(11)]}), 6313),
    ("empty card list", params(message={"richcard": []}), 6313),
    ("map without coordinates", suggestion("action", action="map", to="SerwerSMS"), 6314),
    ("map with a bad latitude", suggestion("action", action="map", to="Here|95.0|18.5"), 6314),
    ("map with words for numbers", suggestion("action", action="map", to="Here|north|east"), 6314),
    ("more than 100,000 numbers", params(phone=["500600700"] * 100_001), 6315),
    ("only foreign numbers", params(phone=["+46701234567", "+4915112345678"]), 6317),
]


@pytest.mark.parametrize(("body", "code"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
async def test_each_error_from_its_input(client, body, code):
    assert await send(client, body) == error(code)
    assert (await client.get("/_emulator/messages")).json()["total"] == 0


def test_every_rcs_code_of_the_table_is_covered():
    table = {
        6300,
        6301,
        6302,
        6303,
        6304,
        6306,
        6307,
        6308,
        6309,
        6310,
        6311,
        6312,
        6313,
        6314,
        6315,
        6317,
    }
    strict_only = {6300, 6301, 6304}
    assert {c[2] for c in CASES} | strict_only == table


STRICT = Config(
    clock="manual",
    serwersms={
        "strict": True,
        "accounts": [
            {
                "username": "full",
                "password": "pw",
                "token": "tok-full",
                "bots": {BOT: True, "old-bot": False},
            },
            {"username": "norcs", "password": "pw", "rcs": False},
            {"username": "office", "password": "pw", "ips": ["10.9.9.9"]},
            {"username": "inactive", "password": "pw", "active": False},
            {"username": "noapi", "password": "pw", "api": False},
        ],
    },
)


async def test_strict_accounts(mode, redis_url):
    async with open_client(mode, STRICT, redis_url) as client:
        bearer = {"Authorization": "Bearer tok-full"}
        assert (await send(client, params(), headers=bearer))["success"]
        assert (await send(client, params(username="full", password="pw"), headers={}))["success"]
        wrong = params(username="full", password="wrong")
        assert await send(client, wrong, headers={}) == error(1001)
        assert await send(client, params(), headers={"Authorization": "Bearer x"}) == error(1001)
        assert await send(client, params(rcs_id="unknown"), headers=bearer) == error(6301)
        assert await send(client, params(rcs_id="old-bot"), headers=bearer) == error(6301)
        for user, code in [("norcs", 6300), ("office", 6304), ("inactive", 1007), ("noapi", 1002)]:
            body = params(username=user, password="pw")
            assert await send(client, body, headers={}) == error(code), user
        assert (await client.get("/_emulator/messages")).json()["total"] == 2
