// A conversation's thread as a phone keeps it, across draws: its rows are kept by key and only
// the changed ones are built again, so what is typed, focused or read stays put; a thread at
// its newest message stays there as messages come; a reader further up keeps the message they
// read exactly where it was on the screen (new messages below, "Load earlier" above), and a
// "New message" button says something came in below.
import { el } from "./messages.js";

const AT_NEWEST = 4; // px from the bottom that still count as "at the newest message"

// How many rows the page has built, in all (tests count draws with it).
export const built = { rows: 0 };

// `items`: [{key, sig, build}] in order. A row whose key and sig are unchanged is kept; the
// others are built (build() returns the node). Returns the rows built now.
export function reconcile(list, items) {
  const existing = new Map();
  for (const child of list.children) existing.set(child.dataset.key, child);
  const made = [];
  const nodes = items.map((item) => {
    const old = existing.get(item.key);
    if (old && old.dataset.sig === item.sig) return old;
    const node = item.build();
    node.dataset.key = item.key;
    node.dataset.sig = item.sig;
    made.push(node);
    return node;
  });
  built.rows += made.length;
  const keep = new Set(nodes);
  for (const child of [...list.children]) if (!keep.has(child)) child.remove();
  let cursor = list.firstElementChild;
  for (const node of nodes) {
    if (node === cursor) cursor = cursor.nextElementSibling;
    else list.insertBefore(node, cursor);
  }
  return made;
}

export const atNewest = (thread) => thread.scrollHeight - thread.scrollTop - thread.clientHeight <= AT_NEWEST;

// The message a reader is reading (the first one in view, not a "load" row) and where it is
// on the screen; null for a reader at the newest message.
export function anchorOf(thread) {
  if (!thread.isConnected || atNewest(thread)) return null;
  const top = thread.getBoundingClientRect().top;
  for (const row of thread.querySelector(".messages").children) {
    if (!row.dataset.key || row.dataset.key.startsWith("load|")) continue;
    const box = row.getBoundingClientRect();
    if (box.bottom > top + 1) return { key: row.dataset.key, top: box.top };
  }
  return null;
}

// After a change: the reader's message back where it was, or the thread at its newest.
export function restoreAnchor(thread, anchor) {
  if (!anchor) {
    thread.scrollTop = thread.scrollHeight;
    return;
  }
  const row = [...thread.querySelector(".messages").children].find((r) => r.dataset.key === anchor.key);
  if (row) thread.scrollTop += row.getBoundingClientRect().top - anchor.top;
}

// The button sits under the thread, above the reply box (never over a message): the thread's
// top, and so what the reader reads, does not move when it comes.
export function markNew(box) {
  if (box.querySelector(".new-below")) return;
  const thread = box.querySelector(".thread");
  const button = el("button", "new-below", "New message \u2193");
  button.type = "button";
  button.addEventListener("click", () => {
    thread.scrollTop = thread.scrollHeight;
    button.remove();
    const rows = thread.querySelectorAll(".bubble");
    rows[rows.length - 1]?.focus({ preventScroll: true });
  });
  box.querySelector(".foot").prepend(button);
}

// The mark goes once the reader is back at the newest message; arrow keys move between the
// thread's bubbles (one tab stop for the whole thread).
export function watchThread(box) {
  const thread = box.querySelector(".thread");
  thread.addEventListener("scroll", () => {
    if (atNewest(thread)) box.querySelector(".new-below")?.remove();
  }, { passive: true });
  thread.addEventListener("keydown", (event) => {
    if (event.key !== "ArrowUp" && event.key !== "ArrowDown") return;
    const bubbles = [...thread.querySelectorAll(".bubble")];
    if (!bubbles.length) return;
    const at = bubbles.indexOf(event.target.closest(".bubble"));
    const next = at < 0 ? (event.key === "ArrowUp" ? bubbles.length - 1 : 0)
      : Math.max(0, Math.min(bubbles.length - 1, at + (event.key === "ArrowUp" ? -1 : 1)));
    event.preventDefault();
    bubbles[next].focus({ preventScroll: true });
    bubbles[next].scrollIntoView({ block: "nearest" });
  });
}
