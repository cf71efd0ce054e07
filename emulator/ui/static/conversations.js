// The conversations column: every conversation the emulator holds, as a windowed grid of
// phones. Only the phones near the screen are in the page (the DOM stays the same size at
// 5,000 or 50,000 messages); each loads its newest messages when it comes near, and more on
// "Load earlier". A search shows the newest messages that match, grouped the same way.
//
// Phones are all one height (a phone's screen), so the grid is placed by arithmetic: no
// measuring of what is off screen. Work is done in slices (work.js), so a tap or a key is
// never queued behind a long draw; a tap or a typed reply shows the user's bubble at once
// (before the emulator answers), and the emulator's own copy replaces it when it comes.
import { api, count, fileUrl, newest, post, titleOf } from "./api.js";
import { fitCarousels } from "./carousel.js";
import { agentBubble, answered, el, userBubble, userBubbles } from "./messages.js";
import { agentName, shortId, shortenIds, unnamed } from "./names.js";
import { searching, view } from "./state.js";
import { anchorOf, markNew, reconcile, restoreAnchor, watchThread } from "./threads.js";
import { breathe, pooled } from "./work.js";

export const THREAD = 30; // the newest messages a thread loads at first
const EARLIER = 30; // "Load earlier" adds this many
const MAX_THREAD = 120; // messages a thread holds at most: past it, the newest go (and come back)
export const SEARCH_WINDOW = 500; // the newest matches a search loads at first
const CONVERSATIONS = 10000; // the newest conversations listed
const FETCHES = 6; // thread loads under way at once
const OVERSCAN = 0.5; // screens of phones kept beyond the visible ones, above and below
const LIST_EVERY = 1000; // ms: the list of conversations reloaded at most this often for notices

const root = document.getElementById("conversations");
const summary = document.getElementById("summary");
const noMatches = document.getElementById("no-matches");

export const keyOf = (m) => `${m.provider}|${m.agent_id}|${m.phone}`;

const model = {
  order: [], // keys, in the order shown
  conversations: new Map(), // key -> {provider, agent_id, agent_name, phone, messages}
  threads: new Map(), // key -> {messages (oldest first), start, end, count} (end === count: at the newest)
  total: 0, // messages held (or that match the search)
  totalConversations: 0,
  search: null, // the search shown, or null
  searchWindow: SEARCH_WINDOW,
  loaded: 0, // the search's matches loaded
  held: [], // conversations that came while the reader was down the page: shown on request
  fresh: new Set(), // keys with activity the reader has not looked at yet
  known: null, // key -> messages it held when last listed (null before the first list)
  pending: new Map(), // key -> the user's bubbles not yet confirmed: [{id, said, type, confirmed}]
  replyErrors: new Map(), // key -> why the last reply typed there was not sent
  listedAt: 0,
};
const rendered = new Map(); // key -> its article in the page
const loading = new Set(); // keys whose newest messages are being loaded
let seq = 0; // orders confirmations and loads (a load begun after a confirmation shows it)
const stats = { articles: 0 }; // articles made (each gets ids of its own)
let onTouched = () => {}; // the page's scheduler: a conversation the page itself changed

export function onChange(callback) {
  onTouched = callback;
}

// -- loading ---------------------------------------------------------------------------------

function conversationOf(m) {
  return { provider: m.provider, agent_id: m.agent_id, agent_name: m.agent_name, phone: m.phone,
           messages: m.messages };
}

// The list of conversations (or the search's matches), then the threads in view again.
export async function loadAll() {
  const search = searching();
  if (search) await loadSearch(search);
  else await loadList();
  if (!search) {
    for (const key of [...model.threads.keys()]) if (!rendered.has(key)) model.threads.delete(key);
    await refreshThreads([...rendered.keys()].filter((key) => model.conversations.has(key)));
  }
}

export async function loadList() {
  const listed = await newest("/_emulator/conversations", {}, CONVERSATIONS);
  model.listedAt = performance.now();
  const wasSearch = model.search !== null;
  model.search = null;
  const conversations = new Map();
  let total = 0;
  for (const c of listed.items) {
    conversations.set(keyOf(c), conversationOf(c));
    total += c.messages;
  }
  const byActivity = listed.items.map(keyOf).reverse(); // the API lists the newest last
  // New activity (a new message, a new conversation) since the last list, never a search's.
  if (model.known) {
    for (const [key, c] of conversations) {
      const before = model.known.get(key);
      if (before === undefined || c.messages > before) model.fresh.add(key);
    }
  }
  model.known = new Map([...conversations].map(([key, c]) => [key, c.messages]));
  for (const key of model.fresh) if (!conversations.has(key)) model.fresh.delete(key);
  if (wasSearch) model.threads.clear(); // a search's threads held only its matches
  if (view.newestFirst || !model.order.length || wasSearch) {
    model.order = byActivity;
    model.held = [];
  } else {
    // Conversations keep their places; new ones come first, at once for a reader at the top
    // of the page, else when asked for (the reader's view never moves under them).
    const shown = new Set(model.order);
    const arrived = byActivity.filter((key) => !shown.has(key) && !model.held.includes(key));
    const kept = model.order.filter((key) => conversations.has(key));
    model.held = model.held.filter((key) => conversations.has(key)).concat(arrived);
    if (model.held.length && readerAtTop()) {
      model.order = [...model.held, ...kept];
      model.held = [];
    } else {
      model.order = kept;
    }
  }
  for (const key of [...model.threads.keys()]) if (!conversations.has(key)) model.threads.delete(key);
  Object.assign(model, { conversations, total, totalConversations: listed.total });
}

const readerAtTop = () => window.scrollY <= 0 && !root.contains(document.activeElement);

export function showHeld() {
  model.order = [...model.held, ...model.order];
  model.held = [];
  window.scrollTo({ top: 0 });
}

async function loadSearch(search) {
  if (model.search !== search) model.searchWindow = SEARCH_WINDOW;
  const found = await newest("/_emulator/messages", { exchange: "false", q: search }, model.searchWindow);
  const threads = new Map();
  const conversations = new Map();
  for (const m of found.items) {
    const key = keyOf(m);
    if (!threads.has(key)) {
      threads.set(key, { messages: [], start: 0, end: 0, count: 0, matches: true });
      conversations.set(key, conversationOf({ ...m, messages: 0 }));
    }
    threads.get(key).messages.push(m);
  }
  for (const t of threads.values()) t.end = t.count = t.messages.length;
  const order = [...threads.keys()].reverse(); // the newest match first
  Object.assign(model, { search, threads, conversations, order, held: [], total: found.total,
                         totalConversations: order.length, loaded: found.items.length });
}

export async function searchOlder() {
  model.searchWindow += SEARCH_WINDOW;
  await loadSearch(model.search);
}

function slice(key, offset, limit) {
  const c = model.conversations.get(key);
  const query = new URLSearchParams({ provider: c.provider, agent: c.agent_id, phone: c.phone,
                                      exchange: "false", offset: String(offset), limit: String(limit) });
  return api(`/_emulator/messages?${query}`);
}

// A thread's newest messages.
async function loadNewest(key, n = THREAD) {
  const known = model.conversations.get(key)?.messages ?? 0;
  let { items, total } = await slice(key, Math.max(0, known - n), n);
  if (total !== known) ({ items, total } = await slice(key, Math.max(0, total - n), n));
  model.threads.set(key, { messages: items, start: total - items.length, end: total, count: total });
}

// A thread the page shows, again (a notice named it): what it showed, and what came after
// when it was at the newest.
async function refreshThread(key) {
  const began = ++seq;
  const t = model.threads.get(key);
  if (!t || t.matches) {
    if (!t) await loadNewest(key);
  } else if (t.end === t.count) {
    const { items, total } = await slice(key, t.start, MAX_THREAD);
    if (t.start + items.length < total) await loadNewest(key);
    else model.threads.set(key, { messages: items, start: t.start, end: total, count: total });
  } else {
    const { items, total } = await slice(key, t.start, t.end - t.start);
    model.threads.set(key, { messages: items, start: t.start, end: t.start + items.length, count: total });
  }
  const c = model.conversations.get(key);
  const now = model.threads.get(key)?.count;
  if (c && now !== undefined) {
    c.messages = now;
    // New messages in it since it was last listed: new activity, until someone looks.
    if (model.known && !model.search && now > (model.known.get(key) ?? 0)) model.fresh.add(key);
    if (model.known && !model.search) model.known.set(key, now);
  }
  settlePending(key, began);
}

export async function refreshThreads(keys) {
  await pooled(keys.map((key) => async () => {
    if (!model.conversations.has(key)) return;
    await refreshThread(key);
    await breathe();
    drawArticle(key);
  }), FETCHES);
}

// Notices named these conversations: those in view are loaded again, the others forgotten
// (loaded when they come into view); the list again when it is due.
export async function refreshNamed(keys) {
  const unknown = keys.some((key) => !model.conversations.has(key));
  if (model.search) return loadAll();
  if (unknown || view.newestFirst || performance.now() - model.listedAt >= LIST_EVERY) await loadList();
  for (const key of keys) if (!rendered.has(key)) model.threads.delete(key);
  await refreshThreads(keys.filter((key) => rendered.has(key)));
}

export const listDue = () => performance.now() - model.listedAt >= LIST_EVERY;

async function loadEarlier(key) {
  const t = model.threads.get(key);
  const start = Math.max(0, t.start - EARLIER);
  const { items, total } = await slice(key, start, t.start - start);
  let messages = [...items, ...t.messages];
  let end = t.end;
  if (messages.length > MAX_THREAD) { // the newest go; "Newer messages" brings them back
    messages = messages.slice(0, MAX_THREAD);
    end = start + MAX_THREAD;
  }
  model.threads.set(key, { messages, start, end, count: total });
}

// -- the user's own bubbles, shown before the emulator answers -------------------------------

function addPending(key, said, type) {
  const pending = { id: `${Date.now()}-${Math.random()}`, said, type, confirmed: 0 };
  if (!model.pending.has(key)) model.pending.set(key, []);
  model.pending.get(key).push(pending);
  drawArticle(key, { stick: true });
  return pending;
}

function dropPending(key, pending) {
  const list = model.pending.get(key) || [];
  model.pending.set(key, list.filter((p) => p !== pending));
  drawArticle(key);
}

// The emulator took it: its own copy shows from the next load of the thread on.
function confirmPending(key, pending) {
  pending.confirmed = ++seq;
  onTouched(key);
}

function settlePending(key, began) {
  const list = model.pending.get(key);
  if (list) model.pending.set(key, list.filter((p) => !p.confirmed || p.confirmed > began));
}

async function inbound(c, body) {
  await post("/_emulator/inbound", { provider: c.provider, agent_id: c.agent_id, phone: c.phone, ...body });
}

async function tap(key, message, body, chip) {
  const c = model.conversations.get(key);
  const pending = chip.kind === "reply" ? addPending(key, chip.label, "reply") : null;
  try {
    await inbound(c, { ...body, message_id: message.id });
  } catch (error) {
    if (pending) dropPending(key, pending);
    throw error;
  }
  if (pending) confirmPending(key, pending);
  else onTouched(key);
}

// -- drawing one conversation ------------------------------------------------------------------

const names = (c) => ({ agent: agentName(c.agent_id, c.agent_name), phone: c.phone });

function articleShell(key) {
  const c = model.conversations.get(key);
  const { agent, phone } = names(c);
  const box = el("article", "phone");
  box.tabIndex = 0;
  Object.assign(box.dataset, { key, phone, provider: c.provider, agent: c.agent_id });
  const title = el("h3");
  stats.articles += 1;
  const name = el("span", "name", agent);
  name.dir = "auto";
  title.append(name, " ");
  if (unnamed(c.agent_id, c.agent_name)) {
    name.title = `A name made from the bot's id (it has no display name: set one with PUT /_emulator/agents/${c.provider}/${c.agent_id})`;
  }
  const about = el("small", null, `${phone} \u00b7 ${titleOf(c.provider)}`);
  about.dir = "ltr";
  if (agent !== c.agent_id) about.append(" \u00b7 ", shortId(c.agent_id));
  title.append(about);
  box.setAttribute("aria-label", `Conversation of ${agent} with ${phone}`);
  const thread = el("div", "thread");
  thread.tabIndex = 0; // it scrolls: the keyboard reaches it (arrows move between its bubbles)
  thread.setAttribute("role", "region");
  thread.setAttribute("aria-label", `Messages of ${agent} with ${phone}`);
  thread.append(el("div", "messages"));
  box.append(title, thread, el("div", "foot"));
  watchThread(box);
  return box;
}

function earlierItem(key, t, agent) {
  if (t.matches) {
    return { key: "load|earlier", sig: "matches", build: () => el("div", "earlier", "Only the messages that match are shown.") };
  }
  if (t.start <= 0) return null;
  return { key: "load|earlier", sig: String(t.start), build: () => {
    const row = el("div", "earlier");
    row.append(el("span", null, `${count(t.start)} earlier message${t.start === 1 ? "" : "s"}`));
    const more = el("button", "load-earlier", "Load earlier");
    more.type = "button";
    more.dataset.focusKey = `earlier|${key}`;
    more.setAttribute("aria-label", `Load earlier messages of ${agent} with ${model.conversations.get(key).phone}`);
    more.addEventListener("click", async () => {
      more.disabled = true;
      try {
        await loadEarlier(key);
        drawArticle(key);
        const box = rendered.get(key);
        box?.querySelector(".load-earlier, .bubble")?.focus({ preventScroll: true });
      } catch (error) {
        more.disabled = false;
        more.textContent = `Load earlier (failed: ${error.message})`;
      }
    });
    row.append(more);
    return row;
  } };
}

function newerItem(key, t) {
  if (t.matches || t.end >= t.count) return null;
  const newer = t.count - t.end;
  return { key: "load|newer", sig: String(newer), build: () => {
    const row = el("div", "earlier");
    const back = el("button", "load-newer", `${count(newer)} newer message${newer === 1 ? "" : "s"} \u2193`);
    back.type = "button";
    back.addEventListener("click", async () => {
      back.disabled = true;
      await loadNewest(key);
      drawArticle(key, { stick: true });
    });
    row.append(back);
    return row;
  } };
}

const USER_MESSAGE = "user"; // the kind of a phone's own first message to an agent

function threadItems(key, t, agent) {
  const messages = t.messages;
  const atEnd = t.end >= t.count;
  // What the user acts on: the newest message that reached the phone (not one scheduled for later).
  const received = messages.filter((m) => m.status !== "scheduled");
  const last = received.length ? received[received.length - 1] : messages[messages.length - 1];
  const pending = model.pending.get(key) || [];
  const answering = pending.some((p) => p.type === "reply");
  const items = [];
  for (const m of messages) {
    // A thread the phone opened (kind "user") holds only the user's own words: no agent bubble.
    if (m.kind !== USER_MESSAGE) {
      const offer = atEnd && m === last && !t.matches;
      const closing = offer && answering && !answered(m);
      items.push({ key: `m|${m.id}`, time: m.send_at,
                   sig: JSON.stringify([m.status, m.events.length, m.can_answer, offer, closing]),
                   build: () => agentTurn(key, m, offer, closing) });
    }
    items.push(...userBubbles(m));
  }
  items.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
  for (const p of pending) {
    items.push({ key: `p|${p.id}`, sig: "", build: () => userBubble(p.said, "sending\u2026", p.type, true) });
  }
  const earlier = earlierItem(key, t, agent);
  const newer = newerItem(key, t);
  return [...(earlier ? [earlier] : []), ...items, ...(newer ? [newer] : [])];
}

function agentTurn(key, m, offer, closing) {
  const turn = agentBubble(m, fileUrl, (body, chip) => tap(key, m, body, chip), offer, closing);
  const bubble = turn.querySelector(".bubble");
  bubble.tabIndex = -1; // Enter or Space opens the message's details, as a click does
  bubble.title = "Open this message's details";
  bubble.dataset.focusKey = `bubble|${m.id}`;
  return turn;
}

// The footer: a reply box (kept across draws: what is typed stays), or why there is none.
function drawFoot(box, key, t, agent) {
  const foot = box.querySelector(".foot");
  const messages = t.messages;
  const received = messages.filter((m) => m.status !== "scheduled");
  const last = received.length ? received[received.length - 1] : messages[messages.length - 1];
  const refused = last && last.can_answer === false && last.status !== "scheduled";
  if (refused) {
    const said = `No RCS reply possible: ${shortenIds(last.answer_refusal)}`;
    if (foot.textContent !== said || !foot.querySelector("p.no-reply")) foot.replaceChildren(el("p", "no-reply", said));
    return;
  }
  if (!foot.querySelector("form.reply")) foot.replaceChildren(replyForm(key, agent));
  const error = foot.querySelector(".reply-error");
  error.textContent = model.replyErrors.get(key) || "";
  error.hidden = !model.replyErrors.has(key);
}

function replyForm(key, agent) {
  const c = model.conversations.get(key);
  const form = el("form", "reply");
  const input = el("input");
  Object.assign(input, { name: "text", placeholder: "Type as the user\u2026", autocomplete: "off", dir: "auto" });
  input.setAttribute("aria-label", `Reply to ${agent} as ${c.phone}`);
  input.dataset.focusKey = `reply|${key}`;
  const send = el("button", null, "Send");
  send.type = "submit";
  send.setAttribute("aria-label", `Send the reply to ${agent} from ${c.phone}`);
  const error = el("p", "reply-error");
  error.setAttribute("role", "alert");
  error.hidden = true;
  error.id = `reply-error-${stats.articles}-${key.replace(/[^a-z0-9]/gi, "-")}`;
  input.setAttribute("aria-describedby", error.id);
  form.append(input, send, error);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = input.value;
    if (!text.trim()) return;
    // The bubble shows at once; the box is free for the next line.
    const pending = addPending(key, text, "message");
    input.value = "";
    const current = () => rendered.get(key) || form.closest("article");
    try {
      await inbound(model.conversations.get(key) || c, { text });
      model.replyErrors.delete(key);
      confirmPending(key, pending);
    } catch (failure) {
      // The text goes back where it was typed; the person sees why and may send it again.
      dropPending(key, pending);
      model.replyErrors.set(key, `Not sent: ${failure.message}`);
      const field = current()?.querySelector("input[name=text]");
      if (field && !field.value) field.value = text;
    }
    const box = current();
    if (box) {
      const shown = box.querySelector(".reply-error");
      if (shown) {
        shown.textContent = model.replyErrors.get(key) || "";
        shown.hidden = !model.replyErrors.has(key);
      }
    }
  });
  return form;
}

// Draw one conversation's article from the model (it must be in the page). The reader's
// message stays where it is; a thread at its newest stays there (`stick`: go there).
export function drawArticle(key, { stick = false } = {}) {
  const box = rendered.get(key);
  const t = model.threads.get(key);
  const c = model.conversations.get(key);
  if (!box || !c) return;
  box.classList.toggle("fresh", model.fresh.has(key) && !model.search);
  const list = box.querySelector(".messages");
  if (!t) {
    if (!list.children.length) list.append(Object.assign(el("div", "loading", "Loading\u2026"), { role: "status" }));
    return;
  }
  list.querySelector(":scope > .loading")?.remove();
  const { agent } = names(c);
  const thread = box.querySelector(".thread");
  const first = !list.children.length;
  const anchor = stick || first ? null : anchorOf(thread);
  const newestBefore = box.dataset.newest;
  const focusKey = box.contains(document.activeElement) ? document.activeElement.dataset.focusKey : null;
  const made = reconcile(list, threadItems(key, t, agent));
  const newestNow = t.messages.length ? t.messages[t.messages.length - 1].id : "";
  box.dataset.newest = newestNow;
  drawFoot(box, key, t, agent);
  const carousels = made.flatMap((node) => [...node.querySelectorAll(".carousel")]);
  if (carousels.length) fitCarousels(carousels);
  restoreAnchor(thread, anchor);
  if (anchor && newestBefore && newestBefore !== newestNow && t.end >= t.count) markNew(box);
  if (focusKey && !box.contains(document.activeElement)) {
    box.querySelector(`[data-focus-key="${CSS.escape(focusKey)}"]`)?.focus({ preventScroll: true });
  }
}

// -- the windowed grid ---------------------------------------------------------------------------

const grid = { cols: 1, colW: 0, gap: 16, phoneH: 600, rowH: 616 };

function measure() {
  const rem = parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
  const width = root.clientWidth;
  if (!width) return; // not laid out (yet): the last measure stands
  const gap = rem;
  const min = 22 * rem;
  const cols = Math.max(1, Math.floor((width + gap) / (min + gap)));
  const header = document.querySelector("header")?.offsetHeight || 48;
  // A phone's screen: as tall as the window allows, between 24rem and 40rem.
  const phoneH = Math.round(Math.max(24 * rem, Math.min(40 * rem, innerHeight - header - 2 * rem)));
  Object.assign(grid, { cols, colW: Math.max(0, (width - gap * (cols - 1)) / cols), gap, phoneH, rowH: phoneH + gap });
}

function placeAt(box, index) {
  const row = Math.floor(index / grid.cols);
  const col = index % grid.cols;
  box.style.transform = `translate(${Math.round(col * (grid.colW + grid.gap))}px, ${row * grid.rowH}px)`;
  box.style.width = `${grid.colW}px`;
  box.style.height = `${grid.phoneH}px`;
  box.setAttribute("aria-posinset", String(index + 1));
  box.setAttribute("aria-setsize", String(model.order.length));
}

function wantedRange() {
  const top = root.getBoundingClientRect().top;
  const from = -top - OVERSCAN * innerHeight;
  const to = -top + (1 + OVERSCAN) * innerHeight;
  const first = Math.max(0, Math.floor(from / grid.rowH));
  const last = Math.max(first, Math.floor(to / grid.rowH));
  return [first * grid.cols, Math.min(model.order.length, (last + 1) * grid.cols)];
}

let syncing = null;
let resyncWanted = false;

// The phones near the screen in the page, the others out; those without their messages load
// them. Several calls at once make one more pass after the one under way.
export function sync() {
  if (syncing) {
    resyncWanted = true;
    return syncing;
  }
  syncing = (async () => {
    do {
      resyncWanted = false;
      await syncOnce();
    } while (resyncWanted);
  })().finally(() => { syncing = null; });
  return syncing;
}

async function syncOnce() {
  const rows = Math.ceil(model.order.length / grid.cols);
  root.style.height = `${Math.max(0, rows * grid.rowH - grid.gap)}px`;
  const [from, to] = wantedRange();
  const wanted = new Set(model.order.slice(from, to));
  const focused = document.activeElement?.closest?.("article.phone")?.dataset.key;
  if (focused && model.conversations.has(focused) && model.order.includes(focused)) wanted.add(focused);
  for (const [key, box] of rendered) {
    if (!wanted.has(key)) {
      box.remove();
      rendered.delete(key);
    }
  }
  const index = new Map(model.order.map((key, i) => [key, i]));
  for (const [key, box] of rendered) placeAt(box, index.get(key));
  for (const key of wanted) {
    if (rendered.has(key)) continue;
    const box = articleShell(key);
    placeAt(box, index.get(key));
    root.append(box);
    rendered.set(key, box);
    drawArticle(key); // its messages, or "Loading…"
    await breathe();
  }
  inOrder(index);
  for (const key of rendered.keys()) if (model.threads.has(key)) drawArticle(key);
  drawSummary();
  const missing = [...rendered.keys()].filter((key) => !model.threads.has(key) && !loading.has(key));
  for (const key of missing) loading.add(key);
  await pooled(missing.map((key) => async () => {
    try {
      await loadNewest(key);
    } catch (error) {
      console.warn(error);
      return;
    } finally {
      loading.delete(key);
    }
    await breathe();
    drawArticle(key);
  }), FETCHES);
}

// The phones in the page in the order shown (Tab and screen readers follow it), moving none
// that is already in place (a moved one would lose its scroll and focus).
function inOrder(index) {
  const boxes = [...rendered.entries()].sort(([a], [b]) => index.get(a) - index.get(b)).map(([, box]) => box);
  let cursor = root.firstElementChild;
  for (const box of boxes) {
    if (box === cursor) cursor = cursor.nextElementSibling;
    else root.insertBefore(box, cursor);
  }
}

// Draw from the model: the list's order and the phones in view.
export async function draw() {
  measure();
  root.setAttribute("aria-busy", "true");
  try {
    await sync();
  } finally {
    root.setAttribute("aria-busy", "false");
  }
}

let scrolled = false;
addEventListener("scroll", () => {
  if (scrolled) return;
  scrolled = true;
  requestAnimationFrame(() => {
    scrolled = false;
    if (model.held.length && window.scrollY <= 0) showHeld();
    sync();
  });
}, { passive: true });
new ResizeObserver(() => { measure(); sync(); }).observe(root);

// The keyboard: Page Down / Page Up move to the next / previous conversation (the ARIA feed's
// keys), so a keyboard user jumps conversation to conversation.
root.addEventListener("keydown", (event) => {
  if ((event.key !== "PageDown" && event.key !== "PageUp") || event.altKey || event.ctrlKey || event.metaKey) return;
  const box = event.target.closest("article.phone");
  if (!box) return;
  event.preventDefault();
  const at = model.order.indexOf(box.dataset.key);
  const next = at + (event.key === "PageDown" ? 1 : -1);
  if (next >= 0 && next < model.order.length) focusConversation(next);
});

export async function focusConversation(index) {
  const key = model.order[index];
  const row = Math.floor(index / grid.cols);
  const top = root.getBoundingClientRect().top + window.scrollY + row * grid.rowH;
  const header = document.querySelector("header")?.offsetHeight || 0;
  const box = rendered.get(key);
  const shown = box && box.getBoundingClientRect().top >= header && box.getBoundingClientRect().bottom <= innerHeight;
  if (!shown) window.scrollTo({ top: Math.max(0, top - header - grid.gap) });
  if (!rendered.has(key)) {
    const fresh = articleShell(key);
    placeAt(fresh, index);
    root.append(fresh);
    rendered.set(key, fresh);
    drawArticle(key);
  }
  rendered.get(key).focus({ preventScroll: true });
  sync();
}

// A conversation's new-activity mark goes once someone looks at it (a click or focus inside).
function looked(event) {
  const box = event.target.closest?.("article.phone");
  if (box && model.fresh.delete(box.dataset.key)) box.classList.remove("fresh");
}
root.addEventListener("focusin", looked);
root.addEventListener("pointerdown", looked);

// -- the summary -------------------------------------------------------------------------------

// The summary's parts are made once and changed in place (a button someone is about to click
// is never replaced under the pointer).
const parts = {
  counts: el("span", "counts"),
  older: Object.assign(el("button", "load-older"), { type: "button", hidden: true }),
  held: Object.assign(el("button", "show-held"), { type: "button", hidden: true }),
};
summary.append(parts.counts, parts.older, parts.held);
parts.older.addEventListener("click", async () => {
  parts.older.disabled = true;
  try {
    await searchOlder();
    await draw();
  } catch (error) {
    parts.older.textContent = `Load older (failed: ${error.message})`;
  } finally {
    parts.older.disabled = false;
  }
});
parts.held.addEventListener("click", () => {
  showHeld();
  draw();
});

function drawSummary() {
  const search = model.search;
  const shown = model.order.length;
  const empty = !shown && !search;
  const note = root.parentElement.querySelector(".empty.none-yet");
  if (empty && !note) {
    root.before(el("p", "empty none-yet", "No messages yet. Send one to the emulator and it appears here."));
  } else if (!empty && note) {
    note.remove();
  }
  noMatches.hidden = !(search && !shown);
  // A feed holds articles: with none, it is no feed (it stays laid out: its width is measured).
  if (shown) root.setAttribute("role", "feed");
  else root.removeAttribute("role");

  noMatches.textContent = `No conversation matches \u201c${search || ""}\u201d.`;
  const said = [];
  if (search) {
    said.push(model.loaded < model.total
      ? `Newest ${count(model.loaded)} of ${count(model.total)} messages that match \u201c${search}\u201d`
      : `${count(model.total)} message${model.total === 1 ? " matches" : "s match"} \u201c${search}\u201d`);
    if (shown) said.push(`${count(shown)} conversation${shown === 1 ? "" : "s"}`);
  } else if (model.total) {
    said.push(`${count(model.total)} message${model.total === 1 ? "" : "s"}`);
    const listed = shown + model.held.length;
    said.push(listed < model.totalConversations
      ? `newest ${count(listed)} of ${count(model.totalConversations)} conversations`
      : `${count(listed)} conversation${listed === 1 ? "" : "s"}`);
  }
  const text = said.join(" \u00b7 ");
  if (parts.counts.textContent !== text) parts.counts.textContent = text;
  const more = search && model.loaded < model.total ? Math.min(SEARCH_WINDOW, model.total - model.loaded) : 0;
  parts.older.hidden = !more;
  if (more) {
    const label = `Load ${count(more)} older`;
    if (parts.older.textContent !== label) parts.older.textContent = label;
    parts.older.setAttribute("aria-label", `${label} matching messages`);
  }
  const n = model.held.length;
  parts.held.hidden = !n;
  const heldText = `${count(n)} new conversation${n === 1 ? "" : "s"} \u2191`;
  if (n && parts.held.textContent !== heldText) parts.held.textContent = heldText;
  summary.hidden = !said.length;
}

// The conversations the page holds no messages of any more (a reset): forgotten at once.
export function forgetEverything() {
  model.threads.clear();
  model.pending.clear();
  model.fresh.clear();
  model.known = null;
  model.order = [];
  model.held = [];
}
