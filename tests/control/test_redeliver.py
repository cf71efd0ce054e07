"""POST /_emulator/webhooks/{id}/redeliver: a finished delivery sent once more, now, as one
attempt logged like the others."""

from __future__ import annotations

import pytest

from tests.conftest import advance, set_agent
from tests.core.test_webhooks import AGENT, generic_send

pytestmark = pytest.mark.anyio


async def test_a_failed_delivery_is_sent_again_once_the_receiver_is_back(client, webhook):
    await set_agent(client, "generic", AGENT, webhook_url=webhook.url)
    webhook.answer(500, "down", times=5)  # every attempt the Generic rule makes fails
    await generic_send(client, "+46700000003")  # delivered, never read: one callback
    await advance(client, 3600)
    [hook] = (await client.get("/_emulator/webhooks")).json()["items"]
    assert hook["state"] == "failed" and len(hook["attempts"]) == 5
    calls_before = len(webhook.calls)

    again = await client.post(f"/_emulator/webhooks/{hook['id']}/redeliver")
    assert again.status_code == 202
    assert again.json()["id"] == hook["id"] and again.json()["state"] in ("pending", "in_flight")
    await advance(client, 0)
    [after] = (await client.get("/_emulator/webhooks")).json()["items"]
    assert after["state"] == "delivered"
    assert [a["attempt"] for a in after["attempts"]] == [1, 2, 3, 4, 5, 6]
    assert after["attempts"][-1]["status"] == 200
    assert len(webhook.calls) == calls_before + 1
    assert webhook.calls[-1]["json"] == webhook.calls[0]["json"]  # the same payload


async def test_a_redelivery_that_fails_is_one_attempt_with_no_retries(client, webhook):
    await set_agent(client, "generic", AGENT, webhook_url=webhook.url)
    await generic_send(client, "+46700000003")
    await advance(client, 5)
    [hook] = (await client.get("/_emulator/webhooks")).json()["items"]
    assert hook["state"] == "delivered"
    webhook.answer(503, "busy")
    assert (await client.post(f"/_emulator/webhooks/{hook['id']}/redeliver")).status_code == 202
    await advance(client, 3600)  # nothing more comes: a manual attempt is not retried
    [after] = (await client.get("/_emulator/webhooks")).json()["items"]
    assert after["state"] == "failed" and len(after["attempts"]) == 2
    assert after["attempts"][-1]["status"] == 503


async def test_only_finished_deliveries_can_be_sent_again(client, webhook):
    await set_agent(client, "generic", AGENT, webhook_url=webhook.url)
    webhook.answer(500, "down")
    await generic_send(client, "+46700000003")
    await advance(client, 5)  # the first attempt failed: a retry is scheduled
    [hook] = (await client.get("/_emulator/webhooks")).json()["items"]
    assert hook["state"] == "retrying"
    refused = await client.post(f"/_emulator/webhooks/{hook['id']}/redeliver")
    assert refused.status_code == 409
    assert refused.json()["error"].startswith(
        f"delivery {hook['id']} is retrying (next attempt at "
    )
    for unknown in ("999999", "abc", "1.5"):
        missing = await client.post(f"/_emulator/webhooks/{unknown}/redeliver")
        assert missing.status_code == 404
        assert missing.json() == {"error": "no webhook delivery with that id"}
