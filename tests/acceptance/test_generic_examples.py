"""Every curl example of the Generic RCS API v1 document, replayed as written, gets what the
real service would answer. Two of them are themselves broken: "Fallback Sms" is not valid JSON
(a comma is missing) and the first Carousel example sends no Authorization header."""

from __future__ import annotations

import dataclasses
import json
import uuid

import pytest

from tests.providers.generic.helpers import PNG

from .curl import CurlExample, examples

pytestmark = pytest.mark.anyio

EXAMPLES = examples("generic-rcs-api-v1.txt")
SENDS = [e for e in EXAMPLES if e.path == "/Rcs/api/v1/Message"]
BROKEN = {"Fallback Sms": 400, "Example 3: Send a Carousel Message": 401}


def test_the_document_has_the_examples_we_expect():
    assert len(SENDS) == 13
    assert {e.heading for e in SENDS} >= set(BROKEN)
    assert len(EXAMPLES) == 19


async def replay(client, example: CurlExample):
    headers = dict(example.headers)
    if example.forms:
        headers.pop("Content-Type", None)  # curl -F writes its own, with the boundary
        files, data = {}, {}
        for form in example.forms:
            name, _, value = form.partition("=")
            if value.startswith("@"):
                files[name] = (value.rsplit("/", 1)[-1], PNG, "image/png")
            else:
                data[name] = value
        return await client.post(example.path, headers=headers, files=files, data=data)
    content = example.data.encode() if example.data is not None else None
    return await client.request(example.method, example.path, headers=headers, content=content)


@pytest.mark.parametrize("example", SENDS, ids=[f"line{e.line}" for e in SENDS])
async def test_send_examples(client, example):
    response = await replay(client, example)
    expected = BROKEN.get(example.heading, 200)
    assert response.status_code == expected, response.text
    stored = (await client.get("/_emulator/messages")).json()["items"]
    if expected != 200:
        assert stored == []
        return
    body = response.json()
    assert list(body) == ["tagId"] and str(uuid.UUID(body["tagId"])) == body["tagId"]
    numbers = json.loads(example.data)["number"]
    assert sorted(m["phone"] for m in stored) == sorted(numbers)


async def test_broken_examples_get_the_services_own_errors(client):
    by_heading = {e.heading: e for e in SENDS}
    fallback = await replay(client, by_heading["Fallback Sms"])
    assert fallback.json()["title"] == "One or more validation errors occurred."
    assert "expected ',' or '}'" in fallback.json()["errors"]["$"][0]
    carousel = await replay(client, by_heading["Example 3: Send a Carousel Message"])
    assert carousel.json()["title"] == "Unauthorized"
    # with a key, the carousel still fails: its second card names a fileId never uploaded
    original = by_heading["Example 3: Send a Carousel Message"]
    key = {"Authorization": "Bearer 90be0b2c-b218-4070-a890-152821090464"}
    fixed = dataclasses.replace(original, headers=original.headers | key)
    response = await replay(client, fixed)
    assert response.status_code == 400
    assert "carouselContent.richCardContents[1].fileId" in response.json()["errors"]


async def test_upload_example(client):
    upload = next(e for e in EXAMPLES if "UploadFile" in e.path)
    response = await replay(client, upload)
    assert response.status_code == 200
    assert response.json()["statusCode"] == "OK"
    assert response.json()["fileId"].startswith("files/")


@pytest.mark.parametrize("line", [771, 841, 873])
async def test_read_examples_of_ids_this_account_never_sent_are_404(client, line):
    example = next(e for e in EXAMPLES if e.line == line)
    response = await replay(client, example)
    assert response.status_code == 404


async def test_agent_messages_example(client):
    example = next(e for e in EXAMPLES if "/Message/Agent/" in e.path)
    response = await replay(client, example)
    assert response.status_code == 200
    assert response.json() == []


async def test_capability_example(client):
    example = next(e for e in EXAMPLES if "/Capability/" in e.path)
    response = await replay(client, example)
    assert response.status_code == 200
    assert response.json() is True


async def test_read_shapes_match_the_documents_examples(client):
    """After a real send, the reads carry exactly the fields the document shows."""
    first = await replay(client, SENDS[1])  # two recipients
    tag = first.json()["tagId"]
    await client.post("/_emulator/clock/advance", json={"seconds": 60})
    auth = SENDS[1].headers
    stats = (await client.get(f"/Rcs/api/v1/Message/Tag/{tag}", headers=auth)).json()
    assert set(stats) == {
        "totalNumberMessages",
        "smsNumbers",
        "rcsNumbers",
        "deliveredSms",
        "deliveredRcs",
        "readRcs",
        "repliedRcs",
        "rcs",
        "sms",
    }
    assert set(stats["rcs"][0]) == {"number", "messageId"}
    message_id = stats["rcs"][0]["messageId"]
    thread = (await client.get(f"/Rcs/api/v1/Message/{message_id}", headers=auth)).json()
    assert all(set(e) == {"from", "to", "time", "messageType"} for e in thread)
    listing = (await client.get("/Rcs/api/v1/Message/Agent/your_agentId", headers=auth)).json()
    assert all(
        set(e) == {"agentId", "time", "messageId", "messageType", "to", "from"} for e in listing
    )
