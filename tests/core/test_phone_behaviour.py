"""A phone that behaves like a phone: one without RCS cannot answer over RCS; a tap on a message
not yet reported delivered reports delivered, then read, then the tap, once each; and one
recipient's callbacks go out in event order on every clock."""

from __future__ import annotations

import asyncio
import base64
import threading
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from emulator import Config, EmulatorServer
from emulator.labels import fingerprint
from tests.conftest import GENERIC_AUTH, advance, open_client, set_agent
from tests.core.test_webhooks import AGENT, BOT, generic_send, serwersms_send

pytestmark = pytest.mark.anyio


def _types(webhook: Any) -> list[str]:
    return [c["json"]["Type"] for c in webhook.calls]


async def test_a_phone_without_rcs_cannot_answer(client, webhook):
    await set_agent(client, "generic", AGENT, webhook_url=webhook.url)
    await generic_send(client, "+46700000001")  # the default scenario's "no-rcs" number
    await advance(client, 10)
    webhook.clear()
    inbound = {"provider": "generic", "agent_id": AGENT, "phone": "+46700000001"}
    for action in ({"text": "hello?"}, {"postback": "yes"}):
        refused = await client.post("/_emulator/inbound", json=inbound | action)
        assert refused.status_code == 409
        assert refused.json() == {
            "error": "+46700000001 has no RCS capability: it cannot answer over RCS"
        }
    [message] = (await client.get("/_emulator/messages")).json()["items"]
    assert message["can_answer"] is False
    assert (
        message["answer_refusal"] == "+46700000001 has no RCS capability: it cannot answer over RCS"
    )
    assert [e["type"] for e in message["events"]] == ["sent", "no_capability"]
    await advance(client, 60)
    assert webhook.calls == []  # no callback of any kind


async def test_a_phone_made_incapable_after_the_send_cannot_answer(client, webhook):
    await generic_send(client, "+46701234567")
    await advance(client, 10)
    await client.put("/_emulator/phones/+46701234567", json={"rcs_capable": False})
    refused = await client.post("/_emulator/inbound", json={
        "provider": "generic", "agent_id": AGENT, "phone": "+46701234567", "text": "hi"})  # fmt: skip
    assert refused.status_code == 409
    assert "has no RCS capability" in refused.json()["error"]


async def test_an_sms_fallback_cannot_be_answered_over_rcs(client):
    sent = await client.post("/Rcs/api/v1/Message", headers=GENERIC_AUTH, json={
        "agentId": AGENT, "number": ["+46700000001"], "messageType": "TextMessage", "text": "Hi",
        "smsFallbackText": "by SMS"})  # fmt: skip
    assert sent.status_code == 200
    refused = await client.post("/_emulator/inbound", json={
        "provider": "generic", "agent_id": AGENT, "phone": "+46700000001", "text": "hi"})  # fmt: skip
    assert refused.status_code == 409
    assert "it got" in refused.json()["error"] and "as an SMS fallback" in refused.json()["error"]


async def test_a_tap_before_delivery_reports_delivered_read_and_the_tap_once(client, webhook):
    await set_agent(client, "generic", AGENT, webhook_url=webhook.url)
    message_id = await generic_send(client, "+46701234567")  # nothing happened yet
    tap = await client.post("/_emulator/inbound", json={
        "provider": "generic", "agent_id": AGENT, "phone": "+46701234567", "postback": "yes"})  # fmt: skip
    assert tap.status_code == 200
    await advance(client, 0)
    assert _types(webhook) == ["DELIVERED", "READ", "REPLY"]
    assert {c["json"]["MessageId"] for c in webhook.calls} == {message_id}
    await advance(client, 60)  # the scenario's own delivered and read steps come due: skipped
    assert _types(webhook) == ["DELIVERED", "READ", "REPLY"]
    [message] = (await client.get("/_emulator/messages")).json()["items"]
    assert [e["type"] for e in message["events"]] == ["sent", "delivered", "read", "reply"]


async def test_a_typed_reply_after_delivery_reports_read_first(client, webhook):
    await set_agent(client, "serwersms", BOT, webhook_url=webhook.url)
    await serwersms_send(client, "+48100000003")  # "delivered-not-read" number
    await advance(client, 5)
    assert [c["json"][0]["status"] for c in webhook.calls] == ["delivered"]
    typed = await client.post("/_emulator/inbound", json={
        "provider": "serwersms", "agent_id": BOT, "phone": "+48100000003", "text": "Hello"})  # fmt: skip
    assert typed.status_code == 200
    await advance(client, 0)
    calls = [c["json"][0] for c in webhook.calls]
    assert [(c["type"], c.get("status")) for c in calls] == [
        ("report", "delivered"),
        ("report", "displayed"),
        ("message", None),
    ]
    assert base64.b64decode(calls[-1]["text"]).decode() == "Hello"


class SlowReceiver:
    """Answers after a pause and notes whether a phone's callbacks ever overlapped."""

    def __init__(self, pause: float = 0.05) -> None:
        self.pause = pause
        self.order: list[str] = []
        self.overlaps: list[str] = []
        self._open: dict[str, int] = {}
        self._lock = threading.Lock()
        app = Starlette(routes=[Route("/hook", self._hook, methods=["POST"])])
        self.server = EmulatorServer(Config(port=0), app=app)

    async def _hook(self, request: Request) -> PlainTextResponse:
        body = await request.json()
        phone = body.get("SenderPhoneNo") or body[0]["phone"]
        kind = body.get("Type") or body[0].get("status") or body[0]["type"]
        with self._lock:
            if self._open.get(phone):
                self.overlaps.append(f"{kind} while another callback of {phone} was open")
            self._open[phone] = self._open.get(phone, 0) + 1
            self.order.append(kind)
        await asyncio.sleep(self.pause)
        with self._lock:
            self._open[phone] -= 1
        return PlainTextResponse("OK")


@pytest.mark.parametrize("clock", ["real", "scaled", "manual"])
async def test_one_recipients_callbacks_go_out_in_order_on_every_clock(clock):
    receiver = SlowReceiver()
    receiver.server.start()
    try:
        speed = 2.0 if clock == "scaled" else 1.0
        config = Config(clock=clock, speed=speed, seed=3, webhook_per_host=8,
                        webhook_url=receiver.server.base_url + "/hook")  # fmt: skip
        async with open_client("live", config) as client:
            for phone in ("+46700000004", "+46700000014"):  # taps the first suggestion
                await generic_send(client, phone)
            # The README's example: a minute passes at once, every step comes due together.
            await advance(client, 60)
            hooks = (await client.get("/_emulator/webhooks")).json()["items"]
        assert receiver.overlaps == []
        by_phone: dict[str, list[str]] = {}
        for hook in hooks:
            by_phone.setdefault(hook["phone"], []).append(hook["payload"]["Type"])
        assert by_phone["+46700000004"] == ["DELIVERED", "READ", "REPLY"]
        assert all(h["state"] == "delivered" for h in hooks)
    finally:
        receiver.server.stop()


async def test_generic_405_names_the_allowed_methods(client):
    for method, path, allowed in [
        ("GET", "/Rcs/api/v1/Message", "POST"),
        ("DELETE", "/Rcs/api/v1/Message/deadc0de-2bad-c4fe-feed-beefca1ff001", "GET"),
        ("PUT", "/Rcs/api/v1/Capability/a", "GET, POST"),
        ("GET", "/rcs/api/v1/uploadfile/a", "POST"),
        ("HEAD", "/Rcs/api/v1/Message/deadc0de-2bad-c4fe-feed-beefca1ff001", "GET"),
        ("OPTIONS", "/Rcs/api/v1/Message", "POST"),
    ]:
        answer = await client.request(method, path, headers=GENERIC_AUTH)
        assert answer.status_code == 405, (method, path)
        assert answer.headers["allow"] == allowed, (method, path)
        assert answer.headers["content-type"] == "application/problem+json"
        if method != "HEAD":
            assert answer.json()["title"] == "Method Not Allowed"
            assert answer.json()["status"] == 405


async def test_serwersms_tenants_are_named_as_the_client_knows_them(mode, redis_url, webhook):
    accounts = {"accounts": [{"username": "demo", "password": "secret", "token": "demo-token"}]}
    config = Config(clock="manual", serwersms=accounts)
    async with open_client(mode, config, redis_url) as client:
        # an open token is its own tenant, no prefix
        await client.post("/messages/send_rcs.json", headers={"Authorization": "Bearer tok-1"},
                          json={"rcs_id": "bot", "phone": "500600700", "message": {"text": "a"}})  # fmt: skip
        [one] = (await client.get("/_emulator/messages", params={"tenant": "tok-1"})).json()[
            "items"
        ]
        assert one["tenant"] == fingerprint("tok-1")  # (shown by a label, never the key)
        # a configured account is one tenant, reached by its token or its username
        await client.post("/messages/send_rcs.json", headers={"Authorization": "Bearer demo-token"},
                          json={"rcs_id": "bot", "phone": "500600701", "message": {"text": "b"}})  # fmt: skip
        await client.post("/messages/send_rcs.json", json={
            "username": "demo", "password": "secret", "rcs_id": "bot", "phone": "500600702",
            "message": {"text": "c"}})  # fmt: skip
        for name in ("demo", "demo-token"):
            found = (await client.get("/_emulator/messages", params={"tenant": name})).json()
            assert found["total"] == 2, name
        put = await client.put("/_emulator/agents/serwersms/bot",
                               json={"webhook_url": webhook.url, "tenant": "demo-token"})  # fmt: skip
        assert put.json()["tenant"] == fingerprint("demo")
        await client.post("/_emulator/clock/advance", json={"seconds": 10})
        assert {c["json"][0]["phone"] for c in webhook.wait(lambda c: len(c) >= 2)} == {
            "+48500600701",
            "+48500600702",
        }  # only that account's bot has the URL
        await client.post("/_emulator/reset", params={"tenant": "demo-token"})
        assert (await client.get("/_emulator/messages")).json()["total"] == 1
