"""The inbox page in Debian's Chromium: its first full draw and the redraw of one conversation
after a send, at a demo's size and at the page's limit (2,000 messages, half of them carousels).

    make bench-inbox        (python -m bench.inbox; writes bench/INBOX.md)

Draw times are the page's own (`data-draw-ms`: fetch, build, carousel fitting, log), medians of
a few page loads; the server is the real emulator on the manual clock."""

from __future__ import annotations

import datetime
import json
import statistics
import time
from typing import Any

import httpx
from playwright.sync_api import sync_playwright

from tests.ui.conftest import CHROMIUM_ARGS, chromium_path

from .common import ROOT, emulator, machine

AUTH = {"Authorization": "Bearer 90be0b2c-b218-4070-a890-152821090464"}
COMMAND = "make bench-inbox   # = .venv/bin/python -m bench.inbox"


def seed(client: httpx.Client, phones: int, per_phone: int) -> None:
    """`per_phone` messages to each phone: texts with a chip and two-card carousels, alternating."""
    for p in range(phones):
        number = [f"+4670300{p:04d}"]
        for i in range(per_phone):
            if i % 2:
                body = {"messageType": "Carousel", "carouselContent": {"cardWidth": "SMALL",
                        "richCardContents": [
                            {"title": "One", "description": "d" * 80, "fileUrl": "https://x.example/1.png"},
                            {"title": "Two", "fileUrl": "https://x.example/2.png"}]}}  # fmt: skip
            else:
                body = {"messageType": "TextMessage", "text": f"message {i}",
                        "suggestedReplies": [{"text": "OK", "postbackData": "ok"}]}  # fmt: skip
            response = client.post("/Rcs/api/v1/Message", headers=AUTH,
                                   json={"agentId": "bench", "number": number, **body})  # fmt: skip
            response.raise_for_status()
    client.post("/_emulator/clock/advance", json={"seconds": 60}).raise_for_status()


def measure(phones: int, per_phone: int, loads: int = 3) -> dict[str, Any]:
    firsts, updates = [], []
    with emulator("--clock", "manual") as base, httpx.Client(base_url=base) as client:
        seed(client, phones, per_phone)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            for load in range(loads):
                page = browser.new_page(viewport={"width": 1500, "height": 1000})
                page.goto(base + "/")
                page.wait_for_selector("body[data-draw-ms]", timeout=60_000)
                firsts.append(float(page.get_attribute("body", "data-draw-ms") or "nan"))
                before = page.get_attribute("body", "data-rendered")
                body = {"agentId": "bench", "number": [f"+4670300{phones // 2:04d}"],
                        "messageType": "TextMessage", "text": f"update {load}"}  # fmt: skip
                client.post("/Rcs/api/v1/Message", json=body, headers=AUTH).raise_for_status()
                deadline = time.monotonic() + 30
                while page.get_attribute("body", "data-rendered") == before:
                    assert time.monotonic() < deadline, "the page never redrew"
                    page.wait_for_timeout(20)
                updates.append(float(page.get_attribute("body", "data-draw-ms") or "nan"))
                page.close()
            browser.close()
    return {
        "messages": phones * per_phone,
        "conversations": phones,
        "first_draw_ms": round(statistics.median(firsts), 1),
        "one_conversation_redraw_ms": round(statistics.median(updates), 1),
        "loads": loads,
    }


def main() -> None:
    results = [measure(20, 10), measure(200, 10)]
    for r in results:
        print(json.dumps(r), flush=True)
    lines = [
        "# Inbox draw times",
        "",
        f"Run {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC on {machine()}, Chromium "
        f"headless. Command: `{COMMAND}`. Medians of {results[0]['loads']} page loads.",
        "",
        "| messages (conversations) | first full draw | one conversation redrawn after a send "
        "| redraw / full draw (same run) |",
        "|---|---|---|---|",
        *(
            f"| {r['messages']:,} ({r['conversations']}) | **{r['first_draw_ms']} ms** | "
            f"**{r['one_conversation_redraw_ms']} ms** | "
            f"{r['one_conversation_redraw_ms'] / r['first_draw_ms']:.3f} |"
            for r in results
        ),
        "",
        "Half of the messages are two-card carousels, fitted by the document's truncation rules.",
        "",
    ]
    (ROOT / "bench" / "INBOX.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
