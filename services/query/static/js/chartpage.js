// Chart grids shared by the run page, compare and grouped runs: a toolbar
// (x axis, smoothing, log scale, key search) and one panel per metric,
// grouped by key prefix (train/…, val/…).

import { api, projectPath, query, runPath, toNumber } from "./api.js";
import { ChartPanel, chartSettings, groupLine, watchResize } from "./charts.js";
import { el, empty } from "./dom.js";
import { current, setParams } from "./route.js";
import { SeriesSource } from "./series.js";

export const BUILT_IN_X = ["_step", "_runtime", "_timestamp"];

export function prefixOf(key) {
  const cut = key.lastIndexOf("/");
  return cut > 0 ? key.slice(0, cut) : "";
}

// A page of charts for `runs` ([{id, label, colour}]).
export class ChartGrid {
  constructor({ entity, project, runs, group, onSettings }) {
    Object.assign(this, { entity, project, runs, group, onSettings });
    this.settings = chartSettings(current().params);
    this.search = current().params.get("q") || "";
    this.panels = new Map();
    this.root = el("div", { class: "chart-page" });
    this.sections = el("div", { class: "sections" });
    this.keys = [];
  }

  async render(keys, numericKeys) {
    this.keys = keys;
    this.xChoices = [...BUILT_IN_X, ...numericKeys];
    this.root.replaceChildren(this.toolbar(), this.sections);
    await this.drawPanels();
    watchResize({ forEach: (fn) => this.panels.forEach(fn) }, this.sections);
  }

  // Built-in axes first, then every numeric metric, in two labelled groups.
  xOptions() {
    const option = (k) => el("option", { value: k, title: k,
      selected: k === this.settings.xAxis }, k);
    const metrics = this.xChoices.filter((k) => !BUILT_IN_X.includes(k));
    return [el("optgroup", { label: "built-in" }, BUILT_IN_X.map(option)),
      metrics.length ? el("optgroup", { label: "metrics" }, metrics.map(option)) : null];
  }

  toolbar() {
    const x = el("select", { id: "x-axis", "aria-label": "X axis",
      title: this.settings.xAxis,
      onchange: (event) => this.change({ xAxis: event.target.value }, { x:
        event.target.value === "_step" ? null : event.target.value }) },
    this.xOptions());
    const smooth = el("input", { type: "range", id: "smoothing", min: "0", max: "0.99",
      step: "0.01", value: String(this.settings.smoothing), "aria-label": "Smoothing" });
    const shown = el("output", { for: "smoothing" }, this.settings.smoothing.toFixed(2));
    smooth.addEventListener("input", () => {
      shown.textContent = Number(smooth.value).toFixed(2);
      this.settings.smoothing = Number(smooth.value);
      setParams({ smooth: Number(smooth.value) || null });
      this.panels.forEach((p) => p.draw());
    });
    const log = el("input", { type: "checkbox", id: "log-scale",
      checked: this.settings.log, onchange: (event) => {
        this.settings.log = event.target.checked;
        setParams({ log: event.target.checked ? "1" : null });
        this.panels.forEach((p) => p.draw());
      } });
    const find = el("input", { type: "search", id: "key-search", value: this.search,
      placeholder: "search metrics", "aria-label": "Search metrics",
      oninput: (event) => {
        this.search = event.target.value;
        setParams({ q: this.search });
        this.filterPanels();
      } });
    const tools = [el("label", {}, "x ", x), el("label", {}, "smoothing ", smooth, shown),
      el("label", {}, log, " log scale"), find];
    if (this.group) {
      tools.push(el("label", {}, el("input", { type: "checkbox", id: "group-members",
        checked: this.settings.members, onchange: (event) => this.change(
          { members: event.target.checked },
          { members: event.target.checked ? "1" : null }),
      }), " every member"));
    }
    return el("div", { class: "toolbar chart-toolbar" }, tools);
  }

  async change(settings, params) {
    Object.assign(this.settings, settings);
    setParams(params);
    await this.drawPanels();
  }

  async drawPanels() {
    this.panels.forEach((p) => p._destroy());
    this.panels.clear();
    const keys = this.keys.filter((k) => k !== this.settings.xAxis);
    if (!keys.length) {
      this.sections.replaceChildren(empty("No metrics logged yet",
        "Charts appear as soon as the run logs a number."));
      return;
    }
    this.source = new SeriesSource(this.entity, this.project, this.runs, this.settings);
    if (BUILT_IN_X.includes(this.settings.xAxis)) { this.source.prefetch(keys); }
    const byPrefix = new Map();
    for (const key of keys) {
      const prefix = prefixOf(key);
      if (!byPrefix.has(prefix)) { byPrefix.set(prefix, []); }
      byPrefix.get(prefix).push(key);
    }
    const sections = [...byPrefix.keys()].sort().map((prefix) => this.section(prefix,
      byPrefix.get(prefix)));
    this.sections.replaceChildren(...sections);
    this.filterPanels();
    await Promise.all([...this.panels.values()].map((p) => p.refresh()));
  }

  section(prefix, keys) {
    const grid = el("div", { class: "chart-grid" });
    for (const key of keys) {
      const panel = new ChartPanel({ title: key, settings: this.settings,
        load: this.loader(key), xLabel: this.settings.xAxis });
      this.panels.set(key, panel);
      grid.append(panel.root);
    }
    const body = el("details", { open: true, class: "chart-section",
      "data-prefix": prefix }, el("summary", {}, prefix || "Charts",
      el("span", { class: "muted section-count" }, " " + keys.length)), grid);
    return body;
  }

  loader(key) {
    if (!BUILT_IN_X.includes(this.settings.xAxis)) {
      return (range) => this.againstMetric(key, range);
    }
    const plain = this.source.loaderFor(key);
    if (!this.group || this.settings.members) { return plain; }
    return async (range) => [groupLine(await plain(range), "group", this.group.label,
      this.group.colour)];
  }

  // A metric on the x axis: real sampled rows that hold both keys.
  async againstMetric(key, range) {
    const xKey = this.settings.xAxis;
    return Promise.all(this.runs.map(async (run) => {
      const found = await api.get("/runs" + runPath(this.entity, this.project, run.id) +
        "/history" + query({ key: [key, xKey], samples: 1000 }));
      const rows = found.rows.filter((r) => toNumber(r[xKey]) !== null &&
        Number.isFinite(toNumber(r[xKey])) && (!range || (toNumber(r[xKey]) >= range[0] &&
        toNumber(r[xKey]) <= range[1])) && r[key] !== undefined)
        .sort((a, b) => toNumber(a[xKey]) - toNumber(b[xKey]));
      return { id: run.id, label: run.label, colour: run.colour,
        x: rows.map((r) => toNumber(r[xKey])), y: rows.map((r) => r[key]),
        lo: null, hi: null, bad: null, sampled: found.sampled };
    }));
  }

  // Hide the panels, and sections, the search leaves out; counts say what shows.
  filterPanels() {
    const needle = this.search.toLowerCase();
    this.panels.forEach((panel, key) => {
      panel.root.hidden = Boolean(needle) && !key.toLowerCase().includes(needle);
    });
    let shown = 0;
    for (const section of this.sections.querySelectorAll(".chart-section")) {
      const visible = [...section.querySelectorAll(".chart-grid > *")]
        .filter((panel) => !panel.hidden).length;
      section.hidden = visible === 0;
      section.querySelector(".section-count").textContent = " " + visible;
      shown += visible;
    }
    this.sections.querySelector(".no-match")?.remove();
    if (!shown && needle && this.panels.size) {
      this.sections.append(el("div", { class: "no-match" }, empty(
        `No metrics match '${this.search}'`, "Clear the search to see every chart.")));
    }
  }

  // New rows arrived: refetch what is shown; add panels for new keys.
  async refresh(keys) {
    if (keys && keys.some((k) => !this.keys.includes(k))) {
      this.keys = keys;
      await this.drawPanels();
      return;
    }
    if (BUILT_IN_X.includes(this.settings.xAxis)) {
      this.source.prefetch(this.keys.filter((k) => k !== this.settings.xAxis));
    }
    await Promise.all([...this.panels.values()].map((p) => p.refresh()));
  }
}

// Keys that hold numbers in at least one of `runs`, from one series request.
export async function numericKeys(entity, project, runs, keys) {
  if (!keys.length) { return []; }
  const found = await api.get("/dashboard/series" + projectPath(entity, project) +
    query({ run: runs.map((r) => r.id), key: keys.slice(0, Math.floor(400 / runs.length)),
    buckets: 2 }));
  const numeric = new Set(found.series.filter((s) => s.x.length).map((s) => s.key));
  return keys.filter((k) => numeric.has(k));
}

export async function keysOf(entity, project, runIds) {
  const all = await Promise.all(runIds.map((id) => api.get("/runs" +
    runPath(entity, project, id) + "/keys")));
  return [...new Set(all.flatMap((found) => found.keys))].sort();
}
