"""Every message view carries the exact exchange behind it: the request as received (JSON parsed,
a form as its fields) and the answer, credentials masked; one exchange per request, shared by its
messages; refused requests keep theirs in the surprises."""

from __future__ import annotations

import pytest

from tests.conftest import GENERIC_AUTH, advance, set_agent

pytestmark = pytest.mark.anyio

MESSAGE = "/Rcs/api/v1/Message"


async def messages(client, **params):
    return (await client.get("/_emulator/messages", params=params)).json()["items"]


async def test_a_generic_send_keeps_its_request_and_answer(client):
    body = {
        "agentId": "shop",
        "number": ["+46701234567", "+46701234568"],
        "messageType": "Text",
        "text": "Your order shipped",
    }
    sent = await client.post(MESSAGE, json=body, headers=GENERIC_AUTH | {"X-Trace": "t1"})
    first, second = await messages(client)
    exchange = first["exchange"]
    assert exchange == second["exchange"]  # one request, one exchange
    request, response = exchange["request"], exchange["response"]
    assert (request["method"], request["path"], request["query"]) == ("POST", MESSAGE, {})
    assert request["body"] == body  # as sent, parsed
    assert request["headers"]["authorization"] == "Bearer ***"
    assert request["headers"]["x-trace"] == "t1"
    assert response["status"] == 200 and response["body"] == sent.json()
    assert response["headers"]["content-type"] == "application/json"


async def test_a_serwersms_form_send_shows_its_fields_with_the_password_masked(client):
    form = {
        "username": "demo",
        "password": "s3cret",
        "rcs_id": "bot",
        "phone": "500600700",
        "message[text]": "Hello",
    }
    sent = await client.post("/messages/send_rcs.json?system=client_php&api_key=k1", data=form)
    assert sent.json()["success"] is True
    (message,) = await messages(client, provider="serwersms")
    request = message["exchange"]["request"]
    assert request["body"] == form | {"password": "***"}
    assert request["query"] == {"system": "client_php", "api_key": "***"}
    assert request["headers"]["content-type"] == "application/x-www-form-urlencoded"
    assert message["exchange"]["response"]["body"] == sent.json()
    assert "s3cret" not in str(message)


async def test_secrets_nested_in_json_are_masked(client):
    body = {
        "rcs_id": "bot",
        "phone": ["500600700"],
        "message": {"text": "x"},
        "token": "tok",
        "auth": {"password": "p", "user": "u"},
    }
    await client.post("/messages/send_rcs", json=body, headers={"Authorization": "Bearer tok-123"})
    (message,) = await messages(client, provider="serwersms")
    request = message["exchange"]["request"]
    assert request["body"]["token"] == "***" and request["body"]["auth"] == "***"
    assert request["headers"]["authorization"] == "Bearer ***"
    assert "tok-123" not in str(message["exchange"])  # (the tenant is named by it, as decided)


async def test_the_listing_can_leave_exchanges_out(client):
    await client.post(
        MESSAGE,
        json={"agentId": "a", "number": ["+46701234567"], "messageType": "Text", "text": "x"},
        headers=GENERIC_AUTH,
    )
    (message,) = await messages(client, exchange="false")
    assert "exchange" not in message
    one = (await client.get(f"/_emulator/messages/{message['id']}")).json()
    assert one["exchange"]["request"]["body"]["text"] == "x"


async def test_a_refused_request_keeps_its_exchange_in_the_surprises(client):
    refused = await client.post(MESSAGE, json={"agentId": "a"}, headers=GENERIC_AUTH)
    assert refused.status_code == 400
    (surprise,) = (await client.get("/_emulator/surprises")).json()["items"]
    exchange = surprise["exchange"]
    assert exchange["request"]["body"] == {"agentId": "a"}
    assert exchange["response"]["status"] == 400
    assert exchange["response"]["body"] == refused.json()
    assert exchange["response"]["headers"]["content-type"] == "application/problem+json"


async def test_an_xml_answer_is_kept_as_text(client):
    await client.post("/messages/send_rcs.xml", data={"username": "u", "password": "p"})
    (surprise,) = (await client.get("/_emulator/surprises")).json()["items"]
    body = surprise["exchange"]["response"]["body"]
    assert isinstance(body, str) and body.startswith("<")


async def test_a_big_send_keeps_one_exchange(client):
    numbers = [f"+4670100{i:04d}" for i in range(300)]
    await client.post(
        MESSAGE,
        json={"agentId": "a", "number": numbers, "messageType": "Text", "text": "x"},
        headers=GENERIC_AUTH,
    )
    listed = await messages(client, limit=300)
    assert len(listed) == 300
    assert all(m["exchange"] == listed[0]["exchange"] for m in listed)
    assert len(listed[0]["exchange"]["request"]["body"]["number"]) == 300


async def test_deliveries_carry_the_providers_word_and_decoded_texts(client):
    await set_agent(client, "serwersms", "bot", webhook_url="http://127.0.0.1:9/hook")
    await client.post(
        "/messages/send_rcs",
        json={"rcs_id": "bot", "phone": "500600700", "message": {"text": "x"}},
        headers={"Authorization": "Bearer test-token"},
    )
    await advance(client, 60)
    await client.post(
        "/_emulator/inbound",
        json={
            "provider": "serwersms",
            "agent_id": "bot",
            "phone": "+48500600700",
            "text": "Zażółć",
        },
    )
    logged = (await client.get("/_emulator/webhooks")).json()["items"]
    names = [d["name"] for d in logged]
    assert "report (delivered)" in names and "message" in names
    typed = next(d for d in logged if d["name"] == "message")
    assert typed["decoded"] == {"text": "Zażółć"}
    (mine,) = {d["message_id"] for d in logged}
    only = (await client.get("/_emulator/webhooks", params={"message": mine})).json()
    assert only["total"] == len(logged)
    none = (await client.get("/_emulator/webhooks", params={"message": "other"})).json()
    assert none["total"] == 0
    failing = (await client.get("/_emulator/webhooks", params={"failing": "true"})).json()
    assert failing["total"] == len(logged)  # port 9 refuses: every delivery is retrying
    assert {d["state"] for d in failing["items"]} <= {"retrying", "failed"}


async def test_message_views_name_the_agent(client):
    await client.put("/_emulator/agents/generic/shop", json={"name": "Acme Shop"})
    await client.post(
        MESSAGE,
        json={"agentId": "shop", "number": ["+46701234567"], "messageType": "Text", "text": "x"},
        headers=GENERIC_AUTH,
    )
    (message,) = await messages(client)
    assert message["agent_name"] == "Acme Shop"


async def test_odd_bytes_never_break_a_view(client):
    # Not UTF-8, not JSON, a latin-1 header value, a query that is not a form.
    await client.post(
        MESSAGE,
        content=b'{"agentId": "\xff\xfe"}',
        headers=GENERIC_AUTH
        | {"content-type": "application/json", "x-odd": "caf\xe9".encode("latin-1")},
    )
    await client.post(
        "/messages/send_rcs.xml?%zz=&=&a=1&a=2",
        content=b"\x00\x01binary",
        headers={"content-type": "text/plain"},
    )
    surprises = (await client.get("/_emulator/surprises")).json()["items"]
    assert len(surprises) == 2
    generic, serwersms = (s["exchange"] for s in surprises)
    assert generic["request"]["body"].startswith('{"agentId": "')
    assert generic["request"]["headers"]["x-odd"] == "caf\xe9"
    assert serwersms["request"]["query"]["a"] == ["1", "2"]
    assert serwersms["request"]["body"] == "\x00\x01binary"
    assert serwersms["response"]["body"].startswith("<")


async def test_a_get_send_with_credentials_in_the_query_is_masked(client):
    query = {
        "username": "u",
        "password": "secret-pw",
        "rcs_id": "b",
        "phone": "500600700",
        "message[text]": "via GET",
    }
    sent = await client.get("/messages/send_rcs.json", params=query)
    assert sent.json()["success"] is True
    (message,) = await messages(client, provider="serwersms")
    request = message["exchange"]["request"]
    assert request["method"] == "GET" and request["body"] is None
    assert request["query"] == query | {"password": "***"}
    assert "secret-pw" not in str(message)
