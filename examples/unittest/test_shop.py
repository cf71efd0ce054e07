import asyncio
import unittest

import httpx

import emulator

GENERIC = "https://api.genericmobile.se/Rcs/api/v1"
KEY = {"Authorization": "Bearer my-key"}
OFFER = {
    "agentId": "shop",
    "number": ["+46700000004"],  # magic number: reads, then taps the first suggestion
    "messageType": "TextMessage",
    "text": "20% off today",
    "suggestedReplies": [{"text": "Show me", "postbackData": "offer"}],
}


@emulator.mock()  # each test gets a fresh emulator, handed in last (as unittest.mock.patch does)
class ShopTest(unittest.TestCase):
    def test_the_customer_taps_the_offer(self, rcs):
        # The code under test calls the real host; the mock serves it from the emulator.
        response = httpx.post(f"{GENERIC}/Message", headers=KEY, json=OFFER)
        self.assertEqual(response.status_code, 200)

        rcs.advance(60)  # a minute passes at once: delivered, read, then the magic number taps

        [message] = rcs.messages()
        self.assertEqual(message["status"], "read")
        taps = [e["postback"] for e in message["events"] if e["type"] == "reply"]
        self.assertEqual(taps, ["offer"])

    def test_an_async_client(self, rcs):
        async def send():
            async with httpx.AsyncClient() as client:
                return await client.post(f"{GENERIC}/Message", headers=KEY, json=OFFER)

        self.assertEqual(asyncio.run(send()).status_code, 200)
        self.assertEqual(len(rcs.messages(provider="generic")), 1)


if __name__ == "__main__":
    unittest.main()
