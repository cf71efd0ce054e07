// One message in detail: its phone preview, the exact request and answer behind it (pretty,
// copyable, and as a curl command that replays it against this emulator), its events with
// times, and the webhook deliveries it caused with every attempt.
import { api, fileUrl, titleOf } from "./api.js";
import { agentBubble, el, statusWord, toast } from "./messages.js";
import { deliveryNode } from "./webhooks.js";

const panel = () => document.getElementById("detail");

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
  box.append(head, el("pre", null, text));
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
  list.append(el("li", null, `${message.created.slice(11, 19)} accepted`));
  for (const event of message.events) {
    const said = event.text ?? event.postback;
    list.append(el("li", event.inbound ? "inbound" : null,
      `${event.time.slice(11, 19)} ${event.type}${said ? `: ${said}` : ""}`));
  }
  return list;
}

export async function openDetail(messageId, opener) {
  const root = panel();
  const [message, deliveries] = await Promise.all([
    api(`/_emulator/messages/${encodeURIComponent(messageId)}`),
    api(`/_emulator/webhooks?${new URLSearchParams({ message: messageId, limit: 100 })}`),
  ]);
  const close = el("button", "close", "\u00d7");
  close.type = "button";
  close.setAttribute("aria-label", "Close the message details");
  close.addEventListener("click", () => closeDetail(opener));
  const title = el("h2", null, `Message ${message.id}`);
  title.id = "detail-title";
  const who = el("p", "muted", `${message.agent_name || message.agent_id} (${titleOf(message.provider)}) \u2192 ${message.phone} \u00b7 ${statusWord(message)}`);
  const preview = el("div", "preview");
  preview.append(agentBubble(message, fileUrl, null, false));
  const hooks = el("ol", "detail-webhooks");
  hooks.append(...deliveries.items.map((d) => deliveryNode(d, true, null)));
  root.replaceChildren(
    close, title, who, preview,
    el("h3", null, "Events"), timelineNode(message),
    el("h3", null, "HTTP exchange"), ...exchangeNodes(message.exchange),
    el("h3", null, `Webhook deliveries (${deliveries.total})`),
    deliveries.total ? hooks : el("p", "muted", "None: no webhook URL, or no event that calls one yet."),
  );
  root.dataset.messageId = message.id;
  root.hidden = false;
  close.focus();
}

export function closeDetail(opener) {
  const root = panel();
  root.hidden = true;
  delete root.dataset.messageId;
  if (opener && opener.isConnected) opener.focus();
}

document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && !panel().hidden) closeDetail();
});
