// A file browser over a list of {path, size, ref?}: folders that expand,
// sizes, a download link per stored file, and a preview of the file picked.
// Used for an artifact version's manifest and for a run's files.

import { el, empty } from "./dom.js";
import { bytes } from "./objects.js";
import { preview } from "./preview.js";

// `options`: urlOf(path, download) -> URL, selected (a path), onSelect(path).
export function fileBrowser(files, options) {
  if (!files.length) { return empty("No files"); }
  const root = treeOf(files);
  const open = new Set(foldersAbove(options.selected));
  const pane = el("div", { class: "file-preview" });
  const list = el("div", { class: "file-tree", role: "tree" });
  const state = { open, pane, list, root, options, selected: options.selected };
  drawTree(state);
  const picked = files.find((f) => f.path === options.selected);
  if (picked) { showPreview(state, picked); } else {
    pane.replaceChildren(el("p", { class: "muted" }, "Pick a file to preview it."));
  }
  return el("div", { class: "file-browser" }, list, pane);
}

// Folders as nested maps: {folders: Map(name -> node), files: [], size, count}.
function treeOf(files) {
  const root = folder("");
  for (const file of files) {
    const parts = file.path.split("/");
    let node = root;
    for (const part of parts.slice(0, -1)) {
      node.size += file.size || 0;
      node.count += 1;
      if (!node.folders.has(part)) {
        node.folders.set(part, folder(node.path ? node.path + "/" + part : part));
      }
      node = node.folders.get(part);
    }
    node.size += file.size || 0;
    node.count += 1;
    node.files.push(file);
  }
  return root;
}

function folder(path) {
  return { path, folders: new Map(), files: [], size: 0, count: 0 };
}

function foldersAbove(path) {
  if (!path) { return []; }
  const parts = path.split("/").slice(0, -1);
  return parts.map((_p, i) => parts.slice(0, i + 1).join("/"));
}

function drawTree(state) {
  const table = el("table", { class: "grid files-table" },
    el("thead", {}, el("tr", {}, el("th", {}, "Name"), el("th", { class: "num" }, "Size"),
      el("th", {}, ""))),
    el("tbody", {}, rowsOf(state, state.root, 0)));
  state.list.replaceChildren(el("div", { class: "table-wrap" }, table));
}

function rowsOf(state, node, depth) {
  const rows = [];
  for (const [name, child] of [...node.folders].sort(byName)) {
    rows.push(folderRow(state, name, child, depth));
    if (state.open.has(child.path)) { rows.push(...rowsOf(state, child, depth + 1)); }
  }
  const files = [...node.files].sort((a, b) => a.path.localeCompare(b.path));
  for (const file of files) { rows.push(fileRow(state, file, depth)); }
  return rows;
}

function byName(a, b) { return a[0].localeCompare(b[0]); }

function folderRow(state, name, node, depth) {
  const isOpen = state.open.has(node.path);
  const toggle = () => {
    if (isOpen) { state.open.delete(node.path); } else { state.open.add(node.path); }
    drawTree(state);
  };
  return el("tr", { class: "folder-row", "data-folder": node.path },
    el("td", { style: indent(depth) }, el("button", { type: "button",
      class: "link tree-toggle", "aria-expanded": isOpen ? "true" : "false",
      onclick: toggle }, (isOpen ? "▾ " : "▸ ") + name + "/"),
    el("span", { class: "muted" }, " " + node.count +
      (node.count === 1 ? " file" : " files"))),
    el("td", { class: "num" }, bytes(node.size)), el("td", {}, ""));
}

function fileRow(state, file, depth) {
  const name = file.path.split("/").pop();
  const active = file.path === state.selected;
  return el("tr", { class: "file-row" + (active ? " selected" : ""),
    "data-path": file.path },
  el("td", { style: indent(depth) }, el("button", { type: "button",
    class: "link file-name", onclick: () => select(state, file) }, name),
  file.ref ? el("span", { class: "tag reference", title: file.ref }, "reference")
    : null),
    el("td", { class: "num" }, bytes(file.size || 0)),
    el("td", {}, file.ref ? el("span", { class: "muted" }, "not stored") :
      el("a", { class: "download", href: state.options.urlOf(file.path, true),
        download: name, title: "Download " + file.path }, "⤓ Download")));
}

function indent(depth) {
  return "padding-left:" + (10 + depth * 18) + "px";
}

function select(state, file) {
  state.selected = file.path;
  if (state.options.onSelect) { state.options.onSelect(file.path); }
  drawTree(state);
  showPreview(state, file);
}

function showPreview(state, file) {
  state.pane.replaceChildren(preview(file, state.options.urlOf(file.path, false)));
}
