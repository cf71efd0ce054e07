// What people read for ids: an agent known only by a UUID (some providers' bots, when not
// named) gets a readable name made from its id, the same on every load and distinct on the
// page; long ids in text are shortened to their first segment, the whole id on hover.
import { el } from "./messages.js";

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const WHOLE = new RegExp(`^${UUID.source}$`, "i");

const ADJECTIVES = ["Amber", "Azure", "Brave", "Bright", "Calm", "Clever", "Coral", "Crimson",
  "Eager", "Gentle", "Golden", "Happy", "Hazel", "Indigo", "Jolly", "Keen", "Lively", "Lucky",
  "Mellow", "Misty", "Noble", "Olive", "Polar", "Quick", "Rosy", "Silver", "Sunny", "Swift",
  "Teal", "Tidy", "Violet", "Witty"];
const NOUNS = ["Badger", "Bee", "Comet", "Crane", "Dolphin", "Falcon", "Fern", "Finch", "Fox",
  "Gecko", "Heron", "Ibis", "Koala", "Lark", "Lynx", "Maple", "Marten", "Moose", "Otter", "Owl",
  "Panda", "Pine", "Puffin", "Raven", "Robin", "Seal", "Sparrow", "Swan", "Tiger", "Trout",
  "Walrus", "Wren"];

function hash(text) {
  let h = 2166136261; // FNV-1a
  for (let i = 0; i < text.length; i += 1) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

const given = new Map(); // readable name -> the id it was given to (distinct on the page)

// An agent's name as people read it: its display name, else (a UUID) a readable one.
export function agentName(agentId, name) {
  if (name) return name;
  if (!WHOLE.test(agentId || "")) return agentId;
  const h = hash(agentId.toLowerCase());
  let readable = `${ADJECTIVES[h % ADJECTIVES.length]} ${NOUNS[(h >>> 8) % NOUNS.length]}`;
  if (given.has(readable) && given.get(readable) !== agentId) readable += ` ${agentId.slice(0, 4)}`;
  given.set(readable, agentId);
  return readable;
}

export const unnamed = (agentId, name) => !name && WHOLE.test(agentId || "");

export const isUuid = (id) => WHOLE.test(id || "");

// Text with every UUID in it shortened ("54c53be2…").
export const shortenIds = (text) => String(text ?? "").replace(UUID, (id) => `${id.slice(0, 8)}\u2026`);

// A node for an id: the first segment of a UUID, the whole id on hover.
export function shortId(id) {
  const node = el("span", "id", WHOLE.test(id || "") ? `${id.slice(0, 8)}\u2026` : id);
  if (WHOLE.test(id || "")) node.title = id;
  return node;
}
