// The inbox: conversations per agent and phone, rendered from the control API. Every piece of
// message content goes into the page through textContent or attributes, never as markup.
"use strict";

const token = new URLSearchParams(location.search).get("token");
const headers = token ? { "X-Emulator-Token": token } : {};
// Plain symbols every font has (a demo machine may have no emoji font).
const ICONS = { reply: "\u21a9", url: "\u2197", dial: "\u260e", map: "\u25c9",
                calendar: "\u25a6", share_location: "\u25ce" };

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

async function api(path, options = {}) {
  const response = await fetch(path, { ...options, headers: { ...headers, ...(options.headers || {}) } });
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return response.json();
}

function webUrl(value) {
  return typeof value === "string" && /^https?:\/\//i.test(value) ? value : null;
}

// One shape for both providers' cards.
function cardsOf(message) {
  const c = message.content || {};
  const raw = c.richCardContent ? [c.richCardContent]
    : (c.carouselContent && c.carouselContent.richCardContents) || c.cards || [];
  return raw.map((card) => {
    const media = card.media || {};
    const layout = card.layout || {};
    return {
      title: card.title, description: card.description,
      url: card.fileUrl || media.url || null, fileId: card.fileId || null,
      type: media.type || "", height: (card.height || media.height || "MEDIUM").toLowerCase(),
      orientation: (card.orientation || layout.cardOrientation || "VERTICAL").toLowerCase(),
      align: (card.thumbnailImageAlignment || layout.imageAlignment || "LEFT").toLowerCase(),
    };
  });
}

function mediaNode(card) {
  const box = el("div", `media ${card.height}`);
  const url = webUrl(card.url);
  if (url && (card.type.startsWith("video/") || /\.(mp4|webm|m4v)$/i.test(url))) {
    const video = el("video"); video.src = url; video.controls = true; box.append(video);
  } else if (url) {
    const img = el("img"); img.src = url; img.alt = card.title || "image"; box.append(img);
  } else if (card.fileId) {
    box.textContent = `uploaded file ${card.fileId}`;
  } else {
    box.textContent = "no media";
  }
  return box;
}

function chipsNode(message, chips) {
  const row = el("div", "chips");
  for (const chip of chips) {
    const button = el("button", "chip", `${ICONS[chip.kind] || ""} ${chip.label}`);
    button.type = "button";
    button.dataset.postback = chip.postback;
    button.title = chip.target ? `${chip.kind}: ${chip.target}` : chip.kind;
    button.addEventListener("click", () => inbound(message, { postback: chip.postback }));
    row.append(button);
  }
  return row;
}

function cardNode(message, card, index) {
  const node = el("div", `card ${card.orientation} ${card.align}`);
  if (card.url || card.fileId) node.append(mediaNode(card));
  const body = el("div", "body");
  if (card.title) body.append(el("div", "title", card.title));
  if (card.description) body.append(el("div", "description", card.description));
  const chips = message.suggestions.filter((s) => s.card === index);
  if (chips.length) body.append(chipsNode(message, chips));
  node.append(body);
  return node;
}

function agentBubble(message) {
  const bubble = el("div", `bubble agent kind-${message.kind}${message.channel === "SMS" ? " sms" : ""}`);
  bubble.dataset.messageId = message.id;
  const cards = cardsOf(message);
  const content = message.content || {};
  if (message.kind === "carousel") {
    const width = ((content.carouselContent && content.carouselContent.cardWidth) || content.card_width || "MEDIUM").toLowerCase();
    const row = el("div", `carousel ${width}`);
    cards.forEach((card, i) => row.append(cardNode(message, card, i)));
    bubble.append(row);
  } else if (message.kind === "richcard") {
    bubble.append(cardNode(message, cards[0] || {}, 0));
  } else if (message.kind === "file" || message.kind === "audio") {
    const file = content.file || content.audio || {};
    bubble.append(el("div", "file", `\u25a4 ${file.name || message.text} (${file.type || "file"})`));
  } else {
    bubble.append(document.createTextNode(message.text));
  }
  const global = message.suggestions.filter((s) => s.card === null);
  if (global.length) bubble.append(chipsNode(message, global));
  bubble.append(el("div", "status", `${message.status} \u00b7 ${message.created.slice(11, 19)}`));
  return bubble;
}

function userBubbles(message) {
  return message.events
    .filter((e) => e.inbound && (e.text !== null || e.postback !== null))
    .map((e) => {
      const bubble = el("div", "bubble user", e.text !== null ? e.text : e.postback);
      bubble.append(el("div", "status", `${e.type} \u00b7 ${e.time.slice(11, 19)}`));
      return { time: e.time, node: bubble };
    });
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

function conversationNode(messages) {
  const first = messages[0];
  const box = el("article", "phone");
  box.dataset.phone = first.phone;
  const title = el("h3", null, `${first.phone} `);
  title.append(el("small", null, `${first.provider} \u00b7 ${first.agent_id}`));
  box.append(title);
  const thread = el("div", "thread");
  const items = [];
  for (const m of messages) {
    items.push({ time: m.created, node: agentBubble(m) });
    items.push(...userBubbles(m));
  }
  items.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
  items.forEach((item) => thread.append(item.node));
  box.append(thread);
  const form = el("form", "reply");
  const input = el("input"); input.name = "text"; input.placeholder = "Type as the user\u2026";
  const send = el("button", null, "Send"); send.type = "submit";
  form.append(input, send);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (input.value.trim()) inbound(messages[messages.length - 1], { text: input.value });
    input.value = "";
  });
  box.append(form);
  return box;
}

async function render() {
  const { items } = await api("/_emulator/messages?limit=2000");
  const groups = new Map();
  for (const m of items) {
    const key = `${m.provider}|${m.agent_id}|${m.phone}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(m);
  }
  const latest = (ms) => ms.reduce((t, m) => [m.created, ...m.events.map((e) => e.time)].reduce((a, b) => (a > b ? a : b), t), "");
  const ordered = [...groups.values()].sort((a, b) => (latest(a) < latest(b) ? 1 : -1));
  const root = document.getElementById("conversations");
  root.replaceChildren(...(ordered.length ? ordered.map(conversationNode) : [el("p", "empty", "No messages yet.")]));
  const hooks = await api("/_emulator/webhooks?limit=50");
  document.getElementById("webhooks").replaceChildren(...hooks.items.slice().reverse().map((d) => {
    const last = d.attempts[d.attempts.length - 1] || {};
    const li = el("li", `state-${d.state}`, `${d.event} \u2192 ${d.url} \u00b7 ${d.state} \u00b7 ${last.status ?? last.error ?? ""}`);
    li.dataset.state = d.state;
    return li;
  }));
  document.body.dataset.rendered = String(Date.now());
}

function failed(error) {
  const box = document.getElementById("conversations");
  box.replaceChildren(el("p", "empty error", `Could not load the conversations: ${error.message}`));
  console.warn(error);
}

let timer = null;
function schedule() {
  clearTimeout(timer);
  timer = setTimeout(() => render().catch(failed), 100);
}

const stream = new EventSource(`/_emulator/stream${token ? `?token=${encodeURIComponent(token)}` : ""}`);
stream.addEventListener("open", () => { document.getElementById("live").textContent = "live"; });
stream.addEventListener("error", () => { document.getElementById("live").textContent = "reconnecting\u2026"; });
stream.addEventListener("change", schedule);
render().catch(failed);
