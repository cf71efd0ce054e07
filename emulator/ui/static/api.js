// Talking to the control API, with the control token when the page was opened with one.

const token = new URLSearchParams(location.search).get("token");
const headers = token ? { "X-Emulator-Token": token } : {};

export function withToken(path) {
  return token ? `${path}${path.includes("?") ? "&" : "?"}token=${encodeURIComponent(token)}` : path;
}

// A refusal carries the server's own words ({"error": ...}); a server that cannot be reached
// says so instead of "Failed to fetch".
export async function api(path, options = {}) {
  let response;
  try {
    response = await fetch(path, { ...options, headers: { ...headers, ...(options.headers || {}) } });
  } catch {
    throw new Error("the emulator cannot be reached");
  }
  if (!response.ok) {
    let said = "";
    try {
      said = (await response.json()).error || "";
    } catch {
      // not JSON: the status says enough
    }
    throw new Error(said || `${response.status} ${response.statusText}`.trim());
  }
  return response.json();
}

export function post(path, body) {
  return api(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
}

// The newest `count` items of a collection after skipping its newest `skip` (the control API
// lists oldest first): {items (oldest first), total}.
export async function newest(path, filters, count, skip = 0) {
  const query = (extra) => `${path}?${new URLSearchParams({ ...filters, ...extra })}`;
  const { total } = await api(query({ limit: 1 }));
  const end = Math.max(0, total - skip);
  if (!end || count <= 0) return { items: [], total };
  const offset = Math.max(0, end - count);
  const { items } = await api(query({ limit: end - offset, offset }));
  return { items, total };
}

// Uploaded files' bytes (the token travels in the query: an <img> sends no headers of ours).
export const fileUrl = (id) => withToken(`/_emulator/files/${id}/content`);

// Providers as people read them (their titles), from the emulator's registry; the name itself
// until they are loaded (or for one the registry does not list).
const titles = new Map();
export async function loadTitles() {
  try {
    for (const p of (await api("/_emulator/providers")).items) titles.set(p.name, p.title);
  } catch (error) {
    console.warn(error);
  }
}
export const titleOf = (name) => titles.get(name) || name;

export const count = (n) => n.toLocaleString("en-US");
