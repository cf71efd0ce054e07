"""The HTTP exchange behind accepted messages, as the core holds it: one immutable byte string
per request, shared by its messages (see emulator/http/exchange.py for its layout and views).
Plain bytes: the core saves and restores it without knowing HTTP, and the garbage collector
never has to walk it. In a state file it is named by a key, saved once while a message holds it."""

from __future__ import annotations

from base64 import b64encode

import orjson


def key_of(exchange: bytes) -> int:
    """Its name in one save: unique among the exchanges alive (messages hold them)."""
    return id(exchange)


def dump(exchange: bytes) -> bytes:
    return orjson.dumps({"key": key_of(exchange), "data": b64encode(exchange).decode()})


class ExchangeRefs:
    """Which exchanges the saved messages hold, and each one's JSON, made once."""

    def __init__(self) -> None:
        self.of_message: dict[tuple[str, str], bytes] = {}
        self.count: dict[int, int] = {}
        self.json: dict[int, bytes] = {}

    def hold(self, message: tuple[str, str], exchange: bytes | None) -> None:
        old = self.of_message.get(message)
        if old is exchange:
            return
        if old is not None:
            key = key_of(old)
            left = self.count[key] - 1
            if left:
                self.count[key] = left
            else:
                del self.count[key], self.json[key]
            del self.of_message[message]
        if exchange is not None:
            key = key_of(exchange)
            self.of_message[message] = exchange
            self.count[key] = self.count.get(key, 0) + 1
            if key not in self.json:
                self.json[key] = dump(exchange)

    def clear(self) -> None:
        self.of_message.clear()
        self.count.clear()
        self.json.clear()

    def drop_tenants(self, gone: set[str]) -> None:
        for message in [m for m in self.of_message if m[0] in gone]:
            self.hold(message, None)

    def blobs(self) -> list[bytes]:
        return list(self.json.values())
