import httpx

GENERIC = "https://api.genericmobile.se/Rcs/api/v1"
KEY = {"Authorization": "Bearer 90be0b2c-b218-4070-a890-152821090464"}


def test_customer_taps_track(rcs_mock, rcs_webhook_receiver):
    rcs_mock.set_agent("generic", "shop_agent", webhook_url=rcs_webhook_receiver.url)

    # The code under test calls the real host; rcs_mock serves it from the emulator.
    response = httpx.post(
        f"{GENERIC}/Message",
        headers=KEY,
        json={
            "agentId": "shop_agent",
            "number": ["+46700000004"],  # magic number: reads, then taps the first suggestion
            "messageType": "TextMessage",
            "text": "Your parcel has shipped.",
            "suggestedReplies": [{"text": "Track it", "postbackData": "track"}],
        },
    )
    assert response.status_code == 200
    tag_id = response.json()["tagId"]

    rcs_mock.advance(60)  # a minute passes at once: delivered, read, tapped

    callbacks = rcs_webhook_receiver.wait(lambda calls: len(calls) == 3)
    assert [c["json"]["Type"] for c in callbacks] == ["DELIVERED", "READ", "REPLY"]
    assert callbacks[-1]["json"]["PostbackData"] == "track"
    stats = httpx.get(f"{GENERIC}/Message/Tag/{tag_id}", headers=KEY).json()
    assert (stats["deliveredRcs"], stats["readRcs"], stats["repliedRcs"]) == (1, 1, 1)
