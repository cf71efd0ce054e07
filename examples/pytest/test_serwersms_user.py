import base64

import httpx
import pytest

pytestmark = pytest.mark.anyio  # anyio's runner, installed with httpx

SERWERSMS = "https://api2.serwersms.pl"
TOKEN = {"Authorization": "Bearer my-api-token"}
BOT = "54c53be2-cbb8-11ec-9d64-0242ac120002"


async def send_offer(client: httpx.AsyncClient, phone: str) -> dict:
    """The code under test: an async client of the real SerwerSMS host."""
    response = await client.post(
        f"{SERWERSMS}/messages/send_rcs.json",
        headers=TOKEN,
        json={
            "rcs_id": BOT,
            "phone": phone,
            "message": {
                "text": "20% off today",
                "suggestions": [{"reply": {"text": "Show me", "postback": "offer"}}],
            },
            "details": True,
        },
    )
    return response.json()


async def test_user_answers_the_offer(rcs_mock, rcs_webhook_receiver):
    rcs_mock.set_agent("serwersms", BOT, webhook_url=rcs_webhook_receiver.url)
    async with httpx.AsyncClient() as client:
        sent = await send_offer(client, "500600700")  # corrected to +48500600700
    assert sent["queued"] == 1 and sent["items"][0]["phone"] == "+48500600700"

    rcs_mock.advance(10)  # delivered and displayed
    rcs_mock.inbound("serwersms", BOT, "+48500600700", postback="offer")  # the user taps

    reports = [c["json"][0] for c in rcs_webhook_receiver.calls]
    assert [r["type"] for r in reports] == ["report", "report", "reply"]
    assert reports[-1]["data"] == "offer"
    assert base64.b64decode(reports[-1]["text"]).decode() == "Show me"
    [message] = rcs_mock.messages(provider="serwersms")
    assert message["status"] == "read"
