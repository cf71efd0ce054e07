"""The inbox page as HTTP serves it: local assets only, content never as markup, the token, and
the live stream of change notices. The rendering itself is tested in a browser: test_inbox_browser."""

from __future__ import annotations

import json
import re
import signal
import threading
from pathlib import Path

import httpx
import pytest

from emulator import Config
from tests.conftest import GENERIC_AUTH, open_client
from tests.robustness.process import Served

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
    assert len(assets) == 12
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
                    if notices[-1]["kind"] == "event":
                        return

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    assert ready.wait(5)
    body = {"agentId": "ui", "number": ["+46701234567"], "messageType": "Text", "text": "hi"}
    httpx.post(base + "/Rcs/api/v1/Message", json=body, headers=GENERIC_AUTH).raise_for_status()
    httpx.post(base + "/_emulator/clock/advance", json={"seconds": 10}).raise_for_status()
    thread.join(10)
    assert [n["kind"] for n in notices] == ["message", "event"]
    assert notices[1]["message_id"] == notices[0]["message_id"]
    assert {n["phone"] for n in notices} == {"+46701234567"}
    assert all(n["provider"] == "generic" and n["agent_id"] == "ui" for n in notices)


def test_a_burst_too_big_to_list_becomes_one_resync_and_nothing_is_lost(live_server):
    """An advance over 1,200 messages changes them all in one go: a viewer gets one `resync`
    (reload what you show) rather than 2,400 notices, some of which it would have missed."""
    base = live_server.base_url
    httpx.post(base + "/_emulator/reset").raise_for_status()
    numbers = [f"+4670555{i:04d}" for i in range(1200)]
    for part in (numbers[:600], numbers[600:]):
        body = {"agentId": "ui", "number": part, "messageType": "Text", "text": "hi"}
        httpx.post(base + "/Rcs/api/v1/Message", json=body, headers=GENERIC_AUTH).raise_for_status()
    notices: list[dict] = []
    ready = threading.Event()

    def listen() -> None:
        with httpx.stream("GET", base + "/_emulator/stream", timeout=10) as response:
            for line in response.iter_lines():
                ready.set()
                if line.startswith("data: "):
                    notices.append(json.loads(line[6:]))
                    if notices[-1]["kind"] == "resync":
                        return

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    assert ready.wait(5)
    httpx.post(
        base + "/_emulator/clock/advance", json={"seconds": 60}, timeout=30
    ).raise_for_status()
    thread.join(10)
    assert not thread.is_alive(), f"no resync came: {len(notices)} notices"
    assert notices[-1] == {
        "kind": "resync",
        "provider": None,
        "agent_id": None,
        "phone": None,
        "message_id": None,
    }
    assert len(notices) < 1200  # the burst did not arrive notice by notice


def test_sigterm_stops_the_server_at_once_while_a_page_holds_its_event_stream(tmp_path):
    """uvicorn waits for every response under way before it stops; the event stream never ends
    by itself, so a SIGTERM used to wait for ever while an inbox was open."""
    server = Served(tmp_path / "serve.log", "--log-level", "info")
    opened = threading.Event()
    ended: list[str] = []

    def listen() -> None:
        try:
            with httpx.stream("GET", server.base_url + "/_emulator/stream", timeout=60) as response:
                for _ in response.iter_lines():
                    opened.set()
        except httpx.HTTPError as error:
            ended.append(type(error).__name__)
        else:
            ended.append("closed")

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    try:
        assert opened.wait(10)
        server.proc.send_signal(signal.SIGTERM)
        server.proc.wait(10)  # a deadline: before the fix it never came (uvicorn waited)
    finally:
        if server.proc.poll() is None:
            server.kill()
    thread.join(10)
    assert ended, "the stream is still open"
    log = server.text()
    assert "Waiting for connections to close" not in log
    assert "Finished server process" in log
