// Small DOM and formatting helpers shared by every view.

export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) { continue; }
    if (name.startsWith("on") && typeof value === "function") {
      node.addEventListener(name.slice(2), value);
    } else if (value === true) {
      node.setAttribute(name, "");
    } else {
      node.setAttribute(name, value);
    }
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) { continue; }
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

export function link(text, hash, attrs) {
  return el("a", { href: "#" + hash, ...(attrs || {}) }, text);
}

// A value of config, summary or a table cell as text.
export function show(value) {
  if (value === null || value === undefined) { return ""; }
  if (typeof value === "number") { return formatNumber(value); }
  if (typeof value === "object") {
    if ("$text" in value && Object.keys(value).length === 1) { return value.$text; }
    return JSON.stringify(value);
  }
  return String(value);
}

export function formatNumber(value) {
  if (!Number.isFinite(value)) { return String(value); }
  if (Number.isInteger(value)) { return String(value); }
  const size = Math.abs(value);
  if (size !== 0 && (size < 1e-3 || size >= 1e6)) { return value.toExponential(3); }
  return String(Number(value.toPrecision(5)));
}

export function formatTime(seconds) {
  if (!seconds) { return ""; }
  const date = new Date(seconds * 1000);
  const pad = (n) => String(n).padStart(2, "0");
  return date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" +
    pad(date.getDate()) + " " + pad(date.getHours()) + ":" + pad(date.getMinutes());
}

export function formatAgo(seconds) {
  if (!seconds) { return ""; }
  const delta = Math.max(0, Date.now() / 1000 - seconds);
  if (delta < 60) { return "just now"; }
  if (delta < 3600) { return Math.floor(delta / 60) + " min ago"; }
  if (delta < 86400) { return Math.floor(delta / 3600) + " h ago"; }
  return Math.floor(delta / 86400) + " d ago";
}

export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) {
    return "";
  }
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
  if (h) { return h + "h " + m + "m"; }
  if (m) { return m + "m " + (s % 60) + "s"; }
  return s + "s";
}

// How long a run has run: to its end, or to now while it runs.
export function runtimeOf(run) {
  if (!run.created_at) { return null; }
  const live = run.state === "running";
  const end = live ? Date.now() / 1000 : (run.finished_at || run.heartbeat_at ||
    run.created_at);
  return end - run.created_at;
}

export function stateBadge(state) {
  const name = state || "unknown";
  return el("span", { class: "state state-" + name, "data-state": name },
    el("span", { class: "dot" + (name === "running" ? " live" : "") }), name);
}

// A stable colour per run id, so a run keeps its colour on every page.
const PALETTE = ["#3b82f6", "#ef4444", "#10b981", "#f59e0b", "#8b5cf6", "#ec4899",
  "#14b8a6", "#f97316", "#6366f1", "#84cc16", "#06b6d4", "#a855f7", "#e11d48",
  "#0ea5e9", "#65a30d", "#d946ef"];

export function colourOf(id) {
  let hash = 2166136261;
  for (const char of String(id)) {
    hash ^= char.codePointAt(0);
    hash = Math.imul(hash, 16777619) >>> 0;
  }
  return PALETTE[hash % PALETTE.length];
}

export function loading(text) {
  return el("div", { class: "loading", role: "status" }, el("span", { class: "spinner" }),
    text || "Loading…");
}

export function empty(title, hint) {
  return el("div", { class: "empty" }, el("strong", {}, title),
    hint ? el("p", {}, hint) : null);
}

export function failure(error) {
  return el("div", { class: "error", role: "alert" }, el("strong", {}, "Could not load"),
    el("p", {}, error && error.message ? error.message : String(error)));
}

// A small inline SVG line of `values` (nulls skipped).
export function sparkline(values, width = 120, height = 28) {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("width", width);
  svg.setAttribute("height", height);
  svg.setAttribute("class", "sparkline");
  const points = values.map((v, i) => [i, typeof v === "number" ? v : null])
    .filter((p) => p[1] !== null && Number.isFinite(p[1]));
  if (points.length < 2) { return svg; }
  const ys = points.map((p) => p[1]);
  const lo = Math.min(...ys), hi = Math.max(...ys);
  const last = values.length - 1 || 1;
  const path = points.map(([i, v], n) => (n ? "L" : "M") +
    (2 + i / last * (width - 4)).toFixed(1) + "," +
    (height - 2 - (v - lo) / ((hi - lo) || 1) * (height - 4)).toFixed(1)).join(" ");
  const line = document.createElementNS(svg.namespaceURI, "path");
  line.setAttribute("d", path);
  svg.append(line);
  return svg;
}

export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

// Calls `fn` at most once per `ms`, and once more after the last call.
export function throttle(fn, ms) {
  let last = 0, timer = null;
  return () => {
    const wait = last + ms - Date.now();
    if (wait <= 0) { last = Date.now(); fn(); return; }
    if (!timer) {
      timer = setTimeout(() => { timer = null; last = Date.now(); fn(); }, wait);
    }
  };
}

export function download(name, blob) {
  const url = URL.createObjectURL(blob);
  const anchor = el("a", { href: url, download: name });
  document.body.append(anchor);
  anchor.click();
  anchor.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
