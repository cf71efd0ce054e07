"""One message of every kind each provider can send, each to a phone of its own, built from the
documents' own structures. The browser tests render them and the screenshot script
(`make screenshots`) photographs them. Images are uploaded to (or served by) the emulator itself,
so nothing here needs a network."""

from __future__ import annotations

import io
import struct
import wave
import zlib
from dataclasses import dataclass
from typing import Any

import httpx

GENERIC_AUTH = {"Authorization": "Bearer 90be0b2c-b218-4070-a890-152821090464"}
SERWERSMS_AUTH = {"Authorization": "Bearer test-token"}
AGENT = "demo_agent"
BOT = "54c53be2-cbb8-11ec-9d64-0242ac120002"
LONG = (
    "A description long enough to need more than one line in a small card, and then some "
    "more, so that the carousel's truncation rules have something to cut."
)


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A real PNG (a soft diagonal gradient of `rgb`), written with zlib alone."""
    rows = []
    for y in range(height):
        row = bytearray([0])
        for x in range(width):
            shade = 0.75 + 0.25 * (x + y) / (width + height)
            row += bytes(min(255, int(c * shade)) for c in rgb)
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )


def silence(seconds: int = 1, rate: int = 8000) -> bytes:
    """A real WAV file: `seconds` of silence."""
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(1)
        wav.setframerate(rate)
        wav.writeframes(b"\x80" * rate * seconds)
    return out.getvalue()


@dataclass(frozen=True)
class Shown:
    name: str  # also the screenshot's file name
    provider: str
    phone: str
    kind: str  # the emulator's message kind
    title: str  # a caption for README


def _upload(client: httpx.Client, name: str, content: bytes) -> str:
    files = {"file": (name, content, "image/png")}
    response = client.post(f"/Rcs/api/v1/UploadFile/{AGENT}", files=files, headers=GENERIC_AUTH)
    response.raise_for_status()
    return str(response.json()["fileId"])


def _actions() -> list[dict[str, Any]]:
    return [
        {
            "text": "Call support",
            "postbackData": "call",
            "dialAction": {"phoneNumber": "+46701234567"},
        },
        {
            "text": "Open the shop",
            "postbackData": "shop",
            "openUrlAction": {"url": "https://shop.example/"},
        },
        {
            "text": "Where we are",
            "postbackData": "where",
            "viewLocationAction": {"LatLng": {"Latitude": "59.369565", "Longitude": "15.081701"}},
        },
        {
            "text": "Book a meeting",
            "postbackData": "meet",
            "createCalendarEventAction": {
                "title": "Meeting",
                "description": "Next steps",
                "startTime": "2030-11-30T10:00:00Z",
                "endTime": "2030-11-30T11:00:00Z",
            },
        },
        {"text": "Share my location", "postbackData": "locate", "shareLocationAction": {}},
    ]


def _generic(client: httpx.Client, phone: str, body: dict[str, Any]) -> None:
    body = {"agentId": AGENT, "number": [phone], **body}
    response = client.post("/Rcs/api/v1/Message", json=body, headers=GENERIC_AUTH)
    assert response.status_code == 200, response.text


def _serwersms(client: httpx.Client, phone: str, message: dict[str, Any]) -> None:
    body = {"rcs_id": BOT, "phone": phone, "message": message}
    response = client.post("/messages/send_rcs.json", json=body, headers=SERWERSMS_AUTH)
    assert response.json().get("success") is True, response.text


def send_showcase(client: httpx.Client) -> list[Shown]:
    """Send every kind through `client` (based at a live emulator's URL); what was shown where."""
    base = str(client.base_url).rstrip("/")
    blue, green = (
        _upload(client, "blue.png", png(96, 64, (70, 130, 220))),
        _upload(client, "green.png", png(64, 96, (60, 170, 110))),
    )
    amber = _upload(client, "amber.png", png(96, 64, (230, 160, 40)))
    url_of = {key: f"{base}/_emulator/files/{key}/content" for key in (blue, green, amber)}
    shown: list[Shown] = []

    def show(name: str, provider: str, phone: str, kind: str, title: str) -> None:
        shown.append(Shown(name, provider, phone, kind, title))

    _generic(
        client,
        "+46701110001",
        {
            "messageType": "TextMessage",
            "text": "Hello from the emulator!\nEvery action a chip can take:",
            "suggestedReplies": [{"text": "Yes please", "postbackData": "yes"}],
            "suggestedActions": _actions(),
        },
    )
    show(
        "generic-text", "generic", "+46701110001", "text", "Generic: text, a reply and every action"
    )
    _generic(
        client,
        "+46701110002",
        {
            "messageType": "RichCard",
            "richCardContent": {
                "height": "TALL",
                "orientation": "VERTICAL",
                "title": "Vertical card",
                "description": "Tall media on top, a reply and an action below.",
                "fileId": blue,
                "suggestedReplies": [{"text": "Tell me more", "postbackData": "more"}],
                "suggestedActions": [_actions()[1]],
            },
        },
    )
    show(
        "generic-richcard-vertical",
        "generic",
        "+46701110002",
        "richcard",
        "Generic: vertical rich card, tall media (an uploaded file)",
    )
    _generic(
        client,
        "+46701110003",
        {
            "messageType": "RichCard",
            "richCardContent": {
                "orientation": "HORIZONTAL",
                "thumbnailImageAlignment": "RIGHT",
                "title": "Horizontal card",
                "fileId": green,
                "description": "The thumbnail on the right.",
                "suggestedReplies": [{"text": "Nice", "postbackData": "nice"}],
            },
        },
    )
    show(
        "generic-richcard-horizontal",
        "generic",
        "+46701110003",
        "richcard",
        "Generic: horizontal rich card, thumbnail on the right",
    )
    _generic(
        client,
        "+46701110004",
        {
            "messageType": "Carousel",
            "carouselContent": {
                "cardWidth": "MEDIUM",
                "richCardContents": [
                    {
                        "height": "SHORT",
                        "title": "Small",
                        "description": "Short and sweet.",
                        "fileId": blue,
                        "suggestedReplies": [{"text": "Pick small", "postbackData": "small"}],
                    },
                    {
                        "height": "SHORT",
                        "title": "Medium",
                        "description": "Also short.",
                        "fileId": green,
                        "suggestedReplies": [{"text": "Pick medium", "postbackData": "medium"}],
                    },
                    {
                        "height": "SHORT",
                        "title": "Large, with a title too long for one line of a card",
                        "description": LONG,
                        "fileId": amber,
                        "suggestedReplies": [
                            {"text": "Pick large", "postbackData": "large"},
                            {"text": "Compare", "postbackData": "compare"},
                        ],
                    },
                ],
            },
        },
    )
    show(
        "generic-carousel",
        "generic",
        "+46701110004",
        "carousel",
        "Generic: carousel of medium cards; the third is truncated by the document's rules",
    )
    _generic(
        client,
        "+46700000001",
        {
            "messageType": "TextMessage",
            "text": "Your parcel arrives today.",
            "smsFallbackText": "Your parcel arrives today (SMS).",
        },
    )
    show(
        "generic-sms-fallback",
        "generic",
        "+46700000001",
        "sms",
        "Generic: a phone without RCS gets the SMS fallback",
    )

    _serwersms(
        client,
        "+48500600701",
        {
            "text": "Dzień dobry! A SerwerSMS text\nwith its four actions:",
            "suggestions": [
                {"reply": {"text": "Tak", "postback": "tak"}},
                {
                    "action": {
                        "text": "Website",
                        "postback": "www",
                        "action": "url",
                        "to": "https://serwersms.example/",
                    }
                },
                {
                    "action": {
                        "text": "Call us",
                        "postback": "dial",
                        "action": "dial",
                        "to": "+48100100100",
                    }
                },
                {
                    "action": {
                        "text": "Map",
                        "postback": "map",
                        "action": "map",
                        "to": "SerwerSMS|50.0904966|18.5803288",
                    }
                },
                {
                    "action": {
                        "text": "Calendar",
                        "postback": "cal",
                        "action": "calendar",
                        "to": "2030-04-05 09:00:00|2030-04-05 10:00:00|Wydarzenie",
                    }
                },
            ],
        },
    )
    show(
        "serwersms-text",
        "serwersms",
        "+48500600701",
        "text",
        "SerwerSMS: text with reply and actions",
    )
    _serwersms(
        client,
        "+48500600702",
        {
            "file": {"name": "blue.png", "url": url_of[blue], "type": "image/png", "size": 2048},
        },
    )
    show("serwersms-image", "serwersms", "+48500600702", "file", "SerwerSMS: an image file")
    _serwersms(
        client,
        "+48500600703",
        {
            "file": {
                "name": "terms.pdf",
                "url": "https://serwersms.example/terms.pdf",
                "type": "application/pdf",
                "size": 1489039,
            },
        },
    )
    show("serwersms-document", "serwersms", "+48500600703", "file", "SerwerSMS: a PDF document")
    _serwersms(
        client,
        "+48500600704",
        {
            "audio": {
                "name": "greeting.mp3",
                "url": "https://serwersms.example/greeting.mp3",
                "type": "audio/mp3",
                "size": 48213,
            },
        },
    )
    show("serwersms-audio", "serwersms", "+48500600704", "audio", "SerwerSMS: an audio message")
    _serwersms(
        client,
        "+48500600705",
        {
            "richcard": [
                {
                    "title": "RCS",
                    "description": "A card, thumbnail on the left.",
                    "media": {"url": url_of[green], "size": 2048, "type": "image/png"},
                    "suggestions": [{"reply": {"text": "Więcej", "postback": "more"}}],
                    "layout": {"imageAlignment": "LEFT", "cardOrientation": "HORIZONTAL"},
                }
            ],
        },
    )
    show(
        "serwersms-richcard",
        "serwersms",
        "+48500600705",
        "richcard",
        "SerwerSMS: rich card, horizontal, thumbnail on the left",
    )
    _serwersms(
        client,
        "+48500600706",
        {
            "richcard": [
                {
                    "title": f"Oferta {i}",
                    "description": "Opis",
                    "suggestions": [{"reply": {"text": f"Wybieram {i}", "postback": f"offer-{i}"}}],
                    "media": {
                        "url": url_of[key],
                        "size": 2048,
                        "type": "image/png",
                        "height": "SHORT",
                    },
                }
                for i, key in enumerate((blue, green, amber), start=1)
            ],
            "cardWidth": "SMALL",
        },
    )
    show(
        "serwersms-carousel",
        "serwersms",
        "+48500600706",
        "carousel",
        "SerwerSMS: carousel of small cards",
    )
    return shown
