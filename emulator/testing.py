"""Helpers for tests of code that talks to the emulator: a live webhook receiver that records
what it is sent and can be told how to answer, and waiting on conditions with deadlines."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .config import Config
from .server import EmulatorServer


@dataclass
class Answer:
    status: int = 200
    body: str = "OK"
    delay: float = 0.0  # seconds before answering (a slow receiver)


class WebhookReceiver:
    """A live HTTP server on a free local port; every request it gets lands in `calls`."""

    def __init__(self, keep: int | None = None) -> None:
        """`keep`: remember only the newest that many calls (a long soak); `count` counts all."""
        self.keep = keep
        self.count = 0
        self.calls: list[dict[str, Any]] = []
        self._answers: list[Answer] = []
        self.default = Answer()
        # Why nothing came, asked when a wait times out (the pytest plugin sets it: the
        # emulator's manual clock, agents without a webhook URL...); never raises.
        self.explain: Callable[[], list[str]] | None = None
        self._cond = threading.Condition()
        app = Starlette(routes=[Route("/{path:path}", self._handle, methods=["POST", "PUT"])])
        self._server = EmulatorServer(Config(port=0), app=app)

    async def _handle(self, request: Request) -> Response:
        raw = await request.body()
        try:
            payload: Any = json.loads(raw)
        except ValueError:
            payload = None
        with self._cond:
            answer = self._answers.pop(0) if self._answers else self.default
            self.calls.append(
                {
                    "path": "/" + request.path_params["path"],
                    "headers": dict(request.headers),
                    "json": payload,
                    "body": raw.decode("utf-8", "replace"),
                }
            )
            self.count += 1
            if self.keep is not None and len(self.calls) > 2 * self.keep:
                del self.calls[: -self.keep]  # trimmed in batches: amortised O(1)
            self._cond.notify_all()
        if answer.delay:
            await asyncio.sleep(answer.delay)
        return Response(answer.body, answer.status, media_type="text/plain")

    @property
    def url(self) -> str:
        return self._server.base_url + "/webhook"

    def answer(
        self, status: int = 200, body: str = "OK", delay: float = 0.0, times: int = 1
    ) -> None:
        """The next `times` calls get this answer; later ones the default."""
        with self._cond:
            self._answers.extend(Answer(status, body, delay) for _ in range(times))

    def wait(
        self, predicate: Callable[[list[dict[str, Any]]], bool] | None = None, timeout: float = 5.0
    ) -> list[dict[str, Any]]:
        """Block until predicate(calls) holds (default: at least one call); raise on timeout,
        with why nothing came when `explain` can tell."""
        __tracebackhide__ = True  # pytest shows the test's call, not this loop
        check = predicate or (lambda calls: bool(calls))
        deadline = time.monotonic() + timeout
        with self._cond:
            while not check(self.calls):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            else:
                return list(self.calls)
            got = list(self.calls)
        hints = "".join(f"\n- {hint}" for hint in self._hints())
        raise TimeoutError(f"webhook condition not met in {timeout}s; got {got}{hints}")

    def _hints(self) -> list[str]:
        if self.explain is None:
            return []
        try:
            return self.explain()
        except Exception as exc:  # the emulator itself may be what failed
            return [f"(the emulator could not say why: {exc})"]

    def clear(self) -> None:
        with self._cond:
            self.calls.clear()
            self.count = 0
            self._answers.clear()
            self.default = Answer()

    def start(self) -> WebhookReceiver:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
