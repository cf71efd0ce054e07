// The inbox: every phone's conversations, drawn from the control API. The emulator announces
// each change over server-sent events; the page then redraws only the conversations that
// changed (all of them on a reset or a reconnection), plus the webhook log and the clock.
// Conversations stay where they are while someone works in one (new activity is marked), unless
// "newest first" is chosen.
import { api, fileUrl, loadTitles, newest, post, titleOf, withToken } from "./api.js";
import { fitCarousels } from "./carousel.js";
import { closeDetail, openDetail } from "./detail.js";
import { agentBubble, el, userBubbles } from "./messages.js";
import { matches, remember, view } from "./state.js";
import { restoreTyped, scrollToNewest, typedIn } from "./threads.js";
import { drawLog } from "./webhooks.js";

const MESSAGES_SHOWN = 2000; // the newest, over all conversations, on a full draw
const THREAD_SHOWN = 200; // the newest of one conversation
const WEBHOOKS_SHOWN = 50;
const root = document.getElementById("conversations");

const USER_MESSAGE = "user"; // the kind of a phone's own first message to an agent
const keyOf = (m) => `${m.provider}|${m.agent_id}|${m.phone}`;
const latestTime = (messages) => messages.reduce(
  (t, m) => [m.created, ...m.events.map((e) => e.time)].reduce((a, b) => (a > b ? a : b), t), "");

async function inbound(message, body) {
  try {
    await post("/_emulator/inbound", { provider: message.provider, agent_id: message.agent_id, phone: message.phone, ...body });
  } catch (error) {
    console.warn(error);
  }
}

function conversationNode(all) {
  const messages = all.slice(-THREAD_SHOWN);
  const first = messages[0];
  // What the user acts on: the newest message that reached the phone (not one scheduled for later).
  const received = messages.filter((m) => m.status !== "scheduled");
  const last = received.length ? received[received.length - 1] : messages[messages.length - 1];
  const box = el("article", "phone");
  const agent = messages[messages.length - 1].agent_name || first.agent_id;
  Object.assign(box.dataset, { key: keyOf(first), phone: first.phone, provider: first.provider, agent: first.agent_id });
  box.dataset.search = [first.phone, first.agent_id, agent, first.provider, titleOf(first.provider),
                        ...messages.flatMap((m) => [m.id, m.text, ...m.events.map((e) => e.text || "")])]
    .join(" ").toLowerCase();
  box.setAttribute("role", "region");
  box.setAttribute("aria-label", `Conversation of ${agent} with ${first.phone}`);
  const title = el("h3", null, `${agent} `);
  title.append(el("small", null, `${first.phone} \u00b7 ${titleOf(first.provider)}${agent !== first.agent_id ? ` \u00b7 ${first.agent_id}` : ""}`));
  box.append(title);
  const thread = el("div", "thread");
  const items = [];
  for (const m of messages) {
    // A thread the phone opened (kind "user") holds only the user's own words: no agent bubble.
    if (m.kind !== USER_MESSAGE) {
      const tap = (body) => inbound(m, { ...body, message_id: m.id });
      const turn = agentBubble(m, fileUrl, tap, m === last);
      const bubble = turn.querySelector(".bubble");
      bubble.tabIndex = 0; // Enter opens the message's details, as a click does
      bubble.title = "Open this message's details";
      items.push({ time: m.send_at, node: turn });
    }
    items.push(...userBubbles(m));
  }
  items.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
  thread.append(...items.map((item) => item.node));
  box.append(thread);
  if (last.can_answer === false && last.status !== "scheduled") {
    // The phone cannot answer over RCS: say why instead of offering a box that would fail.
    box.append(el("p", "no-reply", `No RCS reply possible: ${last.answer_refusal}`));
    return box;
  }
  const form = el("form", "reply");
  const input = el("input");
  Object.assign(input, { name: "text", placeholder: "Type as the user\u2026", autocomplete: "off" });
  input.setAttribute("aria-label", `Reply to ${agent} as ${first.phone}`);
  const send = el("button", null, "Send");
  send.type = "submit";
  send.setAttribute("aria-label", `Send the reply to ${agent} from ${first.phone}`);
  form.append(input, send);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (input.value.trim()) inbound(last, { text: input.value });
    input.value = "";
  });
  box.append(form);
  return box;
}

function showEmpty() {
  if (!root.querySelector("article.phone")) {
    root.replaceChildren(el("p", "empty", "No messages yet. Send one to the emulator and it appears here."));
  }
}

async function drawAll() {
  const messages = await newest("/_emulator/messages", { exchange: "false" }, MESSAGES_SHOWN);
  const groups = new Map();
  for (const m of messages) {
    if (!groups.has(keyOf(m))) groups.set(keyOf(m), []);
    groups.get(keyOf(m)).push(m);
  }
  // Newest activity first; on a tie (a manual clock), the one whose message came last.
  const rank = new Map(messages.map((m, i) => [keyOf(m), i]));
  const byActivity = [...groups.values()].sort((a, b) => {
    const [ta, tb] = [latestTime(a), latestTime(b)];
    return ta !== tb ? (ta < tb ? 1 : -1) : rank.get(keyOf(b[0])) - rank.get(keyOf(a[0]));
  });
  const shownBefore = [...root.querySelectorAll("article.phone")];
  const typed = new Map(shownBefore.map((box) => [box.dataset.key, typedIn(box)]));
  const fresh = new Set(shownBefore.filter((box) => box.classList.contains("fresh")).map((box) => box.dataset.key));
  // Where each conversation stood stays its place; new ones come first.
  const place = new Map(shownBefore.map((box, i) => [box.dataset.key, i]));
  const ordered = view.newestFirst || !place.size ? byActivity
    : byActivity.slice().sort((a, b) => (place.get(keyOf(a[0])) ?? -1) - (place.get(keyOf(b[0])) ?? -1));
  const boxes = ordered.map(conversationNode);
  for (const box of boxes) if (fresh.has(box.dataset.key)) box.classList.add("fresh");
  root.replaceChildren(...boxes);
  fitCarousels([...root.querySelectorAll(".carousel")]);
  scrollToNewest(boxes);
  boxes.forEach((box) => restoreTyped(box, typed.get(box.dataset.key)));
  showEmpty();
}

// One conversation changed: it is drawn again where it stands, marked as new activity (or, with
// "newest first", moved to the top).
async function drawConversation(key) {
  const [provider, agent, phone] = key.split("|");
  const messages = await newest("/_emulator/messages", { provider, agent, phone, exchange: "false" }, THREAD_SHOWN);
  const old = [...root.querySelectorAll("article.phone")].find((box) => box.dataset.key === key);
  const typed = typedIn(old);
  if (!messages.length) {
    if (old) old.remove();
    showEmpty();
    return;
  }
  const box = conversationNode(messages);
  root.querySelector(".empty")?.remove();
  const working = old && old.contains(document.activeElement);
  if (!working) box.classList.add("fresh");
  if (old && !view.newestFirst) old.replaceWith(box);
  else {
    if (old) old.remove();
    root.prepend(box);
  }
  fitCarousels([...box.querySelectorAll(".carousel")]);
  scrollToNewest([box]);
  restoreTyped(box, typed);
}

async function drawSurroundings() {
  const filters = view.failuresOnly ? { failing: "true" } : {};
  const [deliveries, clock] = await Promise.all([
    newest("/_emulator/webhooks", filters, WEBHOOKS_SHOWN), api("/_emulator/clock"),
  ]);
  drawLog(document.getElementById("webhooks"), deliveries, (id) => openDetail(id));
  const shown = document.getElementById("clock");
  shown.textContent = `${clock.mode} clock \u00b7 ${clock.now.slice(0, 19).replace("T", " ")}`;
  document.querySelector("[data-clock-copy]").textContent = shown.textContent;
  shown.dataset.now = clock.now;
}

// Changes come in bursts (a send, its events, their webhooks) or as a steady stream (a load
// test): at most one draw at a time, at least 100 ms apart and further apart when draws get
// expensive, and always one more after the last change, so the page can neither starve nor lag.
let timer = null;
let drawing = false;
let cost = 0;
let everything = true;
let owed = false; // a notice came in since the last draw began
const changed = new Set();

// A notice of a message or an event redraws its conversation; of a webhook attempt or the clock,
// only the log and the clock; a reset (or no notice: a reconnection) everything.
function schedule(notice) {
  owed = true;
  if (!notice || notice.kind === "reset") everything = true;
  else if ((notice.kind === "message" || notice.kind === "event") && notice.phone) changed.add(keyOf(notice));
  if (!drawing && timer === null) timer = setTimeout(draw, Math.max(100, 2 * cost));
}

async function draw() {
  timer = null;
  drawing = true;
  const started = performance.now();
  const all = everything;
  const keys = [...changed];
  everything = false;
  owed = false;
  changed.clear();
  try {
    if (all) await drawAll();
    else for (const key of keys) await drawConversation(key);
    await drawSurroundings();
  } catch (error) {
    root.replaceChildren(el("p", "empty error", `Could not load the conversations: ${error.message}`));
    console.warn(error);
    everything = true;
  }
  applyFilter();
  cost = performance.now() - started;
  document.body.dataset.drawMs = cost.toFixed(1);
  document.body.dataset.rendered = String(Date.now());
  drawing = false;
  if (owed && timer === null) timer = setTimeout(draw, Math.max(100, 2 * cost)); // what came in meanwhile
}

// Search narrows the page to the conversations, and webhook deliveries, that mention every word
// typed: phone, agent (id or name), provider, message text or id; it is kept in the URL.
const filterBox = document.getElementById("filter");
filterBox.value = view.search;
function applyFilter() {
  view.search = filterBox.value;
  let shown = 0;
  for (const node of document.querySelectorAll("article.phone, #webhooks > li")) {
    node.hidden = !matches(node, view.search);
    if (!node.hidden && node.matches("article.phone")) shown += 1;
  }
  const none = document.getElementById("no-matches");
  const any = root.querySelector("article.phone");
  none.hidden = !(view.search.trim() && any && !shown);
  none.textContent = `No conversation matches \u201c${view.search.trim()}\u201d.`;
}
filterBox.addEventListener("input", () => { applyFilter(); remember(); });

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
failures.addEventListener("change", () => { view.failuresOnly = failures.checked; remember(); schedule({ kind: "webhook" }); });

// A conversation's new-activity mark goes once someone looks at it (a click or focus inside).
root.addEventListener("focusin", (event) => event.target.closest("article.phone")?.classList.remove("fresh"));
// Clicking a message (not a chip, link or player in it) opens its details.
root.addEventListener("click", (event) => {
  const box = event.target.closest("article.phone");
  box?.classList.remove("fresh");
  const bubble = event.target.closest(".bubble.agent");
  if (!bubble || event.target.closest("button, a, audio, video, input")) return;
  openDetail(bubble.dataset.messageId, bubble).catch((error) => console.warn(error));
});
root.addEventListener("keydown", (event) => {
  const bubble = event.target.closest(".bubble.agent");
  if (bubble && (event.key === "Enter" || event.key === " ") && event.target === bubble) {
    event.preventDefault();
    openDetail(bubble.dataset.messageId, bubble).catch((error) => console.warn(error));
  }
});

// Clear: what a reset forgets (messages, files, webhook attempts); agent and phone settings stay.
const clearButtons = document.querySelectorAll("#clear, [data-clear]");
for (const button of clearButtons) button.addEventListener("click", async () => {
  if (!confirm("Forget every message, uploaded file and webhook attempt? Agent and phone settings stay.")) return;
  try {
    closeDetail();
    await post("/_emulator/reset?keep_settings=true", {});
  } catch (error) {
    console.warn(error);
  }
});

// Time as the demo needs it: the scenarios' next seconds, minutes or hours, run now. What they
// change arrives as notices; the clock itself is redrawn after.
for (const button of document.querySelectorAll("button[data-advance]")) {
  button.addEventListener("click", async () => {
    try {
      await post("/_emulator/clock/advance", { seconds: Number(button.dataset.advance) });
    } catch (error) {
      console.warn(error);
    }
    schedule({ kind: "clock" });
  });
}

const live = document.getElementById("live");
const titlesLoaded = loadTitles(); // before the first draw (the stream's open waits for it)
const stream = new EventSource(withToken("/_emulator/stream"));
// The page draws everything once the stream is open, and again on every reconnection: nothing
// that changes between a draw's reads and the stream's notices is missed.
let drawn = false;
stream.addEventListener("open", async () => {
  live.textContent = "live";
  live.dataset.state = "live";
  await titlesLoaded;
  if (drawn) schedule();
  else draw();
  drawn = true;
});
stream.addEventListener("error", () => { live.textContent = "reconnecting\u2026"; live.dataset.state = "reconnecting"; });
stream.addEventListener("change", (event) => schedule(JSON.parse(event.data)));
// A proxy that holds server-sent events back must not leave the page blank.
setTimeout(() => {
  if (!drawn) {
    drawn = true;
    draw();
  }
}, 2000);
