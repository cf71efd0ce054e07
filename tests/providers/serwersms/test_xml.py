"""Every `.xml` answer is well-formed XML whatever a client sent: read back with a real XML
parser (expat), each text holds what the JSON answer holds, with the characters XML 1.0 cannot
carry (C0 controls, U+FFFE, U+FFFF) as U+FFFD, and a carriage return kept (`&#13;`)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from emulator.providers.serwersms.xml import xml_text
from tests.conftest import open_client
from tests.providers.hostile import XML_HOSTILE

from .helpers import AUTH, card, error, params

pytestmark = pytest.mark.anyio


@pytest.fixture
async def rcs_client() -> AsyncIterator[httpx.AsyncClient]:
    async with open_client("asgi") as client:
        yield client


def parsed(response: httpx.Response) -> ET.Element:
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    return ET.fromstring(response.content)  # raises on anything not well-formed


def as_json(element: ET.Element) -> Any:
    """The XML answer read back into the JSON answer's shape (texts as strings)."""
    children = list(element)
    if not children:
        return element.text
    if all(c.tag == "item" for c in children):
        return [as_json(c) for c in children]
    return {c.tag: as_json(c) for c in children}


def texts_of(value: Any) -> Any:
    """The JSON answer as the XML one carries it: scalars as text, nulls empty."""
    if isinstance(value, dict):
        return {k: texts_of(v) for k, v in value.items()}
    if isinstance(value, list):
        return [texts_of(v) for v in value] if value else None
    if isinstance(value, bool):
        return "true" if value else "false"
    return None if value is None else xml_text(str(value))


async def both(client: httpx.AsyncClient, action: str, body: dict[str, Any]) -> tuple[Any, Any]:
    """The same request as .xml and .json (the send itself only once: as .xml)."""
    xml = parsed(await client.post(f"/{action}.xml", json=body, headers=AUTH))
    return as_json(xml), xml


@pytest.mark.parametrize("hostile", XML_HOSTILE, ids=[repr(h) for h in XML_HOSTILE])
async def test_every_answer_about_a_hostile_message_is_well_formed(rcs_client, hostile: str):
    bot = f"bot {hostile} 1"
    body = params(
        rcs_id=bot,
        phone=["500600700", f"{hostile}500"],
        details=True,
        message={"text": f"Hello {hostile}"},
    )
    sent, _ = await both(rcs_client, "messages/send_rcs", body)
    queued, unsent = sent["items"]
    assert queued["text"] == xml_text(f"Hello {hostile}")
    assert unsent["phone"] == xml_text(f"{hostile}500")
    assert (unsent["status"], unsent["error_code"]) == ("unsent", "6306")

    reports, _ = await both(rcs_client, "messages/reports", {})
    json_reports = (await rcs_client.post("/messages/reports.json", json={}, headers=AUTH)).json()
    assert reports == texts_of(json_reports)
    [item] = reports["items"]
    assert (item["text"], item["sender"], item["rcs_id"]) == (
        xml_text(f"Hello {hostile}"),
        xml_text(bot),
        xml_text(bot),
    )

    view, _ = await both(rcs_client, "messages/view", {"id": queued["id"]})
    assert view == item
    assert (await rcs_client.get("/_emulator/messages")).json()["items"][0]["text"] == (
        f"Hello {hostile}"
    )  # the stored text is as sent: only the XML form cannot carry it


@pytest.mark.parametrize("hostile", XML_HOSTILE, ids=[repr(h) for h in XML_HOSTILE])
async def test_a_card_title_summarised_in_reports_is_well_formed(rcs_client, hostile: str):
    body = params(message={"richcard": [card(title=f"Card {hostile}")]})
    sent, _ = await both(rcs_client, "messages/send_rcs", body)
    assert sent["success"] == "true"
    reports, _ = await both(rcs_client, "messages/reports", {})
    assert reports["items"][0]["text"] == xml_text(f"Card {hostile}")


async def test_a_carriage_return_survives_the_xml_form(rcs_client) -> None:
    body = params(details=True, message={"text": "one\r\ntwo\rthree"})
    response = await rcs_client.post("/messages/send_rcs.xml", json=body, headers=AUTH)
    assert b"&#13;" in response.content
    assert parsed(response).findtext("items/item/text") == "one\r\ntwo\rthree"


@pytest.mark.parametrize(
    ("path", "body", "code"),
    [
        ("/messages/send_rcs.xml", params(message={}), 6307),
        ("/messages/send_rcs.xml", params(unique_id="\x01\x02\x03"), 1006),
        (
            "/messages/send_rcs.xml",
            params(
                message={
                    "text": "x",
                    "suggestions": [
                        {
                            "action": {
                                "text": "\x1b",
                                "postback": "p",
                                "action": "map",
                                "to": "\x01|1|2",
                            }
                        }
                    ],
                }
            ),
            6314,
        ),
        ("/messages/reports.xml", {"phone": "\x01\ufffe"}, 2001),
        ("/messages/view.xml", {"id": "\x01"}, 1004),
        ("/messages/teleport.xml", {}, 1000),
        ("/error/6300.xml", None, 6300),
        ("/error/%01.xml", None, 2002),
    ],
)
async def test_every_error_answer_is_well_formed(rcs_client, path, body, code) -> None:
    response = await rcs_client.post(path, json=body, headers=AUTH)
    assert as_json(parsed(response)) == texts_of(error(code))


async def test_a_lone_surrogate_cannot_arrive_and_its_refusal_is_well_formed(rcs_client):
    raw = b'{"rcs_id": "bot", "phone": "500600700", "message": {"text": "\\ud800"}}'
    headers = AUTH | {"Content-Type": "application/json"}
    response = await rcs_client.post("/messages/send_rcs.xml", content=raw, headers=headers)
    assert as_json(parsed(response)) == texts_of(error(1006))
    form = "rcs_id=bot&phone=500600700&message[text]=%ED%A0%80%01"
    headers = AUTH | {"Content-Type": "application/x-www-form-urlencoded"}
    response = await rcs_client.post(
        "/messages/send_rcs.xml?details=1", content=form, headers=headers
    )
    assert parsed(response).findtext("items/item/text") == "\ufffd\ufffd\ufffd\ufffd"
