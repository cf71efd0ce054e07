"""A fake "real provider" for verify, record and replay tests: the emulator itself, live on a
free port, with deliberate deviations switched on in its answers (another error text, an extra
field, another time format), and the control API's faults for a slow or failing service. Also
two services that are not HTTP ones: a closed port, and one that answers garbage."""

from __future__ import annotations

import contextlib
import logging
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from emulator import Config, EmulatorServer, create_app
from tests.ports import free_port

GENERIC_KEY = "verify-key-5b2f0c77e1"
GENERIC_AGENT = "verify_agent"
SERWERSMS_TOKEN = "verify-token-91c3aa"
SERWERSMS_BOT = "verifybot"
REAL_CONFIG = Config(
    port=0,
    clock="manual",
    seed=7,
    generic={"strict": True, "keys": {GENERIC_KEY: [GENERIC_AGENT]}},
    serwersms={
        "strict": True,
        "accounts": [{"token": SERWERSMS_TOKEN, "bots": [SERWERSMS_BOT]}],
        "networks": ["+48", "+46"],
    },
)
_LOCAL_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})$")


@dataclass
class Deviations:
    """What the fake real provider says otherwise than the emulator."""

    texts: dict[str, str] = field(default_factory=dict)  # replaced wherever they appear
    extra: dict[str, Any] = field(default_factory=dict)  # added to every JSON object answer
    extra_in_error: dict[str, Any] = field(default_factory=dict)  # added to {"error": {...}}
    iso_times: bool = False  # "2025-01-02 10:00:00" as "2025-01-02T10:00:00Z"

    def apply(self, body: bytes) -> bytes:
        for old, new in self.texts.items():
            body = body.replace(old.encode(), new.encode())
        if not (self.extra or self.extra_in_error or self.iso_times):
            return body
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            return body
        if isinstance(data, dict):
            data.update(self.extra)
            if isinstance(data.get("error"), dict):
                data["error"].update(self.extra_in_error)
        if self.iso_times:
            data = _iso(data)
        return orjson.dumps(data)


def _iso(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _iso(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_iso(v) for v in value]
    if isinstance(value, str) and (match := _LOCAL_TIME.match(value)):
        return f"{match[1]}T{match[2]}Z"
    return value


class Deviate:
    """ASGI middleware: each provider answer rewritten by `deviations` (the control API's own
    answers are left alone)."""

    def __init__(self, app: ASGIApp, deviations: Deviations) -> None:
        self.app = app
        self.deviations = deviations

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_emulator"):
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def hold(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = self.deviations.apply(b"".join(chunks))
            headers = [(k, v) for k, v in start["headers"] if k != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, hold)


@contextmanager
def real_provider(
    deviations: Deviations | None = None, config: Config = REAL_CONFIG
) -> Iterator[EmulatorServer]:
    """The fake real provider, live: its base_url is the real service's host. Its own log is
    quiet (a dropped connection is logged there with a traceback: the fault at work, not the
    code under test)."""
    app = create_app(config)
    if deviations is not None:
        app.add_middleware(Deviate, deviations=deviations)
    log = logging.getLogger("uvicorn.error")
    level = log.level
    with EmulatorServer(config, app=app) as server:
        log.setLevel(logging.CRITICAL)  # after uvicorn's start, which sets it
        try:
            yield server
        finally:
            log.setLevel(level)


def add_fault(server: EmulatorServer, **fault: Any) -> None:
    """A fault of the control API (`delay_ms`, `status`, `drop`), for a slow or failing
    service."""
    httpx.post(f"{server.base_url}/_emulator/faults", json=fault).raise_for_status()


def closed_port() -> str:
    """The URL of a port where nothing listens."""
    return f"http://127.0.0.1:{free_port()}"


@contextmanager
def garbage_server(answer: bytes = b"hello, this is not HTTP\r\n\r\n") -> Iterator[str]:
    """A TCP server that answers every connection with `answer` and closes it."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    conn.recv(65536)
                    conn.sendall(answer)
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        with contextlib.suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)  # wakes the accept()
        listener.close()
        thread.join(5)
