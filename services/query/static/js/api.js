// The JSON API, as the page uses it. Reads send the lodestar_key cookie;
// writes also send the key as a Bearer header (the service takes the cookie
// on reads only). Errors carry the service's "detail" text.

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail || "request failed (" + status + ")");
    this.status = status;
  }
}

export function storedKey() {
  const found = document.cookie.split("; ").find((c) => c.startsWith("lodestar_key="));
  return found ? decodeURIComponent(found.slice("lodestar_key=".length)) : "";
}

export function signedOut() {
  return document.cookie.split("; ").includes("lodestar_signed_out=1");
}

async function request(method, path, body) {
  const headers = {};
  if (method !== "GET") {
    const key = storedKey();
    if (key) { headers.Authorization = "Bearer " + key; }
  }
  if (body !== undefined) { headers["Content-Type"] = "application/json"; }
  const response = await fetch("/api/v1" + path, {
    method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) { return null; }
  let parsed = null;
  try { parsed = await response.json(); } catch { parsed = null; }
  if (!response.ok) {
    const detail = parsed && parsed.detail;
    const text = typeof detail === "string" ? detail : JSON.stringify(detail);
    throw new ApiError(response.status, text);
  }
  return parsed;
}

export const api = {
  get: (path) => request("GET", path),
  post: (path, body) => request("POST", path, body === undefined ? {} : body),
  put: (path, body) => request("PUT", path, body),
  patch: (path, body) => request("PATCH", path, body),
  del: (path) => request("DELETE", path),
};

// Path pieces of a project or run, encoded once here.
export function projectPath(entity, project) {
  return "/" + encodeURIComponent(entity) + "/" + encodeURIComponent(project);
}

export function runPath(entity, project, runId) {
  return projectPath(entity, project) + "/" + encodeURIComponent(runId);
}

export function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === "") { continue; }
    for (const item of Array.isArray(value) ? value : [value]) {
      search.append(name, String(item));
    }
  }
  const text = search.toString();
  return text ? "?" + text : "";
}

// Numbers as the API sends them: non-finite floats are strings.
export function toNumber(value) {
  if (typeof value === "number") { return value; }
  if (typeof value === "boolean") { return value ? 1 : 0; }
  if (value === "NaN" || value === "Infinity" || value === "-Infinity") {
    return Number(value);
  }
  return null;
}
