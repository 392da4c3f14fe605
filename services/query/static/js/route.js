// Every view lives in the URL hash: #/entity/project/...?name=value.
// Views change their own parameters with `setParams`, which rewrites the URL
// without a reload, so any state a user sees can be shared and reloaded.

export function current() {
  const text = location.hash.replace(/^#\/?/, "");
  const [path, search] = text.split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  return { parts, params: new URLSearchParams(search || "") };
}

export function hashOf(parts, params) {
  const path = "/" + parts.map((p) => encodeURIComponent(p)).join("/");
  const search = params ? new URLSearchParams(params).toString() : "";
  return path + (search ? "?" + search : "");
}

export function go(parts, params) {
  location.hash = hashOf(parts, params);
}

export function setParams(changes) {
  const { parts, params } = current();
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined || value === null || value === "" || value === false) {
      params.delete(name);
    } else {
      params.set(name, String(value));
    }
  }
  history.replaceState(null, "", "#" + hashOf(parts, params));
}
