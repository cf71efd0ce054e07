// The webhook log: one line per delivery; its attempts (status, response, time) and payload open
// on demand, and stay open across redraws.
import { el } from "./messages.js";

function attemptNode(attempt) {
  const outcome = attempt.error ? `error: ${attempt.error}` : `${attempt.status}`;
  const li = el("li", attempt.accepted ? "accepted" : "refused",
    `#${attempt.attempt} ${attempt.time.slice(11, 19)} \u2192 ${outcome} (${attempt.duration_ms} ms)`);
  if (attempt.body) li.append(el("pre", "response", attempt.body.slice(0, 500)));
  return li;
}

function deliveryNode(delivery, open) {
  const item = el("li", `delivery state-${delivery.state}`);
  Object.assign(item.dataset, { id: String(delivery.id), state: delivery.state, phone: delivery.phone,
                                event: delivery.event, provider: delivery.provider, agent: delivery.agent_id });
  const details = el("details");
  details.open = open;
  const summary = el("summary");
  summary.append(el("b", null, delivery.event), ` ${delivery.phone} \u00b7 `, el("span", "state", delivery.state));
  details.append(summary, el("div", "url", `${delivery.provider} \u2192 ${delivery.url}`));
  const attempts = el("ol", "attempts");
  attempts.append(...delivery.attempts.map(attemptNode));
  details.append(attempts, el("pre", "payload", JSON.stringify(delivery.payload, null, 2)));
  item.append(details);
  return item;
}

// `deliveries` oldest first, as the control API lists them; the log shows the newest on top.
export function drawLog(list, deliveries) {
  const open = new Set([...list.querySelectorAll("li[data-id] > details[open]")].map((d) => d.parentElement.dataset.id));
  list.replaceChildren(...deliveries.slice().reverse().map((d) => deliveryNode(d, open.has(String(d.id)))));
}
