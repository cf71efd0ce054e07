"""Photograph the inbox: one picture per message kind, the whole page, a message's details, the
webhook log with a failing receiver, dark mode and a 320 px phone.

    make screenshots        (python -m tests.ui.screenshots docs/screenshots)

Uses the browser tests' showcase and Chromium set-up, so the pictures show what they test."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
from playwright.sync_api import expect, sync_playwright

from emulator import Config, EmulatorServer
from emulator.testing import WebhookReceiver

from .conftest import CHROMIUM_ARGS, chromium_path, reveal
from .showcase import AGENT, send_showcase, silence


def main(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with (
        WebhookReceiver() as receiver,
        EmulatorServer(Config(clock="manual", port=0, seed=7, webhook_url=receiver.url)) as server,
        httpx.Client(base_url=server.base_url) as client,
        sync_playwright() as pw,
    ):
        shown = send_showcase(client)
        client.post("/_emulator/clock/advance", json={"seconds": 60}).raise_for_status()
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1500, "height": 1100})
        # The showcase's audio lives on an example host; here it is a second of silence, so the
        # picture shows the player a reachable file gets.
        page.route(
            "https://serwersms.example/greeting.mp3",
            lambda route: route.fulfill(body=silence(), content_type="audio/wav"),
        )
        page.goto(server.base_url + "/")
        page.wait_for_selector("body[data-rendered]")
        for image in page.locator("#conversations img").all():  # every picture in before a shot
            expect(image).to_have_js_property("complete", True)
        for item in shown:
            target = folder / f"{item.name}.png"
            conversation = reveal(page, item.phone)  # the page holds the phones near the screen
            for image in conversation.locator("img").all():
                expect(image).to_have_js_property("complete", True)
            if item.kind == "carousel":  # show where the truncated cards are
                conversation.locator(".carousel").evaluate(
                    "(c) => { c.scrollLeft = c.scrollWidth; }"
                )
            conversation.screenshot(path=target)
            print(target, "-", item.title)
        # Then the user answers two of them (one tap, one typed), live, for the whole page's
        # picture (each kind's picture shows its chips before an answer closes them).
        answered = reveal(page, "+46701110002")
        for body in (
            {"provider": "generic", "agent_id": AGENT, "phone": "+46701110001", "postback": "yes"},
            {
                "provider": "generic",
                "agent_id": AGENT,
                "phone": "+46701110002",
                "text": "Do you deliver on Sundays?",
            },
        ):
            client.post("/_emulator/inbound", json=body).raise_for_status()
        expect(page.locator("#conversations .bubble.user")).to_have_count(2)
        # Their row at the top of the picture, under the header and the summary.
        answered.evaluate("(b) => window.scrollTo(0, b.getBoundingClientRect().top + scrollY - 90)")
        page.evaluate(
            "() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))"
        )
        page.locator("#webhooks > li").first.locator("summary").click()
        page.screenshot(path=folder.parent / "inbox-preview.png")
        print(folder.parent / "inbox-preview.png")
        views(page, client, receiver, server.base_url, folder)
        browser.close()


def views(page, client: httpx.Client, receiver: WebhookReceiver, base: str, folder: Path) -> None:
    """The pictures of inbox v2: details, a failing receiver's log, dark mode, 320 px."""
    reveal(page, "+46701110001").locator(".bubble.agent").click()
    page.wait_for_selector("#detail:not([hidden]) .copyable")
    page.screenshot(path=folder / "view-message-detail.png")
    print(folder / "view-message-detail.png", "- a message's details")
    page.keyboard.press("Escape")
    receiver.answer(status=500, body="receiver broke", times=20)
    client.post(
        "/_emulator/inbound",
        json={
            "provider": "generic",
            "agent_id": AGENT,
            "phone": "+46701110003",
            "text": "Is it in stock?",
        },
    ).raise_for_status()
    failing = page.locator("#webhooks > li[data-state=retrying]").first
    failing.locator("summary").click()
    page.locator("#webhook-log").screenshot(path=folder / "view-webhook-log.png")
    print(folder / "view-webhook-log.png", "- the webhook log with a failing receiver")
    page.emulate_media(color_scheme="dark")
    page.screenshot(path=folder / "view-dark.png")
    print(folder / "view-dark.png", "- dark mode")
    page.emulate_media(color_scheme="light")
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(base + "/")
    page.wait_for_selector("body[data-rendered]")
    page.screenshot(path=folder / "view-320px.png")
    print(folder / "view-320px.png", "- a 320 px phone")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots"))
