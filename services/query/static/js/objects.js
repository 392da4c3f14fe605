// Shared pieces for pages over JSON lists: a list of objects as a table, byte
// sizes, and a GET that answers {found} or {error} instead of throwing. The
// artifacts and alerts services are reached through the query service
// (SVC + "<service>/..."), so the page stays same-origin.

import { api } from "./api.js";
import { el, formatTime, show } from "./dom.js";

export const SVC = "/dashboard/svc/";

// A list of JSON objects as a table, columns in first-seen order.
export function objectsTable(items, id, columns) {
  if (!items || !items.length) { return null; }
  const names = columns || [...new Set(items.flatMap((item) => Object.keys(item)))];
  return el("div", { class: "table-wrap" }, el("table", { class: "grid", id },
    el("thead", {}, el("tr", {}, names.map((n) => el("th", {}, n)))),
    el("tbody", {}, items.map((item) => el("tr", {}, names.map((n) =>
      el("td", {}, cellText(n, item[n]))))))));
}

function cellText(name, value) {
  if (typeof value === "number" && /(_at|time|timestamp)$/.test(name)) {
    return formatTime(value);
  }
  if (name === "size" && typeof value === "number") { return bytes(value); }
  return show(value);
}

export function bytes(n) {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
  return (i ? n.toFixed(1) : n) + " " + units[i];
}

export async function tryGet(path) {
  try { return { found: await api.get(path) }; } catch (error) { return { error }; }
}

