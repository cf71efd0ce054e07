// The inbox: every phone's conversations, rendered from the control API and redrawn when the
// emulator announces a change over server-sent events.
import { fitCarousel } from "./carousel.js";
import { agentBubble, el, userBubbles } from "./messages.js";

const token = new URLSearchParams(location.search).get("token");
const headers = token ? { "X-Emulator-Token": token } : {};
const withToken = (path) => (token ? `${path}${path.includes("?") ? "&" : "?"}token=${encodeURIComponent(token)}` : path);
const MESSAGES_SHOWN = 2000;
const WEBHOOKS_SHOWN = 50;

async function api(path, options = {}) {
  const response = await fetch(path, { ...options, headers: { ...headers, ...(options.headers || {}) } });
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return response.json();
}

// The newest `count` items of a collection (the control API lists oldest first).
async function newest(path, count) {
  const first = await api(`${path}?limit=${count}`);
  if (first.total <= count) return first.items;
  return (await api(`${path}?limit=${count}&offset=${first.total - count}`)).items;
}

async function inbound(message, body) {
  try {
    await api("/_emulator/inbound", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ provider: message.provider, agent_id: message.agent_id, phone: message.phone, ...body }),
    });
  } catch (error) {
    console.warn(error);
  }
  schedule();
}

const keyOf = (m) => `${m.provider}|${m.agent_id}|${m.phone}`;
const latestTime = (messages) => messages.reduce(
  (t, m) => [m.created, ...m.events.map((e) => e.time)].reduce((a, b) => (a > b ? a : b), t), "");

// Uploaded files' bytes, from the control API (the token travels in the query: an <img> sends
// no headers of ours).
const fileUrl = (id) => withToken(`/_emulator/files/${id}/content`);

function conversationNode(messages) {
  const first = messages[0];
  const last = messages[messages.length - 1];
  const box = el("article", "phone");
  Object.assign(box.dataset, { key: keyOf(first), phone: first.phone, provider: first.provider, agent: first.agent_id });
  const title = el("h3", null, `${first.phone} `);
  title.append(el("small", null, `${first.provider} \u00b7 ${first.agent_id}`));
  box.append(title);
  const thread = el("div", "thread");
  const items = [];
  for (const m of messages) {
    const tap = (body) => inbound(m, { ...body, message_id: m.id });
    items.push({ time: m.created, node: agentBubble(m, fileUrl, tap, m === last) });
    items.push(...userBubbles(m));
  }
  items.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
  thread.append(...items.map((item) => item.node));
  box.append(thread);
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

function attemptNode(attempt) {
  const outcome = attempt.error ? `error: ${attempt.error}` : `${attempt.status}`;
  const li = el("li", attempt.accepted ? "accepted" : "refused",
    `#${attempt.attempt} ${attempt.time.slice(11, 19)} \u2192 ${outcome} (${attempt.duration_ms} ms)`);
  if (attempt.body) li.append(el("pre", "response", attempt.body.slice(0, 500)));
  return li;
}

function deliveryNode(delivery) {
  const item = el("li", `delivery state-${delivery.state}`);
  Object.assign(item.dataset, { state: delivery.state, phone: delivery.phone, event: delivery.event });
  const details = el("details");
  const summary = el("summary");
  summary.append(el("b", null, delivery.event), ` ${delivery.phone} \u00b7 `, el("span", "state", delivery.state));
  details.append(summary, el("div", "url", delivery.url));
  const attempts = el("ol", "attempts");
  attempts.append(...delivery.attempts.map(attemptNode));
  details.append(attempts, el("pre", "payload", JSON.stringify(delivery.payload, null, 2)));
  item.append(details);
  return item;
}

// What a redraw must not lose: the text being typed, the focus, where each thread was scrolled.
function rememberInputs(root) {
  const kept = new Map();
  for (const box of root.querySelectorAll("article.phone")) {
    const input = box.querySelector("input[name=text]");
    kept.set(box.dataset.key, { value: input.value, focused: document.activeElement === input,
                                start: input.selectionStart, end: input.selectionEnd });
  }
  return kept;
}

function restoreInputs(root, kept) {
  for (const box of root.querySelectorAll("article.phone")) {
    const thread = box.querySelector(".thread");
    thread.scrollTop = thread.scrollHeight; // a phone shows its newest message
    const was = kept.get(box.dataset.key);
    if (!was) continue;
    const input = box.querySelector("input[name=text]");
    input.value = was.value;
    if (was.focused) {
      input.focus();
      input.setSelectionRange(was.start, was.end);
    }
  }
}

async function render() {
  const [messages, deliveries, clock] = await Promise.all([
    newest("/_emulator/messages", MESSAGES_SHOWN),
    newest("/_emulator/webhooks", WEBHOOKS_SHOWN),
    api("/_emulator/clock"),
  ]);
  const shownClock = document.getElementById("clock");
  shownClock.textContent = `${clock.mode} clock \u00b7 ${clock.now.slice(0, 19).replace("T", " ")}`;
  shownClock.dataset.now = clock.now;
  const groups = new Map();
  for (const m of messages) {
    if (!groups.has(keyOf(m))) groups.set(keyOf(m), []);
    groups.get(keyOf(m)).push(m);
  }
  const ordered = [...groups.values()].sort((a, b) => (latestTime(a) < latestTime(b) ? 1 : -1));
  const root = document.getElementById("conversations");
  const kept = rememberInputs(root);
  root.replaceChildren(...(ordered.length ? ordered.map(conversationNode)
    : [el("p", "empty", "No messages yet. Send one to the emulator and it appears here.")]));
  root.querySelectorAll(".carousel").forEach(fitCarousel);
  restoreInputs(root, kept);
  document.getElementById("webhooks").replaceChildren(...deliveries.slice().reverse().map(deliveryNode));
  document.body.dataset.rendered = String(Date.now());
}

function failed(error) {
  const box = document.getElementById("conversations");
  box.replaceChildren(el("p", "empty error", `Could not load the conversations: ${error.message}`));
  console.warn(error);
}

// Changes come in bursts (a send, its events, their webhooks) or as a steady stream (a load
// test): at most one redraw at a time, at least 100 ms apart and further apart when redraws get
// expensive, and always one more after the last change, so the page can neither starve nor lag.
let timer = null;
let drawing = false;
let pending = false;
let cost = 0;
function schedule() {
  if (drawing) {
    pending = true;
  } else if (timer === null) {
    timer = setTimeout(draw, Math.max(100, 2 * cost));
  }
}

async function draw() {
  timer = null;
  drawing = true;
  const started = performance.now();
  try {
    await render();
  } catch (error) {
    failed(error);
  }
  cost = performance.now() - started;
  drawing = false;
  if (pending) {
    pending = false;
    schedule();
  }
}

// Time as the demo needs it: the scenarios' next seconds, minutes or hours, run now.
for (const button of document.querySelectorAll("button[data-advance]")) {
  button.addEventListener("click", async () => {
    try {
      await api("/_emulator/clock/advance", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ seconds: Number(button.dataset.advance) }),
      });
    } catch (error) {
      console.warn(error);
    }
    schedule();
  });
}

const live = document.getElementById("live");
const stream = new EventSource(withToken("/_emulator/stream"));
// The page draws once the stream is open, and again on every reconnection: nothing that changes
// between a draw's reads and the stream's notices is missed.
let drawn = false;
stream.addEventListener("open", () => {
  live.textContent = "live";
  live.dataset.state = "live";
  if (drawn) schedule();
  else draw();
  drawn = true;
});
stream.addEventListener("error", () => { live.textContent = "reconnecting\u2026"; live.dataset.state = "reconnecting"; });
stream.addEventListener("change", schedule);
// A proxy that holds server-sent events back must not leave the page blank.
setTimeout(() => {
  if (!drawn) {
    drawn = true;
    draw();
  }
}, 2000);
