"""The control API and the inbox answer only their own user: a web page on another origin can
neither change state (simple cross-site POSTs, foreign Origins) nor read it (DNS rebinding)."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import GENERIC_AUTH, open_client

pytestmark = pytest.mark.anyio

FAULT = {"provider": "generic", "status": 500}


async def _faults(client: httpx.AsyncClient) -> int:
    return int((await client.get("/_emulator/faults")).json()["total"])


async def test_a_simple_cross_site_post_cannot_carry_json(client):
    """What a page's <form> or fetch(no-cors) can send without a CORS preflight."""
    for ctype in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; b=x"):
        answer = await client.post(
            "/_emulator/faults",
            content=b'{"provider": "generic", "status": 500}',
            headers={"Content-Type": ctype},
        )
        assert answer.status_code == 415
        assert answer.json() == {
            "error": f"the control API takes JSON bodies as application/json (not {ctype})"
        }
    assert await _faults(client) == 0


async def test_a_json_body_without_a_content_type_is_refused(client):
    answer = await client.post("/_emulator/clock/advance", content=b'{"seconds": 1}')
    assert answer.status_code == 415
    assert "application/json" in answer.json()["error"]


@pytest.mark.parametrize("origin", ["https://evil.example", "null", "http://127.0.0.1:1"])
async def test_a_foreign_origin_cannot_change_state(client, origin):
    answer = await client.post("/_emulator/faults", json=FAULT, headers={"Origin": origin})
    assert answer.status_code == 403
    assert answer.json()["error"].startswith(f"origin {origin!r} is not the emulator's own")
    assert await _faults(client) == 0
    reset = await client.post("/_emulator/reset", headers={"Origin": origin})
    assert reset.status_code == 403


async def test_a_cross_site_fetch_without_origin_is_refused(client):
    answer = await client.post("/_emulator/reset", headers={"Sec-Fetch-Site": "cross-site"})
    assert answer.status_code == 403


async def test_the_emulators_own_pages_and_plain_clients_are_served(client):
    own = str(client.base_url).rstrip("/")
    answer = await client.post("/_emulator/faults", json=FAULT, headers={"Origin": own})
    assert answer.status_code == 201, answer.text
    assert (await client.post("/_emulator/reset")).status_code == 200  # curl: no Origin at all
    same = await client.post("/_emulator/reset", headers={"Sec-Fetch-Site": "same-origin"})
    assert same.status_code == 200


@pytest.mark.parametrize("host", ["evil.example.com", "evil.example.com:8080", "127.0.0.1.nip.io"])
async def test_a_foreign_host_reads_nothing(client, host):
    """DNS rebinding: the attacker's name resolves to 127.0.0.1 and the page reads same-origin."""
    for path in ("/_emulator/messages", "/_emulator/stream", "/", "/ui/inbox.js"):
        answer = await client.get(path, headers={"Host": host})
        assert answer.status_code == 403, path
        assert "allowed_hosts" in answer.json()["error"]


@pytest.mark.parametrize(
    "host",
    [
        "localhost:8080",
        "127.0.0.1",
        "[::1]:8080",
        "10.1.2.3:80",
        "emulator:8080",
        "rcs-emulator",
        "app.localhost",
    ],
)
async def test_loopback_ips_and_compose_service_names_are_served(client, host):
    answer = await client.get("/_emulator/messages", headers={"Host": host})
    assert answer.status_code == 200


async def test_allowed_hosts_lets_a_named_deployment_in(mode, redis_url):
    from tests.conftest import TEST_CONFIG

    config = TEST_CONFIG.with_overrides(allowed_hosts="rcs.example.com, .test.internal")
    async with open_client(mode, config, redis_url) as c:
        for host in ("rcs.example.com", "a.test.internal:8080"):
            assert (await c.get("/_emulator/messages", headers={"Host": host})).status_code == 200
        assert (
            await c.get("/_emulator/messages", headers={"Host": "x.example"})
        ).status_code == 403


async def test_provider_apis_and_health_answer_any_host(client):
    """Clients name the real provider hosts (or their own alias) in Host."""
    answer = await client.post(
        "/Rcs/api/v1/Message",
        headers=GENERIC_AUTH | {"Host": "api.genericmobile.se"},
        json={
            "agentId": "a",
            "number": ["+46701234567"],
            "messageType": "TextMessage",
            "text": "hi",
        },
    )
    assert answer.status_code == 200
    health = await client.get("/_emulator/health", headers={"Host": "lb.example.com"})
    assert health.status_code == 200
    ready = await client.get("/_emulator/ready", headers={"Host": "10.0.3.7:8080"})
    assert ready.status_code == 200 and ready.json()["ready"] is True


async def test_refusals_are_reported_as_surprises(client):
    await client.post(
        "/_emulator/faults?x=1", json=FAULT, headers={"Origin": "https://evil.example"}
    )
    surprises = (await client.get("/_emulator/surprises")).json()["items"]
    assert surprises[-1] | {"time": None} == {
        "kind": "request",
        "time": None,
        "provider": "control",
        "tenant": None,
        "method": "POST",
        "path": "/_emulator/faults?x=1",
        "status": 403,
        "sent": None,
        "answer": {
            "error": "origin 'https://evil.example' is not the emulator's own: the "
            "control API takes state changes only from its own pages and from clients "
            "that are not web pages"
        },
    }
