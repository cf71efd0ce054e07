// The webhook log: one line per delivery (time, provider, the provider's own word for the
// callback, phone, answer, attempts, next retry); its attempts, payload and decoded texts open on
// demand and stay open across redraws. A finished delivery can be sent again (Redeliver).
import { count, post, titleOf } from "./api.js";
import { el, toast } from "./messages.js";

const clock = (iso) => (iso ? iso.slice(11, 19) : "");

// A box of text a person may need to scroll, named for what it holds (and reachable by keyboard).
function labelled(className, label, text) {
  const figure = el("figure", `labelled ${className}-box`);
  const caption = el("figcaption", null, label);
  const pre = el("pre", className, text);
  pre.tabIndex = 0;
  pre.setAttribute("aria-label", label);
  figure.append(caption, pre);
  return figure;
}

function attemptNode(attempt) {
  const outcome = attempt.error ? `error: ${attempt.error}` : `HTTP ${attempt.status}`;
  const li = el("li", attempt.accepted ? "accepted" : "refused",
    `#${attempt.attempt} ${clock(attempt.time)} \u2192 ${outcome} (${attempt.duration_ms} ms)`);
  if (attempt.body) li.append(labelled("response", `Answer to attempt #${attempt.attempt}`, attempt.body.slice(0, 500)));
  return li;
}

// The last attempt's answer, as the line shows it.
function answerOf(delivery) {
  const last = delivery.attempts[delivery.attempts.length - 1];
  if (!last) return delivery.state.replace("_", " ");
  return last.error ? `error: ${last.error}` : `HTTP ${last.status}`;
}

// `lazy`: what the line holds when opened is built when it is first opened (the log of the
// page stays light; a message's panel shows its few deliveries whole).
export function deliveryNode(delivery, open, openMessage, lazy = false) {
  const item = el("li", `delivery state-${delivery.state}`);
  Object.assign(item.dataset, { id: String(delivery.id), state: delivery.state, phone: delivery.phone,
                                event: delivery.event, provider: delivery.provider, agent: delivery.agent_id,
                                message: delivery.message_id || "" });
  item.dataset.search = [delivery.phone, delivery.agent_id, delivery.provider, titleOf(delivery.provider), delivery.message_id,
                         delivery.name, delivery.url, String(delivery.id)].join(" ").toLowerCase();
  const details = el("details");
  details.open = open;
  const summary = el("summary");
  const retry = delivery.next_attempt_at ? ` \u00b7 retry ${clock(delivery.next_attempt_at)}` : "";
  summary.append(
    el("time", "when", clock(delivery.created)), " ",
    el("span", "provider", titleOf(delivery.provider)), " ",
    el("b", "name", delivery.name || delivery.event), " ",
    el("span", "to", delivery.phone), " \u00b7 ",
    el("span", "state", `${answerOf(delivery)}`),
    el("span", "attempts-count", ` \u00b7 ${delivery.attempts.length} attempt${delivery.attempts.length === 1 ? "" : "s"}${retry}`),
  );
  details.append(summary);
  const fill = () => {
    if (details.dataset.filled) return;
    details.dataset.filled = "1";
    details.append(...lineContent(delivery, openMessage));
  };
  if (open || !lazy) fill();
  details.addEventListener("toggle", () => { if (details.open) fill(); });
  item.append(details);
  if (delivery.message_id && openMessage) {
    // The line itself leads to its message too, without opening the line first.
    const jump = el("button", "open-message", "\u2197");
    jump.type = "button";
    jump.title = "Open the message's details";
    jump.setAttribute("aria-label", `Open the details of the message behind this ${delivery.name || delivery.event} callback`);
    jump.addEventListener("click", () => openMessage(delivery.message_id));
    item.append(jump);
  }
  return item;
}

function lineContent(delivery, openMessage) {
  const nodes = [el("div", "url", `${delivery.state} \u2192 ${delivery.url}`)];
  const attempts = el("ol", "attempts");
  attempts.append(...delivery.attempts.map(attemptNode));
  nodes.push(attempts);
  const decoded = Object.entries(delivery.decoded || {});
  if (decoded.length) {
    const list = el("dl", "decoded");
    for (const [field, text] of decoded) list.append(el("dt", null, `${field} (decoded)`), el("dd", null, text ?? "not valid base64 UTF-8"));
    nodes.push(list);
  }
  nodes.push(labelled("payload", "Payload sent", JSON.stringify(delivery.payload, null, 2)));
  const actions = el("div", "actions");
  const again = el("button", "redeliver", "Redeliver");
  again.type = "button";
  const finished = delivery.state === "delivered" || delivery.state === "failed";
  again.disabled = !finished;
  again.title = finished ? "send this callback once more, now" : "still under way: wait for it to finish";
  again.setAttribute("aria-label", `Redeliver the ${delivery.name || delivery.event} callback for ${delivery.phone}`);
  again.addEventListener("click", async () => {
    try {
      await post(`/_emulator/webhooks/${delivery.id}/redeliver`, {});
      toast(`Redelivering ${delivery.name || delivery.event} to ${delivery.url}`);
    } catch (error) {
      toast(`Could not redeliver: ${error.message}`);
    }
  });
  actions.append(again);
  if (delivery.message_id && openMessage) {
    const show = el("button", "show-message", "Message details");
    show.type = "button";
    show.addEventListener("click", () => openMessage(delivery.message_id));
    actions.append(show);
  }
  nodes.push(actions);
  return nodes;
}

// `deliveries` oldest first, as the control API lists them; the log shows the newest on top,
// says how many of how many it shows, and says so when a search leaves none.
export function drawLog(list, deliveries, openMessage) {
  const open = new Set([...list.querySelectorAll("li[data-id] > details[open]")].map((d) => d.parentElement.dataset.id));
  // Newest on top by the time each line says (an advance runs each tenant's events in turn, so
  // the order deliveries were made in is not always the order of their times).
  const ordered = deliveries.slice().reverse()
    .sort((a, b) => (a.created < b.created ? 1 : a.created > b.created ? -1 : b.id - a.id));
  list.replaceChildren(...ordered.map((d) => deliveryNode(d, open.has(String(d.id)), openMessage, true)));
}

export function logSummary(shown, total, search, failuresOnly, loadOlder) {
  const what = failuresOnly ? "failing deliveries" : "deliveries";
  const match = search ? ` that match${total === 1 ? "es" : ""} \u201c${search}\u201d` : "";
  const parts = [];
  if (!total) {
    parts.push(el("span", "counts", search || failuresOnly ? `No ${what} match${search ? ` \u201c${search}\u201d` : ""}.` : "No deliveries yet."));
  } else {
    parts.push(el("span", "counts", shown < total ? `Newest ${count(shown)} of ${count(total)} ${what}${match}`
      : `${count(total)} ${total === 1 ? what.replace("deliveries", "delivery") : what}${match}`));
  }
  if (shown < total) {
    const older = el("button", "load-older", `Load ${count(Math.min(50, total - shown))} older`);
    older.type = "button";
    older.setAttribute("aria-label", `Load ${count(Math.min(50, total - shown))} older webhook deliveries`);
    older.addEventListener("click", () => { older.disabled = true; loadOlder(); });
    parts.push(older);
  }
  return parts;
}
