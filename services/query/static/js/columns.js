// The runs table's columns: which exist, how each sorts, and the user's
// choice of shown columns and their order per project. The choice is kept
// on the server for the signed-in user (so it follows them to any browser)
// and cached in localStorage so the table draws at once.

import { api, projectPath } from "./api.js";
import { el } from "./dom.js";

export const BUILT_IN = [
  { id: "name", label: "Name", sort: "display_name" },
  { id: "state", label: "State", sort: "state" },
  { id: "created_at", label: "Created", sort: "created_at" },
  { id: "runtime", label: "Runtime", sort: "runtime" },
  { id: "user", label: "User", sort: "user" },
  { id: "host", label: "Host", sort: "host" },
  { id: "group", label: "Group", sort: "group" },
  { id: "job_type", label: "Job type", sort: "job_type" },
  { id: "tags", label: "Tags", sort: "tags" },
  { id: "notes", label: "Notes", sort: "notes" },
];

function cacheKey(entity, project) {
  return "lodestar.columns:" + entity + "/" + project;
}

function choicePath(entity, project) {
  return "/dashboard/columns" + projectPath(entity, project) + "/choice";
}

function fromSaved(saved) {
  const order = saved && Array.isArray(saved.order) ? saved.order
    : BUILT_IN.map((c) => c.id);
  return { order, hidden: new Set(saved && saved.hidden ? saved.hidden : []) };
}

export function defaultColumns() { return fromSaved(null); }

// The cached choice, for the first draw.
export function cachedColumns(entity, project) {
  try {
    return fromSaved(JSON.parse(localStorage.getItem(cacheKey(entity, project))));
  } catch {
    return fromSaved(null);
  }
}

// The server's choice (null when the user never chose), cached on the way.
export async function serverColumns(entity, project) {
  const saved = await api.get(choicePath(entity, project));
  if (!saved.order) { return null; }
  localStorage.setItem(cacheKey(entity, project), JSON.stringify(saved));
  return fromSaved(saved);
}

export async function saveColumns(entity, project, columns) {
  const body = { order: columns.order, hidden: [...columns.hidden] };
  localStorage.setItem(cacheKey(entity, project), JSON.stringify(body));
  await api.put(choicePath(entity, project), body);
}

export function columnSpec(id) {
  const builtIn = BUILT_IN.find((c) => c.id === id);
  if (builtIn) { return builtIn; }
  if (id.startsWith("config.")) {
    return { id, label: id, sort: id, value: (r) => r.config[id.slice(7)] };
  }
  const key = id.replace(/^summary\./, "");
  return { id, label: id, sort: "summary_metrics." + key, value: (r) => r.summary[key] };
}

// The dialog's content: a list to show/hide and move columns, a picker to
// add config and summary columns, Reset and Done. `changed` saves and redraws.
export function columnsForm(columns, available, changed, close) {
  const items = columns.order.map((id, index) => el("li", { "data-col": id },
    el("label", {}, el("input", { type: "checkbox", checked: !columns.hidden.has(id),
      onchange: (event) => {
        if (event.target.checked) { columns.hidden.delete(id); } else {
          columns.hidden.add(id);
        }
        changed(columns);
      } }), " " + columnSpec(id).label),
    el("button", { type: "button", class: "icon", title: "Move up", disabled: !index,
      onclick: () => { move(columns.order, index, -1); changed(columns); } }, "↑"),
    el("button", { type: "button", class: "icon", title: "Move down",
      disabled: index === columns.order.length - 1,
      onclick: () => { move(columns.order, index, 1); changed(columns); } }, "↓")));
  return [el("h2", {}, "Columns"), el("ul", {}, items),
    addPicker(columns, available, changed),
    el("div", { class: "dialog-actions" }, el("button", { type: "button",
      onclick: () => changed(defaultColumns()) }, "Reset"),
    el("button", { type: "button", class: "primary", onclick: close }, "Done"))];
}

function addPicker(columns, available, changed) {
  const choices = [...available.config.map((k) => "config." + k),
    ...available.summary.filter((k) => !k.startsWith("_")).map((k) => "summary." + k)]
    .filter((id) => !columns.order.includes(id));
  return el("select", { id: "add-column", "aria-label": "Add a column",
    onchange: (event) => {
      if (!event.target.value) { return; }
      columns.order.push(event.target.value);
      changed(columns);
    } }, el("option", { value: "" }, "add a config or summary column…"),
  choices.map((id) => el("option", { value: id }, id)));
}

function move(list, index, delta) {
  const [item] = list.splice(index, 1);
  list.splice(index + delta, 0, item);
}
