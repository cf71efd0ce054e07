"""The inbox in a real browser (Debian's Chromium through Playwright): every message kind as an
RCS client lays it out, chips and typed replies that send the provider's real callback, live
updates, the webhook log, and message content that never becomes markup."""

from __future__ import annotations

import base64
import re
import threading
import time
from datetime import datetime

import httpx
from playwright.sync_api import expect

from emulator import Config, EmulatorServer

from .conftest import Inbox
from .showcase import AGENT, BOT, GENERIC_AUTH, LONG, SERWERSMS_AUTH, send_showcase, silence

REM = 16  # px; the page keeps the browser's default root font size


def box(locator) -> dict[str, float]:
    found = locator.bounding_box()
    assert found is not None, "not laid out"
    return found


def shown(inbox: Inbox) -> dict[str, object]:
    items = send_showcase(inbox.http)
    inbox.advance(60)  # the default scenario delivers and reads
    inbox.open()
    return {item.name: item for item in items}


def test_every_message_kind_renders_as_a_client_shows_it(inbox: Inbox):
    items = shown(inbox)
    page = inbox.page
    expect(page.locator("article.phone")).to_have_count(len(items))
    for item in items.values():
        bubble = inbox.phone(item.phone).locator(".bubble.agent")
        expect(bubble).to_have_attribute("data-kind", item.kind)

    # Text: line breaks kept, one chip per action with that action's icon.
    text = inbox.phone("+46701110001")
    assert text.locator(".bubble.agent .text").inner_text() == (
        "Hello from the emulator!\nEvery action a chip can take:"
    )
    chips = text.locator(".chip")
    assert chips.evaluate_all("(cs) => cs.map((c) => c.dataset.action)") == [
        "reply",
        "dial",
        "url",
        "map",
        "calendar",
        "share_location",
    ]
    icons = chips.locator(".icon").all_inner_texts()
    assert len(set(icons)) == 6 and all(icons)
    expect(text.locator(".bubble.agent .status")).to_contain_text("read")

    # Vertical rich card: tall media (16rem) above the body, the uploaded image actually shown.
    vertical = inbox.phone("+46701110002").locator(".card")
    expect(vertical).to_have_class("card vertical left")
    media = vertical.locator(".media")
    assert abs(box(media)["height"] - 16 * REM) < 1
    assert box(media)["y"] < box(vertical.locator(".title"))["y"]
    image = media.locator("img")
    expect(image).to_have_js_property("complete", True)
    assert image.evaluate("(img) => img.naturalWidth") == 96
    assert vertical.locator(".chip").all_inner_texts()[0].endswith("Tell me more")

    # Horizontal card, thumbnail on the right: media right of the body.
    horizontal = inbox.phone("+46701110003").locator(".card")
    expect(horizontal).to_have_css("flex-direction", "row-reverse")
    assert box(horizontal.locator(".media"))["x"] > box(horizontal.locator(".body"))["x"]
    # SerwerSMS's layout object, thumbnail on the left.
    left = inbox.phone("+48500600705").locator(".card")
    expect(left).to_have_css("flex-direction", "row")
    assert box(left.locator(".media"))["x"] < box(left.locator(".body"))["x"]

    # Carousels scroll sideways, in the card width asked for, every card the same height.
    for phone, width in (("+46701110004", 14 * REM), ("+48500600706", 9 * REM)):
        carousel = inbox.phone(phone).locator(".carousel")
        cards = carousel.locator(".card")
        assert cards.count() == 3
        # (narrowed a little at most, where whole cards would end at the edge and hide the next)
        widths = {round(box(c)["width"]) for c in cards.all()}
        assert len(widths) == 1 and width - 32 <= widths.pop() <= width
        assert len({round(box(c)["height"]) for c in cards.all()}) == 1
        if phone == "+46701110004":  # three medium cards overflow a phone's width
            assert carousel.evaluate("(c) => c.scrollWidth > c.clientWidth")
            expect(carousel).to_have_css("overflow-x", "auto")

    # The SMS fallback is shown as an SMS.
    sms = inbox.phone("+46700000001").locator(".bubble.agent")
    expect(sms).to_have_class("bubble agent kind-sms sms")
    expect(sms.locator(".status")).to_contain_text("SMS")
    expect(sms.locator(".text")).to_have_text("Your parcel arrives today (SMS).")

    # Files: an image, a document (a link with its type and size), an audio player.
    picture = inbox.phone("+48500600702").locator(".media[data-media-kind=image] img")
    expect(picture).to_have_js_property("complete", True)
    assert picture.evaluate("(img) => img.naturalHeight") == 64
    document = inbox.phone("+48500600703").locator(".media[data-media-kind=file]")
    expect(document.locator("a.document")).to_have_attribute(
        "href", "https://serwersms.example/terms.pdf"
    )
    expect(document).to_contain_text("terms.pdf")
    expect(document).to_contain_text("application/pdf \u00b7 1.4 MB")
    # The audio's host is unreachable here: the player gives way to what it was.
    audio = inbox.phone("+48500600704").locator(".media[data-media-kind=audio]")
    expect(audio.locator(".placeholder")).to_have_text("audio \u00b7 greeting.mp3")


def test_a_carousel_truncates_in_the_documents_order(inbox: Inbox):
    def card(title, description=None, chips=0, height="SHORT"):
        found = {"title": title, "height": height, "fileUrl": "https://img.example/a.png"}
        if description:
            found["description"] = description
        if chips:
            found["suggestedReplies"] = [
                {"text": f"{title[:10]} {i}", "postbackData": f"{title[:5]}-{i}"}
                for i in range(chips)
            ]
        return found

    cards = [
        card("First", "One line."),  # the first two set the height
        card("Second", "One line."),
        card("Third", LONG),  # the description to one line is enough
        card("Very long title " * 6, LONG),  # then the title to one line
        card("Chips " * 10, LONG, chips=4),  # then chips, from the end
        card("Everything " * 10, LONG * 4, chips=4, height="MEDIUM"),  # then all the rest
    ]
    body = {
        "agentId": AGENT,
        "number": ["+46701110009"],
        "messageType": "Carousel",
        "carouselContent": {"cardWidth": "SMALL", "richCardContents": cards},
    }
    inbox.http.post("/Rcs/api/v1/Message", json=body, headers=GENERIC_AUTH).raise_for_status()
    inbox.open()
    rendered = inbox.phone("+46701110009").locator(".card")
    expect(rendered).to_have_count(6)
    steps = rendered.evaluate_all("(cs) => cs.map((c) => (c.dataset.truncated || '').split(' '))")
    order = (
        ["description-one-line", "title-one-line"]
        + ["chip-removed"] * 4
        + ["description-removed", "title-removed", "media-cropped"]
    )
    assert steps[0] == steps[1] == [""]
    assert steps[2] == order[:1]
    assert steps[3] == order[:2]
    assert steps[4][:3] == order[:3] and steps[4] == order[: len(steps[4])]
    assert steps[5] == order  # its medium media alone is taller than the short cards
    # Every card now fits its height, and the chips that stay are the first ones.
    sizes = rendered.evaluate_all(
        "(cs) => cs.map((c) => [c.scrollHeight, c.clientHeight, c.dataset.truncated])"
    )
    assert all(s <= c + 1 for s, c, _ in sizes), sizes
    kept = rendered.nth(4).locator(".chip .label").all_inner_texts()
    assert kept == [f"Chips Chip {i}" for i in range(len(kept))]
    assert len(kept) == 4 - steps[4].count("chip-removed")
    clamped = rendered.nth(3).locator(".title")
    expect(clamped).to_have_css("text-overflow", "ellipsis")
    expect(clamped).to_have_css("white-space", "nowrap")


def test_tapping_a_chip_sends_the_providers_callback(inbox: Inbox):
    shown(inbox)
    inbox.hook_up("generic", AGENT)
    inbox.hook_up("serwersms", BOT)
    page = inbox.page

    # An action is not an answer: the chips stay.
    inbox.phone("+46701110001").locator('.chip[data-postback="call"]').click()
    action = inbox.webhook.wait(lambda calls: len(calls) >= 1)[0]["json"]
    assert action["Type"] == "ACTION" and action["PostbackData"] == "call"

    inbox.phone("+46701110001").locator('.chip[data-postback="yes"]').click()
    call = inbox.webhook.wait(lambda calls: len(calls) >= 2)[1]
    assert call["path"] == "/webhook/generic"
    assert call["json"]["PostbackData"] == "yes" and call["json"]["Type"] == "REPLY"
    assert call["json"]["SenderPhoneNo"] == "+46701110001"
    assert call["json"]["AgentId"] == AGENT
    # The tap shows as the user's answer, live.
    expect(inbox.phone("+46701110001").locator(".bubble.user .text")).to_have_text("Yes please")

    inbox.phone("+48500600706").locator('.chip[data-postback="offer-2"]').click()
    serwersms = inbox.webhook.wait(lambda calls: len(calls) >= 3)[2]
    assert serwersms["path"] == "/webhook/serwersms"
    (notice,) = serwersms["json"]
    assert notice["type"] == "reply" and notice["data"] == "offer-2"
    assert notice["rcs_id"] == BOT and notice["phone"] == "+48500600706"
    assert base64.b64decode(notice["text"]).decode() == "Wybieram 2"
    expect(inbox.phone("+48500600706").locator(".bubble.user .text")).to_have_text("Wybieram 2")
    # Each attempt is in the webhook log beside the conversations.
    expect(page.locator("#webhooks > li[data-state=delivered]")).to_have_count(3)


def test_typing_a_reply_sends_the_users_message(inbox: Inbox):
    shown(inbox)
    inbox.hook_up("serwersms", BOT)
    inbox.hook_up("generic", AGENT)
    conversation = inbox.phone("+48500600701")
    conversation.locator("input[name=text]").fill("Poproszę <b>więcej</b> informacji")
    conversation.locator("input[name=text]").press("Enter")
    (notice,) = inbox.webhook.wait()[0]["json"]
    assert notice["type"] == "message" and notice["phone"] == "+48500600701"
    assert base64.b64decode(notice["text"]).decode() == "Poproszę <b>więcej</b> informacji"
    expect(conversation.locator(".bubble.user .text")).to_have_text(
        "Poproszę <b>więcej</b> informacji"
    )
    expect(conversation.locator("input[name=text]")).to_have_value("")

    generic = inbox.phone("+46701110002")
    generic.locator("input[name=text]").fill("Do you deliver on Sundays?")
    generic.locator("button[type=submit]").click()
    call = inbox.webhook.wait(lambda calls: len(calls) >= 2)[1]["json"]
    assert call["Type"] == "TEXT" and call["Text"] == "Do you deliver on Sundays?"
    assert call["PostbackData"] is None


def test_new_messages_status_changes_and_webhooks_appear_live(inbox: Inbox):
    page = inbox.open()
    expect(page.locator(".column .none-yet")).to_contain_text("No messages yet")
    inbox.hook_up("generic", AGENT)
    body = {
        "agentId": AGENT,
        "number": ["+46701110010"],
        "messageType": "TextMessage",
        "text": "Live, without a reload",
    }
    inbox.http.post("/Rcs/api/v1/Message", json=body, headers=GENERIC_AUTH).raise_for_status()
    bubble = inbox.phone("+46701110010").locator(".bubble.agent")
    expect(bubble.locator(".text")).to_have_text("Live, without a reload")
    expect(bubble).to_have_attribute("data-status", "sent")

    inbox.advance(60)  # delivered, then read, each with its callback
    expect(bubble).to_have_attribute("data-status", "read")
    expect(bubble.locator(".status")).to_contain_text("read")
    log = page.locator("#webhooks > li")
    expect(log).to_have_count(2)
    expect(log.first).to_have_attribute("data-event", "read")  # newest first
    log.first.locator("summary").click()
    expect(log.first.locator(".attempts li.accepted")).to_contain_text("#1")
    expect(log.first.locator(".attempts li.accepted")).to_contain_text("\u2192 HTTP 200")
    expect(log.first.locator(".payload")).to_contain_text('"Type": "READ"')

    # A failing receiver shows as such, with its answer.
    inbox.webhook.answer(status=500, body="receiver broke", times=10)
    inbox.http.post(
        "/_emulator/inbound",
        json={"provider": "generic", "agent_id": AGENT, "phone": "+46701110010", "text": "hi"},
    ).raise_for_status()
    failing = page.locator("#webhooks > li").first
    expect(failing).to_have_attribute("data-event", "message")
    expect(failing).to_have_attribute("data-state", "retrying")
    failing.locator("summary").click()
    expect(failing.locator(".attempts li.refused").first).to_contain_text("500")
    expect(failing.locator(".response").first).to_have_text("receiver broke")

    # A reset empties the page too.
    inbox.http.post("/_emulator/reset").raise_for_status()
    expect(page.locator(".column .none-yet")).to_be_visible()
    expect(page.locator("#webhooks > li")).to_have_count(0)


def test_what_is_being_typed_survives_a_redraw(inbox: Inbox):
    shown(inbox)
    field = inbox.phone("+46701110003").locator("input[name=text]")
    field.click()
    field.type("half a sente")
    inbox.advance(5)  # nothing scheduled; send something so the page redraws
    body = {
        "agentId": AGENT,
        "number": ["+46701110011"],
        "messageType": "TextMessage",
        "text": "Meanwhile, another phone",
    }
    inbox.http.post("/Rcs/api/v1/Message", json=body, headers=GENERIC_AUTH).raise_for_status()
    # Someone is typing: the new conversation waits above, so nothing moves under them.
    expect(inbox.page.locator("#summary .show-held")).to_have_text("1 new conversation \u2191")
    field = inbox.phone("+46701110003").locator("input[name=text]")
    expect(field).to_have_value("half a sente")
    expect(field).to_be_focused()
    inbox.page.keyboard.type("nce")
    expect(field).to_have_value("half a sentence")
    inbox.page.locator("#summary .show-held").click()
    expect(inbox.phone("+46701110011")).to_be_visible()
    expect(inbox.phone("+46701110003").locator("input[name=text]")).to_have_value("half a sentence")


def test_message_content_is_never_markup(inbox: Inbox):
    hostile = '<img src=x onerror="window.pwned=1"><b>bold</b><script>window.pwned=2</script>'
    body = {
        "agentId": AGENT,
        "number": ["+46701110012"],
        "messageType": "RichCard",
        "richCardContent": {
            "title": hostile[:100],
            "description": hostile,
            "fileUrl": "https://img.example/x.png",
            "suggestedReplies": [{"text": "<i>x</i>", "postbackData": "p"}],
        },
    }
    inbox.http.post("/Rcs/api/v1/Message", json=body, headers=GENERIC_AUTH).raise_for_status()
    text = {"rcs_id": BOT, "phone": "+48500600707", "message": {"text": hostile}}
    assert inbox.http.post("/messages/send_rcs.json", json=text, headers=SERWERSMS_AUTH).json()[
        "success"
    ]
    page = inbox.open()
    card = inbox.phone("+46701110012").locator(".card")
    expect(card.locator(".description")).to_have_text(hostile)
    expect(card.locator(".chip .label")).to_have_text("<i>x</i>")
    expect(inbox.phone("+48500600707").locator(".bubble.agent .text")).to_have_text(hostile)
    assert page.locator("#conversations b, #conversations i, #conversations script").count() == 0
    # The card's own media is the only media (its host is unreachable here: a placeholder).
    expect(page.locator("#conversations .media")).to_have_count(1)
    expect(card.locator(".media .placeholder")).to_have_text(f"image \u00b7 {hostile[:100]}")
    assert page.evaluate("window.pwned") is None
    # Nor in the details: the request, the answer and the curl command are text.
    inbox.phone("+48500600707").locator(".bubble.agent .status").click()
    detail = page.locator("#detail")
    expect(detail.locator(".copyable pre").first).to_contain_text("<script>window.pwned=2</script>")
    expect(detail.locator(".copyable").nth(2)).to_contain_text("--data-raw")
    assert page.locator("#detail b, #detail i, #detail script, #detail img").count() == 0
    # A "link" that is not a web address stays text.
    evil = {
        "rcs_id": BOT,
        "phone": "+48500600708",
        "message": {"text": 'javascript:window.pwned=3 and https://ok.example/a"><b>x'},
    }
    inbox.http.post("/messages/send_rcs.json", json=evil, headers=SERWERSMS_AUTH)
    links = inbox.phone("+48500600708").locator(".bubble.agent .text a")
    expect(links).to_have_count(1)
    expect(links).to_have_attribute("href", "https://ok.example/a")
    assert page.evaluate("window.pwned") is None


def test_the_page_works_behind_the_control_token(browser):
    with EmulatorServer(Config(clock="manual", port=0, control_token="s3cret")) as server:
        body = {
            "agentId": AGENT,
            "number": ["+46701110013"],
            "messageType": "TextMessage",
            "text": "Behind a token",
        }
        httpx.post(server.base_url + "/Rcs/api/v1/Message", json=body, headers=GENERIC_AUTH)
        context = browser.new_context()
        try:
            page = context.new_page()
            page.goto(server.base_url + "/?token=s3cret")
            expect(page.locator("article.phone .text")).to_have_text("Behind a token")
            expect(page.locator("#live")).to_have_attribute("data-state", "live")
            refused = page.goto(server.base_url + "/")
            assert refused is not None and refused.status == 401
        finally:
            context.close()


def test_the_clock_buttons_run_the_scenarios_ahead(inbox: Inbox):
    body = {
        "agentId": AGENT,
        "number": ["+46701110014"],
        "messageType": "TextMessage",
        "text": "Time flies",
    }
    inbox.http.post("/Rcs/api/v1/Message", json=body, headers=GENERIC_AUTH).raise_for_status()
    page = inbox.open()
    clock = page.locator("#clock")
    expect(clock).to_contain_text("manual clock")
    before = clock.get_attribute("data-now")
    bubble = inbox.phone("+46701110014").locator(".bubble.agent")
    expect(bubble).to_have_attribute("data-status", "sent")
    page.locator(".clock-controls button[data-advance='60']").click()
    expect(bubble).to_have_attribute("data-status", "read")
    expect(clock).not_to_have_attribute("data-now", before or "")
    now = inbox.http.get("/_emulator/clock").json()
    assert now["epoch"] - epoch_of(before) == 60
    expect(clock).to_have_attribute("data-now", now["now"])


def epoch_of(iso: str | None) -> float:
    assert iso is not None
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def test_a_steady_stream_of_changes_still_shows_as_it_comes(inbox: Inbox):
    page = inbox.open()
    sending = threading.Event()
    sending.set()

    def send_steadily() -> None:
        with httpx.Client(base_url=inbox.base_url) as client:
            for i in range(60):  # a notice every ~50 ms, for about three seconds
                body = {
                    "agentId": AGENT,
                    "number": [f"+467011120{i:02d}"],
                    "messageType": "TextMessage",
                    "text": f"#{i}",
                }
                client.post("/Rcs/api/v1/Message", json=body, headers=GENERIC_AUTH)
                time.sleep(0.05)
        sending.clear()

    sender = threading.Thread(target=send_steadily, daemon=True)
    sender.start()
    page.locator("article.phone").nth(4).wait_for()  # five conversations drawn
    assert sending.is_set(), "the page drew nothing until the stream stopped"
    sender.join(30)
    expect(page.locator("#summary .counts")).to_have_text("60 messages \u00b7 60 conversations")
    # The newest came first (a reader at the top sees them arrive); only those near the screen
    # are in the page.
    expect(page.locator("article.phone").first).to_have_attribute("data-phone", "+46701112059")
    assert page.locator("article.phone").count() < 60


def test_on_a_phone_sized_screen_the_log_goes_below(inbox: Inbox):
    inbox.page.set_viewport_size({"width": 390, "height": 844})
    body = {
        "agentId": AGENT,
        "number": ["+46701110015"],
        "messageType": "TextMessage",
        "text": "Small screen",
    }
    inbox.http.post("/Rcs/api/v1/Message", json=body, headers=GENERIC_AUTH).raise_for_status()
    page = inbox.open()
    conversation = box(inbox.phone("+46701110015"))
    log = box(page.locator("#webhook-log"))
    assert log["y"] >= conversation["y"] + conversation["height"]
    assert conversation["x"] + conversation["width"] <= 390
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390


def test_only_the_newest_message_offers_its_chips_but_cards_keep_theirs(inbox: Inbox):
    inbox.hook_up("generic", AGENT)
    phone = "+46701110016"
    card = {
        "agentId": AGENT,
        "number": [phone],
        "messageType": "RichCard",
        "richCardContent": {
            "title": "Card",
            "description": "With a chip inside",
            "fileUrl": "https://img.example/c.png",
            "suggestedReplies": [{"text": "Inside", "postbackData": "inside"}],
        },
        "suggestedReplies": [{"text": "Under", "postbackData": "under"}],
    }
    text = {
        "agentId": AGENT,
        "number": [phone],
        "messageType": "TextMessage",
        "text": "Newer",
        "suggestedReplies": [{"text": "Newest chip", "postbackData": "newest"}],
    }
    for body in (card, text):
        inbox.http.post("/Rcs/api/v1/Message", json=body, headers=GENERIC_AUTH).raise_for_status()
    inbox.open()
    conversation = inbox.phone(phone)
    expect(conversation.locator('.chip[data-postback="under"]')).to_be_disabled()
    expect(conversation.locator('.chip[data-postback="newest"]')).to_be_enabled()
    older = conversation.locator(".bubble.agent").first.get_attribute("data-message-id")

    conversation.locator('.chip[data-postback="inside"]').click()
    calls = inbox.webhook.wait(lambda calls: len(calls) >= 3)
    # not yet reported delivered: the phone says delivered and read before the tap
    assert [c["json"]["Type"] for c in calls] == ["DELIVERED", "READ", "REPLY"]
    callback = calls[-1]["json"]
    assert (callback["PostbackData"], callback["MessageId"]) == ("inside", older)
    expect(conversation.locator(".bubble.user .text")).to_have_text("Inside")


def test_a_change_redraws_only_its_conversation_in_place_marked_or_on_top_if_asked(inbox: Inbox):
    def send(phone: str, text: str) -> None:
        body = {"agentId": AGENT, "number": [phone], "messageType": "TextMessage", "text": text}
        inbox.http.post("/Rcs/api/v1/Message", json=body, headers=GENERIC_AUTH).raise_for_status()

    def order() -> list[str]:
        return phones.evaluate_all("(ps) => ps.map((p) => p.dataset.phone)")

    send("+46701110017", "older conversation")
    inbox.advance(1)
    send("+46701110018", "newer conversation")
    page = inbox.open()
    phones = page.locator("article.phone")
    assert order() == ["+46701110018", "+46701110017"]  # newest activity first, at first
    untouched = inbox.phone("+46701110018").element_handle()
    # Someone working in the page: the conversation that speaks stays where it is, marked.
    send("+46701110017", "the older one speaks again")
    older = inbox.phone("+46701110017")
    expect(older.locator(".bubble.agent")).to_have_count(2)
    expect(older).to_have_class(re.compile(r"\bfresh\b"))
    assert order() == ["+46701110018", "+46701110017"]
    assert untouched.evaluate("(box) => box.isConnected")  # the other phone was left alone
    older.locator("h3").click()  # looked at: the mark goes
    expect(older).not_to_have_class(re.compile(r"\bfresh\b"))
    # "Newest first" moves activity to the top, and is kept in the URL.
    page.locator("#newest-first").check()
    expect(phones.first).to_have_attribute("data-phone", "+46701110017")
    assert "order=newest" in page.url
    send("+46701110018", "and now this one")
    expect(phones.first).to_have_attribute("data-phone", "+46701110018")
    page.reload()
    expect(page.locator("#newest-first")).to_be_checked()
    inbox.http.post("/_emulator/reset").raise_for_status()  # a reset redraws everything
    expect(page.locator(".column .none-yet")).to_be_visible()


def test_the_filter_narrows_conversations_and_their_webhooks(inbox: Inbox):
    shown(inbox)
    inbox.hook_up("serwersms", BOT)
    inbox.http.post(
        "/_emulator/inbound",
        json={"provider": "serwersms", "agent_id": BOT, "phone": "+48500600701", "text": "hej"},
    ).raise_for_status()
    page = inbox.page
    expect(page.locator("#webhooks > li")).to_have_count(1)
    page.locator("#filter").fill("serwersms")
    expect(page.locator("article.phone:visible")).to_have_count(6)
    page.locator("#filter").fill("+46701110003")
    expect(page.locator("article.phone:visible")).to_have_count(1)
    expect(page.locator("#webhooks > li:visible")).to_have_count(0)
    page.locator("#filter").fill("600701")
    expect(page.locator("article.phone:visible")).to_have_attribute("data-phone", "+48500600701")
    expect(page.locator("#webhooks > li:visible")).to_have_count(1)
    # A redraw keeps the filter.
    inbox.advance(60)
    inbox.http.post(
        "/_emulator/inbound",
        json={"provider": "serwersms", "agent_id": BOT, "phone": "+48500600702", "text": "again"},
    ).raise_for_status()
    expect(page.locator("#log-summary")).to_have_text("1 delivery that matches \u201c600701\u201d")
    expect(page.locator("#webhooks > li")).to_have_count(1)  # the server found it
    page.locator("#filter").fill("")
    expect(page.locator("article.phone:visible")).to_have_count(11)


def test_clear_forgets_the_conversations_but_keeps_the_settings(inbox: Inbox):
    inbox.hook_up("generic", AGENT)
    body = {
        "agentId": AGENT,
        "number": ["+46701110019"],
        "messageType": "TextMessage",
        "text": "soon gone",
    }
    inbox.http.post("/Rcs/api/v1/Message", json=body, headers=GENERIC_AUTH).raise_for_status()
    page = inbox.open()
    expect(page.locator("article.phone")).to_have_count(1)
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.locator("#clear").click()  # returns once the click (and its dialog) was handled
    assert inbox.http.get("/_emulator/messages").json()["total"] == 1  # cancelled: kept
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#clear").click()
    expect(page.locator(".column .none-yet")).to_be_visible()
    assert inbox.http.get("/_emulator/messages").json()["total"] == 0
    agents = inbox.http.get("/_emulator/agents").json()["items"]
    assert any(a["agent_id"] == AGENT and a["webhook_url"] for a in agents)


def test_reachable_audio_and_video_get_players(inbox: Inbox):
    inbox.page.route(
        "https://media.example/voice.mp3",
        lambda route: route.fulfill(body=silence(2), content_type="audio/wav"),
    )
    for phone, message in (
        (
            "+48500600708",
            {
                "audio": {
                    "name": "voice.mp3",
                    "url": "https://media.example/voice.mp3",
                    "type": "audio/mp3",
                    "size": 32044,
                }
            },
        ),
        (
            "+48500600709",
            {
                "file": {
                    "name": "clip.mp4",
                    "url": "https://media.example/clip.mp4",
                    "type": "video/mp4",
                    "size": 1489039,
                }
            },
        ),
    ):
        body = {"rcs_id": BOT, "phone": phone, "message": message}
        inbox.http.post("/messages/send_rcs.json", json=body, headers=SERWERSMS_AUTH)
    inbox.open()
    player = inbox.phone("+48500600708").locator("audio")
    expect(player).to_have_js_property("duration", 2)
    expect(inbox.phone("+48500600708").locator(".media .name")).to_have_text("voice.mp3")
    # The video's host is unreachable: a placeholder that says what it was.
    video = inbox.phone("+48500600709").locator(".media[data-media-kind=video]")
    expect(video.locator(".placeholder")).to_have_text("video \u00b7 clip.mp4")


def test_a_message_scheduled_for_later_is_shown_apart_and_not_tappable(inbox: Inbox):
    inbox.hook_up("serwersms", BOT)
    now = {
        "rcs_id": BOT,
        "phone": "+48500600710",
        "message": {
            "text": "Now",
            "suggestions": [{"reply": {"text": "Now chip", "postback": "now"}}],
        },
    }
    later = {
        "rcs_id": BOT,
        "phone": "+48500600710",
        "date": "2099-01-01 10:00:00",
        "message": {
            "text": "Later",
            "suggestions": [{"reply": {"text": "Later chip", "postback": "later"}}],
        },
    }
    for body in (now, later):
        inbox.http.post("/messages/send_rcs.json", json=body, headers=SERWERSMS_AUTH)
    inbox.open()
    conversation = inbox.phone("+48500600710")
    bubbles = conversation.locator(".bubble.agent")
    expect(bubbles.last).to_have_class(re.compile(r"\bscheduled\b"))
    expect(bubbles.last.locator(".status")).to_have_text("scheduled for 2099-01-01 09:00 UTC")
    expect(conversation.locator('.chip[data-postback="later"]')).to_be_disabled()
    conversation.locator('.chip[data-postback="now"]').click()  # the newest it has received
    calls = inbox.webhook.wait(lambda calls: len(calls) >= 3)
    assert [c["json"][0].get("status") for c in calls[:2]] == ["delivered", "displayed"]
    (notice,) = calls[2]["json"]
    assert (notice["type"], notice["data"]) == ("reply", "now")
    conversation.locator("input[name=text]").fill("and to the one I have")
    conversation.locator("input[name=text]").press("Enter")
    (typed,) = inbox.webhook.wait(lambda calls: len(calls) >= 4)[3]["json"]
    sent = inbox.http.get("/_emulator/messages", params={"phone": "+48500600710"}).json()["items"]
    assert typed["msgid"] is not None and sent[0]["events"][-1]["text"] == "and to the one I have"


def test_a_phone_without_rcs_says_why_instead_of_offering_a_reply_box(inbox: Inbox):
    body = {
        "agentId": AGENT,
        "number": ["+46700000001"],
        "messageType": "TextMessage",
        "text": "Hi",
        "suggestedReplies": [{"text": "Yes", "postbackData": "yes"}],
    }
    inbox.http.post("/Rcs/api/v1/Message", json=body, headers=GENERIC_AUTH).raise_for_status()
    inbox.open()
    conversation = inbox.phone("+46700000001")
    expect(conversation.locator("p.no-reply")).to_have_text(
        "No RCS reply possible: +46700000001 has no RCS capability: it cannot answer over RCS"
    )
    expect(conversation.locator("input[name=text]")).to_have_count(0)
    expect(conversation.locator('.chip[data-postback="yes"]')).to_be_disabled()
