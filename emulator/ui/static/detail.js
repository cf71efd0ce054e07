// One message in detail: its phone preview, the exact request and answer behind it (pretty,
// copyable, and as a curl command that replays it against this emulator), its events with
// times, and the webhook deliveries it caused with every attempt.
//
// The panel follows the message live (its status, events and deliveries as they happen), keeps
// the keyboard inside it while open, and gives the focus back to the message on Escape.
import { api, fileUrl, titleOf } from "./api.js";
import { agentBubble, el, statusWord, timeOf, toast } from "./messages.js";
import { agentName, shortId, shortenIds } from "./names.js";
import { deliveryNode } from "./webhooks.js";

const panel = () => document.getElementById("detail");
let opener = null; // what had the focus when the panel opened: it gets it back

async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // Not a secure context (http:// on another host): the old way still works.
    const area = el("textarea");
    area.value = text;
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
  toast("Copied");
}

function copyable(title, text) {
  const box = el("section", "copyable");
  const head = el("h4", null, title);
  const button = el("button", "copy", "Copy");
  button.type = "button";
  button.setAttribute("aria-label", `Copy the ${title.toLowerCase()}`);
  button.addEventListener("click", () => copy(text));
  head.append(" ", button);
  const pre = el("pre", null, text);
  pre.tabIndex = 0; // it may scroll: the keyboard reaches it
  pre.setAttribute("aria-label", title);
  box.append(head, pre);
  return box;
}

const quote = (text) => `'${String(text).replaceAll("'", "'\\''")}'`;

// The body as bytes again: JSON as JSON, a form as a form, text as it was.
function rawBody(body, type) {
  if (body === null || body === undefined) return null;
  if (typeof body === "string") return body;
  if (type.startsWith("application/x-www-form-urlencoded")) {
    const form = new URLSearchParams();
    for (const [key, value] of Object.entries(body)) {
      for (const one of Array.isArray(value) ? value : [value]) form.append(key, one);
    }
    return form.toString();
  }
  return JSON.stringify(body);
}

export function curlOf(request) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(request.query || {})) {
    for (const one of Array.isArray(value) ? value : [value]) query.append(key, one);
  }
  const url = `${location.origin}${request.path}${query.toString() ? `?${query}` : ""}`;
  const skip = new Set(["host", "content-length", "connection", "accept-encoding"]);
  const lines = [`curl -X ${request.method} ${quote(url)}`];
  for (const [name, value] of Object.entries(request.headers || {})) {
    if (!skip.has(name.toLowerCase())) lines.push(`  -H ${quote(`${name}: ${value}`)}`);
  }
  const type = (request.headers || {})["content-type"] || "";
  const body = rawBody(request.body, type);
  if (body !== null && !(body && typeof request.body === "object" && request.body.multipart)) {
    lines.push(`  --data-raw ${quote(body)}`);
  }
  return lines.join(" \\\n");
}

function pretty(value) {
  return typeof value === "string" ? value : JSON.stringify(value, null, 2);
}

function exchangeNodes(exchange) {
  if (!exchange) return [el("p", "muted", "No exchange recorded (a message restored from a state file).")];
  const { request, response } = exchange;
  const query = new URLSearchParams(request.query || {}).toString();
  const head = `${request.method} ${request.path}${query ? `?${query}` : ""}\n`
    + Object.entries(request.headers).map(([k, v]) => `${k}: ${v}`).join("\n");
  const answer = `HTTP ${response.status}\n`
    + Object.entries(response.headers).map(([k, v]) => `${k}: ${v}`).join("\n");
  const nodes = [
    copyable("Request", `${head}\n\n${request.body === null ? "" : pretty(request.body)}`),
    copyable("Response", `${answer}\n\n${response.body === null ? "" : pretty(response.body)}`),
    copyable("Replay with curl", curlOf(request)),
  ];
  if (JSON.stringify(request).includes("***")) {
    nodes.push(el("p", "muted", "Credentials are masked (***): put yours in their place to replay."));
  }
  return nodes;
}

function timelineNode(message) {
  const list = el("ol", "timeline");
  list.append(el("li", null, `${timeOf(message.created)} accepted`));
  for (const event of message.events) {
    const said = event.text ?? (event.postback && message.suggestions.find((s) => s.postback === event.postback)?.label) ?? event.postback;
    const item = el("li", event.inbound ? "inbound" : null, `${timeOf(event.time)} ${event.type}${said ? ": " : ""}`);
    if (said) {
      const text = el("span", null, said);
      text.dir = "auto";
      item.append(text);
    }
    list.append(item);
  }
  return list;
}

async function render(messageId) {
  const root = panel();
  let message;
  let deliveries;
  try {
    [message, deliveries] = await Promise.all([
      api(`/_emulator/messages/${encodeURIComponent(messageId)}`),
      api(`/_emulator/webhooks?${new URLSearchParams({ message: messageId, limit: 100 })}`),
    ]);
  } catch (error) {
    if (root.dataset.messageId !== messageId) throw error;
    // Open already: what it shows stays, and says it may be out of date.
    markDetailStale(error.message === "no message with that id"
      ? "This message is not in the emulator any more (it was cleared, or the emulator restarted)."
      : `Could not update: ${error.message}.`);
    return;
  }
  const scroll = root.scrollTop;
  const focused = root.contains(document.activeElement) ? document.activeElement : null;
  const focusKey = focused && (focused.getAttribute("aria-label") || focused.className);
  const close = el("button", "close", "\u00d7");
  close.type = "button";
  close.setAttribute("aria-label", "Close the message details");
  close.addEventListener("click", () => closeDetail());
  const title = el("h2", null, "Message ");
  title.append(shortId(message.id));
  title.id = "detail-title";
  const copyId = el("button", "copy", "Copy id");
  copyId.type = "button";
  copyId.setAttribute("aria-label", "Copy the message id");
  copyId.addEventListener("click", () => copy(message.id));
  const who = el("p", "muted");
  const agent = agentName(message.agent_id, message.agent_name);
  who.append(agent, " ");
  if (agent !== message.agent_id) who.append("(", shortId(message.agent_id), ") ");
  who.append(`${titleOf(message.provider)} \u2192 ${message.phone} \u00b7 ${statusWord(message)}`);
  who.dataset.status = message.status;
  const preview = el("div", "preview");
  preview.append(agentBubble(message, fileUrl, null, false));
  const hooks = el("ol", "detail-webhooks");
  const open = new Set([...root.querySelectorAll(".detail-webhooks li[data-id] > details[open]")].map((d) => d.parentElement.dataset.id));
  hooks.append(...deliveries.items.map((d) => deliveryNode(d, open.has(String(d.id)), null)));
  root.replaceChildren(
    close, title, copyId, who, preview,
    el("h3", null, "Events"), timelineNode(message),
    el("h3", null, "HTTP exchange"), ...exchangeNodes(message.exchange),
    el("h3", null, `Webhook deliveries (${deliveries.total})`),
    deliveries.total ? hooks : el("p", "muted", "None: no webhook URL, or no event that calls one yet."),
  );
  root.dataset.messageId = message.id;
  root.scrollTop = scroll;
  if (focusKey) {
    const again = [...root.querySelectorAll("button, pre, summary, a")].find(
      (node) => (node.getAttribute("aria-label") || node.className) === focusKey);
    (again || close).focus();
  }
}

export async function openDetail(messageId, from) {
  const root = panel();
  const wasOpen = !root.hidden;
  await render(messageId);
  if (!wasOpen) opener = from || document.activeElement;
  root.hidden = false;
  document.body.classList.add("detail-open");
  root.querySelector("button.close").focus();
}

// What the panel shows may be out of date (the emulator is out of reach, or forgot the message).
export function markDetailStale(text) {
  const root = panel();
  if (root.hidden) return;
  root.querySelector(".detail-stale")?.remove();
  const stale = el("p", "detail-stale", shortenIds(text));
  stale.setAttribute("role", "status");
  root.querySelector("h2")?.after(stale);
}

// The open message changed (a notice named it, or everything did): draw it again.
export async function refreshDetail(notice) {
  const root = panel();
  const id = root.dataset.messageId;
  if (root.hidden || !id) return;
  if (notice && notice.message_id && notice.message_id !== id) return;
  try {
    await render(id);
  } catch (error) {
    console.warn(error);
  }
}

export const detailOpenFor = () => (panel().hidden ? null : panel().dataset.messageId);

export function closeDetail() {
  const root = panel();
  const id = root.dataset.messageId;
  root.hidden = true;
  delete root.dataset.messageId;
  document.body.classList.remove("detail-open");
  // Back to the message (drawn again since, maybe), or to whatever opened the panel.
  const bubble = id && document.querySelector(`#conversations .bubble.agent[data-message-id="${CSS.escape(id)}"]`);
  const back = opener && opener.isConnected ? opener : bubble;
  opener = null;
  back?.focus();
}

const focusables = (root) => [...root.querySelectorAll("button, [href], input, summary, [tabindex]:not([tabindex='-1'])")]
  // (inside a closed <details> a node still has boxes, but checkVisibility knows it is hidden)
  .filter((node) => !node.disabled && (node.checkVisibility ? node.checkVisibility() : node.getClientRects().length));

document.addEventListener("keydown", (event) => {
  const root = panel();
  if (root.hidden) return;
  if (event.key === "Escape") {
    event.preventDefault();
    closeDetail();
  } else if (event.key === "Tab") {
    // The keyboard stays inside the open panel: Tab from its last control goes to its first.
    const inside = focusables(root);
    if (!inside.length) return;
    const [first, last] = [inside[0], inside[inside.length - 1]];
    if (!root.contains(document.activeElement)) {
      event.preventDefault();
      first.focus();
    } else if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  }
});
