"""EmulatorServer: the app served by uvicorn in a daemon thread, for tests and embedding.

Port 0 picks a free port; `base_url` tells the one in use once started.
"""

from __future__ import annotations

import importlib.util
import socket
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn
from starlette.applications import Starlette

from .app import create_app
from .config import Config
from .core.emulator import Emulator
from .http.protocol import bounded_protocol

KEEP_ALIVE = 30  # seconds an idle keep-alive connection stays open
GRACEFUL = 3  # seconds a stop waits for the requests under way


def uvicorn_options(config: Config) -> dict[str, Any]:
    """How uvicorn serves the emulator, in tests, the CLI and Docker alike: its fastest stack
    (httptools, uvloop) with the head bounds and deadlines of emulator.http.protocol."""
    return {
        "http": bounded_protocol(config.request_timeout),
        "loop": "uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        "timeout_keep_alive": KEEP_ALIVE,
        # A stop waits this long for requests under way (a callback's receiver may hold an
        # advance for minutes), then the state closes: a stop never hangs (app.STOP_WAIT).
        "timeout_graceful_shutdown": GRACEFUL,
    }


class EmulatorServer:
    def __init__(self, config: Config | None = None, app: Starlette | None = None) -> None:
        self.config = config or Config(port=0)
        self.app = app or create_app(self.config)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port: int | None = None

    @property
    def emulator(self) -> Emulator:
        emulator: Emulator = self.app.state.emulator
        return emulator

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise RuntimeError("the server is not running")
        host = self.config.host
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{self.port}"

    def start(self, timeout: float = 10.0) -> EmulatorServer:
        family = socket.AF_INET6 if ":" in self.config.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.config.host, self.config.port))
        self.port = sock.getsockname()[1]
        uv_config = uvicorn.Config(
            self.app,
            log_level="warning",
            lifespan="on",
            access_log=False,
            **uvicorn_options(self.config),
        )
        self._server = uvicorn.Server(uv_config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [sock]},
            daemon=True,
            name=f"rcs-emulator:{self.port}",
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the emulator did not start")
            time.sleep(0.005)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout)
        self._server = None
        self._thread = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
