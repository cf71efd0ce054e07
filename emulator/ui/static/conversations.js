// The conversations column: what the emulator holds, loaded a window at a time (its newest
// messages, or the newest a search matches, which the server finds), one article per
// conversation. A draw is made from that state, whatever notices led to it: an article is
// rebuilt only when what it shows changed, and kept (scroll, typing, focus) otherwise.
import { count, fileUrl, newest, post, titleOf } from "./api.js";
import { fitCarousels } from "./carousel.js";
import { agentBubble, el, shortId, userBubbles } from "./messages.js";
import { searching, view } from "./state.js";
import { keepReading, readingOf, restoreTyped, typedIn, watchThread } from "./threads.js";

export const WINDOW = 2000; // the newest messages loaded at first, and added by "Load older"
const THREAD = 200; // a conversation reloaded alone shows at least its newest this many
const EARLIER = 200; // "Load earlier" in one thread adds this many
const CONVERSATIONS = 10000; // the newest conversations whose counts are loaded
const EAGER_FIT = 50; // carousels fitted at once; past this many, as they come into view

const root = document.getElementById("conversations");
const summary = document.getElementById("summary");
const noMatches = document.getElementById("no-matches");

export const keyOf = (m) => `${m.provider}|${m.agent_id}|${m.phone}`;

const model = {
  window: WINDOW,
  total: 0, // messages the emulator holds (or that match the search)
  conversations: 0, // conversations it holds
  threads: new Map(), // key -> the messages shown, oldest first
  counts: new Map(), // key -> messages the conversation holds
  wanted: new Map(), // key -> its newest messages someone asked to see (Load earlier)
  search: null, // the search the threads answer, or null
};
const replyErrors = new Map(); // key -> why the last reply typed there was not sent
// The order the page first saw each message in (the server lists them oldest first): what
// breaks a tie between two conversations active at the same instant (a manual clock).
const seen = new Map();
const arrival = (m) => {
  if (!seen.has(m.id)) seen.set(m.id, seen.size);
  return seen.get(m.id);
};

function grouped(messages) {
  const threads = new Map();
  for (const m of messages) {
    arrival(m);
    if (!threads.has(keyOf(m))) threads.set(keyOf(m), []);
    threads.get(keyOf(m)).push(m);
  }
  return threads;
}

function ofConversation(key, n) {
  const [provider, agent, phone] = key.split("|");
  return newest("/_emulator/messages", { provider, agent, phone, exchange: "false" }, n);
}

// Everything again: the window of newest messages (or of matches) and every conversation's count.
export async function loadAll() {
  const search = searching();
  const filters = { exchange: "false", ...(search ? { q: search } : {}) };
  const [messages, conversations] = await Promise.all([
    newest("/_emulator/messages", filters, model.window),
    newest("/_emulator/conversations", {}, CONVERSATIONS),
  ]);
  const threads = grouped(messages.items);
  const counts = new Map(conversations.items.map((c) => [keyOf(c), c.messages]));
  if (!search) {
    // Threads someone opened further back than the window reaches keep what they asked for.
    for (const [key, n] of model.wanted) {
      if ((threads.get(key)?.length || 0) < Math.min(n, counts.get(key) || 0)) {
        const { items } = await ofConversation(key, n);
        if (items.length) threads.set(key, items);
      }
    }
  }
  Object.assign(model, { threads, counts, search, total: messages.total, conversations: conversations.total });
}

// One conversation again (a notice named it): its newest messages, at least as many as shown.
export async function loadOne(key) {
  if (model.search) return loadAll(); // what matches is the server's to say
  const shown = model.threads.get(key)?.length || 0;
  const [{ items, total }, messages, conversations] = await Promise.all([
    ofConversation(key, Math.max(model.wanted.get(key) || 0, shown, THREAD)),
    newest("/_emulator/messages", {}, 0),
    newest("/_emulator/conversations", {}, 0),
  ]);
  items.forEach(arrival);
  if (items.length) model.threads.set(key, items);
  else model.threads.delete(key);
  model.counts.set(key, total);
  model.total = messages.total;
  model.conversations = conversations.total;
}

export async function loadOlder() {
  model.window += WINDOW;
  await loadAll();
}

async function loadEarlier(key) {
  const n = (model.threads.get(key)?.length || 0) + EARLIER;
  model.wanted.set(key, n);
  const { items, total } = await ofConversation(key, n);
  if (items.length) model.threads.set(key, items);
  model.counts.set(key, total);
}

// -- drawing -------------------------------------------------------------------------------

const latestTime = (messages) => messages.reduce(
  (t, m) => [m.created, ...m.events.map((e) => e.time)].reduce((a, b) => (a > b ? a : b), t), "");

async function inbound(message, body) {
  await post("/_emulator/inbound", { provider: message.provider, agent_id: message.agent_id, phone: message.phone, ...body });
}

// What an article shows, as one string: the same string, the same article.
function signature(key, messages) {
  return JSON.stringify([model.search, model.counts.get(key) ?? null, replyErrors.get(key) || null,
    messages.map((m) => [m.id, m.status, m.events.length, m.can_answer])]);
}

const boxOf = (key) => [...root.querySelectorAll("article.phone")].find((box) => box.dataset.key === key);

function earlierNode(key, messages, agent) {
  const row = el("div", "earlier");
  if (model.search) {
    row.append(el("span", null, "Only the messages that match are shown."));
    return row;
  }
  const older = (model.counts.get(key) || messages.length) - messages.length;
  if (older <= 0) return null;
  row.append(el("span", null, `${count(older)} earlier message${older === 1 ? "" : "s"}`));
  const more = el("button", "load-earlier", "Load earlier");
  more.type = "button";
  more.setAttribute("aria-label", `Load earlier messages of ${agent} with ${messages[0].phone}`);
  more.addEventListener("click", async () => {
    more.disabled = true;
    try {
      await loadEarlier(key);
      draw([key]);
      boxOf(key)?.querySelector(".load-earlier, .bubble")?.focus();
    } catch (error) {
      more.disabled = false;
      more.textContent = `Load earlier (failed: ${error.message})`;
    }
  });
  row.append(more);
  return row;
}

const USER_MESSAGE = "user"; // the kind of a phone's own first message to an agent

function conversationNode(key, messages) {
  const first = messages[0];
  // What the user acts on: the newest message that reached the phone (not one scheduled for later).
  const received = messages.filter((m) => m.status !== "scheduled");
  const last = received.length ? received[received.length - 1] : messages[messages.length - 1];
  const box = el("article", "phone");
  const agent = messages[messages.length - 1].agent_name || first.agent_id;
  Object.assign(box.dataset, { key, phone: first.phone, provider: first.provider, agent: first.agent_id,
                               newest: messages[messages.length - 1].id, signature: signature(key, messages) });
  box.setAttribute("aria-label", `Conversation of ${agent} with ${first.phone}`);
  const title = el("h3");
  // An agent known only by a UUID (a bot of some providers) is named by its first segment.
  title.append(agent === first.agent_id ? shortId(agent) : agent, " ");
  title.dir = "auto";
  const about = el("small", null, `${first.phone} \u00b7 ${titleOf(first.provider)}`);
  about.dir = "ltr";
  if (agent !== first.agent_id) about.append(" \u00b7 ", shortId(first.agent_id));
  title.append(about);
  box.append(title);
  const thread = el("div", "thread"); // laid out bottom up: it opens at the newest message
  const list = el("div", "messages");
  const items = [];
  for (const m of messages) {
    // A thread the phone opened (kind "user") holds only the user's own words: no agent bubble.
    if (m.kind !== USER_MESSAGE) {
      const tap = (body) => inbound(m, { ...body, message_id: m.id });
      const turn = agentBubble(m, fileUrl, tap, m === last);
      const bubble = turn.querySelector(".bubble");
      bubble.tabIndex = 0; // Enter or Space opens the message's details, as a click does
      bubble.title = "Open this message's details";
      items.push({ time: m.send_at, node: turn });
    }
    items.push(...userBubbles(m));
  }
  items.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
  const earlier = earlierNode(key, messages, agent);
  if (earlier) list.append(earlier);
  list.append(...items.map((item) => item.node));
  thread.append(list);
  box.append(thread);
  watchThread(box);
  if (last.can_answer === false && last.status !== "scheduled") {
    // The phone cannot answer over RCS: say why instead of offering a box that would fail.
    box.append(el("p", "no-reply", `No RCS reply possible: ${last.answer_refusal}`));
    return box;
  }
  box.append(replyForm(key, last, agent));
  return box;
}

function replyForm(key, last, agent) {
  const form = el("form", "reply");
  const input = el("input");
  Object.assign(input, { name: "text", placeholder: "Type as the user\u2026", autocomplete: "off", dir: "auto" });
  input.setAttribute("aria-label", `Reply to ${agent} as ${last.phone}`);
  const send = el("button", null, "Send");
  send.type = "submit";
  send.setAttribute("aria-label", `Send the reply to ${agent} from ${last.phone}`);
  const error = el("p", "reply-error", replyErrors.get(key) || "");
  error.setAttribute("role", "alert");
  error.hidden = !replyErrors.has(key);
  error.id = `reply-error-${key.replace(/[^a-z0-9]/gi, "-")}`;
  input.setAttribute("aria-describedby", error.id);
  form.append(input, send, error);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = input.value;
    if (!text.trim()) return;
    send.disabled = true;
    // The article may be drawn again meanwhile: what follows acts on the one in the page.
    const current = () => boxOf(key) || form.closest("article");
    try {
      await inbound(last, { text });
      replyErrors.delete(key);
      const box = current();
      const field = box.querySelector("input[name=text]");
      if (field.value === text) field.value = "";
      const shown = box.querySelector(".reply-error");
      shown.hidden = true;
      shown.textContent = "";
    } catch (failure) {
      // The text stays where it was typed; the person sees why and may send it again.
      replyErrors.set(key, `Not sent: ${failure.message}`);
      const shown = current().querySelector(".reply-error");
      shown.textContent = replyErrors.get(key);
      shown.hidden = false;
    } finally {
      current().querySelector("form.reply button[type=submit]").disabled = false;
    }
  });
  return form;
}

// Carousels are fitted once their conversation is near the screen (fitting needs layout).
const fitting = new IntersectionObserver((entries) => {
  const near = entries.filter((e) => e.isIntersecting).map((e) => e.target);
  for (const box of near) fitting.unobserve(box);
  fitCarousels(near.flatMap((box) => [...box.querySelectorAll(".carousel:not(.fitted)")]));
}, { rootMargin: "800px 0px" });

// The articles in order, moving none that stays where it was (a moved one would lose its scroll).
function place(boxes) {
  const keep = new Set(boxes);
  for (const child of [...root.children]) if (!keep.has(child)) child.remove();
  let cursor = root.firstElementChild;
  for (const box of boxes) {
    if (box === cursor) cursor = cursor.nextElementSibling;
    else root.insertBefore(box, cursor);
  }
}

// Draw from the model: every conversation, or only those of `keys` (a notice named them).
export function draw(keys = null) {
  const shownBefore = [...root.querySelectorAll("article.phone")];
  const existing = new Map(shownBefore.map((box) => [box.dataset.key, box]));
  const active = [...model.threads.entries()];
  // Newest activity first; on a tie (a manual clock), the one whose newest message came last.
  const byActivity = active.sort(([, a], [, b]) => {
    const [ta, tb] = [latestTime(a), latestTime(b)];
    return ta !== tb ? (ta < tb ? 1 : -1) : arrival(b[b.length - 1]) - arrival(a[a.length - 1]);
  });
  // Conversations keep their places while someone works in the page; new ones come first.
  const place_ = new Map(shownBefore.map((box, i) => [box.dataset.key, i]));
  const ordered = view.newestFirst || !place_.size ? byActivity
    : byActivity.slice().sort(([a], [b]) => (place_.get(a) ?? -1) - (place_.get(b) ?? -1));
  const rebuilt = [];
  const boxes = ordered.map(([key, messages]) => {
    const old = existing.get(key);
    if (old && (keys && !keys.includes(key) || old.dataset.signature === signature(key, messages))) return old;
    const box = conversationNode(key, messages);
    rebuilt.push({ key, box, old });
    return box;
  });
  // What a rebuilt article must not lose, read before anything changes (one layout).
  const kept = rebuilt.map(({ old }) => old && ({
    typed: typedIn(old), reading: readingOf(old), fresh: old.classList.contains("fresh"),
    working: old.contains(document.activeElement),
    focused: document.activeElement?.closest?.(".bubble.agent")?.dataset.messageId,
  }));
  place(boxes);
  rebuilt.forEach(({ box, old }, i) => {
    const was = kept[i];
    if (!old) {
      if (shownBefore.length) box.classList.add("fresh");
      return;
    }
    if (was.fresh || (keys && !was.working)) box.classList.add("fresh");
    restoreTyped(box, was.typed);
    if (was.reading) keepReading(box, was.reading);
    if (was.focused) box.querySelector(`.bubble.agent[data-message-id="${CSS.escape(was.focused)}"]`)?.focus();
  });
  const fresh = rebuilt.map(({ box }) => box).filter((box) => box.querySelector(".carousel"));
  if (fresh.length <= EAGER_FIT) fitCarousels(fresh.flatMap((box) => [...box.querySelectorAll(".carousel")]));
  else for (const box of fresh) fitting.observe(box);
  drawSummary(boxes.length);
}

function drawSummary(shown) {
  const search = model.search;
  const loaded = [...model.threads.values()].reduce((n, messages) => n + messages.length, 0);
  if (!shown) {
    root.replaceChildren(...(search ? [] : [el("p", "empty", "No messages yet. Send one to the emulator and it appears here.")]));
  }
  noMatches.hidden = !(search && !shown);
  noMatches.textContent = `No conversation matches \u201c${search || ""}\u201d.`;
  const parts = [];
  if (search) {
    parts.push(loaded < model.total
      ? `Newest ${count(loaded)} of ${count(model.total)} messages that match \u201c${search}\u201d`
      : `${count(model.total)} message${model.total === 1 ? " matches" : "s match"} \u201c${search}\u201d`);
  } else if (model.total) {
    parts.push(loaded < model.total ? `Newest ${count(loaded)} of ${count(model.total)} messages`
      : `${count(model.total)} message${model.total === 1 ? "" : "s"}`);
    parts.push(shown < model.conversations ? `${count(shown)} of ${count(model.conversations)} conversations`
      : `${count(shown)} conversation${shown === 1 ? "" : "s"}`);
  }
  const text = el("span", "counts", parts.join(" \u00b7 "));
  const nodes = [text];
  if (loaded < model.total) {
    const older = el("button", "load-older", `Load ${count(Math.min(WINDOW, model.total - loaded))} older`);
    older.type = "button";
    older.addEventListener("click", async () => {
      older.disabled = true;
      try {
        await loadOlder();
        draw();
      } catch (error) {
        older.disabled = false;
        older.textContent = `Load older (failed: ${error.message})`;
      }
    });
    nodes.push(older);
  }
  summary.replaceChildren(...nodes);
  summary.hidden = !parts.length;
}
