"""The inbox page in Debian's Chromium at 5,000 messages over 36 conversations (a Generic shop
agent, an unnamed Generic agent and an unnamed SerwerSMS bot, 12 phones each), with a webhook
receiver on every agent; this page (v4) against the page of inbox v3 (commit 5a5ec23, its
static files taken from git and served to the same browser in place of today's, against the
same server), in alternating rounds of one run, medians reported.

    make bench-inbox        (python -m bench.inbox; writes bench/INBOX.md)

Measured in the page: how long after the input (its event's own timestamp) the user's bubble is
on the screen after a chip tap and a typed reply, on a freshly drawn page, right after "+1 min"
and during a burst of 50 sends a second; the longest task (PerformanceObserver 'longtask':
what blocks input) during the first draw, the burst and "+1 min"; how long until every message
on the screen says "read" after "+1 min" over 1,008 new messages (and, for v4, until its
callbacks are done); how far behind the burst the page is at its end. Then DOM nodes and JS
heap (after a garbage collection) at 5,000 and at 50,000 messages. Taps and keys are sent as
the browser's own input events at fixed coordinates, so an input waits in the browser's queue
as a person's would (Playwright's own click would wait for the page first).

RCS_INBOX_ROUNDS (default 3) sets the rounds; RCS_INBOX_BIG=0 skips the 50,000 run."""

from __future__ import annotations

import datetime
import json
import os
import re
import statistics
import subprocess
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
from playwright.sync_api import Page, sync_playwright

from tests.ui.conftest import CHROMIUM_ARGS, chromium_path

from .common import LOAD_CPU, ROOT, emulator, machine, uvicorn_app

COMMAND = "make bench-inbox   # = .venv/bin/python -m bench.inbox"
V3 = "5a5ec23"  # inbox v3 as merged (its page's files; the server is today's)
GENERIC = {"Authorization": "Bearer 90be0b2c-b218-4070-a890-152821090464"}
SERWERSMS = {"Authorization": "Bearer test-token"}
BOT = "54c53be2-cbb8-11ec-9d64-0242ac120002"
CHIPS = [{"text": "Yes", "postbackData": "yes"}, {"text": "No", "postbackData": "no"}]
VIEW = {"width": 1500, "height": 1000}
TIMEOUT = 120_000

# Installed before the page's own scripts: long tasks, the input being measured, and when a
# user's bubble with the expected text is first on the screen (the frame after it is added).
INSTRUMENT = """
window.__bench = { long: [], input: null, shown: null, expect: null, readAt: null };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) window.__bench.long.push([e.startTime, e.duration]);
}).observe({ type: "longtask", buffered: true });
const arm = (e) => {
  const b = window.__bench;
  if (b.expect !== null && b.input === null) b.input = e.timeStamp;
};
addEventListener("pointerdown", arm, true);
addEventListener("keydown", (e) => { if (e.key === "Enter") arm(e); }, true);
new MutationObserver((mutations) => {
  const b = window.__bench;
  if (b.input === null || b.shown !== null || b.expect === null) return;
  for (const m of mutations) for (const n of m.addedNodes) {
    if (n.nodeType !== 1) continue;
    const bubbles = n.matches(".bubble.user") ? [n] : [...n.querySelectorAll(".bubble.user")];
    if (bubbles.some((x) => x.textContent.includes(b.expect))) {
      b.shown = -1;
      requestAnimationFrame(() => { b.shown = performance.now() - b.input; });
      return;
    }
  }
}).observe(document, { childList: true, subtree: true });
"""


# -- the emulator's state ----------------------------------------------------------------------


def numbers(prefix: str, n: int = 12) -> list[str]:
    return [f"{prefix}{i:03d}" for i in range(n)]


GEN_SHOP, GEN_HELP, SMS = numbers("+46701200"), numbers("+46701300"), numbers("+48501400")


def send_round(http: httpx.Client, text: str) -> None:
    """One message to each of the 36 conversations (chips on the Generic ones)."""
    for agent, phones in (("shop", GEN_SHOP), ("help", GEN_HELP)):
        body = {
            "agentId": agent,
            "number": phones,
            "messageType": "TextMessage",
            "text": text,
            "suggestedReplies": CHIPS,
        }
        http.post("/Rcs/api/v1/Message", json=body, headers=GENERIC).raise_for_status()
    body = {"rcs_id": BOT, "phone": ",".join(p[1:] for p in SMS), "message": {"text": text}}
    http.post("/messages/send_rcs.json", json=body, headers=SERWERSMS).raise_for_status()


def seed(http: httpx.Client, receiver: str, rounds: int) -> None:
    """A fresh state: `rounds` messages to each conversation, each delivered and read (with
    its callbacks made), the webhook log forgotten."""
    http.post("/_emulator/reset").raise_for_status()
    for provider, agent, name in (
        ("generic", "shop", "Shop"),
        ("generic", "help", None),
        ("serwersms", BOT, None),
    ):
        body = {"webhook_url": receiver + "/hook", **({"name": name} if name else {})}
        http.put(f"/_emulator/agents/{provider}/{agent}", json=body).raise_for_status()
    for i in range(rounds):
        send_round(http, f"Message {i}: your order is on its way")
    http.post("/_emulator/clock/advance", json={"seconds": 60}, timeout=600).raise_for_status()


def target(http: httpx.Client, phone: str) -> None:
    """A conversation of its own to tap in (the newest activity: first on both pages)."""
    body = {
        "agentId": "shop",
        "number": [phone],
        "messageType": "TextMessage",
        "text": "Shall we?",
        "suggestedReplies": CHIPS,
    }
    http.post("/Rcs/api/v1/Message", json=body, headers=GENERIC).raise_for_status()


# -- the two pages ---------------------------------------------------------------------------------


def v3_files() -> dict[str, tuple[bytes, str]]:
    """The v3 page's files, from git: path -> (body, content type)."""
    listed = subprocess.run(
        ["git", "ls-tree", "--name-only", f"{V3}:emulator/ui/static"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    files = {}
    for name in listed.split():
        body = subprocess.run(
            ["git", "show", f"{V3}:emulator/ui/static/{name}"],
            cwd=ROOT,
            check=True,
            capture_output=True,
        ).stdout
        kind = {"js": "text/javascript", "css": "text/css", "html": "text/html"}[
            name.rsplit(".", 1)[1]
        ]
        files["/" if name == "index.html" else f"/ui/{name}"] = (body, kind)
    return files


def open_page(browser: Any, base: str, version: str, files: dict[str, tuple[bytes, str]]) -> Page:
    context = browser.new_context(viewport=VIEW)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    page.add_init_script(INSTRUMENT)
    if version == "v3":

        def serve(route: Any) -> None:
            path = re.sub(r"\?.*$", "", route.request.url[len(base) :]) or "/"
            if path in files:
                body, kind = files[path]
                route.fulfill(body=body, content_type=kind)
            else:
                route.continue_()

        page.route(re.compile(re.escape(base) + r"/(ui/[^/]+|\?.*)?$"), serve)
    page.goto(base + "/")
    page.wait_for_selector("body[data-rendered]")
    page.wait_for_selector("#live[data-state=live]")
    return page


def now_ms(page: Page) -> float:
    return float(page.evaluate("performance.now()"))


def longest(page: Page, since: float) -> float:
    tasks = page.evaluate("window.__bench.long")
    return max([d for start, d in tasks if start + d >= since], default=0.0)


def centre(page: Page, selector: str) -> tuple[float, float]:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def bubble_after(page: Page, expect: str, act: Callable[[], None], limit_s: float = 60) -> float:
    """ms from the input `act` makes to the user's bubble saying `expect` on the screen."""
    page.evaluate(
        "(text) => Object.assign(window.__bench, {input: null, shown: null, expect: text})", expect
    )
    act()
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        shown = page.evaluate("window.__bench.shown")
        if shown is not None and shown >= 0:
            page.evaluate("() => { window.__bench.expect = null; }")
            return round(float(shown), 1)
        time.sleep(0.02)
    page.evaluate("() => { window.__bench.expect = null; }")
    return float("inf")


def chip_of(phone: str) -> str:
    return f'article.phone[data-phone="{phone}"] .turn:last-child .chip[data-postback="yes"]'


def tap_fresh(page: Page, phone: str) -> float:
    x, y = centre(page, chip_of(phone))
    return bubble_after(page, "Yes", lambda: page.mouse.click(x, y))


def type_reply(page: Page, phone: str, text: str) -> float:
    field = f'article.phone[data-phone="{phone}"] input[name=text]'
    page.locator(field).fill(text)
    page.locator(field).focus()
    return bubble_after(page, text, lambda: page.keyboard.press("Enter"))


ALL_READ = """() => { const b = document.querySelectorAll('.bubble.agent');
  const unread = document.querySelectorAll('.bubble.agent:not([data-status=read])').length;
  return b.length > 0 && unread === 0
    && document.querySelector('.clock-controls').getAttribute('aria-busy') !== 'true'; }"""


# -- the rounds ------------------------------------------------------------------------------------


def first_draw_and_taps(
    browser: Any,
    base: str,
    http: httpx.Client,
    version: str,
    files: dict[str, tuple[bytes, str]],
    n: int,
) -> dict[str, float]:
    phone = f"+4670190{n:04d}"
    target(http, phone)
    page = open_page(browser, base, version, files)
    first = longest(page, 0)
    draw_ms = float(page.get_attribute("body", "data-draw-ms") or "nan")
    tap = tap_fresh(page, phone)
    typed = type_reply(page, phone, f"typed {version} {n}")
    page.context.close()
    return {
        "first_draw_longest_task_ms": first,
        "first_draw_ms": draw_ms,
        "tap_fresh_ms": tap,
        "typed_fresh_ms": typed,
    }


def minute(
    browser: Any,
    base: str,
    http: httpx.Client,
    version: str,
    files: dict[str, tuple[bytes, str]],
    n: int,
) -> dict[str, float]:
    """1,008 new messages (28 per conversation), then "+1 min" clicked, and a tap right after."""
    phone = f"+4670191{n:04d}"
    target(http, phone)
    page = open_page(browser, base, version, files)
    for i in range(28):
        send_round(http, f"Minute {n}.{i}: a new offer, 20% off")
    page.wait_for_function(
        "() => document.querySelectorAll('.bubble.agent:not([data-status=read])').length > 0"
    )
    page.wait_for_timeout(1500)  # the sends' notices drawn
    chip = centre(page, chip_of(phone))
    button = centre(page, ".clock-controls button[data-advance='60']")
    since = now_ms(page)
    page.evaluate("() => { window.__bench.readAt = null; }")
    clicked = time.monotonic()
    page.mouse.click(*button)
    tap = bubble_after(page, "Yes", lambda: page.mouse.click(*chip))
    page.wait_for_function(ALL_READ, polling="raf")
    read = (time.monotonic() - clicked) * 1000
    callbacks = float("nan")
    if version == "v4":
        page.wait_for_selector("#callbacks", state="hidden")
        callbacks = (time.monotonic() - clicked) * 1000
    long = longest(page, since)
    page.context.close()
    return {
        "minute_all_read_ms": round(read),
        "minute_callbacks_done_ms": round(callbacks) if callbacks == callbacks else callbacks,
        "minute_tap_ms": tap,
        "minute_longest_task_ms": long,
    }


def burst(
    browser: Any,
    base: str,
    http: httpx.Client,
    version: str,
    files: dict[str, tuple[bytes, str]],
    n: int,
) -> dict[str, float]:
    """300 sends at 50 a second over 25 conversations, a tap in another one in the middle of
    it, and how far behind the page is when the last send (to a phone on the screen) is shown."""
    phone, quiet, watched = f"+4670192{n:04d}", f"+4670194{n:04d}", f"+4670193{n:04d}"
    target(http, watched)
    target(http, quiet)
    # The newest: first on the page, in a row the burst leaves alone (v3's rows grow with
    # their tallest phone, which would move the chip from under a click aimed before).
    target(http, phone)
    page = open_page(browser, base, version, files)
    chip = centre(page, chip_of(phone))
    since = now_ms(page)
    conversations = [("shop", p) for p in GEN_SHOP] + [("help", p) for p in GEN_HELP]
    conversations.insert(0, ("shop", watched))
    last_sent: list[float] = []

    def sender() -> None:
        with httpx.Client(base_url=base) as client:
            start = time.monotonic()
            for i in range(300):
                agent, to = conversations[i % len(conversations)] if i < 299 else ("shop", watched)
                body = {
                    "agentId": agent,
                    "number": [to],
                    "messageType": "TextMessage",
                    "text": f"burst {n}.{i}",
                }
                client.post("/Rcs/api/v1/Message", json=body, headers=GENERIC).raise_for_status()
                time.sleep(max(0.0, start + (i + 1) / 50 - time.monotonic()))
            last_sent.append(time.time() * 1000)

    thread = threading.Thread(target=sender)
    thread.start()
    time.sleep(3)
    tap = bubble_after(page, "Yes", lambda: page.mouse.click(*chip))
    thread.join()
    page.wait_for_function(
        "(text) => [...document.querySelectorAll('.bubble.agent .text')]"
        ".some((t) => t.textContent === text)",
        arg=f"burst {n}.299",
        polling="raf",
    )
    behind = time.time() * 1000 - last_sent[0]
    long = longest(page, since)
    page.context.close()
    return {"burst_tap_ms": tap, "burst_longest_task_ms": long, "burst_behind_ms": round(behind)}


def dom_and_heap(
    browser: Any, base: str, version: str, files: dict[str, tuple[bytes, str]]
) -> dict[str, float]:
    page = open_page(browser, base, version, files)
    page.wait_for_timeout(2000)  # what the first draw started (threads, carousels) is done
    cdp = page.context.new_cdp_session(page)
    cdp.send("HeapProfiler.collectGarbage")
    cdp.send("Performance.enable")
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    nodes = page.evaluate("document.getElementsByTagName('*').length")
    page.context.close()
    return {"dom_elements": nodes, "js_heap_mb": round(metrics["JSHeapUsedSize"] / 2**20, 1)}


def median_of(rounds: list[dict[str, float]]) -> dict[str, float]:
    keys = rounds[0].keys()
    return {k: round(statistics.median(r[k] for r in rounds), 1) for k in keys}


def measure(rounds: int) -> dict[str, Any]:
    files = v3_files()
    results: dict[str, dict[str, list[dict[str, float]]]] = {"v3": {}, "v4": {}}
    with (
        uvicorn_app("bench.bare_app:app", cpu=LOAD_CPU) as receiver,
        emulator("--clock", "manual") as base,
        httpx.Client(base_url=base, timeout=120) as http,
        sync_playwright() as pw,
    ):
        seed(http, receiver, 139)  # 36 x 139 = 5,004 messages, each delivered and read
        total = http.get("/_emulator/messages", params={"limit": 1}).json()["total"]
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        sizes = {version: dom_and_heap(browser, base, version, files) for version in ("v3", "v4")}
        # Each round on a fresh state of 5,000 messages ("+1 min": 3,996 read and 1,008 new).
        for name, run, seeded in (
            ("first", first_draw_and_taps, 139),
            ("burst", burst, 139),
            ("minute", minute, 111),
        ):
            for n in range(rounds):
                for version in ("v3", "v4") if n % 2 == 0 else ("v4", "v3"):
                    seed(http, receiver, seeded)
                    measured = run(browser, base, http, version, files, n)
                    print(version, name, json.dumps(measured), flush=True)
                    results[version].setdefault(name, []).append(measured)
        browser.close()
    summary = {v: {k: median_of(r) for k, r in results[v].items()} for v in results}
    return {"messages": total, "rounds": rounds, "medians": summary, "sizes": sizes}


def big(size_rounds: int = 1389) -> dict[str, Any]:
    """DOM and heap at 50,000 messages (36 conversations, no receivers: the page is measured)."""
    files = v3_files()
    with (
        emulator("--clock", "manual") as base,
        httpx.Client(base_url=base, timeout=600) as http,
        sync_playwright() as pw,
    ):
        for i in range(size_rounds):
            send_round(http, f"Message {i}")
        http.post("/_emulator/clock/advance", json={"seconds": 60}).raise_for_status()
        total = http.get("/_emulator/messages", params={"limit": 1}).json()["total"]
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        sizes = {version: dom_and_heap(browser, base, version, files) for version in ("v3", "v4")}
        browser.close()
    return {"messages": total, "sizes": sizes}


# -- the report ------------------------------------------------------------------------------------

ROWS = [
    ("tap_fresh_ms", "chip tap -> user's bubble, freshly drawn page", "ms"),
    ("typed_fresh_ms", "typed reply -> user's bubble, freshly drawn page", "ms"),
    ("minute_tap_ms", 'chip tap right after "+1 min" -> user\'s bubble', "ms"),
    ("burst_tap_ms", "chip tap during 50 sends/s -> user's bubble", "ms"),
    ("first_draw_longest_task_ms", "longest task, first draw", "ms"),
    ("burst_longest_task_ms", "longest task, 50 sends/s for 6 s", "ms"),
    ("minute_longest_task_ms", 'longest task, "+1 min" over 1,008 new messages', "ms"),
    ("minute_all_read_ms", '"+1 min" -> every message on the screen read', "ms"),
    ("minute_callbacks_done_ms", '"+1 min" -> its callbacks done (v4 says so until then)', "ms"),
    ("burst_behind_ms", "page behind the burst at its end (last send -> shown on screen)", "ms"),
    ("first_draw_ms", "first draw (the page's own data-draw-ms)", "ms"),
]


def find(medians: dict[str, dict[str, float]], key: str) -> float | None:
    for group in medians.values():
        if key in group:
            return group[key]
    return None


def cell(value: float | None, key: str = "") -> str:
    if value is None or value != value:
        return "n/a"
    if value == float("inf"):
        return "not shown"
    if "longest_task" in key and value == 0:
        return "none (< 50)"  # the browser reports only tasks of 50 ms and more
    return f"{value:,.0f}"


def main() -> None:
    rounds = int(os.environ.get("RCS_INBOX_ROUNDS", "3"))
    result = measure(rounds)
    print(json.dumps(result), flush=True)
    bigger = big() if os.environ.get("RCS_INBOX_BIG", "1") != "0" else None
    if bigger:
        print(json.dumps(bigger), flush=True)
    report(result, bigger)


def report(result: dict[str, Any], bigger: dict[str, Any] | None) -> None:
    """bench/INBOX.md from the measures (main's printed JSON lines hold the same)."""
    v3, v4 = result["medians"]["v3"], result["medians"]["v4"]
    lines = [
        "# Inbox: the page in Chromium",
        "",
        f"Run {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC on {machine()}, Chromium "
        f"headless, {VIEW['width']}x{VIEW['height']}. Command: `{COMMAND}`. {result['messages']:,} "
        "messages over 36 conversations (a Generic shop agent, an unnamed Generic agent, an "
        "unnamed SerwerSMS bot; 12 phones each), a webhook receiver on every agent (bench/"
        f"bare_app.py on the other core). Medians of {result['rounds']} alternating rounds of "
        f"this page (v4) and the page of inbox v3 (commit {V3}, served from git to the same "
        "browser against the same server). Times are the page's own: from the input event's "
        "timestamp to the frame after the user's bubble is in the page; long tasks from the "
        "browser's PerformanceObserver.",
        "",
        "| what | v3 | v4 | v4 / v3 |",
        "|---|---|---|---|",
    ]
    for key, label, _ in ROWS:
        a, b = find(v3, key), find(v4, key)
        ratio = f"{b / a:.3f}" if a and b and a == a and b == b and a != float("inf") else ""
        lines.append(f"| {label} | {cell(a, key)} | **{cell(b, key)}** | {ratio} |")
    lines += [
        "",
        "## DOM and memory",
        "",
        "After the first draw and a garbage collection (CDP `Performance.getMetrics`). The JS "
        "heap holds the page's data, not the DOM's own memory, which grows with its elements.",
        "",
        "| messages | v3 DOM elements | v3 JS heap | v4 DOM elements | v4 JS heap |",
        "|---|---|---|---|---|",
    ]
    for found in [result] + ([bigger] if bigger else []):
        s = found["sizes"]
        lines.append(
            f"| {found['messages']:,} | {s['v3']['dom_elements']:,} | "
            f"{s['v3']['js_heap_mb']} MB | **{s['v4']['dom_elements']:,}** | "
            f"**{s['v4']['js_heap_mb']} MB** |"
        )
    lines += [
        "",
        'v3 draws the newest 2,000 messages (so its DOM stops growing there, and "Load '
        'older" adds 2,000 more); v4 draws the phones near the screen, each its newest 30 '
        "messages (Load earlier: 30 more, at most 120), whatever the history.",
        "",
    ]
    (ROOT / "bench" / "INBOX.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
