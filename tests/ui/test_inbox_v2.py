"""Inbox v2 in Chromium: the message detail panel (exchange, curl, events, deliveries), a webhook
log people can read (with Redeliver and a failures filter), a phone that feels real, search kept
in the URL, small screens, accessible names and dark mode."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .conftest import Inbox
from .showcase import AGENT, BOT, GENERIC_AUTH, SERWERSMS_AUTH


def send(inbox: Inbox, phone: str, text: str, **extra) -> None:
    body = {
        "agentId": AGENT,
        "number": [phone],
        "messageType": "TextMessage",
        "text": text,
        **extra,
    }
    inbox.http.post("/Rcs/api/v1/Message", json=body, headers=GENERIC_AUTH).raise_for_status()


def test_a_message_opens_its_details(inbox: Inbox):
    inbox.hook_up("generic", AGENT)
    send(inbox, "+46701110030", "Your parcel is on its way")
    inbox.advance(60)
    page = inbox.open()
    bubble = inbox.phone("+46701110030").locator(".bubble.agent")
    bubble.click()
    panel = page.locator("#detail")
    expect(panel).to_be_visible()
    message_id = bubble.get_attribute("data-message-id")
    # A UUID is shortened where people read it (the whole id on hover, and a Copy button).
    expect(panel.locator("h2")).to_have_text(f"Message {message_id[:8]}\u2026")
    expect(panel.locator("h2 .id")).to_have_attribute("title", message_id)
    expect(panel.locator(".preview .bubble .text")).to_have_text("Your parcel is on its way")
    request = panel.locator(".copyable").nth(0).locator("pre")
    expect(request).to_contain_text("POST /Rcs/api/v1/Message")
    expect(request).to_contain_text("authorization: Bearer ***")
    expect(request).to_contain_text('"text": "Your parcel is on its way"')
    expect(panel.locator(".copyable").nth(1).locator("pre")).to_contain_text("HTTP 200")
    expect(panel.locator(".copyable").nth(1).locator("pre")).to_contain_text('"tagId"')
    curl = panel.locator(".copyable").nth(2).locator("pre").inner_text()
    assert curl.startswith(f"curl -X POST '{inbox.base_url}/Rcs/api/v1/Message'")
    assert "-H 'authorization: Bearer ***'" in curl and "--data-raw '{" in curl
    expect(panel).to_contain_text("Credentials are masked")
    timeline = panel.locator(".timeline li")
    expect(timeline).to_have_count(4)  # accepted, sent, delivered, read
    expect(timeline.nth(3)).to_contain_text("read")
    deliveries = panel.locator(".detail-webhooks > li")
    expect(deliveries).to_have_count(2)
    expect(deliveries.first.locator(".attempts li.accepted")).to_contain_text("HTTP 200")
    panel.locator(".copyable").nth(2).locator("button.copy").click()
    expect(page.locator(".toast").last).to_have_text("Copied")
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    # The keyboard gets there too.
    bubble.focus()
    page.keyboard.press("Enter")
    expect(panel).to_be_visible()
    panel.locator("button.close").click()
    expect(panel).to_be_hidden()


def test_a_serwersms_form_send_replays_as_a_form(inbox: Inbox):
    form = {
        "username": "demo",
        "password": "s3cret",
        "rcs_id": BOT,
        "phone": "500600730",
        "message[text]": "Form-encoded",
    }
    assert inbox.http.post("/messages/send_rcs.json", data=form).json()["success"] is True
    page = inbox.open()
    inbox.phone("+48500600730").locator(".bubble.agent").click()
    curl = page.locator("#detail .copyable").nth(2).locator("pre").inner_text()
    assert "password=***" in curl and "s3cret" not in page.content()
    assert "content-type: application/x-www-form-urlencoded" in curl


def test_the_webhook_log_reads_as_lines_with_redeliver_and_a_failures_filter(inbox: Inbox):
    inbox.hook_up("serwersms", BOT)
    body = {"rcs_id": BOT, "phone": "500600731", "message": {"text": "Witaj"}}
    inbox.http.post("/messages/send_rcs", json=body, headers=SERWERSMS_AUTH).raise_for_status()
    inbox.advance(60)
    page = inbox.open()
    log = page.locator("#webhooks > li")
    expect(log).to_have_count(2)
    newest = log.first
    expect(newest.locator(".name")).to_have_text("report (displayed)")
    expect(newest.locator(".provider")).to_have_text("SerwerSMS.pl")  # the registry's title
    expect(newest.locator(".to")).to_have_text("+48500600731")
    expect(newest.locator(".state")).to_have_text("HTTP 200")
    expect(newest.locator(".attempts-count")).to_contain_text("1 attempt")

    # A typed reply: base64 on the wire, decoded beside it.
    inbox.webhook.answer(status=503, body="down for a moment", times=1)
    inbox.http.post(
        "/_emulator/inbound",
        json={
            "provider": "serwersms",
            "agent_id": BOT,
            "phone": "+48500600731",
            "text": "Dziękuję 🎉",
        },
    ).raise_for_status()
    failing = log.first
    expect(failing.locator(".name")).to_have_text("message")
    expect(failing.locator(".state")).to_have_text("HTTP 503")
    expect(failing.locator(".attempts-count")).to_contain_text("retry")
    failing.locator("summary").click()
    expect(failing.locator(".decoded dd")).to_have_text("Dziękuję 🎉")
    expect(failing.locator(".payload")).to_contain_text('"text": "RHppxJlrdWrEmSDwn46J"')
    expect(failing.locator("button.redeliver")).to_be_disabled()  # still retrying

    # Failures only: the log shows what went wrong, and says so in the URL.
    page.locator("#failures-only").check()
    expect(log).to_have_count(1)
    assert "failures=1" in page.url
    page.locator("#failures-only").uncheck()
    expect(log).to_have_count(3)

    # Redeliver a delivered one: a new attempt appears.
    delivered = page.locator("#webhooks > li[data-state=delivered]").first
    delivered.locator("summary").click()
    delivered.locator("button.redeliver").click()
    expect(page.locator(".toast").last).to_contain_text("Redelivering")
    expect(delivered.locator(".attempts li")).to_have_count(2)
    assert len(inbox.webhook.wait(lambda calls: len(calls) >= 4)) >= 4
    # A log line leads to its message's details in one click.
    message_id = log.last.get_attribute("data-message")
    log.last.locator("button.open-message").click()
    expect(page.locator("#detail h2")).to_have_text(f"Message {message_id}")


def test_the_phone_feels_real(inbox: Inbox):
    inbox.hook_up("generic", AGENT)
    inbox.http.put(f"/_emulator/agents/generic/{AGENT}", json={"name": "Acme Shop"})
    actions = [
        {"text": "Call us", "postbackData": "call", "dialAction": {"phoneNumber": "+46701234567"}},
        {
            "text": "Open shop",
            "postbackData": "shop",
            "openUrlAction": {"url": "https://shop.example/"},
        },
    ]
    send(
        inbox,
        "+46701110031",
        "Track it at https://track.example/abc?x=1. Thanks!",
        suggestedActions=actions,
        suggestedReplies=[{"text": "OK", "postbackData": "ok"}],
    )
    inbox.advance(60)
    page = inbox.open()
    phone = inbox.phone("+46701110031")
    expect(phone.locator("h3")).to_contain_text("Acme Shop")
    expect(phone).to_have_attribute("aria-label", "Conversation of Acme Shop with +46701110031")
    link = phone.locator(".bubble.agent .text a")
    expect(link).to_have_text("https://track.example/abc?x=1")
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    # Chips are drawn below the bubble, not inside it.
    bubble = phone.locator(".bubble.agent").bounding_box()
    chips = phone.locator(".turn > .chips").bounding_box()
    assert chips["y"] >= bubble["y"] + bubble["height"]
    expect(phone.locator(".bubble.agent .chips")).to_have_count(0)
    expect(phone.locator(".chip .icon").first).to_have_attribute("aria-hidden", "true")
    # An action chip: the callback goes out, the page says what the phone would do, no bubble.
    phone.locator('.chip[data-postback="call"]').click()
    expect(page.locator(".toast").last).to_have_text("Would dial +46701234567")
    call = inbox.webhook.wait(lambda calls: any(c["json"]["Type"] == "ACTION" for c in calls))
    assert any(c["json"]["PostbackData"] == "call" for c in call)
    expect(phone.locator(".bubble.user")).to_have_count(0)
    phone.locator('.chip[data-postback="shop"]').click()
    expect(page.locator(".toast").last).to_have_text("Would open https://shop.example/")
    # Status words a person reads.
    expect(phone.locator(".bubble.agent .status")).to_contain_text("read")
    inbox.http.put("/_emulator/phones/+46701110032", json={"rcs_capable": False})
    send(inbox, "+46701110032", "Anyone there?")
    # (the focus is in a conversation: the new one waits above until asked for)
    page.locator("#summary .show-held").click()
    expect(inbox.phone("+46701110032").locator(".bubble.agent .status")).to_contain_text("no RCS")
    # Accessible names for each conversation's reply box and button.
    expect(phone.get_by_role("textbox", name="Reply to Acme Shop as +46701110031")).to_be_visible()
    expect(
        phone.get_by_role("button", name="Send the reply to Acme Shop from +46701110031")
    ).to_be_visible()


def test_search_finds_text_and_ids_says_no_matches_and_lives_in_the_url(inbox: Inbox):
    send(inbox, "+46701110033", "The blue parcel")
    send(inbox, "+46701110034", "The red parcel")
    page = inbox.open()
    message_id = (
        inbox.phone("+46701110034").locator(".bubble.agent").get_attribute("data-message-id")
    )
    search = page.locator("#filter")
    search.fill("blue parcel")
    expect(page.locator("article.phone:visible")).to_have_count(1)
    expect(page.locator("article.phone:visible")).to_have_attribute("data-phone", "+46701110033")
    search.fill(message_id[:13])
    expect(page.locator("article.phone:visible")).to_have_attribute("data-phone", "+46701110034")
    search.fill("green")
    expect(page.locator("article.phone:visible")).to_have_count(0)
    expect(page.locator("#no-matches")).to_have_text("No conversation matches \u201cgreen\u201d.")
    assert "q=green" in page.url
    page.reload()
    expect(page.locator("#filter")).to_have_value("green")
    expect(page.locator("#no-matches")).to_be_visible()
    page.locator("#filter").fill("")
    expect(page.locator("#no-matches")).to_be_hidden()
    expect(page.locator("article.phone:visible")).to_have_count(2)


def test_at_320_px_the_header_is_one_line_with_a_menu(inbox: Inbox):
    inbox.page.set_viewport_size({"width": 320, "height": 640})
    send(inbox, "+46701110035", "Small")
    page = inbox.open()
    header = page.locator("header").bounding_box()
    assert header["height"] < 50, header
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 320
    expect(page.locator(".clock-controls")).to_be_hidden()
    page.locator(".menu summary").click()
    menu_minute = page.locator(".menu button[data-advance='60']")
    expect(menu_minute).to_be_visible()
    before = inbox.http.get("/_emulator/clock").json()["epoch"]
    menu_minute.click()
    expect(page.locator("[data-clock-copy]")).not_to_have_text("")
    assert inbox.http.get("/_emulator/clock").json()["epoch"] - before == 60


def test_dark_mode_follows_the_system(inbox: Inbox):
    inbox.page.emulate_media(color_scheme="dark")
    send(inbox, "+46701110036", "In the dark")
    page = inbox.open()
    background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    channels = [int(c) for c in re.findall(r"\d+", background)[:3]]
    assert max(channels) < 60, background
    text = page.evaluate("() => getComputedStyle(document.body).color")
    assert min(int(c) for c in re.findall(r"\d+", text)[:3]) > 180, text


def test_emoji_are_drawn_from_a_colour_font_the_emulator_can_serve(inbox: Inbox):
    font = inbox.http.get("/ui/emoji.ttf")
    if font.status_code == 404:
        import pytest

        pytest.skip("no colour emoji font on this machine (apt-get install fonts-noto-color-emoji)")
    assert font.headers["content-type"] == "font/ttf" and font.content[:4] == b"\x00\x01\x00\x00"
    send(inbox, "+46701110037", "Party 🎉")
    page = inbox.open()
    expect(inbox.phone("+46701110037").locator(".bubble.agent .text")).to_have_text("Party 🎉")
    status = page.evaluate(
        "async () => { await document.fonts.load(\"16px 'Inbox Emoji'\", '🎉');"
        " return [...document.fonts].filter((f) => f.family.includes('Inbox Emoji'))"
        ".map((f) => f.status); }"
    )
    assert status == ["loaded"]


def test_a_registered_provider_is_shown_by_its_title(browser):
    """The inbox reads the registry: a third provider's conversations and log lines carry its
    title, and its adapter's layout is what the phone shows."""
    import httpx

    from emulator import Config, EmulatorServer
    from emulator.providers import REGISTRY
    from emulator.testing import WebhookReceiver
    from tests.providers.test_registry import ECHO

    with REGISTRY.added(ECHO), WebhookReceiver() as receiver:
        config = Config(clock="manual", port=0)
        with EmulatorServer(config) as server, httpx.Client(base_url=server.base_url) as http:
            http.put("/_emulator/agents/echo/bot", json={"webhook_url": receiver.url})
            http.post("/echo/v1/send", json={"agent": "bot", "to": "+46701234599", "text": "hi"})
            http.post("/_emulator/clock/advance", json={"seconds": 60})
            page = browser.new_page()
            try:
                page.goto(server.base_url + "/")
                page.wait_for_selector("body[data-rendered]")
                phone = page.locator('article.phone[data-phone="+46701234599"]')
                expect(phone.locator("h3 small")).to_contain_text("Echo")
                expect(phone.locator(".card .title")).to_have_text("HI (SENT BY ECHO)")
                expect(page.locator("#webhooks > li .provider").first).to_have_text("Echo")
                expect(page.locator("#webhooks > li .name").first).to_have_text("echo read")
            finally:
                page.close()
