"""Inbox v4 in Chromium: a page that answers a tap at once and never moves under the reader, at
5,000 messages. Each point is checked by counting (draws, rows built, DOM nodes, bubbles),
by positions and by focus, never by timing (the timings are bench/inbox.py's): the user's bubble
is on the page while the emulator has not answered yet, and while a redraw is still under way;
the DOM holds the phones near the screen whatever the history; the message a reader reads stays
where it is when messages come and when earlier ones load; "+1 min" shows every state while
the callbacks still go out and says so; "live" means the page shows the emulator it is connected
to; "new" marks only new activity; the keyboard jumps conversation to conversation and keeps its
place after a tap; names are readable; the webhook log's times agree with themselves."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from emulator import Config, EmulatorServer
from tests.control.test_advance_states_first import GatedReceiver

from .conftest import Inbox
from .showcase import AGENT, GENERIC_AUTH, SERWERSMS_AUTH
from .test_inbox_v3 import axe_violations, count_draws, free_port, send

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
CHIPS = [{"text": "Yes", "postbackData": "yes"}, {"text": "No", "postbackData": "no"}]
NODES = "() => document.getElementsByTagName('*').length"


def seed(http: httpx.Client, conversations: int, per: int, prefix: str = "+4670710") -> list[str]:
    """`per` messages to each of `conversations` phones (one batch per round)."""
    phones = [f"{prefix}{i:04d}" for i in range(conversations)]
    for i in range(per):
        send(http, phones, f"Message {i}", suggestedReplies=CHIPS)
    return phones


class Held:
    """Requests of the page to a path, held until released (the emulator answers later)."""

    def __init__(self, page: Any, pattern: str) -> None:
        self.routes: list[Any] = []
        self.page = page
        self.pattern = pattern
        page.route(pattern, lambda route: self.routes.append(route))

    def wait(self, timeout: float = 10.0) -> None:
        """Until the page has asked (its handler runs while Playwright waits)."""
        deadline = time.monotonic() + timeout
        while not self.routes:
            assert time.monotonic() < deadline, f"the page never asked for {self.pattern}"
            self.page.wait_for_timeout(20)

    def release(self) -> None:
        for route in self.routes:
            route.continue_()
        self.routes.clear()
        self.page.unroute(self.pattern)


# -- 1. the user's bubble at once ------------------------------------------------------------------


def test_a_tap_and_a_typed_reply_show_the_users_bubble_before_the_emulator_answers(inbox: Inbox):
    inbox.hook_up("generic", AGENT)
    send(inbox.http, ["+46707000001"], "Shall we?", suggestedReplies=CHIPS)
    page = inbox.open()
    phone = inbox.phone("+46707000001")
    held = Held(page, "**/_emulator/inbound")
    chip = phone.locator('.chip[data-postback="yes"]')
    chip.click()
    # The emulator has not been asked yet (its request is held): the bubble is there already.
    expect(phone.locator(".bubble.user.pending .text")).to_have_text("Yes")
    assert len(held.routes) == 1 and inbox.webhook.calls == []
    # The focus stays on the chip tapped (closed, not disabled: the focus is not dropped).
    expect(chip).to_be_focused()
    expect(chip).to_have_attribute("aria-disabled", "true")
    held.release()
    # The emulator's own copy replaces it: one bubble, no longer pending, the chips closed.
    expect(phone.locator(".bubble.user:not(.pending) .text")).to_have_text("Yes")
    expect(phone.locator(".bubble.user")).to_have_count(1)
    expect(phone.locator('.chip[data-postback="yes"]')).to_be_focused()
    expect(phone.locator(".chip").first).to_be_disabled()

    # A typed reply: the bubble shows at once and the box is free for the next line.
    held = Held(page, "**/_emulator/inbound")
    field = phone.locator("input[name=text]")
    field.fill("On my way")
    field.press("Enter")
    expect(phone.locator(".bubble.user.pending .text")).to_have_text("On my way")
    expect(field).to_have_value("")
    expect(field).to_be_focused()
    assert len(held.routes) == 1
    held.release()
    expect(phone.locator(".bubble.user")).to_have_count(2)
    expect(phone.locator(".bubble.user.pending")).to_have_count(0)
    said = inbox.webhook.wait(lambda calls: any(c["json"]["Type"] == "TEXT" for c in calls))
    assert [c["json"]["Type"] for c in said if c["json"]["Type"] in ("REPLY", "TEXT")] == [
        "REPLY",
        "TEXT",
    ]


def test_a_tap_is_drawn_even_while_a_redraw_waits_for_the_emulator(inbox: Inbox):
    send(inbox.http, ["+46707000002"], "Shall we?", suggestedReplies=CHIPS)
    send(inbox.http, ["+46707000003"], "And you?", suggestedReplies=CHIPS)
    page = inbox.open()
    count_draws(page)
    # A redraw under way: the emulator is asked for a conversation's messages and has not
    # answered yet (held), so the draw that a notice started cannot finish.
    held = Held(page, re.compile(r".*/_emulator/messages\?.*phone=%2B46707000003.*"))
    send(inbox.http, ["+46707000003"], "Another one")
    held.wait()
    draws_before = page.evaluate("window.draws")
    other = inbox.phone("+46707000002")
    other.locator('.chip[data-postback="no"]').click()
    expect(other.locator(".bubble.user .text")).to_have_text("No")
    # Drawn while the redraw still waits: no draw has ended since.
    assert page.evaluate("window.draws") == draws_before
    held.release()
    expect(inbox.phone("+46707000003").locator(".bubble.agent")).to_have_count(2)


# -- 2. the DOM stays bounded ----------------------------------------------------------------------


def test_the_page_holds_the_phones_near_the_screen_whatever_the_history(inbox: Inbox):
    inbox.page.set_viewport_size({"width": 1500, "height": 1000})
    inbox.page.set_default_timeout(30_000)
    phones = seed(inbox.http, 36, 35)  # 1,260 messages
    page = inbox.open()
    expect(page.locator("#summary .counts")).to_have_text("1,260 messages \u00b7 36 conversations")
    page.wait_for_function("() => !document.querySelector('article.phone .loading')")
    small = page.evaluate(NODES)
    articles = page.locator("article.phone").count()
    assert 2 <= articles <= 8
    # Each phone shows its newest 30 and says how many came before.
    first = inbox.phone(phones[-1])
    expect(first.locator(".bubble.agent")).to_have_count(30)
    expect(first.locator(".earlier")).to_contain_text("5 earlier messages")
    # Four times the history: the same page.
    for i in range(35, 140):
        send(inbox.http, phones, f"Message {i}", suggestedReplies=CHIPS)
    page.reload()
    expect(page.locator("#summary .counts")).to_have_text("5,040 messages \u00b7 36 conversations")
    page.wait_for_function("() => !document.querySelector('article.phone .loading')")
    assert page.locator("article.phone").count() == articles
    big = page.evaluate(NODES)
    assert abs(big - small) <= small * 0.1, (small, big)
    # Scrolling down brings later phones in and takes the earlier ones out.
    last = inbox.reveal(phones[0])
    expect(last).to_have_count(1)
    # (the screen and half a screen above and below: at most four rows of two here)
    assert page.locator("article.phone").count() <= 8
    expect(inbox.phone(phones[-1])).to_have_count(0)
    assert page.evaluate(NODES) <= small * 1.5


# -- 3. the reader's view never moves ----------------------------------------------------------------


def reader_top(phone: Any, message_id: str) -> float:
    return float(
        phone.locator(f'.bubble[data-message-id="{message_id}"]').evaluate(
            "(b) => b.getBoundingClientRect().top"
        )
    )


def test_new_messages_and_load_earlier_keep_the_readers_message_in_place(inbox: Inbox):
    for i in range(60):
        send(inbox.http, ["+46707100001"], f"Line {i}", suggestedReplies=CHIPS)
    inbox.open()
    phone = inbox.phone("+46707100001")
    thread = phone.locator(".thread")
    expect(phone.locator(".bubble.agent")).to_have_count(30)
    # It opens at the newest message.
    assert thread.evaluate("(t) => t.scrollHeight - t.scrollTop - t.clientHeight") <= 4
    # The reader scrolls up to "Line 40" and reads it.
    reading = phone.locator(".bubble.agent", has_text=re.compile(r"^Line 40(?!\d)"))
    reading.evaluate("(b) => b.closest('.thread').scrollTop = b.offsetTop - 40")
    message_id = reading.get_attribute("data-message-id")
    top = reader_top(phone, message_id)
    # A new message comes in below: the reader's message stays where it is; a button says so.
    send(inbox.http, ["+46707100001"], "Line 60", suggestedReplies=CHIPS)
    expect(phone.locator(".bubble.agent")).to_have_count(31)
    expect(phone.locator(".new-below")).to_be_visible()
    assert abs(reader_top(phone, message_id) - top) <= 1
    # The button is under the thread, over no message.
    button, box = phone.locator(".new-below").bounding_box(), thread.bounding_box()
    assert button is not None and box is not None
    assert button["y"] >= box["y"] + box["height"] - 1
    # Its status changes (read, and a tap's chips close): still in place.
    inbox.advance(60)
    expect(phone.locator(f'.bubble[data-message-id="{message_id}"]')).to_have_attribute(
        "data-status", "read"
    )
    assert abs(reader_top(phone, message_id) - top) <= 1
    # The reader goes up to the oldest loaded ("Line 30", under "Load earlier") and loads
    # 30 more above: the message read stays where it is.
    thread.evaluate("(t) => { t.scrollTop = 0; }")
    oldest = phone.locator(".bubble.agent").first
    expect(oldest.locator(".text")).to_have_text("Line 30")
    oldest_id = str(oldest.get_attribute("data-message-id"))
    top = reader_top(phone, oldest_id)
    phone.locator(".load-earlier").click()
    expect(phone.locator(".bubble.agent")).to_have_count(61)
    assert abs(reader_top(phone, oldest_id) - top) <= 1
    # Back to the newest: the button goes.
    phone.locator(".new-below").click()
    expect(phone.locator(".new-below")).to_have_count(0)
    assert thread.evaluate("(t) => t.scrollHeight - t.scrollTop - t.clientHeight") <= 4


def test_a_new_conversation_waits_while_the_reader_is_down_the_page(inbox: Inbox):
    inbox.page.set_viewport_size({"width": 1500, "height": 1000})
    phones = seed(inbox.http, 12, 3)
    page = inbox.open()
    page.mouse.wheel(0, 900)
    page.wait_for_function("() => window.scrollY >= 900")
    reading = inbox.phone(phones[5])
    reading.wait_for()
    top = reading.evaluate("(b) => b.getBoundingClientRect().top")
    count_draws(page)
    send(inbox.http, ["+46707200001"], "A new phone")
    expect(page.locator("#summary .show-held")).to_have_text("1 new conversation \u2191")
    assert reading.evaluate("(b) => b.getBoundingClientRect().top") == top
    assert page.evaluate("window.scrollY") >= 900
    # Asked for: it comes first, and the page goes to it.
    page.locator("#summary .show-held").click()
    expect(page.locator("article.phone").first).to_have_attribute("data-phone", "+46707200001")
    expect(page.locator("article.phone").first).to_have_attribute("aria-posinset", "1")


# -- 4. "+1 min": states first, callbacks after -------------------------------------------------------


def test_a_minute_shows_every_state_while_callbacks_still_go_out_and_says_so(browser):
    receiver = GatedReceiver()
    receiver.server.start()
    server = EmulatorServer(Config(clock="manual", port=0)).start()
    context = browser.new_context(viewport={"width": 1500, "height": 2400})
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        with httpx.Client(base_url=server.base_url, timeout=30) as http:
            hook = {"webhook_url": receiver.server.base_url + "/hook"}
            http.put(f"/_emulator/agents/generic/{AGENT}", json=hook).raise_for_status()
            send(http, [f"+4670730{i:04d}" for i in range(8)], "Hello", suggestedReplies=CHIPS)
            page.goto(server.base_url + "/")
            page.wait_for_selector("#live[data-state=live]")
            expect(page.locator(".bubble.agent")).to_have_count(8)
            count_draws(page)
            page.locator(".clock-controls button[data-advance='60']").click()
            # Every state shown, the buttons free again, while no callback was answered yet.
            expect(page.locator(".clock-controls")).to_have_attribute("aria-busy", "false")
            expect(page.locator(".bubble.agent[data-status=read]")).to_have_count(8)
            expect(page.locator("#callbacks")).to_be_visible()
            expect(page.locator("#callbacks")).to_have_text("callbacks still going out\u2026")
            assert http.get("/_emulator/clock").json()["callbacks_running"] is True
            assert page.evaluate("window.draws") <= 2
            receiver.gate.set()
            expect(page.locator("#callbacks")).to_be_hidden()
            webhooks = http.get("/_emulator/webhooks", params={"limit": 100}).json()["items"]
            assert len(webhooks) == 16 and {d["state"] for d in webhooks} == {"delivered"}
    finally:
        receiver.gate.set()
        context.close()
        server.stop()
        receiver.server.stop()


# -- 5. live means live -----------------------------------------------------------------------------


WATCH_LIVE = """(old) => { window.liveWithOld = null;
  new MutationObserver(() => {
    if (document.getElementById('live').dataset.state === 'live' && window.liveWithOld === null)
      window.liveWithOld = Boolean(document.querySelector(`article.phone[data-phone="${old}"]`));
  }).observe(document.getElementById('live'), {attributes: true, attributeFilter: ['data-state']}); }"""


def test_after_a_restart_live_means_the_page_shows_the_new_emulator(browser):
    port = free_port()
    config = Config(clock="manual", port=port)
    first = EmulatorServer(config).start()
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    second = None
    try:
        with httpx.Client(base_url=first.base_url) as http:
            send(http, ["+46707400001"], "Before the restart")
        page.goto(first.base_url + "/")
        phone = page.locator('article.phone[data-phone="+46707400001"]')
        expect(phone.locator(".bubble.agent .text")).to_have_text("Before the restart")
        expect(page.locator("#live")).to_have_attribute("data-state", "live")
        search_x = page.locator("#filter").bounding_box()["x"]
        phone.locator(".bubble.agent").click()
        expect(page.locator("#detail")).to_be_visible()
        page.evaluate(WATCH_LIVE, "+46707400001")
        first.stop()
        expect(page.locator("#live")).to_have_text("disconnected")
        # The search box does not move when "live" becomes "disconnected".
        assert page.locator("#filter").bounding_box()["x"] == search_x
        # The open panel says it may be out of date.
        expect(page.locator("#detail .detail-stale")).to_contain_text("Disconnected")
        second = EmulatorServer(config).start()
        with httpx.Client(base_url=second.base_url) as http:
            send(http, ["+46707400002"], "After the restart")
        expect(page.locator("#live")).to_have_attribute("data-state", "live")
        # When it said "live", the old emulator's conversation was gone already.
        assert page.evaluate("window.liveWithOld") is False
        expect(page.locator('article.phone[data-phone="+46707400002"]')).to_be_visible()
        expect(phone).to_have_count(0)
        # The panel's message is not in this emulator: it says so.
        expect(page.locator("#detail .detail-stale")).to_contain_text(
            "not in the emulator any more"
        )
    finally:
        context.close()
        first.stop()
        if second is not None:
            second.stop()


# -- 6. "new" means new -------------------------------------------------------------------------------


def test_new_marks_only_new_activity_never_a_search_or_its_end(inbox: Inbox):
    phones = seed(inbox.http, 12, 2)
    page = inbox.open()
    expect(page.locator("article.phone")).to_have_count(12)
    assert page.locator("article.phone.fresh").count() == 0
    page.locator("#filter").fill("Message 1")
    expect(page.locator("#summary .counts")).to_contain_text("match")
    send(inbox.http, [phones[3]], "Message 1 again")  # matches the search
    expect(inbox.phone(phones[3]).locator(".bubble.agent")).to_have_count(2)
    assert page.locator("article.phone.fresh").count() == 0  # search results carry no mark
    page.locator("#filter").fill("")
    expect(page.locator("article.phone")).to_have_count(12)
    expect(inbox.phone(phones[3]).locator(".bubble.agent")).to_have_count(3)
    # Only the conversation that got a message while the search was on is new.
    expect(page.locator("article.phone.fresh")).to_have_count(1)
    expect(page.locator("article.phone.fresh")).to_have_attribute("data-phone", phones[3])


# -- 7. the keyboard --------------------------------------------------------------------------------


def test_the_keyboard_jumps_conversation_to_conversation_with_a_few_stops_each(inbox: Inbox):
    inbox.page.set_viewport_size({"width": 1500, "height": 1000})
    phones = seed(inbox.http, 24, 30)
    page = inbox.open()
    first = page.locator("article.phone").first
    first.focus()
    # Page Down: the next conversation, even one not in the page yet; Page Up: back.
    for n in range(2, 21):
        page.keyboard.press("PageDown")
        expect(page.locator("article.phone:focus")).to_have_attribute("aria-posinset", str(n))
    expect(page.locator("article.phone:focus")).to_have_attribute("data-phone", phones[-20])
    page.keyboard.press("PageUp")
    expect(page.locator("article.phone:focus")).to_have_attribute("aria-posinset", "19")
    # A conversation of 30 messages is a handful of Tab stops, not one per bubble.
    box = inbox.phone(str(page.locator("article.phone:focus").get_attribute("data-phone")))
    stops = box.evaluate(
        "(b) => [b, ...b.querySelectorAll('a, button, input, [tabindex]')].filter((n) =>"
        " n.tabIndex >= 0 && !n.disabled && n.getAttribute('aria-disabled') !== 'true').length"
    )
    assert stops <= 8, stops
    # Arrow keys move through the thread's bubbles; Enter opens one.
    box.locator(".thread").focus()
    page.keyboard.press("ArrowUp")
    expect(box.locator(".bubble.agent").last).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(box.locator(".bubble.agent").nth(-2)).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#detail")).to_be_visible()


# -- 8. axe-core in the page's new states ---------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_nothing_with_keyboard_threads_carousels_pending_and_held(inbox: Inbox, scheme):
    inbox.page.emulate_media(color_scheme=scheme)
    cards = [
        {
            "title": f"Card {i}",
            "description": "A card",
            "suggestedReplies": [{"text": f"Pick {i}", "postbackData": f"p{i}"}],
        }
        for i in range(4)
    ]
    carousel = {
        "agentId": AGENT,
        "number": ["+46700000006"],
        "messageType": "Carousel",
        "carouselContent": {"cardWidth": "MEDIUM", "richCardContents": cards},
    }
    inbox.http.post("/Rcs/api/v1/Message", json=carousel, headers=GENERIC_AUTH).raise_for_status()
    for i in range(40):
        send(inbox.http, ["+46707500001"], f"Line {i}", suggestedReplies=CHIPS)
    inbox.advance(60)  # the carousel is never delivered: its chips cannot be tapped
    page = inbox.open()
    expect(inbox.phone("+46700000006").locator(".bubble.lost")).to_have_count(1)
    assert axe_violations(page) == [], "threads, an undelivered carousel, Load earlier"
    held = Held(page, "**/_emulator/inbound")
    inbox.phone("+46707500001").locator('.chip[data-postback="yes"]').last.click()
    expect(page.locator(".bubble.user.pending")).to_have_count(1)
    send(inbox.http, ["+46707500002"], "A new phone while someone works")
    expect(page.locator("#summary .show-held")).to_be_visible()
    assert axe_violations(page) == [], "a pending bubble and a held conversation"
    held.release()


# -- 9. names --------------------------------------------------------------------------------------------


def test_unnamed_bots_get_readable_distinct_names_and_no_full_uuid_is_shown(inbox: Inbox):
    bots = ["54c53be2-cbb8-11ec-9d64-0242ac120002", "9f1c0a77-1b2e-4c3d-8e9f-0a1b2c3d4e5f"]
    inbox.hook_up("serwersms", bots[0])
    for bot, phone in zip(bots, ["500740001", "500740002"], strict=True):
        body = {"rcs_id": bot, "phone": phone, "message": {"text": "Dzień dobry"}}
        inbox.http.post(
            "/messages/send_rcs.json", json=body, headers=SERWERSMS_AUTH
        ).raise_for_status()
    inbox.http.put("/_emulator/phones/+48500740002", json={"rcs_capable": False}).raise_for_status()
    page = inbox.open()
    names = page.locator("article.phone h3 .name").all_inner_texts()
    assert len(names) == 2 and len(set(names)) == 2, names
    for name in names:
        assert re.fullmatch(r"[A-Z][a-z]+ [A-Z][a-z]+", name), name
    expect(inbox.phone("+48500740001").locator("h3 small .id")).to_have_attribute("title", bots[0])
    inbox.phone("+48500740001").locator(".bubble.agent").click()
    expect(page.locator("#detail")).to_be_visible()
    # Where people read: the phones, the panel's title, who sent it, its events, its deliveries
    # (the exact request and answer, copyable, are as they were: they carry the id in full).
    for where in (
        "#conversations",
        "#detail h2",
        "#detail p.muted",
        "#detail .timeline",
        "#detail .detail-webhooks summary",
        "#webhooks",
    ):
        for text in page.locator(where).all_inner_texts():
            assert not UUID.search(text), (where, text)


# -- 10. the webhook log agrees with itself ------------------------------------------------------------------


def test_the_log_reads_in_time_order_and_no_line_is_after_its_first_attempt(inbox: Inbox):
    bot = "54c53be2-cbb8-11ec-9d64-0242ac120002"
    inbox.hook_up("generic", AGENT)
    inbox.hook_up("serwersms", bot)
    inbox.webhook.answer(status=500, body="down", times=40)
    send(inbox.http, [f"+4670760{i:04d}" for i in range(4)], "Hello")
    body = {"rcs_id": bot, "phone": "500760001,500760002", "message": {"text": "Cześć"}}
    inbox.http.post("/messages/send_rcs.json", json=body, headers=SERWERSMS_AUTH).raise_for_status()
    inbox.advance(60)  # each tenant's events in turn: deliveries are not made in time order
    page = inbox.open()
    lines = page.locator("#webhooks > li")
    expect(lines).to_have_count(12)
    times = lines.locator(".when").all_inner_texts()
    assert times == sorted(times, reverse=True), times
    for line in lines.all():
        line.locator("summary").click()
        when = line.locator(".when").inner_text()
        first = line.locator(".attempts li").first.inner_text()
        at = re.search(r"#1 (\d\d:\d\d:\d\d)", first)
        assert at and when <= at.group(1), (when, first)


# -- 11. cosmetic ------------------------------------------------------------------------------------------


def test_advancing_is_said_with_its_space(inbox: Inbox):
    page = inbox.open()
    held = Held(page, "**/_emulator/clock/advance")
    page.locator(".clock-controls button[data-advance='10']").click()
    expect(page.locator(".clock-controls")).to_have_attribute("aria-busy", "true")
    after = page.locator("#clock").evaluate("(c) => getComputedStyle(c, '::after').content")
    assert after == '" \u00b7 advancing\u2026"', after
    held.release()
    expect(page.locator(".clock-controls")).to_have_attribute("aria-busy", "false")
