"""The record of one HTTP exchange behind accepted messages, as the HTTP layer keeps it: the
request and the answer, each one byte string (see emulator/http/exchange.py for their layout and
views). Plain data, so the core can save and restore it without knowing HTTP."""

from __future__ import annotations

import itertools
from base64 import b64encode

import orjson

_KEYS = itertools.count(1)


class Exchange:
    __slots__ = ("key", "request", "response")

    def __init__(self, request: bytes, response: bytes = b"", key: int | None = None) -> None:
        self.key = next(_KEYS) if key is None else key  # names it in a state file
        self.request = request
        self.response = response


def restored(request: bytes, response: bytes) -> Exchange:
    """An exchange read back from a state file, under a fresh key of this process."""
    return Exchange(request, response)


def dump(e: Exchange) -> bytes:
    return orjson.dumps({"key": e.key, "request": b64encode(e.request).decode(),
                         "response": b64encode(e.response).decode()})  # fmt: skip


class ExchangeRefs:
    """Which exchanges the saved messages name, and each one's JSON (made again until its answer
    is in: a save may come between a big send's slices, before the request is answered)."""

    def __init__(self) -> None:
        self.of_message: dict[tuple[str, str], Exchange] = {}
        self.count: dict[int, int] = {}
        self.held: dict[int, Exchange] = {}
        self.json: dict[int, bytes] = {}

    def hold(self, message: tuple[str, str], exchange: Exchange | None) -> None:
        old = self.of_message.get(message)
        if old is exchange:
            return
        if old is not None:
            left = self.count[old.key] - 1
            if left:
                self.count[old.key] = left
            else:
                del self.count[old.key], self.held[old.key]
                self.json.pop(old.key, None)
            del self.of_message[message]
        if exchange is not None:
            self.of_message[message] = exchange
            self.count[exchange.key] = self.count.get(exchange.key, 0) + 1
            self.held[exchange.key] = exchange

    def clear(self) -> None:
        self.__init__()  # type: ignore[misc]

    def drop_tenants(self, gone: set[str]) -> None:
        for message in [m for m in self.of_message if m[0] in gone]:
            self.hold(message, None)

    def blobs(self) -> list[bytes]:
        out = []
        for key, exchange in self.held.items():
            blob = self.json.get(key)
            if blob is None:
                blob = dump(exchange)
                if exchange.response:  # complete: it will not change again
                    self.json[key] = blob
            out.append(blob)
        return out
