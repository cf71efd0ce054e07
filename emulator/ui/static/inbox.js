// The inbox: every phone's conversations, drawn from the control API. The emulator announces
// each change over server-sent events; the page redraws from what the server holds, not by
// replaying notices: a few changed conversations are loaded alone, more than that (or a
// `resync`, a reset, a reconnection) reload the window of newest messages once. It says what it
// shows ("newest N of M"), whether it is connected, and when something could not be done.
import { api, loadTitles, newest, post, withToken } from "./api.js";
import { draw as drawConversations, keyOf, loadAll, loadOne } from "./conversations.js";
import { closeDetail, detailOpenFor, openDetail, refreshDetail } from "./detail.js";
import { toast } from "./messages.js";
import { remember, searching, view } from "./state.js";
import { drawLog, logSummary } from "./webhooks.js";

const LOG = 50; // webhook deliveries loaded at first, and added by "Load older"
const PARTIAL = 5; // conversations loaded one by one; past this many, the window is reloaded
const root = document.getElementById("conversations");
const live = document.getElementById("live");
const banner = document.getElementById("banner");
let logWindow = LOG;

function say(text) {
  banner.textContent = text || "";
  banner.hidden = !text;
}

// The webhook log and the clock: fetched while the conversations load, drawn after them.
function loadSurroundings() {
  const search = searching();
  const filters = { ...(view.failuresOnly ? { failing: "true" } : {}), ...(search ? { q: search } : {}) };
  return Promise.all([newest("/_emulator/webhooks", filters, logWindow), api("/_emulator/clock")]);
}

function drawSurroundings([deliveries, clock]) {
  const search = searching();
  drawLog(document.getElementById("webhooks"), deliveries.items, (id) => openDetail(id));
  document.getElementById("log-summary").replaceChildren(...logSummary(
    deliveries.items.length, deliveries.total, search, view.failuresOnly,
    () => { logWindow += LOG; schedule({ kind: "webhook" }); }));
  const shown = document.getElementById("clock");
  shown.textContent = `${clock.mode} clock \u00b7 ${clock.now.slice(0, 19).replace("T", " ")}`;
  document.querySelector("[data-clock-copy]").textContent = shown.textContent;
  shown.dataset.now = clock.now;
}

// Changes come in bursts (a send, its events, their webhooks) or as a steady stream (a load
// test): at most one draw at a time, at least 100 ms apart and further apart when draws get
// expensive, and always one more after the last change, so the page can neither starve nor lag.
// While an advance asked from this page runs, nothing is drawn: its answer is drawn once.
let timer = null;
let running = null; // the draw under way
let cost = 0;
let draws = 0;
let everything = true;
let owed = false; // a notice came in since the last draw began
let detailOwed = false;
let holding = false;
const changed = new Set();

function later() {
  if (!running && timer === null && !holding) timer = setTimeout(draw, Math.max(100, 2 * cost));
}

function schedule(notice) {
  owed = true;
  if (!notice || notice.kind === "reset" || notice.kind === "resync") everything = true;
  else if ((notice.kind === "message" || notice.kind === "event") && notice.phone) changed.add(keyOf(notice));
  if (changed.size > PARTIAL) everything = true;
  const open = detailOpenFor();
  if (open && (!notice || !notice.message_id || notice.message_id === open)) detailOwed = true;
  later();
}

async function drawOnce() {
  const started = performance.now();
  const all = everything;
  const keys = [...changed];
  const detail = detailOwed;
  everything = false;
  owed = false;
  detailOwed = false;
  changed.clear();
  const surroundings = loadSurroundings();
  surroundings.catch(() => {}); // awaited below; a failure is reported there
  try {
    if (all) {
      await loadAll();
      drawConversations();
    } else if (keys.length) {
      await Promise.all(keys.map(loadOne));
      drawConversations(keys);
    }
    drawSurroundings(await surroundings);
    if (detail) await refreshDetail();
    if (live.dataset.state === "live") say(null);
  } catch (error) {
    // What is shown stays, and says it may be out of date; the next notice or reconnection tries again.
    say(`Could not load what the emulator holds (${error.message}): what you see may be out of date.`);
    console.warn(error);
    everything = true;
  }
  cost = performance.now() - started;
  draws += 1;
  Object.assign(document.body.dataset, { drawMs: cost.toFixed(1), draws: String(draws), rendered: String(Date.now()) });
}

async function draw() {
  timer = null;
  running = drawOnce();
  await running;
  running = null;
  if (owed) later(); // what came in meanwhile
}

// A draw of everything as it is now, once any draw under way is done.
async function drawFresh() {
  if (running) await running;
  if (timer !== null) clearTimeout(timer);
  timer = null;
  everything = true;
  detailOwed = Boolean(detailOpenFor());
  await draw();
}

// Search asks the server (every word must appear), a moment after the typing stops; it is kept
// in the URL.
const filterBox = document.getElementById("filter");
filterBox.value = view.search;
let typing = null;
filterBox.addEventListener("input", () => {
  clearTimeout(typing);
  typing = setTimeout(() => {
    view.search = filterBox.value;
    remember();
    logWindow = LOG;
    schedule();
  }, 250);
});

// "Newest first" has a twin in the small-screen menu; both say the same.
const orders = document.querySelectorAll("#newest-first, [data-mirror=newest-first]");
for (const order of orders) {
  order.checked = view.newestFirst;
  order.addEventListener("change", () => {
    view.newestFirst = order.checked;
    for (const other of orders) other.checked = order.checked;
    remember();
    drawConversations();
  });
}
const failures = document.getElementById("failures-only");
failures.checked = view.failuresOnly;
failures.addEventListener("change", () => {
  view.failuresOnly = failures.checked;
  remember();
  logWindow = LOG;
  schedule({ kind: "webhook" });
});

// A conversation's new-activity mark goes once someone looks at it (a click or focus inside).
root.addEventListener("focusin", (event) => event.target.closest("article.phone")?.classList.remove("fresh"));
// Clicking a message (not a chip, link or player in it) opens its details.
root.addEventListener("click", (event) => {
  const box = event.target.closest("article.phone");
  box?.classList.remove("fresh");
  const bubble = event.target.closest(".bubble.agent");
  if (!bubble || event.target.closest("button, a, audio, video, input")) return;
  openDetail(bubble.dataset.messageId, bubble).catch((error) => toast(`Could not open the message: ${error.message}`, "error"));
});
root.addEventListener("keydown", (event) => {
  const bubble = event.target.closest(".bubble.agent");
  if (bubble && (event.key === "Enter" || event.key === " ") && event.target === bubble) {
    event.preventDefault();
    openDetail(bubble.dataset.messageId, bubble).catch((error) => toast(`Could not open the message: ${error.message}`, "error"));
  }
});

// Clear: what a reset forgets (messages, files, webhook attempts); agent and phone settings stay.
for (const button of document.querySelectorAll("#clear, [data-clear]")) button.addEventListener("click", async () => {
  if (!confirm("Forget every message, uploaded file and webhook attempt? Agent and phone settings stay.")) return;
  try {
    closeDetail();
    await post("/_emulator/reset?keep_settings=true", {});
  } catch (error) {
    toast(`Could not clear: ${error.message}`, "error");
  }
});

// Time as the demo needs it: the scenarios' next seconds, minutes or hours, run now. The
// buttons say they are busy until the page shows what the advance did, and take no second click.
const advancing = document.querySelectorAll("button[data-advance]");
function busy(on) {
  for (const button of advancing) button.setAttribute("aria-disabled", String(on));
  for (const group of document.querySelectorAll(".clock-controls, .menu-items")) {
    group.setAttribute("aria-busy", String(on));
    group.classList.toggle("busy", on);
  }
}
let moving = false; // from the click until the page shows what the advance did
for (const button of advancing) {
  button.addEventListener("click", async () => {
    if (moving) return;
    moving = holding = true;
    busy(true);
    try {
      await post("/_emulator/clock/advance", { seconds: Number(button.dataset.advance) });
    } catch (error) {
      toast(`Could not move the clock: ${error.message}`, "error");
    }
    holding = false;
    try {
      await drawFresh();
    } finally {
      busy(false);
      moving = false;
    }
  });
}

// The small-screen menu: Escape closes it (the focus goes back to its button); a link in it
// closes it as it leads away.
const menu = document.querySelector("details.menu");
menu.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && menu.open) {
    event.stopPropagation();
    menu.open = false;
    menu.querySelector("summary").focus();
  }
});
menu.querySelector("[data-menu-link]").addEventListener("click", () => { menu.open = false; });

// The header's height, for what must stay below it (the detail panel, the sticky log).
const header = document.querySelector("header");
new ResizeObserver(() => {
  document.documentElement.style.setProperty("--header-height", `${header.offsetHeight}px`);
}).observe(header);

// The live stream: the page draws everything once it is open, and again on every reconnection
// (a restarted emulator holds another state). While it is down, the page says so.
const titlesLoaded = loadTitles(); // before the first draw (the stream's open waits for it)
let drawn = false;
function connect() {
  const stream = new EventSource(withToken("/_emulator/stream"));
  stream.addEventListener("open", async () => {
    live.textContent = "live";
    live.dataset.state = "live";
    say(null);
    await titlesLoaded;
    if (drawn) schedule();
    else {
      drawn = true;
      draw();
    }
  });
  stream.addEventListener("error", () => {
    live.textContent = "disconnected";
    live.dataset.state = "disconnected";
    say("Disconnected from the emulator: what you see may be out of date. Reconnecting\u2026");
    // The browser retries by itself, unless the server answered with an error: then so do we.
    if (stream.readyState === EventSource.CLOSED) setTimeout(connect, 2000);
  });
  stream.addEventListener("change", (event) => schedule(JSON.parse(event.data)));
}
connect();
// A proxy that holds server-sent events back must not leave the page blank.
setTimeout(() => {
  if (!drawn) {
    drawn = true;
    draw();
  }
}, 2000);
