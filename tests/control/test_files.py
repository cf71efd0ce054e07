"""Uploaded files through the control API: records, bytes, tenants, expiry and reset."""

from __future__ import annotations

import pytest

from tests.conftest import advance
from tests.providers.generic.helpers import AGENT, AUTH, BASE, PNG

pytestmark = pytest.mark.anyio

GIF = b"GIF89a" + b"\x01" * 64
OTHER_KEY = {"Authorization": "Bearer another-tenant-key-000000"}


async def upload(client, content: bytes, name: str, headers=AUTH) -> str:
    files = {"file": (name, content, "application/octet-stream")}
    response = await client.post(f"{BASE}/UploadFile/{AGENT}", files=files, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["fileId"]


async def test_files_are_listed_with_their_record_and_bytes(client):
    first = await upload(client, PNG, "logo.png")
    second = await upload(client, GIF, "spinner.gif")
    listing = (await client.get("/_emulator/files")).json()
    assert listing["total"] == 2
    assert [f["id"] for f in listing["items"]] == [first, second]
    record = listing["items"][0]
    assert record["name"] == "logo.png" and record["mime"] == "image/png"
    assert record["size"] == len(PNG) and record["agent_id"] == AGENT
    assert record["expired"] is False
    assert record["content_url"] == f"/_emulator/files/{first}/content"
    assert (await client.get(f"/_emulator/files/{first}")).json() == record

    content = await client.get(record["content_url"])
    assert content.status_code == 200 and content.content == PNG
    assert content.headers["content-type"] == "image/png"
    assert content.headers["x-content-type-options"] == "nosniff"
    assert content.headers["content-security-policy"] == "sandbox"
    assert content.headers["content-disposition"].startswith("inline")
    gif = await client.get(f"/_emulator/files/{second}/content")
    assert gif.content == GIF and gif.headers["content-type"] == "image/gif"


async def test_unknown_files_are_404(client):
    for path in (
        "/_emulator/files/files/nope",
        "/_emulator/files/files/nope/content",
        "/_emulator/files/..%2F..%2Fetc%2Fpasswd/content",
    ):
        response = await client.get(path)
        assert response.status_code == 404
        assert response.json() == {"error": "no uploaded file with that id"}


async def test_files_scope_to_tenant_and_agent_and_expire(client):
    mine = await upload(client, PNG, "mine.png")
    theirs = await upload(client, GIF, "theirs.gif", headers=OTHER_KEY)
    all_ids = [f["id"] for f in (await client.get("/_emulator/files")).json()["items"]]
    assert sorted(all_ids) == sorted([mine, theirs])
    tenant = await client.get("/_emulator/files", params={"tenant": "another-tenant-key-000000"})
    assert [f["id"] for f in tenant.json()["items"]] == [theirs]
    by_agent = await client.get("/_emulator/files", params={"agent": "someone-else"})
    assert by_agent.json() == {"items": [], "total": 0}

    await advance(client, 50 * 86400)
    assert (await client.get(f"/_emulator/files/{mine}")).json()["expired"] is True


async def test_a_tenant_reset_forgets_its_files_and_their_bytes(client):
    mine = await upload(client, PNG, "mine.png")
    theirs = await upload(client, GIF, "theirs.gif", headers=OTHER_KEY)
    reset = await client.post("/_emulator/reset", params={"tenant": "another-tenant-key-000000"})
    assert reset.status_code == 200
    assert (await client.get(f"/_emulator/files/{theirs}/content")).status_code == 404
    assert (await client.get(f"/_emulator/files/{mine}/content")).content == PNG
    await client.post("/_emulator/reset")
    assert (await client.get("/_emulator/files")).json()["total"] == 0


def test_the_handle_reads_files_and_their_bytes(live_server):
    import httpx

    from emulator.client import EmulatorHandle

    handle = EmulatorHandle(live_server.base_url, tenant="handle-files-key-0000")
    try:
        handle.reset()
        files = {"file": ("logo.png", PNG, "image/png")}
        headers = {"Authorization": "Bearer handle-files-key-0000"}
        url = f"{live_server.base_url}{BASE}/UploadFile/{AGENT}"
        file_id = httpx.post(url, files=files, headers=headers).json()["fileId"]
        assert [f["id"] for f in handle.files()] == [file_id]
        assert handle.files(agent="nobody") == []
        assert handle.file_content(file_id) == PNG
    finally:
        handle.close()
