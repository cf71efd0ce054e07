"""Memory per stored message and read latency as the store grows. Run in a fresh process per
size: `python -m bench.state 100000` prints one JSON object."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import statistics
import sys
import time
from typing import Any

from emulator import Config, create_app
from emulator.core.engine import MessageFilter
from emulator.gc_tuning import freeze_survivors_of_full_collections

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


class Asgi:
    """Calls the app as a server would, without an HTTP client in between."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: str = "",
        auth: str = "Bearer bench-key",
    ) -> tuple[int, Any]:
        raw = json.dumps(body).encode() if body is not None else b""
        # What a real client sends (httpx's own set), so the exchange kept per send is honest.
        headers = [
            (b"host", b"127.0.0.1:8080"),
            (b"accept", b"*/*"),
            (b"accept-encoding", b"gzip, deflate"),
            (b"connection", b"keep-alive"),
            (b"user-agent", b"python-httpx/0.28.1"),
            (b"authorization", auth.encode()),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(raw)).encode()),
        ]
        scope = {
            "type": "http",
            "method": method,
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "headers": headers,
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 80),
            "scheme": "http",
            "http_version": "1.1",
            "root_path": "",
        }
        out: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": raw, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            out.append(message)

        await self.app(scope, receive, send)
        payload = b"".join(m.get("body", b"") for m in out if m["type"] == "http.response.body")
        return out[0]["status"], json.loads(payload) if payload else None


def generic(i: int) -> dict[str, Any]:
    return {
        "agentId": f"agent{i % 10}",
        "number": [f"+4670{i % 1000:07d}"],
        "messageType": "TextMessage",
        "text": "Hello from the benchmark",
        "suggestedReplies": [{"text": "Yes", "postbackData": "yes"}],
    }


def serwersms(i: int) -> dict[str, Any]:
    chips = [{"reply": {"text": "Yes", "postback": "yes"}}]
    return {
        "rcs_id": f"bot{i % 10}",
        "phone": f"+48500{i % 1000:06d}",
        "message": {"text": "Hello from the benchmark", "suggestions": chips},
    }


def exchange_bytes(message: Any) -> int:
    """The one byte string the request's messages share, allocated at its exact size, so
    getsizeof counts what it costs."""
    return sys.getsizeof(message.exchange)


async def timed(call: Any, rounds: int = 300) -> float:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        status, _ = await call()
        samples.append(time.perf_counter() - started)
        assert status == 200, status
    return round(statistics.median(samples) * 1e6, 1)


async def main(count: int) -> dict[str, Any]:
    freeze_survivors_of_full_collections()
    app = create_app(Config(clock="manual", seed=1))
    asgi = Asgi(app)
    emulator = app.state.emulator
    for i in range(100):  # warm up imports, caches and the allocator
        await asgi("POST", "/Rcs/api/v1/Message", generic(i))
    await emulator.reset()
    gc.collect()
    before = rss()
    started = time.perf_counter()
    tag = ""
    for i in range(count):
        if i % 2:
            _, answer = await asgi("POST", "/messages/send_rcs.json", serwersms(i))
        else:
            _, answer = await asgi("POST", "/Rcs/api/v1/Message", generic(i))
            tag = answer["tagId"]
    send_seconds = time.perf_counter() - started
    await emulator.advance(60)  # every message delivered and read: events stored too
    gc.collect()
    grown = rss() - before
    first = (await emulator.batch("bench-key", tag))[0]
    message_id = first.id
    now = emulator.clock.now()
    from datetime import UTC, datetime

    since = datetime.fromtimestamp(now - 3600, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    reads = {
        "tag_statistics": await timed(lambda: asgi("GET", f"/Rcs/api/v1/Message/Tag/{tag}")),
        "message_events": await timed(lambda: asgi("GET", f"/Rcs/api/v1/Message/{message_id}")),
        "agent_messages_by_phone_and_time": await timed(
            lambda: asgi(
                "GET",
                "/Rcs/api/v1/Message/Agent/agent0",
                query=f"phoneNumber=46700000000&startTime={since}&limit=10",
            )
        ),
        "serwersms_reports": await timed(lambda: asgi("POST", "/messages/reports.json", {})),
        "control_messages_filtered": await timed(
            lambda: asgi(
                "GET", "/_emulator/messages", query="provider=generic&phone=%2B46700000000&limit=10"
            )
        ),
    }
    return {
        "count": count,
        "bytes_per_message": round(grown / count),
        # Of those, what the one HTTP exchange kept per single-number send takes.
        "exchange_bytes_per_send": {
            "generic": exchange_bytes(first),
            "serwersms": exchange_bytes(
                (await emulator.messages(None, MessageFilter(provider="serwersms"), 0, 1)).items[0]
            ),
        },
        "rss_growth_mb": round(grown / 2**20, 1),
        "send_us_in_process": round(send_seconds / count * 1e6, 1),
        "read_median_us": reads,
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(int(sys.argv[1])))))
