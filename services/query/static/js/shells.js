// Pages and panels over the routes of the files, media, artifacts and alerts
// parts: run files, artifacts a run used and produced, media values with a
// step slider, a project's artifacts, and the alert settings and log. The
// artifacts and alerts services are reached through the query service
// (/api/v1/dashboard/svc/<service>/...), so the page stays same-origin.

import { api, projectPath, query, runPath } from "./api.js";
import { el, empty, failure, formatTime, loading, show } from "./dom.js";
import { histogramHeatmap, mediaValue } from "./media.js";
import { projectTabs } from "./tabs.js";

const SVC = "/dashboard/svc/";

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

function bytes(n) {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
  return (i ? n.toFixed(1) : n) + " " + units[i];
}

async function tryGet(path) {
  try { return { found: await api.get(path) }; } catch (error) { return { error }; }
}

export async function filesPanel(entity, project, runId) {
  const { found, error } = await tryGet("/runs" + runPath(entity, project, runId) +
    "/files");
  if (error) { return failure(error); }
  return objectsTable(found.files, "files-table") || empty("No files saved",
    "Files saved with run.save() or written to the run's files folder show here.");
}

export async function artifactsPanel(entity, project, runId) {
  const base = "/runs" + runPath(entity, project, runId) + "/artifacts";
  const [made, used] = await Promise.all([tryGet(base), tryGet(base + "?used=true")]);
  const part = (title, answer, id) => el("section", {}, el("h2", {}, title),
    answer.error ? failure(answer.error) : objectsTable(answer.found.artifacts, id) ||
      empty("None"));
  return el("div", {}, part("Produced", made, "artifacts-produced"),
    part("Used", used, "artifacts-used"));
}

// Media values (JSON with a "_type") of a run, one panel per key with a slider
// over the logged steps.
export async function mediaPanel(entity, project, runId) {
  const base = "/runs" + runPath(entity, project, runId);
  const keys = (await api.get(base + "/keys")).keys;
  const panels = [];
  for (const key of keys) {
    const found = await api.get(base + "/history" + query({ key, samples: 200 }));
    const steps = found.rows.filter((r) => r[key] && typeof r[key] === "object" &&
      r[key]._type);
    if (!steps.length) { continue; }
    const run = { entity, project, id: runId };
    panels.push(steps.every((r) => r[key]._type === "histogram")
      ? el("section", { class: "media-card", "data-key": key }, el("h3", {}, key),
        histogramHeatmap(key, steps))
      : mediaCard(key, steps, run));
  }
  const tables = await tryGet(base + "/tables");
  if (tables.found && tables.found.tables && tables.found.tables.length) {
    panels.push(el("section", { class: "media-card" }, el("h3", {}, "Tables"),
      objectsTable(tables.found.tables, "tables-list")));
  }
  return panels.length ? el("div", { class: "media-grid" }, panels)
    : empty("No media logged", "Images, histograms, audio, video, HTML, 3D objects and "
      + "tables logged with lodestar.log() show here.");
}

function mediaCard(key, rows, run) {
  const body = el("div", { class: "media-body" });
  const label = el("output", {});
  const slider = el("input", { type: "range", min: "0", max: String(rows.length - 1),
    value: String(rows.length - 1), "aria-label": key + " step" });
  const draw = () => {
    const row = rows[Number(slider.value)];
    label.textContent = "step " + row._step;
    body.replaceChildren(mediaValue(row[key], run));
  };
  slider.addEventListener("input", draw);
  draw();
  return el("section", { class: "media-card", "data-key": key }, el("h3", {}, key),
    el("div", { class: "toolbar" }, slider, label), body);
}

// ---- project artifacts --------------------------------------------------------------

export async function artifactsView(main, entity, project) {
  main.replaceChildren(el("div", { class: "page-head" }, el("h1", {}, project),
    projectTabs(entity, project, "artifacts")), loading());
  const { found, error } = await tryGet(SVC + "artifacts/artifacts" +
    projectPath(entity, project));
  main.lastChild.remove();
  if (error) { main.append(failure(error)); return; }
  const items = found.artifacts || [];
  if (!items.length) {
    main.append(empty("No artifacts in this project",
      "Log one with run.log_artifact(lodestar.Artifact(name, type)) and it shows here."));
    return;
  }
  const byType = new Map();
  for (const item of items) {
    const type = item.type || "other";
    if (!byType.has(type)) { byType.set(type, []); }
    byType.get(type).push(item);
  }
  const detail = el("div", { class: "artifact-detail" });
  main.append(el("div", { class: "split" }, el("nav", { class: "artifact-list" },
    [...byType].map(([type, list]) => el("section", {}, el("h3", {}, type),
      el("ul", {}, list.map((item) => el("li", {}, el("button", { type: "button",
        class: "link", onclick: () => showVersions(detail, entity, project, item.name) },
      item.name))))))), detail));
}

async function showVersions(detail, entity, project, name) {
  detail.replaceChildren(loading());
  const path = SVC + "artifacts/artifacts" + projectPath(entity, project) + "/" +
    encodeURIComponent(name) + "/versions";
  const { found, error } = await tryGet(path);
  if (error) { detail.replaceChildren(failure(error)); return; }
  detail.replaceChildren(el("h2", {}, name),
    objectsTable(found.versions || [], "artifact-versions") || empty("No versions"));
}

// ---- alerts -------------------------------------------------------------------------

export async function alertsView(main) {
  main.replaceChildren(el("div", { class: "page-head" }, el("h1", {}, "Alerts")),
    loading());
  const parts = [["Channels", "channels"], ["Subscriptions", "subscriptions"],
    ["Rules", "rules"], ["Delivery log", "log"]];
  const answers = await Promise.all(parts.map(([, path]) => tryGet(SVC + "alerts/alerts/"
    + path)));
  main.lastChild.remove();
  parts.forEach(([title, path], i) => {
    const { found, error } = answers[i];
    const list = found ? (found[path] || found.alerts || found.entries || []) : [];
    const table = error ? failure(error) : objectsTable(list, "alerts-" + path) ||
      empty("None yet");
    const section = el("section", { class: "alerts-part", "data-part": path },
      el("h2", {}, title), table);
    if (path === "channels" && found) { addTestButtons(section, list); }
    main.append(section);
  });
}

function addTestButtons(section, channels) {
  const rows = section.querySelectorAll("tbody tr");
  channels.forEach((channel, i) => {
    const result = el("span", { class: "muted" });
    const button = el("button", { type: "button", onclick: async () => {
      result.textContent = "sending…";
      try {
        const answer = await api.post(SVC + "alerts/alerts/channels/" +
          encodeURIComponent(channel.id) + "/test");
        result.textContent = answer.status + (answer.error ? ": " + answer.error : "");
      } catch (error) {
        result.textContent = error.message;
      }
    } }, "Send test alert");
    if (rows[i]) { rows[i].append(el("td", {}, button, " ", result)); }
  });
}
