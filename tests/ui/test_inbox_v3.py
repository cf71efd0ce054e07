"""Inbox v3 in Chromium: a page that never shows a stale or partial picture without saying so.
It catches up with a big advance in a bounded number of draws, says "newest N of M" and loads
older messages and deliveries, searches on the server, follows the open message live, says when
it is disconnected and keeps what could not be sent, behaves like a phone (answered chips,
reading older messages, right-to-left text, pictures in their own shape), is axe-core clean in
every state, works from the keyboard, packs its layout, and says what it means."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from emulator import Config, EmulatorServer
from emulator.core.replies import _REPLIES, Language, Topic
from tests.ports import free_port

from .conftest import Inbox
from .showcase import AGENT, BOT, GENERIC_AUTH, SERWERSMS_AUTH, png, send_showcase

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def send(
    http: httpx.Client, phones: list[str], text: str, agent: str = AGENT, **extra: Any
) -> None:
    body = {"agentId": agent, "number": phones, "messageType": "TextMessage", "text": text, **extra}
    http.post("/Rcs/api/v1/Message", json=body, headers=GENERIC_AUTH, timeout=60).raise_for_status()


def count_draws(page) -> None:
    """Counts, in the page, every draw that ends (it stamps body[data-rendered])."""
    page.evaluate(
        "() => { window.draws = 0; new MutationObserver(() => { window.draws += 1; })"
        ".observe(document.body, {attributes: true, attributeFilter: ['data-rendered']}); }"
    )


# -- 1. catching up -------------------------------------------------------------------------


def test_after_a_minute_over_4800_messages_the_page_shows_the_truth_in_a_few_draws(inbox: Inbox):
    phones = [f"+4670600{i:04d}" for i in range(400)]
    for i in range(12):  # 4,800 messages, none read yet
        send(
            inbox.http,
            phones,
            f"message {i}",
            suggestedReplies=[{"text": "OK", "postbackData": "ok"}],
        )
    inbox.page.set_default_timeout(60_000)
    page = inbox.open()
    summary = page.locator("#summary")
    expect(summary).to_contain_text("4,800 messages")
    expect(summary).to_contain_text("400 conversations")
    assert page.locator(".bubble.agent[data-status=read]").count() == 0
    count_draws(page)
    before = inbox.http.get("/_emulator/clock").json()["epoch"]

    minute = page.locator(".clock-controls button[data-advance='60']")
    minute.click()
    # Busy until the page shows what the advance did; a second click does nothing.
    expect(page.locator(".clock-controls")).to_have_attribute("aria-busy", "true")
    expect(minute).to_have_attribute("aria-disabled", "true")
    minute.click(force=True)
    expect(page.locator(".clock-controls")).to_have_attribute("aria-busy", "false")
    # The server's truth, shown: every message read, each bubble on the page saying so, in one
    # or two draws (only the phones near the screen are in the page: each its newest 12).
    read = inbox.http.get("/_emulator/messages", params={"status": "read", "limit": 1}).json()
    assert read["total"] == 4800
    assert page.locator(".bubble.agent:not([data-status=read])").count() == 0
    phones = page.locator("article.phone").count()
    assert 0 < phones < 400
    assert page.locator(".bubble.agent[data-status=read]").count() == 12 * phones
    assert page.evaluate("window.draws") <= 2
    assert inbox.http.get("/_emulator/clock").json()["epoch"] - before == 60  # clicked once
    page.wait_for_timeout(1500)  # notices of the advance still on their way: at most one more
    assert page.evaluate("window.draws") <= 3
    expect(minute).to_have_attribute("aria-disabled", "false")


# -- 2. what is shown of how much -----------------------------------------------------------


def test_the_page_says_what_it_holds_loads_earlier_messages_and_searches_the_server(inbox: Inbox):
    send(inbox.http, ["+46706100001"], "the very first phone's parcel")
    for i in range(9):
        send(inbox.http, ["+46706100001"], f"early {i}")
    for i in range(40):
        send(inbox.http, ["+46706100002"], f"older {i}")
    for i in range(5):
        send(inbox.http, ["+46706100002"], f"newer {i}")
    inbox.page.set_default_timeout(20_000)
    page = inbox.open()
    summary = page.locator("#summary")
    expect(summary.locator(".counts")).to_have_text("55 messages \u00b7 2 conversations")
    # A thread shows its newest messages, says how many came before, and loads them.
    long = inbox.phone("+46706100002")
    expect(long.locator(".earlier")).to_contain_text("15 earlier messages")
    expect(long.locator(".bubble.agent")).to_have_count(30)
    long.get_by_role("button", name="Load earlier messages of demo_agent with +46706100002").click()
    expect(long.locator(".bubble.agent")).to_have_count(45)
    expect(long.locator(".earlier")).to_have_count(0)
    expect(long.locator(".bubble.agent .text").first).to_have_text("older 0")

    # The search is the server's: it finds the one message that matches, whoever holds it.
    page.locator("#filter").fill("first parcel")
    expect(page.locator("article.phone")).to_have_count(1)
    expect(inbox.phone("+46706100001")).to_have_count(1)
    expect(summary.locator(".counts")).to_have_text(
        "1 message matches \u201cfirst parcel\u201d \u00b7 1 conversation"
    )
    expect(inbox.phone("+46706100001").locator(".earlier")).to_have_text(
        "Only the messages that match are shown."
    )
    page.locator("#filter").fill("")
    expect(page.locator("article.phone")).to_have_count(2)
    expect(summary.locator(".counts")).to_have_text("55 messages \u00b7 2 conversations")


def test_the_log_says_newest_n_of_m_loads_older_and_says_when_no_delivery_matches(inbox: Inbox):
    inbox.hook_up("generic", AGENT)
    send(inbox.http, [f"+4670620{i:04d}" for i in range(30)], "hello")
    inbox.advance(60)  # delivered and read: 60 deliveries
    page = inbox.open()
    log = page.locator("#webhooks > li")
    summary = page.locator("#log-summary")
    expect(log).to_have_count(50)
    expect(summary.locator(".counts")).to_have_text("Newest 50 of 60 deliveries")
    summary.get_by_role("button", name="Load 10 older webhook deliveries").click()
    expect(log).to_have_count(60)
    expect(summary.locator(".counts")).to_have_text("60 deliveries")
    page.locator("#filter").fill("+46706200007")
    expect(log).to_have_count(2)
    expect(summary.locator(".counts")).to_have_text(
        "2 deliveries that match \u201c+46706200007\u201d"
    )
    page.locator("#filter").fill("nobody-at-all")
    expect(log).to_have_count(0)
    expect(summary).to_have_text("No deliveries match \u201cnobody-at-all\u201d.")
    expect(page.locator("#no-matches")).to_have_text(
        "No conversation matches \u201cnobody-at-all\u201d."
    )


# -- 3. the detail panel -----------------------------------------------------------------------


def test_the_detail_panel_follows_its_message_live_and_leaves_the_clock_reachable(inbox: Inbox):
    inbox.hook_up("generic", AGENT)
    send(inbox.http, ["+46706300001"], "Follow me")
    page = inbox.open()
    inbox.phone("+46706300001").locator(".bubble.agent").click()
    panel = page.locator("#detail")
    expect(panel).to_be_visible()
    expect(panel.locator("p.muted").first).to_have_attribute("data-status", "sent")
    expect(panel.locator(".detail-webhooks > li")).to_have_count(0)
    # The clock's buttons are not under the panel: a click there reaches them.
    minute = page.locator(".clock-controls button[data-advance='60']")
    centre = minute.bounding_box()
    assert centre is not None
    hit = page.evaluate(
        "([x, y]) => document.elementFromPoint(x, y)?.dataset.advance",
        [centre["x"] + centre["width"] / 2, centre["y"] + centre["height"] / 2],
    )
    assert hit == "60"
    minute.click()
    expect(panel.locator("p.muted").first).to_have_attribute("data-status", "read")
    expect(panel.locator(".timeline li")).to_have_count(4)
    expect(panel.locator(".detail-webhooks > li")).to_have_count(2)
    expect(panel.locator("h3").last).to_have_text("Webhook deliveries (2)")
    # A typed reply shows in its events as it happens.
    inbox.http.post(
        "/_emulator/inbound",
        json={"provider": "generic", "agent_id": AGENT, "phone": "+46706300001", "text": "Thanks!"},
    ).raise_for_status()
    expect(panel.locator(".timeline li").last).to_contain_text("message: Thanks!")


# -- 4. the server goes away ---------------------------------------------------------------------


def test_a_reply_while_the_server_is_down_is_kept_the_page_says_so_and_resyncs_after(browser):
    port = free_port()
    config = Config(clock="manual", port=port)
    first = EmulatorServer(config).start()
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        with httpx.Client(base_url=first.base_url) as http:
            send(http, ["+46706400001"], "Before the restart")
        page.goto(first.base_url + "/")
        phone = page.locator('article.phone[data-phone="+46706400001"]')
        expect(phone.locator(".bubble.agent .text")).to_have_text("Before the restart")
        expect(page.locator("#live")).to_have_attribute("data-state", "live")
        first.stop()
        expect(page.locator("#live")).to_have_text("disconnected")
        expect(page.locator("#banner")).to_contain_text("Disconnected from the emulator")
        field = phone.locator("input[name=text]")
        field.fill("Are you there?")
        field.press("Enter")
        expect(phone.locator(".reply-error")).to_have_text(
            "Not sent: the emulator cannot be reached"
        )
        expect(field).to_have_value("Are you there?")  # kept, to send again
        # Another emulator on the same address, with another state: the page shows that one.
        second = EmulatorServer(config).start()
        try:
            with httpx.Client(base_url=second.base_url) as http:
                send(http, ["+46706400002"], "After the restart")
            expect(page.locator("#live")).to_have_attribute("data-state", "live")
            expect(page.locator('article.phone[data-phone="+46706400002"]')).to_be_visible()
            expect(phone).to_have_count(0)
            expect(page.locator("#banner")).to_be_hidden()
        finally:
            second.stop()
    finally:
        context.close()
        first.stop()


def test_a_reply_the_emulator_refuses_keeps_its_text_and_says_why(inbox: Inbox):
    send(inbox.http, ["+46706400003"], "Hello")
    page = inbox.open()
    phone = inbox.phone("+46706400003")
    # The phone loses RCS after the page was drawn: the emulator refuses the reply (409).
    inbox.http.put("/_emulator/phones/+46706400003", json={"rcs_capable": False}).raise_for_status()
    field = phone.locator("input[name=text]")
    field.fill("Still there?")
    page.route(
        "**/_emulator/inbound",
        lambda route: route.fulfill(
            status=409, json={"error": "+46706400003 has no RCS capability"}
        ),
    )
    field.press("Enter")
    expect(phone.locator(".reply-error")).to_have_text(
        "Not sent: +46706400003 has no RCS capability"
    )
    expect(field).to_have_value("Still there?")


# -- 5. a phone that behaves like one ----------------------------------------------------------


def test_answered_chips_are_disabled_and_reading_older_messages_is_not_interrupted(inbox: Inbox):
    inbox.hook_up("generic", AGENT)
    chips = [{"text": "Yes", "postbackData": "yes"}, {"text": "No", "postbackData": "no"}]
    send(inbox.http, ["+46706500001"], "Shall we?", suggestedReplies=chips)
    send(inbox.http, ["+46706500002"], "And you?", suggestedReplies=chips)
    page = inbox.open()
    tapped = inbox.phone("+46706500001")
    tapped.locator('.chip[data-postback="yes"]').click()
    expect(tapped.locator(".bubble.user .text")).to_have_text("Yes")
    expect(tapped.locator(".chip")).to_have_count(2)
    for chip in tapped.locator(".chip").all():
        expect(chip).to_be_disabled()
        expect(chip).to_have_attribute("title", re.compile(r"already answered"))
    # A typed answer closes the chips too: no second answer to the same question.
    typed = inbox.phone("+46706500002")
    typed.locator("input[name=text]").fill("Maybe later")
    typed.locator("input[name=text]").press("Enter")
    expect(typed.locator(".bubble.user .text")).to_have_text("Maybe later")
    expect(typed.locator('.chip[data-postback="yes"]')).to_be_disabled()
    replies = [
        c["json"]["Type"] for c in inbox.webhook.calls if c["json"].get("Type") in ("REPLY", "TEXT")
    ]
    assert replies == ["REPLY", "TEXT"]

    del page


# -- 6. right to left --------------------------------------------------------------------------


def test_right_to_left_text_runs_right_to_left(inbox: Inbox):
    send(inbox.http, ["+46706600001"], "مرحبا، طلبك في الطريق")
    send(inbox.http, ["+46706600002"], "שלום, ההזמנה שלך בדרך")
    send(inbox.http, ["+46706600003"], "Hello, left to right")
    page = inbox.open()
    inbox.http.post(
        "/_emulator/inbound",
        json={"provider": "generic", "agent_id": AGENT, "phone": "+46706600001", "text": "شكرا"},
    ).raise_for_status()
    expect(inbox.phone("+46706600001").locator(".bubble.user .text")).to_have_text("شكرا")

    def direction(phone: str, selector: str) -> str:
        node = inbox.phone(phone).locator(selector)
        expect(node).to_have_attribute("dir", "auto")
        return str(node.evaluate("(n) => getComputedStyle(n).direction"))

    assert direction("+46706600001", ".bubble.agent .text") == "rtl"
    assert direction("+46706600001", ".bubble.user .text") == "rtl"
    assert direction("+46706600002", ".bubble.agent .text") == "rtl"
    assert direction("+46706600003", ".bubble.agent .text") == "ltr"
    expect(inbox.phone("+46706600001").locator("input[name=text]")).to_have_attribute("dir", "auto")
    del page


# -- 7. pictures ---------------------------------------------------------------------------------


def test_a_picture_keeps_its_shape_and_an_image_only_card_has_no_empty_body(inbox: Inbox):
    upload = inbox.http.post(
        f"/Rcs/api/v1/UploadFile/{AGENT}",
        headers=GENERIC_AUTH,
        files={"file": ("portrait.png", png(120, 180, (90, 120, 200)), "image/png")},
    )
    upload.raise_for_status()
    file_id = upload.json()["fileId"]
    url = f"{inbox.base_url}/_emulator/files/{file_id}/content"
    body = {
        "rcs_id": BOT,
        "phone": "+48506700001",
        "message": {"file": {"name": "portrait.png", "url": url, "type": "image/png", "size": 900}},
    }
    inbox.http.post("/messages/send_rcs.json", json=body, headers=SERWERSMS_AUTH).raise_for_status()
    card = {
        "agentId": AGENT,
        "number": ["+46706700002"],
        "messageType": "RichCard",
        "richCardContent": {"fileId": file_id, "height": "MEDIUM"},
    }
    inbox.http.post("/Rcs/api/v1/Message", json=card, headers=GENERIC_AUTH).raise_for_status()
    inbox.open()
    picture = inbox.phone("+48506700001").locator(".media img")
    expect(picture).to_have_js_property("complete", True)
    shape = picture.evaluate(
        "(i) => [i.naturalWidth, i.naturalHeight, i.getBoundingClientRect().width,"
        " i.getBoundingClientRect().height]"
    )
    natural, drawn = shape[1] / shape[0], shape[3] / shape[2]
    assert natural == 1.5 and abs(drawn - natural) < 0.02, shape
    only = inbox.phone("+46706700002").locator(".card")
    expect(only.locator(".body")).to_have_count(0)
    expect(only).to_have_class(re.compile(r"\bmedia-only\b"))
    heights = only.evaluate(
        "(c) => [c.getBoundingClientRect().height, c.querySelector('.media').getBoundingClientRect().height]"
    )
    assert abs(heights[0] - heights[1]) <= 2, heights  # the card is its picture, nothing under it


# -- 8. accessibility ------------------------------------------------------------------------------


def axe_violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']}: {[n['target'] for n in v['nodes']][:5]}"
        for v in results.response["violations"]
    ]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_nothing_in_any_state(inbox: Inbox, scheme: str):
    inbox.page.emulate_media(color_scheme=scheme)
    inbox.hook_up("generic", AGENT)
    send_showcase(inbox.http)
    send(inbox.http, ["+46700000006"], "Never arrives")  # scripted: not delivered
    send(inbox.http, ["+46706800001"], "مرحبا")
    inbox.advance(60)
    inbox.http.post(
        "/_emulator/inbound",
        json={"provider": "generic", "agent_id": AGENT, "phone": "+46701110002", "text": "A reply"},
    ).raise_for_status()
    page = inbox.open()
    assert axe_violations(page) == [], "the page as drawn"
    page.locator("#webhooks > li").first.locator("summary").click()
    assert axe_violations(page) == [], "a log line opened"
    inbox.reveal("+46701110001").locator(".bubble.agent").click()
    expect(page.locator("#detail .copyable")).to_have_count(3)
    page.locator("#detail .detail-webhooks summary").first.click()
    assert axe_violations(page) == [], "the detail panel"
    page.keyboard.press("Escape")
    page.locator("#filter").fill("nothing matches this")
    expect(page.locator("#no-matches")).to_be_visible()
    assert axe_violations(page) == [], "a search that finds nothing"
    page.locator("#filter").fill("")
    page.set_viewport_size({"width": 320, "height": 640})
    page.locator(".menu summary").click()
    expect(page.locator(".menu-items")).to_be_visible()
    assert axe_violations(page) == [], "320 px with the menu open"


# -- 9. keyboard -------------------------------------------------------------------------------------


def test_the_keyboard_reaches_everything_and_the_panel_keeps_and_returns_the_focus(inbox: Inbox):
    inbox.hook_up("generic", AGENT)
    send(inbox.http, ["+46706900001"], "Keyboard only")
    inbox.advance(60)
    page = inbox.open()
    # The first Tab reaches the skip link; it leads to the webhook log.
    page.keyboard.press("Tab")
    expect(page.locator("a.skip")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#webhook-log")).to_be_focused()
    # Space opens a message; Tab stays inside the panel; Escape gives the focus back.
    bubble = inbox.phone("+46706900001").locator(".bubble.agent")
    bubble.focus()
    page.keyboard.press("Space")
    panel = page.locator("#detail")
    expect(panel).to_be_visible()
    expect(panel.locator("button.close")).to_be_focused()
    stops = panel.evaluate("(p) => p.querySelectorAll('button, summary, pre, a').length")
    for _ in range(stops + 3):
        page.keyboard.press("Tab")
        assert panel.evaluate("(p) => p.contains(document.activeElement)")
    page.keyboard.press("Shift+Tab")
    assert panel.evaluate("(p) => p.contains(document.activeElement)")
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(bubble).to_be_focused()
    # The narrow screen's menu closes on Escape, the focus back on its button.
    page.set_viewport_size({"width": 375, "height": 700})
    summary = page.locator(".menu summary")
    summary.focus()
    page.keyboard.press("Enter")
    expect(page.locator(".menu-items")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator(".menu-items")).to_be_hidden()
    expect(summary).to_be_focused()


# -- 10. layout ----------------------------------------------------------------------------------------


def test_layout_sticky_log_packed_phones_one_line_chips_and_a_peek_of_the_next_card(inbox: Inbox):
    send_showcase(inbox.http)
    for i in range(8):
        send(inbox.http, [f"+4670700{i:04d}"], "\n".join(["Line"] * (i + 1)))
    inbox.page.set_viewport_size({"width": 1440, "height": 900})
    page = inbox.open()
    # Phones in a row are as tall as each other: no holes between them.
    boxes = page.locator("article.phone").evaluate_all(
        "(ps) => ps.map((p) => { const r = p.getBoundingClientRect(); return [r.top, r.bottom]; })"
    )
    rows: dict[int, set[int]] = {}
    for top, bottom in boxes:
        rows.setdefault(round(top), set()).add(round(bottom))
    assert len(rows) > 1 and all(len(bottoms) == 1 for bottoms in rows.values()), rows
    # The webhook log stays in view while the page scrolls.
    page.mouse.wheel(0, 1500)
    page.wait_for_function("() => window.scrollY > 500")
    log = page.locator("#webhook-log").bounding_box()
    header = page.locator("header").bounding_box()
    assert log is not None and header is not None
    assert header["y"] + header["height"] <= log["y"] <= header["y"] + header["height"] + 20
    # A carousel shows a part of the card after the last whole one.
    for width in (1440, 375):
        page.set_viewport_size({"width": width, "height": 900})
        page.reload()
        page.wait_for_selector("body[data-rendered]")
        for phone in ("+46701110004", "+48500600706"):
            carousel = inbox.reveal(phone).locator(".carousel")
            carousel.scroll_into_view_if_needed()
            if not carousel.evaluate("(c) => c.scrollWidth > c.clientWidth"):
                continue  # every card in view: nothing to hint at
            shown = carousel.evaluate(
                "(c) => { const edge = c.getBoundingClientRect().right; return [...c.children].map("
                "(card) => edge - card.getBoundingClientRect().left).filter((x) => x > 0); }"
            )
            partly = [
                x
                for x in shown
                if x < inbox.phone(phone).locator(".card").first.bounding_box()["width"]
            ]
            assert partly and partly[0] >= 24, (width, phone, shown)
    # On a phone: chips one under another, each on one line; the log is in the menu.
    page.set_viewport_size({"width": 375, "height": 700})
    chips = inbox.reveal("+46701110001").locator(".turn > .chips .chip")
    rects = chips.evaluate_all(
        "(cs) => cs.map((c) => [c.getBoundingClientRect().top, c.getBoundingClientRect().height])"
    )
    tops = [round(top) for top, _ in rects]
    assert len(set(tops)) == len(tops) == 6
    assert all(height < 40 for _, height in rects), rects
    page.locator(".menu summary").click()
    page.locator(".menu-items").get_by_role("link", name="Webhook log").click()
    expect(page.locator(".menu-items")).to_be_hidden()
    page.wait_for_function(
        "() => { const r = document.getElementById('webhook-log').getBoundingClientRect();"
        " return r.top < innerHeight && r.bottom > 0; }"
    )


# -- 11. words -----------------------------------------------------------------------------------------


def test_the_words_say_what_they_mean(inbox: Inbox):
    inbox.hook_up("serwersms", BOT)
    inbox.hook_up("generic", AGENT)
    send(inbox.http, ["+46706110001"], "Read soon")
    send(inbox.http, ["+46700000006"], "Never arrives")  # scripted: the network refuses it
    send(inbox.http, ["+46700000005"], "Any questions?")  # scripted: the user types a reply
    body = {"rcs_id": BOT, "phone": "500611002", "message": {"text": "Cześć"}}
    inbox.http.post("/messages/send_rcs.json", json=body, headers=SERWERSMS_AUTH).raise_for_status()
    inbox.advance(60)
    inbox.http.put(f"/_emulator/agents/serwersms/{BOT}", json={"name": "Sklep"}).raise_for_status()
    page = inbox.open()
    # Each footer says what its time is, and no footer is a raw id.
    read = inbox.phone("+46706110001").locator(".bubble.agent .status")
    message = inbox.http.get("/_emulator/messages", params={"phone": "+46706110001"}).json()[
        "items"
    ][0]
    read_at = next(e["time"] for e in message["events"] if e["type"] == "read")[11:19]
    expect(read).to_have_text(f"read at {read_at}")
    for footer in page.locator(".status").all_inner_texts():
        assert not UUID.search(footer), footer
    # What never reached the phone looks it.
    lost = inbox.phone("+46700000006").locator(".bubble.agent")
    expect(lost).to_have_class(re.compile(r"\blost\b"))
    expect(lost.locator(".status")).to_contain_text("\u26a0 not delivered at")
    # A fake reply reads like a customer's.
    typed = inbox.phone("+46700000005").locator(".bubble.user .text").inner_text()
    # ("Any questions?": an English question, answered in English, as an answer)
    assert typed in _REPLIES[Language.ENGLISH][Topic.QUESTION], typed
    expect(inbox.phone("+46700000005").locator(".bubble.user .status")).to_contain_text("sent at")
    # A UUID agent id is shortened where people read it, the whole id on hover.
    short = inbox.phone("+48500611002").locator("h3 small .id")
    expect(short).to_have_text(f"{BOT[:8]}\u2026")
    expect(short).to_have_attribute("title", BOT)
    # A long id wraps only between its segments; the boxes of the log are labelled.
    inbox.phone("+46706110001").locator(".bubble.agent").click()
    # The message's UUID is shortened in the panel's title too (whole on hover, and copyable).
    message_id = (
        inbox.phone("+46706110001").locator(".bubble.agent").get_attribute("data-message-id")
    )
    expect(page.locator("#detail h2")).to_have_text(f"Message {message_id[:8]}\u2026")
    expect(page.locator("#detail h2 .id")).to_have_attribute("title", message_id)
    line = page.locator("#detail .detail-webhooks > li").first
    line.locator("summary").click()
    expect(line.locator("figure.payload-box figcaption")).to_have_text("Payload sent")
    expect(line.locator("pre.payload")).to_have_attribute("aria-label", "Payload sent")
    expect(line.locator("figure.response-box figcaption").first).to_have_text(
        "Answer to attempt #1"
    )
