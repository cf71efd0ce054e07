"""Browser fixtures: Debian's Chromium (never a downloaded browser) driven by Playwright.

CI installs Chromium (`.ci/run`); a machine without it fails these tests with instructions,
unless RCS_SKIP_BROWSER=1 says so on purpose."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from emulator import EmulatorServer
from emulator.testing import WebhookReceiver

# Chromium as root in a sandboxed machine with a closed network: no sandbox, no GPU, and none of
# the background connections it would otherwise try (and be refused) at every start.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    return (
        os.environ.get("RCS_CHROMIUM")
        or shutil.which("chromium")
        or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
    )


def require_chromium() -> str:
    """Chromium's path; a test without one fails, unless RCS_SKIP_BROWSER=1 skips it."""
    path = chromium_path()
    if path is None:
        if os.environ.get("RCS_SKIP_BROWSER") == "1":
            pytest.skip("RCS_SKIP_BROWSER=1: browser tests skipped on purpose")
        pytest.fail("no Chromium: `apt-get install chromium` (or set RCS_CHROMIUM=/path)")
    return path


# Module scope, not session: Playwright's sync API keeps an asyncio loop running in this thread
# while it lives, and the async tests of other modules need the thread's loop to themselves.
# pytest tears a module's fixtures down before it moves on to another module's test.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    path = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def reveal(page: Any, number: str) -> Any:
    """A phone's conversation, scrolled to as a person would (the page holds only the phones
    near the screen): from the top, most of a screen at a time, until it is there."""
    found = page.locator(f'article.phone[data-phone="{number}"]')
    next_frame = "() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))"
    page.evaluate("() => window.scrollTo(0, 0)")
    for _ in range(500):
        # The page draws what came near on its next frame: wait for that frame.
        page.evaluate(next_frame)
        if found.count():
            found.scroll_into_view_if_needed()
            page.evaluate(next_frame)
            found.locator(".loading").wait_for(state="detached")
            return found
        at = page.evaluate("() => window.scrollY")
        page.evaluate("() => window.scrollBy(0, innerHeight * 0.8)")
        if page.evaluate("() => window.scrollY") == at:
            page.evaluate(next_frame)
            break
    return found


class Inbox:
    """The emulator under test, an HTTP client of it, and the page showing its inbox."""

    def __init__(self, server: EmulatorServer, page: Any, webhook: WebhookReceiver) -> None:
        self.base_url = server.base_url
        self.http = httpx.Client(base_url=server.base_url, timeout=10)
        self.page = page
        self.webhook = webhook
        self.errors: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        # Unreachable example hosts are expected (no network here); a blocked asset is not.
        page.on("console", self._console)

    def _console(self, message: Any) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            self.errors.append(message.text)

    def open(self, query: str = "") -> Any:
        self.page.goto(self.base_url + "/" + query)
        self.page.wait_for_selector("body[data-rendered]")
        self.page.wait_for_selector("#live[data-state=live]")
        return self.page

    def phone(self, number: str) -> Any:
        return self.page.locator(f'article.phone[data-phone="{number}"]')

    def reveal(self, number: str) -> Any:
        """The phone's conversation, scrolled to as a person would (see `reveal`)."""
        return reveal(self.page, number)

    def advance(self, seconds: float) -> None:
        self.http.post("/_emulator/clock/advance", json={"seconds": seconds}).raise_for_status()

    def hook_up(self, provider: str, agent_id: str) -> None:
        """Send `agent_id`'s callbacks to the test's webhook receiver."""
        body = {"webhook_url": self.webhook.url + f"/{provider}"}
        self.http.put(f"/_emulator/agents/{provider}/{agent_id}", json=body).raise_for_status()


@pytest.fixture
def inbox(browser: Any, live_server: EmulatorServer, webhook: WebhookReceiver) -> Iterator[Inbox]:
    live_server_reset = httpx.post(live_server.base_url + "/_emulator/reset")
    live_server_reset.raise_for_status()
    # Tall enough that the page's window of phones (those near the screen) holds every phone a
    # test sends to unless it scrolls (tests of the window itself set their own size).
    context = browser.new_context(viewport={"width": 1500, "height": 2400})
    page = context.new_page()
    page.set_default_timeout(5000)
    view = Inbox(live_server, page, webhook)
    try:
        yield view
        assert view.errors == [], f"the page threw: {view.errors}"
    finally:
        context.close()
        view.http.close()
