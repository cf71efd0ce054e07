"""A synchronous client of an in-process app, for hypothesis (which drives sync tests)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import httpx
from anyio.from_thread import BlockingPortal, start_blocking_portal

from emulator import Config, create_app


class SyncApp:
    def __init__(self, portal: BlockingPortal, client: httpx.AsyncClient) -> None:
        self.portal = portal
        self.client = client

    def request(self, method: str, url: str, **kw: Any) -> httpx.Response:
        return self.portal.call(lambda: self.client.request(method, url, **kw))


@contextlib.contextmanager
def sync_app(config: Config | None = None) -> Iterator[SyncApp]:
    app = create_app(config or Config(clock="manual", seed=3))
    with start_blocking_portal() as portal:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://e")
        try:
            yield SyncApp(portal, client)
        finally:
            portal.call(client.aclose)
            portal.call(app.state.emulator.aclose)
