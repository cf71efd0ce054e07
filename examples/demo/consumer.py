"""The demo's webhook consumer: a tiny shop bot on both providers.

It greets one phone through Generic and one through SerwerSMS, then answers whatever the user taps
or types in the emulator's inbox, the way a real business bot answers the providers' callbacks.
Standard library only, so it runs on a bare python image with nothing to install.

    EMULATOR_URL=http://127.0.0.1:8080 PORT=8000 python consumer.py
"""

from __future__ import annotations

import base64
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

EMULATOR = os.environ.get("EMULATOR_URL", "http://emulator:8080").rstrip("/")
# Where a browser reaches the emulator (media links in SerwerSMS cards are opened by the browser).
PUBLIC_EMULATOR = os.environ.get("PUBLIC_EMULATOR_URL", EMULATOR).rstrip("/")
PORT = int(os.environ.get("PORT", "8000"))
GENERIC_PHONE = os.environ.get("GENERIC_PHONE", "+46701234567")
SERWERSMS_PHONE = os.environ.get("SERWERSMS_PHONE", "+48500600700")
GENERIC_AUTH = {"Authorization": "Bearer demo-shop-api-key-0000000000"}
SERWERSMS_AUTH = {"Authorization": "Bearer demo-shop-token"}
AGENT = "demo_shop"
BOT = "0c5d1b2e-8f3a-4c6d-9e7f-demo00000001"
PRODUCTS = {"mug": "A mug", "shirt": "A T-shirt", "cap": "A cap"}
# The product picture: a small orange PNG, uploaded to the emulator at start (a demo room may have
# no network, so the cards' media comes from the emulator itself).
PICTURE = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAADAAAAAgCAIAAADbtmxLAAABHUlEQVR4nM3OCTpCARQG0LuhN7/XoJ2UnkqlgRBpV8g8U5"
    "QhQ2UoCRmyDve+NvF/31nAodWwwtbCynpEVCLKxqS6yaLqVlTdZq6242q7rrY3JfZj+kFMP2Rx/SiuH7OEcZIwTqeNM081"
    "adaS5jlLmRcps562WCNtXc5YV57rjH2TsZtZcZu173IOu885D3mnlXcIatOa9RHUps0hqE1nHMLZdOZ8BLV55BDU5olDUJ"
    "vngp+gNhKC2rzM+wlq05UQ0qbHIahNbyFAUJtXDkFt+uMQzqa/GCCozRuHoDaDYpCgNu8SQtpICGrzsRQkqM2nhJA2Qw5B"
    "bYbLEwS1+eIQ1Oa75IVwNhKC2vxwCGrzuxIiqM1IQkgbCUFt/sqhf9PgY2AWWBCCAAAAAElFTkSuQmCC"
)
media: dict[str, str] = {}  # the uploaded picture: "file_id" and "url"


def log(*parts: Any) -> None:
    print("consumer:", *parts, file=sys.stderr, flush=True)


def post(path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    request = urllib.request.Request(
        EMULATOR + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **headers},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"null")


# -- what the bot says: (text, chips, cards) in one shape, rendered per provider ------------------

Chip = tuple[str, str, str | None, str | None]  # label, postback, action kind, target


def menu() -> tuple[str, list[Chip], list[dict[str, Any]]]:
    return (
        "Welcome to the Demo Shop! What would you like to do?",
        [
            ("See offers", "offers", None, None),
            ("Opening hours", "hours", None, None),
            ("Visit the shop", "visit", "url", "https://shop.example/"),
            ("Call us", "call", "dial", "+46701234567"),
        ],
        [],
    )


def answer(postback: str | None, text: str | None) -> tuple[str, list[Chip], list[dict[str, Any]]]:
    back: list[Chip] = [("Back to the menu", "menu", None, None)]
    if postback == "offers":
        cards = [
            {
                "title": name,
                "description": f"Our best {key}, 20% off today.",
                "chip": (f"Buy the {key}", f"buy-{key}"),
            }
            for key, name in PRODUCTS.items()
        ]
        return "Today's offers:", back, cards
    if postback and postback.startswith("buy-") and postback[4:] in PRODUCTS:
        return f"{PRODUCTS[postback[4:]]} is yours! We will tell you when it ships.", back, []
    if postback == "hours":
        return "We are open Monday to Friday 9-17,\nSaturday 10-14.", back, []
    if postback in ("visit", "call"):
        return "Thanks! Anything else?", back, []
    if postback == "menu":
        return menu()
    if text is not None:
        return f"You wrote: \u201c{text}\u201d. I am a demo bot; pick an option:", menu()[1], []
    return menu()


def send_generic(phone: str, said: tuple[str, list[Chip], list[dict[str, Any]]]) -> None:
    text, chips, cards = said

    def chip(label: str, postback: str, kind: str | None, target: str | None) -> dict[str, Any]:
        found: dict[str, Any] = {"text": label, "postbackData": postback}
        if kind == "url":
            found["openUrlAction"] = {"url": target}
        elif kind == "dial":
            found["dialAction"] = {"phoneNumber": target}
        return found

    replies = [chip(*c) for c in chips if c[2] is None]
    actions = [chip(*c) for c in chips if c[2] is not None]
    body: dict[str, Any] = {
        "agentId": AGENT,
        "number": [phone],
        "suggestedReplies": replies,
        "suggestedActions": actions,
    }
    if cards:
        body |= {
            "messageType": "Carousel",
            "carouselContent": {
                "cardWidth": "MEDIUM",
                "richCardContents": [
                    {
                        "title": c["title"],
                        "description": c["description"],
                        "fileId": media["file_id"],
                        "height": "SHORT",
                        "suggestedReplies": [{"text": c["chip"][0], "postbackData": c["chip"][1]}],
                    }
                    for c in cards
                ],
            },
        }
    else:
        body |= {"messageType": "TextMessage", "text": text}
    post("/Rcs/api/v1/Message", body, GENERIC_AUTH)


def send_serwersms(phone: str, said: tuple[str, list[Chip], list[dict[str, Any]]]) -> None:
    text, chips, cards = said

    def chip(label: str, postback: str, kind: str | None, target: str | None) -> dict[str, Any]:
        if kind is None:
            return {"reply": {"text": label, "postback": postback}}
        return {"action": {"text": label, "postback": postback, "action": kind, "to": target}}

    message: dict[str, Any] = {"suggestions": [chip(*c) for c in chips]}
    if cards:
        message |= {
            "cardWidth": "MEDIUM",
            "richcard": [
                {
                    "title": c["title"],
                    "description": c["description"],
                    "media": {
                        "url": media["url"],
                        "size": len(PICTURE),
                        "type": "image/png",
                        "height": "SHORT",
                    },
                    "suggestions": [{"reply": {"text": c["chip"][0], "postback": c["chip"][1]}}],
                }
                for c in cards
            ],
        }
    else:
        message["text"] = text
    post(
        "/messages/send_rcs.json",
        {"rcs_id": BOT, "phone": phone, "message": message},
        SERWERSMS_AUTH,
    )


# -- the webhook ------------------------------------------------------------------------------


def react(payload: Any) -> None:
    """Answer one callback (after the webhook was acknowledged, as a real bot would)."""
    try:
        if isinstance(payload, dict) and payload.get("Type") in ("REPLY", "ACTION", "TEXT"):
            said = answer(payload.get("PostbackData"), payload.get("Text"))
            send_generic(payload["SenderPhoneNo"], said)
        elif isinstance(payload, list):  # SerwerSMS pushes arrays of notices
            for notice in payload:
                if notice.get("type") in ("reply", "action", "message"):
                    typed = base64.b64decode(notice.get("text") or "").decode("utf-8", "replace")
                    postback = notice.get("data") if notice["type"] != "message" else None
                    send_serwersms(notice["phone"], answer(postback, typed or None))
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
        self.end_headers()
        self.wfile.write(b"OK")
        threading.Thread(target=react, args=(payload,), daemon=True).start()

    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"consumer up")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        log(format % args)


def upload_picture() -> None:
    """Generic's UploadFile, as a client uploads a file (multipart/form-data, field "file")."""
    boundary = "demo-shop-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="offer.png"\r\n'
            f"Content-Type: image/png\r\n\r\n"
        ).encode()
        + PICTURE
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(
        f"{EMULATOR}/Rcs/api/v1/UploadFile/{AGENT}",
        data=body,
        method="POST",
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}", **GENERIC_AUTH},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        file_id = json.loads(response.read())["fileId"]
    media.update(file_id=file_id, url=f"{PUBLIC_EMULATOR}/_emulator/files/{file_id}/content")


def greet_when_ready(deadline: float = 60.0) -> None:
    """Wait for the emulator, then open both conversations."""
    until = time.monotonic() + deadline
    while True:
        try:
            urllib.request.urlopen(EMULATOR + "/_emulator/health", timeout=2).close()
            break
        except OSError:
            if time.monotonic() > until:
                log("the emulator never came up at", EMULATOR)
                return
            time.sleep(0.5)
    upload_picture()
    send_generic(GENERIC_PHONE, menu())
    send_serwersms(SERWERSMS_PHONE, menu())
    log(f"greeted {GENERIC_PHONE} (Generic) and {SERWERSMS_PHONE} (SerwerSMS)")


def main() -> None:
    server = ThreadingHTTPServer(("0.0.0.0", PORT), Webhook)
    log(f"listening on :{server.server_address[1]}, emulator at {EMULATOR}")
    threading.Thread(target=greet_when_ready, daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
