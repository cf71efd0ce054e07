// The inbox: every phone's conversations, drawn from the control API. The emulator announces
// each change over server-sent events; the page draws from what the server holds, not by
// replaying notices: the conversations a notice names are loaded again if they are on the
// screen (the others when they come near it), and a `resync`, a reset or a reconnection loads
// everything once. It says what it shows, whether it is connected (and "live" only once it
// shows the emulator it is connected to), and when something could not be done.
import { api, loadTitles, newest, post, withToken } from "./api.js";
import * as conversations from "./conversations.js";
import { closeDetail, detailOpenFor, markDetailStale, openDetail, refreshDetail } from "./detail.js";
import { toast } from "./messages.js";
import { remember, searching, view } from "./state.js";
import { built } from "./threads.js";
import { drawLog, logSummary } from "./webhooks.js";
import { slices } from "./work.js";

const LOG = 50; // webhook deliveries loaded at first, and added by "Load older"
const root = document.getElementById("conversations");
const live = document.getElementById("live");
const banner = document.getElementById("banner");
const callbacksNote = document.getElementById("callbacks");
let logWindow = LOG;

function say(text) {
  banner.textContent = text || "";
  banner.hidden = !text;
}

function connection(state, text) {
  live.dataset.state = state;
  live.textContent = text;
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
  drawClock(clock);
}

function drawClock(clock) {
  const shown = document.getElementById("clock");
  shown.textContent = `${clock.mode} clock \u00b7 ${clock.now.slice(0, 19).replace("T", " ")}`;
  document.querySelector("[data-clock-copy]").textContent = shown.textContent;
  shown.dataset.now = clock.now;
  // An advance answered once its states were applied: its callbacks may still be going out.
  callbacksNote.hidden = !clock.callbacks_running;
}

// Changes come in bursts (a send, its events, their webhooks) or as a steady stream (a load
// test): at most one draw at a time, at least 100 ms apart and further apart when draws get
// expensive, and always one more after the last change, so the page can neither starve nor lag.
// A draw's work is cut into slices, so taps and keys are answered in between.
// While an advance asked from this page runs, nothing is drawn: its answer is drawn once.
let timer = null;
let running = null; // the draw under way
let cost = 0;
let draws = 0;
let everything = true;
let owed = false; // a notice came in since the last draw began
let detailOwed = false;
let holding = false;
const named = new Set();

function later() {
  if (!running && timer === null && !holding) timer = setTimeout(draw, Math.max(100, Math.min(1000, 2 * cost)));
}

function schedule(notice) {
  owed = true;
  if (!notice || notice.kind === "reset" || notice.kind === "resync") everything = true;
  else if ((notice.kind === "message" || notice.kind === "event") && notice.phone) named.add(conversations.keyOf(notice));
  if (notice?.kind === "reset") conversations.forgetEverything();
  const open = detailOpenFor();
  if (open && (!notice || !notice.message_id || notice.message_id === open)) detailOwed = true;
  later();
}
conversations.onChange((key) => schedule({ kind: "event", ...splitKey(key) }));

function splitKey(key) {
  const [provider, agent_id, phone] = key.split("|");
  return { provider, agent_id, phone, message_id: null };
}

async function drawOnce() {
  const started = performance.now();
  const all = everything;
  const keys = [...named];
  const detail = detailOwed;
  everything = false;
  owed = false;
  detailOwed = false;
  named.clear();
  const surroundings = loadSurroundings();
  surroundings.catch(() => {}); // awaited below; a failure is reported there
  try {
    if (all) {
      await conversations.loadAll();
      await conversations.draw();
    } else if (keys.length) {
      await conversations.refreshNamed(keys);
      await conversations.draw();
    } else if (conversations.listDue() && !searching()) {
      await conversations.loadList();
      await conversations.draw();
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
  Object.assign(document.body.dataset, { drawMs: cost.toFixed(1), draws: String(draws), rendered: String(Date.now()),
                                         rows: String(built.rows), slices: String(slices.yielded) });
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
    schedule();
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

// Clicking a message (not a chip, link or player in it) opens its details.
root.addEventListener("click", (event) => {
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
// emulator answers once every new state is applied (its callbacks may still be going out: the
// page says so until they are done); the buttons say they are busy until the page shows the
// new states, and take no second click.
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
      const clock = await post("/_emulator/clock/advance",
                               { seconds: Number(button.dataset.advance), wait_for_callbacks: false });
      if (clock.callbacks_running) callbacksNote.hidden = false;
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
// (a restarted emulator holds another state): it says "live" only once that draw is done. While
// it is down, the page says so, and so does an open message's panel.
const titlesLoaded = loadTitles(); // before the first draw (the stream's open waits for it)
let drawn = false;
let lost = false;
function connect() {
  const stream = new EventSource(withToken("/_emulator/stream"));
  stream.addEventListener("open", async () => {
    await titlesLoaded;
    if (!drawn || lost) {
      const again = lost;
      drawn = true;
      lost = false;
      if (again) {
        connection("syncing", "reconnected, loading\u2026");
        say("Reconnected: loading what the emulator holds now\u2026");
        conversations.forgetEverything();
      }
      await drawFresh();
      if (!lost) {
        connection("live", "live");
        say(null);
      }
    }
  });
  stream.addEventListener("error", () => {
    lost = true;
    connection("disconnected", "disconnected");
    say("Disconnected from the emulator: what you see may be out of date. Reconnecting\u2026");
    markDetailStale("Disconnected from the emulator: this may be out of date.");
    // The browser retries by itself, unless the server answered with an error: then so do we.
    if (stream.readyState === EventSource.CLOSED) setTimeout(connect, 2000);
  });
  stream.addEventListener("change", (event) => schedule(JSON.parse(event.data)));
}
connection("connecting", "connecting\u2026");
connect();
// A proxy that holds server-sent events back must not leave the page blank.
setTimeout(() => {
  if (!drawn) {
    drawn = true;
    draw();
  }
}, 2000);
