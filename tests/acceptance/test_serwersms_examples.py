"""The structures of the SerwerSMS RCS document, sent as a client would. The document's JSON is
indented with no-break spaces (U+00A0), has trailing commas and placeholder values ("LEFT|RIGHT",
"SHORT|MEDIUM|TALL"). Copied verbatim, no body is JSON (1006). With plain spaces, the text and
file structures are accepted and the single card still is not JSON (trailing commas) and the carousel is refused for its
placeholders (6313); with
the commas removed too, the placeholders are refused as the card's structure error (6313), and
the calendar suggestion's end time "2022-04-05-10:00:00" is not a date (6309). With real values
in place of the placeholders, each structure is accepted."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import SERWERSMS_AUTH

from .curl import DATA

pytestmark = pytest.mark.anyio

DOC = (DATA / "serwersms-rcs-api-v2.txt").read_text(encoding="utf-8")
BOT = "54c53be2-cbb8-11ec-9d64-0242ac120002"


def block(title: str) -> str:
    """The JSON text that follows a heading of the document."""
    text = DOC[DOC.index(title) + len(title) :]
    first = min(i for i in (text.find("{"), text.find("[")) if i >= 0)
    depth = 0
    for i in range(first, len(text)):
        depth += {"{": 1, "[": 1, "}": -1, "]": -1}.get(text[i], 0)
        if depth == 0:
            return text[first : i + 1]
    raise AssertionError(title)


def plain(text: str) -> str:
    return text.replace("\xa0", " ")


def relaxed(text: str) -> object:
    """The document's JSON with plain spaces and without its trailing commas."""
    return json.loads(re.sub(r",(\s*[}\]])", r"\1", plain(text)))


STRUCTURES = {
    "text": block("1. Text message"),
    "file": block("2. File/image/video message"),
    "single": block("3. Message information card (single)"),
    "carousel": block("4. Message information card (carousel)"),
}
SUGGESTIONS = block("Possible structures are presented below:")


async def send(client, message, raw: bool = False):
    if raw:
        body = f'{{"rcs_id": "{BOT}", "phone": "+48500600700", "message": {message}}}'
        return (
            await client.post(
                "/messages/send_rcs.json",
                content=body,
                headers={**SERWERSMS_AUTH, "Content-Type": "application/json"},
            )
        ).json()
    body = {"rcs_id": BOT, "phone": "+48500600700", "message": message}
    return (await client.post("/messages/send_rcs.json", json=body, headers=SERWERSMS_AUTH)).json()


def code(answer) -> int | None:
    return answer.get("error", {}).get("code")


@pytest.mark.parametrize("name", sorted(STRUCTURES))
async def test_verbatim_copies_are_not_json(client, name):
    assert "\xa0" in STRUCTURES[name]
    assert code(await send(client, STRUCTURES[name], raw=True)) == 1006


async def test_text_and_file_structures_are_accepted(client):
    assert (await send(client, plain(STRUCTURES["text"]), raw=True))["success"] is True
    assert (await send(client, plain(STRUCTURES["file"]), raw=True))["success"] is True


async def test_single_card_with_trailing_commas_is_not_json(client):
    assert code(await send(client, plain(STRUCTURES["single"]), raw=True)) == 1006


async def test_carousel_as_written_is_refused_for_its_placeholders(client):
    assert code(await send(client, plain(STRUCTURES["carousel"]), raw=True)) == 6313


@pytest.mark.parametrize("name", ["single", "carousel"])
async def test_card_placeholders_are_the_card_error(client, name):
    assert code(await send(client, relaxed(STRUCTURES[name]))) == 6313


async def test_card_structures_with_real_values_are_accepted(client):
    single = relaxed(STRUCTURES["single"])
    single["richcard"][0]["layout"] = {"imageAlignment": "LEFT", "cardOrientation": "VERTICAL"}
    assert (await send(client, single))["success"] is True
    carousel = relaxed(STRUCTURES["carousel"])
    for card in carousel["richcard"]:
        card["media"]["height"] = "MEDIUM"
    carousel["cardWidth"] = "SMALL"
    assert (await send(client, carousel))["success"] is True


async def test_suggestion_examples(client):
    suggestions = relaxed(SUGGESTIONS)
    assert len(suggestions) == 5
    answer = await send(client, {"text": "Hi", "suggestions": suggestions})
    assert code(answer) == 6309  # the calendar's end "2022-04-05-10:00:00"
    suggestions[4]["action"]["to"] = "2022-04-05 09:00:00|2022-04-05 10:00:00|Wydarzenie"
    assert (await send(client, {"text": "Hi", "suggestions": suggestions}))["success"] is True


async def test_document_error_example(client):
    strict = {
        "error": {
            "code": 6300,
            "type": "RcsError",
            "message": "You do not have permission to send messages",
        }
    }
    assert (await client.get("/error/6300")).json() == strict
