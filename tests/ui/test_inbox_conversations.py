"""Conversations in the inbox (Chromium through Playwright): a thread the phone opens shows the
phone's own words only, and a conversation test's run shows live, as an ordinary conversation of
that phone."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from tests.conversations.conftest import EXAMPLES, Bot

from .conftest import Inbox
from .showcase import AGENT, GENERIC_AUTH


def test_a_thread_the_phone_opens_shows_its_words_then_the_agents_answer(inbox: Inbox):
    page = inbox.open()
    expect(page.locator(".column .none-yet")).to_be_visible()
    inbox.hook_up("generic", AGENT)
    inbox.http.post(
        "/_emulator/inbound",
        json={
            "provider": "generic",
            "agent_id": AGENT,
            "phone": "+46701110020",
            "text": "Are you open on Sunday?",
        },
    ).raise_for_status()
    thread = inbox.phone("+46701110020")
    expect(thread.locator(".bubble.user .text")).to_have_text("Are you open on Sunday?")
    expect(thread.locator(".bubble.agent")).to_have_count(0)  # the agent has said nothing
    expect(thread.locator("input[name=text]")).to_be_visible()
    body = {
        "agentId": AGENT,
        "number": ["+46701110020"],
        "messageType": "TextMessage",
        "text": "Yes, 10-14.",
    }
    inbox.http.post("/Rcs/api/v1/Message", json=body, headers=GENERIC_AUTH).raise_for_status()
    bubbles = thread.locator(".bubble")
    expect(bubbles).to_have_count(2)
    assert bubbles.evaluate_all("(bs) => bs.map((b) => b.classList.contains('user'))") == [
        True,
        False,
    ]
    # The box now answers the agent's message.
    thread.locator("input[name=text]").fill("Thanks!")
    thread.locator("input[name=text]").press("Enter")
    calls = inbox.webhook.wait(lambda calls: len(calls) == 4)  # text, delivered, read, text
    assert [c["json"]["Type"] for c in calls] == ["TEXT", "DELIVERED", "READ", "TEXT"]
    assert calls[0]["json"]["MessageId"] != calls[-1]["json"]["MessageId"]
    expect(thread.locator(".bubble.user .text")).to_have_text(
        ["Are you open on Sunday?", "Thanks!"]
    )


def test_a_conversation_run_shows_live_as_that_phones_conversation(inbox: Inbox, tmp_path: Path):
    page = inbox.open()
    bot = Bot(inbox.base_url, tmp_path / "bot.log")
    try:
        body = {"webhook_url": bot.webhook_url}
        inbox.http.put("/_emulator/agents/generic/booking_agent", json=body).raise_for_status()
        files = [
            {"name": name, "text": (EXAMPLES / "conversations" / name).read_text()}
            for name in ("generic-booking.convo.yaml", "partials/greeting.convo.yaml")
        ]
        answer = inbox.http.post("/_emulator/conversations/run", timeout=60, json={"files": files})
    finally:
        bot.stop()
    assert answer.json()["passed"] is True, answer.text
    order = answer.json()["results"][0]["captured"]["order"]
    thread = inbox.phone("+46701234567")  # drawn as it went, without a reload
    expect(thread.locator(".bubble .text")).to_have_text(
        [
            "hi",
            "Hello! When shall we come?",
            "10:00",
            f"Booked for 10:00, order #{order}. See you then!",
            f"status {order}",
            f"Order #{order}: booked for 10:00.",
            "Cancel",
            "Your booking is cancelled.",
        ]
    )
    expect(thread.locator(".bubble.agent").last).to_have_attribute("data-status", "sent")
    expect(thread.locator(".bubble.agent").nth(1)).to_have_attribute("data-status", "read")
    assert page.locator("article.phone").count() == 1
