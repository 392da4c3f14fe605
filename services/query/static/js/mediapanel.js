// The run page's media tab: one panel per media key with a step slider,
// histograms as a heat-map, and the run's tables.

import { api, query, runPath } from "./api.js";
import { el, empty } from "./dom.js";
import { histogramHeatmap, mediaValue } from "./media.js";
import { objectsTable, tryGet } from "./objects.js";

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

