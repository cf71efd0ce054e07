"""A sample appointment bot on both providers, for the conversation tests next to it.

It answers the providers' callbacks the way a real business bot does: a person who writes
anything is greeted with two time slots; a tap on a slot books it under an order number (with a
chip to cancel); "status N" says what order N is; "hours" gets a rich card, "prices" a carousel
whose cards each have their own chip (and a chip of the message's own, back to the menu),
"brochure" a PDF (a file message where the provider has one, a card with the file elsewhere).
Standard library only.

    EMULATOR_URL=http://127.0.0.1:8080 PORT=8000 python examples/bot/bot.py

Point the emulator's callbacks at it: `rcs-emulator serve --webhook-url
http://127.0.0.1:8000/webhook` (or `webhook_url:` in a config or a conversation file).
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import sys
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

EMULATOR = os.environ.get("EMULATOR_URL", "http://127.0.0.1:8080").rstrip("/")
PORT = int(os.environ.get("PORT", "8000"))
GENERIC_AUTH = {"Authorization": "Bearer " + os.environ.get("GENERIC_KEY", "booking-bot-key")}
SERWERSMS_AUTH = {"Authorization": "Bearer " + os.environ.get("SERWERSMS_TOKEN", "booking-bot")}
SLOTS = {"slot-10": "10:00", "slot-12": "12:00"}
SERVICES = {"book-haircut": "Haircut", "book-colour": "Colour"}
GREETING: dict[str, Any] = {
    "text": "Hello! When shall we come?",
    "chips": [("10:00", "slot-10"), ("12:00", "slot-12")],
}
ORDERS: dict[str, str] = {}  # order number -> the slot booked
NUMBERS = itertools.count(4217)
BOOKING = threading.Lock()
BROCHURE = "https://example.com/brochure.pdf"
PICTURE = "https://example.com/salon.png"  # every card's picture

# What the bot says, in one shape for both providers:
# {"text": ..., "chips": [(label, postback)], "cards": [{"title", "description", "chips"}],
#  "file": {"url", "name", "type", "size"}}
Said = dict[str, Any]


def log(*parts: Any) -> None:
    print("bot:", *parts, file=sys.stderr, flush=True)


def answer(postback: str | None, text: str | None) -> Said:
    """The reply to a tap (postback) or a typed text."""
    if postback in SLOTS:
        with BOOKING:
            number = str(next(NUMBERS))
            ORDERS[number] = SLOTS[postback]
        said = f"Booked for {SLOTS[postback]}, order #{number}. See you then!"
        return {"text": said, "chips": [("Cancel", "cancel")]}
    if postback == "cancel":
        return {"text": "Your booking is cancelled.", "chips": [("Book again", "again")]}
    if postback in SERVICES:
        return {**GREETING, "text": f"{SERVICES[postback]} it is. When shall we come?"}
    word = (text or "").strip().lower()
    if word.startswith("status"):
        number = word.removeprefix("status").strip(" #")
        slot = ORDERS.get(number)
        if slot is None:
            return {"text": f"No order #{number}."}
        return {"text": f"Order #{number}: booked for {slot}.", "chips": [("Cancel", "cancel")]}
    if word == "hours":
        hours = "Monday to Friday 9-17, Saturday 10-14."
        card = {"title": "Opening hours", "description": hours, "chips": [("Book", "again")]}
        return {"cards": [card]}
    if word == "prices":
        haircut = {"title": "Haircut", "description": "30 EUR", "chips": [("Book", "book-haircut")]}
        colour = {"title": "Colour", "description": "60 EUR", "chips": [("Book", "book-colour")]}
        return {"cards": [haircut, colour], "chips": [("Menu", "menu")]}
    if word == "brochure":
        file = {"url": BROCHURE, "name": "brochure.pdf", "type": "application/pdf", "size": 48213}
        return {"file": file, "text": "Our brochure"}
    return GREETING


def post(path: str, body: Any, headers: dict[str, str]) -> Any:
    request = urllib.request.Request(
        EMULATOR + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **headers},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"null")


def send_generic(agent: str, phone: str, said: Said) -> None:
    def replies(chips: list[tuple[str, str]]) -> list[dict[str, str]]:
        return [{"text": label, "postbackData": postback} for label, postback in chips]

    body: dict[str, Any] = {
        "agentId": agent,
        "number": [phone],
        "suggestedReplies": replies(said.get("chips", [])),
    }
    cards = said.get("cards") or []
    if said.get("file"):  # Generic has no file message: the file rides in a rich card
        file = said["file"]
        cards = [{"title": said.get("text") or file["name"], "url": file["url"]}]
    rich = [
        {
            "title": c["title"],
            "description": c.get("description"),
            "fileUrl": c.get("url", PICTURE),
            "suggestedReplies": replies(c.get("chips", [])),
        }
        for c in cards
    ]
    if len(rich) > 1:
        body |= {
            "messageType": "Carousel",
            "carouselContent": {"cardWidth": "MEDIUM", "richCardContents": rich},
        }
    elif rich:
        body |= {"messageType": "RichCard", "richCardContent": rich[0]}
    else:
        body |= {"messageType": "TextMessage", "text": said["text"]}
    post("/Rcs/api/v1/Message", body, GENERIC_AUTH)


def send_serwersms(bot: str, phone: str, said: Said) -> None:
    def replies(chips: list[tuple[str, str]]) -> list[dict[str, Any]]:
        return [{"reply": {"text": label, "postback": postback}} for label, postback in chips]

    def card(c: dict[str, Any]) -> dict[str, Any]:
        picture = {"url": PICTURE, "size": 24576, "type": "image/png"}
        return {
            "title": c["title"],
            "description": c["description"],
            "media": picture,
            "suggestions": replies(c.get("chips", [])),
        }

    message: dict[str, Any] = {"suggestions": replies(said.get("chips", []))}
    cards = said.get("cards") or []
    if said.get("file"):
        message["file"] = dict(said["file"])
    elif len(cards) > 1:
        message |= {"cardWidth": "MEDIUM", "richcard": [card(c) for c in cards]}
    elif cards:
        message["richcard"] = card(cards[0])
    else:
        message["text"] = said["text"]
    post(
        "/messages/send_rcs.json",
        {"rcs_id": bot, "phone": phone, "message": message},
        SERWERSMS_AUTH,
    )


def react(payload: Any) -> None:
    """Answer one callback, after the webhook was acknowledged (as a real bot does)."""
    try:
        if isinstance(payload, dict) and payload.get("Type") in ("REPLY", "ACTION", "TEXT"):
            said = answer(payload.get("PostbackData"), payload.get("Text"))
            send_generic(payload["AgentId"], payload["SenderPhoneNo"], said)
        elif isinstance(payload, list):  # SerwerSMS pushes arrays of notices
            for notice in payload:
                if notice.get("type") in ("reply", "action", "message"):
                    typed = base64.b64decode(notice.get("text") or "").decode("utf-8", "replace")
                    postback = notice.get("data") if notice["type"] != "message" else None
                    send_serwersms(notice["rcs_id"], notice["phone"], answer(postback, typed))
        # Receipts (delivered, read, reports) need no answer.
    except (urllib.error.URLError, KeyError, ValueError) as exc:
        log("could not answer:", exc)


class Webhook(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            payload = json.loads(raw)
        except ValueError:
            self.send_response(400)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"OK")
        threading.Thread(target=react, args=(payload,), daemon=True).start()

    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Length", "6")
        self.end_headers()
        self.wfile.write(b"bot up")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        log(format % args)


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", PORT), Webhook)
    log(f"listening on :{server.server_address[1]}, emulator at {EMULATOR}")
    server.serve_forever()


if __name__ == "__main__":
    main()
