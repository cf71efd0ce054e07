// The inbox: every phone's conversations, drawn from the control API. The emulator announces
// each change over server-sent events; the page then redraws only the conversations that
// changed (all of them on a reset or a reconnection), plus the webhook log and the clock.
import { api, fileUrl, newest, post, withToken } from "./api.js";
import { fitCarousels } from "./carousel.js";
import { agentBubble, el, userBubbles } from "./messages.js";
import { drawLog } from "./webhooks.js";

const MESSAGES_SHOWN = 2000; // the newest, over all conversations, on a full draw
const THREAD_SHOWN = 200; // the newest of one conversation
const WEBHOOKS_SHOWN = 50;
const root = document.getElementById("conversations");

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
  Object.assign(box.dataset, { key: keyOf(first), phone: first.phone, provider: first.provider, agent: first.agent_id });
  const title = el("h3", null, `${first.phone} `);
  title.append(el("small", null, `${first.provider} \u00b7 ${first.agent_id}`));
  box.append(title);
  const thread = el("div", "thread");
  const items = [];
  for (const m of messages) {
    const tap = (body) => inbound(m, { ...body, message_id: m.id });
    items.push({ time: m.send_at, node: agentBubble(m, fileUrl, tap, m === last) });
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
  const send = el("button", null, "Send");
  send.type = "submit";
  form.append(input, send);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (input.value.trim()) inbound(last, { text: input.value });
    input.value = "";
  });
  box.append(form);
  return box;
}

// What a redraw must not lose: the text being typed in a conversation, the focus, the caret.
function typedIn(box) {
  const input = box && box.querySelector("input[name=text]");
  return input && { value: input.value, focused: document.activeElement === input,
                    start: input.selectionStart, end: input.selectionEnd };
}

function restoreTyped(box, typed) {
  if (!typed) return;
  const input = box.querySelector("input[name=text]");
  input.value = typed.value;
  if (typed.focused) {
    input.focus();
    input.setSelectionRange(typed.start, typed.end);
  }
}

// Each thread shows its newest message, as a phone does (all heights read, then all set: one
// layout for the page).
function scrollToNewest(boxes) {
  const threads = boxes.map((box) => box.querySelector(".thread"));
  const heights = threads.map((thread) => thread.scrollHeight);
  threads.forEach((thread, i) => { thread.scrollTop = heights[i]; });
}

function showEmpty() {
  if (!root.querySelector("article.phone")) {
    root.replaceChildren(el("p", "empty", "No messages yet. Send one to the emulator and it appears here."));
  }
}

async function drawAll() {
  const messages = await newest("/_emulator/messages", {}, MESSAGES_SHOWN);
  const groups = new Map();
  for (const m of messages) {
    if (!groups.has(keyOf(m))) groups.set(keyOf(m), []);
    groups.get(keyOf(m)).push(m);
  }
  const ordered = [...groups.values()].sort((a, b) => (latestTime(a) < latestTime(b) ? 1 : -1));
  const typed = new Map([...root.querySelectorAll("article.phone")].map((box) => [box.dataset.key, typedIn(box)]));
  const boxes = ordered.map(conversationNode);
  root.replaceChildren(...boxes);
  fitCarousels([...root.querySelectorAll(".carousel")]);
  scrollToNewest(boxes);
  boxes.forEach((box) => restoreTyped(box, typed.get(box.dataset.key)));
  showEmpty();
}

// One conversation changed: it is drawn again and, as the newest activity, moves to the top.
async function drawConversation(key) {
  const [provider, agent, phone] = key.split("|");
  const messages = await newest("/_emulator/messages", { provider, agent, phone }, THREAD_SHOWN);
  const old = [...root.querySelectorAll("article.phone")].find((box) => box.dataset.key === key);
  const typed = typedIn(old);
  if (!messages.length) {
    if (old) old.remove();
    showEmpty();
    return;
  }
  const box = conversationNode(messages);
  root.querySelector(".empty")?.remove();
  if (old) old.remove();
  root.prepend(box);
  fitCarousels([...box.querySelectorAll(".carousel")]);
  scrollToNewest([box]);
  restoreTyped(box, typed);
}

async function drawSurroundings() {
  const [deliveries, clock] = await Promise.all([
    newest("/_emulator/webhooks", {}, WEBHOOKS_SHOWN), api("/_emulator/clock"),
  ]);
  drawLog(document.getElementById("webhooks"), deliveries);
  const shown = document.getElementById("clock");
  shown.textContent = `${clock.mode} clock \u00b7 ${clock.now.slice(0, 19).replace("T", " ")}`;
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

// The filter box narrows the page to the conversations, and their webhook deliveries, whose
// phone, agent or provider contain what is typed.
const filterBox = document.getElementById("filter");
function applyFilter() {
  const wanted = filterBox.value.trim().toLowerCase();
  const matches = (node) => !wanted
    || `${node.dataset.phone} ${node.dataset.agent} ${node.dataset.provider}`.toLowerCase().includes(wanted);
  for (const node of document.querySelectorAll("article.phone, #webhooks > li")) node.hidden = !matches(node);
}
filterBox.addEventListener("input", applyFilter);

// Clear: what a reset forgets (messages, files, webhook attempts); agent and phone settings stay.
document.getElementById("clear").addEventListener("click", async () => {
  if (!confirm("Forget every message, uploaded file and webhook attempt? Agent and phone settings stay.")) return;
  try {
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
const stream = new EventSource(withToken("/_emulator/stream"));
// The page draws everything once the stream is open, and again on every reconnection: nothing
// that changes between a draw's reads and the stream's notices is missed.
let drawn = false;
stream.addEventListener("open", () => {
  live.textContent = "live";
  live.dataset.state = "live";
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
