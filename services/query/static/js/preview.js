// Previews of a stored file: text (its first KBs, monospace), images inline,
// and tables (CSV, TSV, Lodestar table JSON) as an HTML table of the first
// rows. Only the bytes a preview needs are read: the reader stops early.

import { el, empty, failure, loading, show } from "./dom.js";
import { bytes } from "./objects.js";

const TEXT_BYTES = 64 * 1024;
const CSV_BYTES = 256 * 1024;
const JSON_BYTES = 4 * 1024 * 1024;
const ROWS = 100;
const SMALL_IMAGE = 256;
const IMAGE = /\.(png|jpe?g|gif|webp|bmp|svg|ico)$/i;
const TABLE = /\.(csv|tsv)$/i;
const TEXT = new RegExp("\\.(txt|md|log|py|js|ts|json|ya?ml|toml|ini|cfg|conf|sh|" +
  "r|jl|sql|xml|html?|css|ipynb|rst|tex|c|h|cc|cpp|hpp|java|go|rs|rb|lua)$", "i");

// The kind of preview a name gets: image, table, json-table, text or none.
export function previewKind(path) {
  if (IMAGE.test(path)) { return "image"; }
  if (TABLE.test(path)) { return "table"; }
  if (/\.table\.json$/i.test(path)) { return "json-table"; }
  if (TEXT.test(path) || !/\.[^/]+$/.test(path)) { return "text"; }
  return "none";
}

// A preview of `file` ({path, size, ref}), read from `url`.
export function preview(file, url) {
  const box = el("div", { class: "preview", "data-path": file.path }, loading());
  fill(box, file, url).catch((error) => box.replaceChildren(failure(error)));
  return box;
}

async function fill(box, file, url) {
  if (file.ref) {
    box.replaceChildren(referenceNote(file));
    return;
  }
  const kind = previewKind(file.path);
  const body = await drawKind(kind, file, url);
  box.replaceChildren(el("div", { class: "preview-head" }, el("strong", {}, file.path),
    el("span", { class: "muted" }, bytes(file.size))), body);
}

function drawKind(kind, file, url) {
  if (kind === "image") { return imagePreview(file, url); }
  if (kind === "table") { return csvPreview(file, url); }
  if (kind === "json-table") { return jsonTablePreview(file, url); }
  if (kind === "text") { return textPreview(file, url); }
  return empty("No preview for this kind of file", "Download it to open it.");
}

export function referenceNote(file) {
  return el("div", { class: "empty reference-note" },
    el("strong", {}, "Reference: not stored by Lodestar"),
    el("p", {}, "This entry points to ", el("code", {}, file.ref),
      ". The artifact records its location and checksum only, so there is " +
      "nothing here to preview or download."));
}

function imagePreview(file, url) {
  const image = el("img", { class: "preview-image", src: url, alt: file.path });
  return new Promise((resolve) => {
    image.onload = () => {
      const scale = Math.floor(SMALL_IMAGE / Math.max(image.naturalWidth, 1));
      if (scale > 1) { image.style.width = image.naturalWidth * scale + "px"; }
      resolve(image);
    };
    image.onerror = () => resolve(failure(new Error("the image could not be shown")));
  });
}

// The first `limit` bytes of `url` as text, and whether there was more.
export async function readHead(url, limit) {
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok) { throw new Error(await errorText(response)); }
  const reader = response.body.getReader();
  const parts = [];
  let taken = 0;
  let more = false;
  while (taken < limit) {
    const { done, value } = await reader.read();
    if (done) { break; }
    parts.push(value);
    taken += value.length;
  }
  if (taken >= limit) { more = true; await reader.cancel(); }
  const all = new Uint8Array(taken);
  let at = 0;
  for (const part of parts) { all.set(part, at); at += part.length; }
  return { data: all.subarray(0, Math.min(taken, limit)), more };
}

async function errorText(response) {
  try {
    const body = await response.json();
    return body.detail || response.statusText;
  } catch {
    return "the file could not be read (" + response.status + ")";
  }
}

async function textPreview(file, url) {
  const { data, more } = await readHead(url, TEXT_BYTES);
  if (data.includes(0)) {
    return empty("Binary content", "Download the file to open it.");
  }
  const text = new TextDecoder().decode(data);
  return el("div", {}, more ? truncated("first " + bytes(TEXT_BYTES), file) : null,
    el("pre", { class: "preview-text" }, text));
}

function truncated(what, file) {
  return el("p", { class: "muted preview-note" }, "Showing the " + what + " of " +
    bytes(file.size) + ".");
}

async function csvPreview(file, url) {
  const { data, more } = await readHead(url, CSV_BYTES);
  let text = new TextDecoder().decode(data);
  if (more) { text = text.slice(0, text.lastIndexOf("\n") + 1); }
  const delimiter = /\.tsv$/i.test(file.path) ? "\t" : ",";
  const rows = parseCsv(text, delimiter).filter((row) => row.some((c) => c !== ""));
  if (!rows.length) { return empty("Empty table"); }
  const [columns, ...body] = rows;
  return tableOf(columns, body, more || body.length > ROWS ? file : null);
}

// RFC 4180 rows: quoted fields may hold delimiters, quotes ("") and newlines.
export function parseCsv(text, delimiter) {
  const rows = [];
  let row = [], field = "", quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (quoted) {
      if (c === "\"" && text[i + 1] === "\"") { field += c; i += 1; }
      else if (c === "\"") { quoted = false; }
      else { field += c; }
    } else if (c === "\"") { quoted = true; }
    else if (c === delimiter) { row.push(field); field = ""; }
    else if (c === "\n") {
      row.push(field.replace(/\r$/, ""));
      rows.push(row);
      row = [];
      field = "";
    } else { field += c; }
  }
  if (field !== "" || row.length) { row.push(field); rows.push(row); }
  return rows;
}

async function jsonTablePreview(file, url) {
  if (file.size > JSON_BYTES) {
    return empty("Too large to preview", "Tables up to " + bytes(JSON_BYTES) +
      " are shown here; download this one.");
  }
  const { data } = await readHead(url, JSON_BYTES + 1);
  const value = JSON.parse(new TextDecoder().decode(data));
  if (!Array.isArray(value.columns) || !Array.isArray(value.data)) {
    return el("pre", { class: "preview-text" }, JSON.stringify(value, null, 2));
  }
  return tableOf(value.columns, value.data, value.data.length > ROWS ? file : null);
}

function tableOf(columns, rows, cut) {
  const shown = rows.slice(0, ROWS);
  const note = cut ? el("p", { class: "muted preview-note" }, "Showing the first " +
    shown.length + " rows.") : el("p", { class: "muted preview-note" },
    rows.length + " rows.");
  return el("div", {}, note, el("div", { class: "table-wrap" },
    el("table", { class: "grid preview-table" },
      el("thead", {}, el("tr", {}, columns.map((c) => el("th", {}, show(c))))),
      el("tbody", {}, shown.map((row) => el("tr", {},
        columns.map((_c, i) => el("td", {}, show(row[i])))))))));
}
