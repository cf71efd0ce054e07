"""A request as a command of the shared log, and back: its head as compact JSON, its body as the
bytes received, and the ASGI scope every process rebuilds from them to apply it alike.

The answer of a command is caught whole (the emulator's answers are small and never streamed)
and handed to the caller that sent it, if this process holds that caller.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.types import Message, Receive, Scope, Send


def head_of(scope: Scope) -> bytes:
    """What of a request's scope its handling may read, as JSON (latin-1 keeps bytes as is)."""
    client = scope.get("client")
    server = scope.get("server")
    return orjson.dumps(
        {
            "m": scope["method"],
            "p": scope["path"],
            "rp": (scope.get("raw_path") or scope["path"].encode()).decode("latin-1"),
            "q": scope.get("query_string", b"").decode("latin-1"),
            "h": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in scope["headers"]],
            "c": list(client) if client else None,
            "s": scope.get("scheme", "http"),
            "v": scope.get("http_version", "1.1"),
            "sv": list(server) if server else None,
        }
    )


def scope_of(head: bytes) -> dict[str, Any]:
    """The ASGI scope a command is applied with, the same in every process."""
    h = orjson.loads(head)
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": h["v"],
        "method": h["m"],
        "scheme": h["s"],
        "path": h["p"],
        "raw_path": h["rp"].encode("latin-1"),
        "query_string": h["q"].encode("latin-1"),
        "root_path": "",
        "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in h["h"]],
        "client": tuple(h["c"]) if h["c"] else None,
        "server": tuple(h["sv"]) if h["sv"] else None,
        "state": {},
    }


async def read_body(receive: Receive, limit: int) -> bytes:
    """The whole body, or its first `limit` bytes: one past what the path's routes take is
    enough for the app to refuse it as too large, alike in every process; the log never holds
    more of a hostile body, and no process buffers more of it."""
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        if chunk:
            parts.append(chunk)
            size += len(chunk)
        if size >= limit:
            break
        if not message.get("more_body", False):
            break
    body = b"".join(parts)
    return body[:limit]


def replay_receive(body: bytes) -> Receive:
    """The body in one message, then a disconnect (nothing is read after a command's body)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


@dataclass
class Answer:
    """A command's answer as the app gave it, to send to its caller."""

    start: Message | None = None
    body: list[bytes] = field(default_factory=list)
    error: BaseException | None = None  # raised after the start (a dropped connection)
    delay: float = 0.0  # delay faults hit: the caller waits this long for its answer

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.start = message
        elif message["type"] == "http.response.body":
            self.body.append(message.get("body", b""))

    async def replay(self, send: Send) -> None:
        if self.start is not None:
            await send(self.start)
        if self.error is not None:
            raise self.error
        if self.start is not None:
            await send({"type": "http.response.body", "body": b"".join(self.body)})


async def discard(message: Message) -> None:
    """The answer of another process's command: nobody here waits for it."""
