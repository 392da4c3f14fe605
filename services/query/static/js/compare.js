// Compare runs: their metrics overlaid with a stable colour per run, a legend
// that hides lines, and a config diff (differing keys, or all of them).
// With ?group=by:value the page shows a group of runs (a distributed job's
// ranks, say): the mean with a min-max band, or every member.

import { api, projectPath, query, runPath } from "./api.js";
import { ChartGrid, keysOf, numericKeys } from "./chartpage.js";
import { runColours } from "./charts.js";
import { colourOf, el, empty, link, show } from "./dom.js";
import { watch } from "./live.js";
import { current, setParams } from "./route.js";
import { flatten } from "./run.js";
import { projectTabs } from "./tabs.js";

export async function compareView(main, entity, project) {
  const { params } = current();
  const group = params.get("group");
  const runs = group ? await groupRuns(entity, project, group)
    : await Promise.all((params.get("runs") || "").split(",").filter(Boolean).map((id) =>
      api.get("/runs" + runPath(entity, project, id))));
  const title = group ? "Group " + group.replace(":", " = ") : "Compare " + runs.length +
    " runs";
  main.replaceChildren(el("div", { class: "page-head" }, el("h1", {}, title),
    projectTabs(entity, project, "runs")));
  if (!runs.length) {
    main.append(empty("No runs to compare", "Select runs in the runs table and press "
      + "Compare."));
    return;
  }
  const colours = runColours(runs.map((r) => r.id));
  runs.forEach((run) => { run.colour = colours.get(run.id); });
  const lines = runs.map((r) => ({ id: r.id, label: r.name || r.id, colour: r.colour }));
  main.append(chips(entity, project, runs));
  const grid = new ChartGrid({ entity, project, runs: lines, group: group ? {
    label: group.split(":").slice(1).join(":") || "(none)", colour: colourOf(group) }
    : null });
  main.append(grid.root, configDiff(runs));
  const keys = await keysOf(entity, project, runs.map((r) => r.id));
  const numeric = await numericKeys(entity, project, lines, keys);
  await grid.render(numeric, numeric);
  watch({ entity, project }, (changed) => {
    if (changed.some((id) => lines.some((l) => l.id === id))) { grid.refresh(); }
  }, 1500);
}

async function groupRuns(entity, project, group) {
  const [by, ...rest] = group.split(":");
  const value = rest.join(":");
  const clause = by + " = " + (value === "" ? "null" : JSON.stringify(value));
  const found = await api.get("/dashboard/runs" + projectPath(entity, project) +
    query({ filter: clause, limit: 200 }));
  return found.runs;
}

function chips(entity, project, runs) {
  return el("ul", { class: "run-chips" }, runs.map((run) => el("li",
    { "data-run": run.id }, el("i", { style: "background:" + run.colour }),
    link(run.name || run.id, "/" + [entity, project, "runs", run.id]
      .map(encodeURIComponent).join("/"), { title: run.name || run.id }))));
}

export function configDiff(runs) {
  const flat = runs.map((run) => new Map(flatten(run.config || {})));
  const keys = [...new Set(flat.flatMap((m) => [...m.keys()]))].filter(Boolean).sort();
  const differs = (key) => new Set(flat.map((m) => JSON.stringify(m.get(key)))).size > 1;
  const all = current().params.get("all") === "1";
  const shown = all ? keys : keys.filter(differs);
  const toggle = el("label", {}, el("input", { type: "checkbox", id: "diff-all",
    checked: all, onchange: (event) => {
      setParams({ all: event.target.checked ? "1" : null });
      box.replaceWith(configDiff(runs));
    } }), " show all keys");
  const table = shown.length ? el("table", { class: "grid diff", id: "config-diff" },
    el("thead", {}, el("tr", {}, el("th", {}, "config key"), runs.map((run) =>
      el("th", { title: run.name || run.id }, el("i", { class: "swatch",
        style: "background:" + (run.colour || colourOf(run.id)) }),
      run.name || run.id)))),
    el("tbody", {}, shown.map((key) => el("tr", { "data-key": key,
      class: differs(key) ? "differs" : "" }, el("td", { class: "key", title: key }, key),
    flat.map((m) => el("td", { title: m.has(key) ? show(m.get(key)) : null },
      m.has(key) ? show(m.get(key)) : "—"))))))
    : empty(keys.length ? "Every config key is the same" : "No config recorded",
      keys.length ? "Tick 'show all keys' to see them." : null);
  const box = el("section", { class: "config-diff" }, el("div", { class: "section-head" },
    el("h2", {}, "Config diff"), toggle), table);
  return box;
}
