// The run page's media tab: one panel per media key with a step slider,
// histograms over steps (heat-map or ridge view), and the run's tables.
// The slider's position is the URL parameter "s.<key>".

import { api, query, runPath } from "./api.js";
import { el, empty } from "./dom.js";
import { HistogramGroup } from "./histograms.js";
import { mediaValue } from "./media.js";
import { objectsTable, tryGet } from "./objects.js";
import { current, setParams } from "./route.js";

const WIDE = new Set(["table-file"]);

// Media values (JSON with a "_type") of a run, one panel per key with a slider
// over the logged steps.
export async function mediaPanel(entity, project, runId) {
  const base = "/runs" + runPath(entity, project, runId);
  const keys = (await api.get(base + "/keys")).keys;
  const panels = [];
  const histograms = new HistogramGroup();
  const run = { entity, project, id: runId };
  for (const key of keys) {
    const found = await api.get(base + "/history" + query({ key, samples: 200 }));
    const steps = found.rows.filter((r) => r[key] && typeof r[key] === "object" &&
      r[key]._type);
    if (!steps.length) { continue; }
    panels.push(steps.every((r) => r[key]._type === "histogram")
      ? el("section", { class: "media-card", "data-key": key,
        "data-kind": "histogram" }, el("h3", {}, key), histograms.add(key, steps))
      : mediaCard(key, steps, run));
  }
  const tables = await tryGet(base + "/tables");
  if (tables.found && tables.found.tables && tables.found.tables.length) {
    panels.push(el("section", { class: "media-card" }, el("h3", {}, "Tables"),
      objectsTable(tables.found.tables, "tables-list")));
  }
  return panels.length ? el("div", { class: "media-grid" }, panels)
    : empty("No media logged", "Images, histograms, audio, video, HTML, 3D objects, " +
      "charts and tables logged with lodestar.log() show here.");
}

function mediaCard(key, rows, run) {
  const body = el("div", { class: "media-body" });
  const label = el("output", {});
  const param = "s." + key;
  const chosen = Number(current().params.get(param) ?? NaN);
  const start = Number.isInteger(chosen) && chosen >= 0 && chosen < rows.length
    ? chosen : rows.length - 1;
  const slider = el("input", { type: "range", min: "0", max: String(rows.length - 1),
    value: String(start), "aria-label": key + " step", class: "step-slider" });
  const draw = () => {
    const index = Number(slider.value);
    const row = rows[index];
    label.textContent = `step ${row._step} (${index + 1} of ${rows.length})`;
    body.replaceChildren(mediaValue(row[key], run, key));
  };
  slider.addEventListener("input", () => {
    const index = Number(slider.value);
    setParams({ [param]: index === rows.length - 1 ? null : index });
    draw();
  });
  draw();
  const kind = rows[rows.length - 1][key]._type;
  return el("section", { class: "media-card" + (WIDE.has(kind) ? " wide" : ""),
    "data-key": key, "data-kind": kind }, el("h3", {}, key),
  el("div", { class: "toolbar" }, rows.length > 1 ? slider : null, label), body);
}
