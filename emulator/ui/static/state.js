// What the person chose on the page (search, order, failures only), kept in the URL so a reload
// or a shared link shows the same; the control token in the URL stays where it is.
const params = new URLSearchParams(location.search);

export const view = {
  search: params.get("q") || "",
  newestFirst: params.get("order") === "newest",
  failuresOnly: params.get("failures") === "1",
};

export function remember() {
  const next = new URLSearchParams(location.search);
  const set = (key, value) => (value ? next.set(key, value) : next.delete(key));
  set("q", view.search);
  set("order", view.newestFirst ? "newest" : "");
  set("failures", view.failuresOnly ? "1" : "");
  const query = next.toString();
  history.replaceState(null, "", `${location.pathname}${query ? `?${query}` : ""}`);
}

// The search as the server takes it (every word must appear), or null when there is none.
export const searching = () => view.search.trim() || null;
