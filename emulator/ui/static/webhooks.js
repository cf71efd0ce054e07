// The webhook log: one line per delivery (time, provider, the provider's own word for the
// callback, phone, answer, attempts, next retry); its attempts, payload and decoded texts open on
// demand and stay open across redraws. A finished delivery can be sent again (Redeliver).
import { post, titleOf } from "./api.js";
import { el, toast } from "./messages.js";

const clock = (iso) => (iso ? iso.slice(11, 19) : "");

function attemptNode(attempt) {
  const outcome = attempt.error ? `error: ${attempt.error}` : `HTTP ${attempt.status}`;
  const li = el("li", attempt.accepted ? "accepted" : "refused",
    `#${attempt.attempt} ${clock(attempt.time)} \u2192 ${outcome} (${attempt.duration_ms} ms)`);
  if (attempt.body) li.append(el("pre", "response", attempt.body.slice(0, 500)));
  return li;
}

// The last attempt's answer, as the line shows it.
function answerOf(delivery) {
  const last = delivery.attempts[delivery.attempts.length - 1];
  if (!last) return delivery.state.replace("_", " ");
  return last.error ? `error: ${last.error}` : `HTTP ${last.status}`;
}

export function deliveryNode(delivery, open, openMessage) {
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
  details.append(summary, el("div", "url", `${delivery.state} \u2192 ${delivery.url}`));
  const attempts = el("ol", "attempts");
  attempts.append(...delivery.attempts.map(attemptNode));
  details.append(attempts);
  const decoded = Object.entries(delivery.decoded || {});
  if (decoded.length) {
    const list = el("dl", "decoded");
    for (const [field, text] of decoded) list.append(el("dt", null, `${field} (decoded)`), el("dd", null, text ?? "not valid base64 UTF-8"));
    details.append(list);
  }
  details.append(el("pre", "payload", JSON.stringify(delivery.payload, null, 2)));
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
  details.append(actions);
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

// `deliveries` oldest first, as the control API lists them; the log shows the newest on top.
export function drawLog(list, deliveries, openMessage) {
  const open = new Set([...list.querySelectorAll("li[data-id] > details[open]")].map((d) => d.parentElement.dataset.id));
  list.replaceChildren(...deliveries.slice().reverse().map((d) => deliveryNode(d, open.has(String(d.id)), openMessage)));
}
