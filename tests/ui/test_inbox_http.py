"""The inbox page as HTTP serves it: local assets only, content never as markup, the token, and
the live stream of change notices. The rendering itself is tested in a browser: test_inbox_browser."""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path

import httpx
import pytest

from emulator import Config
from tests.conftest import GENERIC_AUTH, open_client

pytestmark = pytest.mark.anyio
STATIC = Path(__file__).parents[2] / "emulator" / "ui" / "static"


async def test_page_and_assets_are_served_locally(client):
    page = await client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assets = [(js.name, "text/javascript") for js in STATIC.glob("*.js")] + [
        ("inbox.css", "text/css")
    ]
    assert len(assets) == 9
    for asset, kind in assets:
        response = await client.get(f"/ui/{asset}")
        assert response.status_code == 200 and response.headers["content-type"].startswith(kind)
    assert (await client.get("/ui/..%2Fapp.py")).status_code == 404
    assert (await client.get("/ui/index.html.bak")).status_code == 404


def test_no_asset_comes_from_elsewhere_and_no_content_becomes_markup():
    html = (STATIC / "index.html").read_text()
    assert not re.search(r"""(src|href)=["']https?://""", html)
    for js in STATIC.glob("*.js"):
        script = js.read_text()
        assert "innerHTML" not in script and "insertAdjacentHTML" not in script
        assert "document.write" not in script and "outerHTML" not in script
        assert not re.search(r"""(import|from)\s*["']https?://""", script)


async def test_the_page_needs_the_token_when_one_is_set(mode, redis_url):
    async with open_client(mode, Config(clock="manual", control_token="t0k"), redis_url) as client:
        assert (await client.get("/")).status_code == 401
        assert (await client.get("/?token=t0k")).status_code == 200
        assert (await client.get("/_emulator/stream")).status_code == 401


def test_the_stream_tells_what_changed(live_server):
    base = live_server.base_url
    httpx.post(base + "/_emulator/reset").raise_for_status()
    notices: list[dict] = []
    ready = threading.Event()

    def listen() -> None:
        with httpx.stream("GET", base + "/_emulator/stream", timeout=10) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            for line in response.iter_lines():
                ready.set()
                if line.startswith("data: "):
                    notices.append(json.loads(line[6:]))
                    if len(notices) >= 3:
                        return

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    assert ready.wait(5)
    body = {"agentId": "ui", "number": ["+46701234567"], "messageType": "Text", "text": "hi"}
    httpx.post(base + "/Rcs/api/v1/Message", json=body, headers=GENERIC_AUTH).raise_for_status()
    httpx.post(base + "/_emulator/clock/advance", json={"seconds": 10}).raise_for_status()
    thread.join(10)
    assert [n["kind"] for n in notices[:3]] == ["message", "event", "event"]
    assert {n["phone"] for n in notices} == {"+46701234567"}
    assert all(n["provider"] == "generic" and n["agent_id"] == "ui" for n in notices)
