"""POST /UploadFile/{agentId}: types judged by their bytes, size limits, expiry after 50 days."""

from __future__ import annotations

import re

import pytest

from emulator import Config
from tests.conftest import advance, open_client

from .helpers import AGENT, AUTH, BASE, PNG, rich_card

pytestmark = pytest.mark.anyio

SAMPLES = {
    "image/png": PNG,
    "image/jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64,
    "image/jpg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64,
    "image/gif": b"GIF89a" + b"\x00" * 64,
    "video/mp4": b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64,
    "video/m4v": b"\x00\x00\x00\x18ftypM4V " + b"\x00" * 64,
    "video/mpeg": b"\x00\x00\x01\xba" + b"\x00" * 64,
    "video/webm": b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04"
    b"\x42\xf3\x81\x08\x42\x82\x84webm" + b"\x00" * 32,
    "video/h263": b"\x00\x00\x80\x02" + b"\x00" * 64,
}


async def upload(client, content, mime="image/png", name="picture.png", field="file", **kw):
    files = {field: (name, content, mime)}
    return await client.post(f"{BASE}/UploadFile/{AGENT}", files=files, headers=AUTH, **kw)


@pytest.mark.parametrize("mime", sorted(SAMPLES))
async def test_each_allowed_type_uploads(client, mime):
    response = await upload(client, SAMPLES[mime], mime=mime)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["statusCode"] == "OK"
    assert re.fullmatch(r"files/[A-Za-z0-9]{22}", body["fileId"])


async def test_octet_stream_is_judged_by_its_bytes(client):
    response = await upload(client, PNG, mime="application/octet-stream")
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("content", "mime"),
    [
        (b"just some text, not an image" * 3, "image/png"),  # declared png, bytes are text
        (b"%PDF-1.4\n" + b"\x00" * 64, "application/pdf"),  # a type the platform refuses
        (PNG, "application/pdf"),  # png bytes under a refused type
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64, "video/mp4"),  # jpeg posing as video
        (b"MZ\x90\x00" + b"\x00" * 64, "image/gif"),  # an executable posing as an image
    ],
)
async def test_types_are_checked_against_the_bytes(client, content, mime):
    response = await upload(client, content, mime=mime)
    assert response.status_code == 400
    assert response.json() == {"statusCode": 400, "Message": "Unsupported file type"}


async def test_missing_file_field_empty_file_and_wrong_encoding(client):
    response = await upload(client, PNG, field="image")
    assert response.status_code == 400
    assert response.json()["statusCode"] == 400
    assert "file" in response.json()["Message"]
    response = await upload(client, b"")
    assert response.json() == {"statusCode": 400, "Message": "The uploaded file is empty"}
    response = await client.post(f"{BASE}/UploadFile/{AGENT}", json={"file": "x"}, headers=AUTH)
    assert response.status_code == 415


async def test_upload_needs_a_key(client):
    response = await client.post(f"{BASE}/UploadFile/{AGENT}", files={"file": ("a.png", PNG)})
    assert response.status_code == 401


async def test_file_over_the_limit_is_refused_while_streaming(mode, redis_url):
    config = Config(clock="manual", generic={"max_upload_bytes": 1024})
    async with open_client(mode, config, redis_url) as client:
        assert (await upload(client, PNG + b"\x00" * 900)).status_code == 200
        too_big = await upload(client, PNG + b"\x00" * 2000)
        assert too_big.status_code == 400
        assert too_big.json() == {
            "statusCode": 400,
            "Message": "File size exceeds the maximum allowed size of 100 MB",
        }


async def test_declared_length_over_100_mb_is_refused_before_reading(live_server):
    """Only headers and five body bytes are sent; the answer must come without the rest."""
    import asyncio

    host, port = "127.0.0.1", live_server.port
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(
        (
            f"POST {BASE}/UploadFile/{AGENT} HTTP/1.1\r\nHost: {host}\r\n"
            f"Authorization: {AUTH['Authorization']}\r\n"
            "Content-Type: multipart/form-data; boundary=b\r\n"
            f"Content-Length: {200 * 1024 * 1024}\r\n\r\n--b\r\n"
        ).encode()
    )
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=5)
    writer.close()
    assert head.startswith(b"HTTP/1.1 400")


async def test_uploaded_file_is_used_in_a_card_until_it_expires(client):
    file_id = (await upload(client, PNG)).json()["fileId"]
    body = rich_card(fileUrl=None, fileId=file_id)
    ok = await client.post(f"{BASE}/Message", json=body, headers=AUTH)
    assert ok.status_code == 200
    other_key = await client.post(
        f"{BASE}/Message", json=body, headers={"Authorization": "Bearer someone-else"}
    )
    assert other_key.status_code == 400  # files belong to the key that uploaded them
    await advance(client, 50 * 86400 - 1)
    assert (await client.post(f"{BASE}/Message", json=body, headers=AUTH)).status_code == 200
    await advance(client, 1)
    expired = await client.post(f"{BASE}/Message", json=body, headers=AUTH)
    assert expired.status_code == 400
    assert "unknown or has expired" in expired.json()["errors"]["richCardContent.fileId"][0]
