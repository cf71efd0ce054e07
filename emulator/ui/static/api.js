// Talking to the control API, with the control token when the page was opened with one.

const token = new URLSearchParams(location.search).get("token");
const headers = token ? { "X-Emulator-Token": token } : {};

export function withToken(path) {
  return token ? `${path}${path.includes("?") ? "&" : "?"}token=${encodeURIComponent(token)}` : path;
}

export async function api(path, options = {}) {
  const response = await fetch(path, { ...options, headers: { ...headers, ...(options.headers || {}) } });
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return response.json();
}

export function post(path, body) {
  return api(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
}

// The newest `count` items of a collection (the control API lists oldest first).
export async function newest(path, filters, count) {
  const query = (extra) => `${path}?${new URLSearchParams({ ...filters, ...extra })}`;
  const first = await api(query({ limit: count }));
  if (first.total <= count) return first.items;
  return (await api(query({ limit: count, offset: first.total - count }))).items;
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
