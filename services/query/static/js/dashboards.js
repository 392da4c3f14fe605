// Saved project dashboards: a grid of panels (line, bar, scalar, table,
// media) over the runs that match a filter, each with its chosen metrics and
// its place and size in the grid; stored by the query service and opened
// again, or shared, by URL.

import { api, projectPath, query, runPath, toNumber } from "./api.js";
import { ChartPanel, runColours } from "./charts.js";
import { el, empty, failure, formatNumber, link, show } from "./dom.js";
import { mediaValue } from "./media.js";
import { go } from "./route.js";
import { fetchLines } from "./series.js";
import { projectTabs } from "./tabs.js";

const KINDS = ["line", "bar", "scalar", "table", "media"];
const RUNS = 20;
const MEDIA_RUNS = 4;
const WIDTHS = [1, 4];
const HEIGHTS = [1, 3];
const CHART_HEIGHTS = { 1: 220, 2: 420, 3: 620 };

export async function dashboardsView(main, entity, project, slug) {
  main.replaceChildren(el("div", { class: "page-head" }, el("h1", {}, project),
    projectTabs(entity, project, "dashboards")));
  if (slug) {
    await openDashboard(main, entity, project, slug);
    return;
  }
  const found = await api.get("/dashboard/views" + projectPath(entity, project));
  main.append(creator(entity, project), found.dashboards.length
    ? el("ul", { class: "dashboards" }, found.dashboards.map((d) => el("li", {},
      link(d.title, "/" + [entity, project, "dashboards", d.id]
        .map(encodeURIComponent).join("/")),
      el("span", { class: "muted" }, " saved by " + d.saved_by))))
    : empty("No dashboards yet",
      "Create one: pick panels and metrics, then save; its URL can be shared."));
}

function creator(entity, project) {
  const name = el("input", { type: "text", id: "new-dashboard", placeholder: "new-id",
    pattern: "[a-z0-9][a-z0-9_-]*", "aria-label": "New dashboard id" });
  return el("form", { class: "toolbar", onsubmit: (event) => {
    event.preventDefault();
    if (name.value.trim()) { go([entity, project, "dashboards", name.value.trim()]); }
  } }, name, el("button", { type: "submit", class: "primary" }, "New dashboard"));
}

async function openDashboard(main, entity, project, slug) {
  let board;
  try {
    board = await api.get("/dashboard/views" + projectPath(entity, project) + "/" + slug);
  } catch (error) {
    if (error.status !== 404) { main.append(failure(error)); return; }
    board = { id: slug, title: slug, filter: "", panels: [], unsaved: true };
  }
  board.panels = board.panels.map(normalPanel);
  const columns = await api.get("/dashboard/columns" + projectPath(entity, project));
  await new Board(main, entity, project, board, columns).render();
}

// Panels saved before layouts existed, or by hand, get a default place.
function normalPanel(panel) {
  const layout = panel.layout || {};
  return { ...panel, metrics: (panel.metrics || []).filter(Boolean),
    layout: { w: clamp(layout.w || 1, WIDTHS), h: clamp(layout.h || 1, HEIGHTS) } };
}

function clamp(value, [low, high]) {
  return Math.max(low, Math.min(high, Math.round(Number(value)) || low));
}

class Board {
  constructor(main, entity, project, board, columns) {
    Object.assign(this, { main, entity, project, board, columns });
    this.root = el("div", { class: "board" });
    this.runs = [];
  }

  async render() {
    this.title = el("input", { type: "text", id: "board-title",
      value: this.board.title, "aria-label": "Dashboard title",
      oninput: () => this.changed() });
    this.filter = el("input", { type: "search", id: "board-filter",
      value: this.board.filter, placeholder: "runs filter, e.g. config.lr > 0.01",
      "aria-label": "Runs filter", onchange: () => {
        this.board.filter = this.filter.value;
        this.changed();
        this.draw();
      } });
    this.status = el("span", { class: "muted", id: "board-status" },
      this.board.unsaved ? "not saved yet" : "");
    this.count = el("span", { class: "muted", id: "board-runs" });
    this.main.append(el("div", { class: "toolbar board-bar" }, this.title, this.filter,
      this.count, el("button", { type: "button", class: "primary", id: "board-save",
        onclick: () => this.save() }, "Save"),
      el("button", { type: "button", id: "board-link", title: "Copy this dashboard's URL",
        onclick: () => this.copyLink() }, "Copy link"), this.status),
    this.adder(), this.root);
    await this.draw();
  }

  changed() { this.status.textContent = "unsaved changes"; }

  async save() {
    this.board.title = this.title.value;
    this.board.filter = this.filter.value;
    try {
      const saved = await api.put("/dashboard/views" + projectPath(this.entity,
        this.project) + "/" + this.board.id, this.board);
      this.board = { ...saved, panels: saved.panels.map(normalPanel) };
      this.status.textContent = "saved";
    } catch (error) {
      this.status.textContent = error.message;
    }
  }

  async copyLink() {
    try {
      await navigator.clipboard.writeText(location.href);
      this.status.textContent = "link copied";
    } catch {
      this.status.textContent = location.href;
    }
  }

  adder() {
    const kind = el("select", { id: "panel-kind", "aria-label": "Panel kind" },
      KINDS.map((k) => el("option", { value: k }, k)));
    const metrics = [...new Set([...this.columns.history,
      ...this.columns.summary.filter((k) => !k.startsWith("_"))])];
    const metric = el("select", { id: "panel-metric", "aria-label": "Metrics",
      multiple: true, size: "3", title: "One or more metrics (Ctrl or Shift to add)" },
    metrics.map((m) => el("option", { value: m }, m)));
    const add = () => {
      const chosen = [...metric.selectedOptions].map((o) => o.value);
      if (!chosen.length) { return; }
      this.board.panels.push(normalPanel({ kind: kind.value, metrics: chosen,
        title: chosen.join(", "), layout: { w: kind.value === "line" ? 2 : 1, h: 1 } }));
      this.changed();
      this.draw();
    };
    return el("div", { class: "toolbar board-adder" }, el("label", {}, "panel ", kind),
      el("label", {}, "metrics ", metric), el("button", { type: "button",
        id: "panel-add", onclick: add }, "Add panel"));
  }

  // Changes can come faster than the runs: only the latest draw fills the grid.
  async draw() {
    const turn = (this.turn || 0) + 1;
    this.turn = turn;
    try {
      const found = await api.get("/dashboard/runs" + projectPath(this.entity,
        this.project) + query({ filter: this.board.filter, limit: RUNS }));
      if (turn !== this.turn) { return; }
      this.runs = found.runs;
      this.colours = runColours(this.runs.map((r) => r.id));
      this.count.textContent = (found.total > RUNS ? "first " + RUNS + " of " : "") +
        found.total + (found.total === 1 ? " run" : " runs");
    } catch (error) {
      if (turn !== this.turn) { return; }
      this.count.textContent = "";
      this.root.replaceChildren(failure(error));
      return;
    }
    if (!this.board.panels.length) {
      this.root.replaceChildren(empty("No panels", "Add a panel above, then save."));
      return;
    }
    const cells = this.board.panels.map((panel, index) => this.cell(panel, index));
    this.root.replaceChildren(el("div", { class: "board-grid" }, cells));
    await Promise.all(cells.map((c) => c.ready));
  }

  cell(panel, index) {
    const { w, h } = panel.layout;
    const box = el("section", { class: "board-cell", "data-kind": panel.kind,
      "data-index": String(index), "data-w": String(w), "data-h": String(h) },
    el("header", {}, el("h3", {}, panel.title || panel.metrics.join(", ")),
      this.controls(index)));
    box.ready = fillPanel(this, box, panel).catch((error) => box.append(failure(error)));
    return box;
  }

  // Move and resize by buttons: earlier/later in the grid, narrower/wider
  // (1-4 columns), shorter/taller (1-3 rows).
  controls(index) {
    const button = (text, action, title, fn) => el("button", { type: "button",
      class: "icon", title, "aria-label": title, "data-action": action,
      onclick: () => { fn(); this.changed(); this.draw(); } }, text);
    const panels = this.board.panels, layout = panels[index].layout;
    const swap = (to) => {
      if (to < 0 || to >= panels.length) { return; }
      [panels[index], panels[to]] = [panels[to], panels[index]];
    };
    const size = (name, by, range) => {
      layout[name] = clamp(layout[name] + by, range);
    };
    return el("div", { class: "cell-tools" },
      button("◀", "earlier", "Move earlier", () => swap(index - 1)),
      button("▶", "later", "Move later", () => swap(index + 1)),
      button("⇤", "narrower", "Narrower", () => size("w", -1, WIDTHS)),
      button("⇥", "wider", "Wider", () => size("w", 1, WIDTHS)),
      button("⤒", "shorter", "Shorter", () => size("h", -1, HEIGHTS)),
      button("⤓", "taller", "Taller", () => size("h", 1, HEIGHTS)),
      button("×", "remove", "Remove panel", () => panels.splice(index, 1)));
  }
}

async function fillPanel(board, box, panel) {
  if (!board.runs.length) {
    box.append(empty("No runs match", "Change the dashboard's runs filter."));
    return;
  }
  const fill = { line: lineCell, bar: barCell, scalar: scalarCell, table: tableCell,
    media: mediaCell }[panel.kind];
  await fill(board, box, panel);
}

// One line per run and metric; a run keeps its colour when one metric is shown.
async function lineCell(board, box, panel) {
  const runs = board.runs.map((r) => ({ id: r.id, label: r.name || r.id,
    colour: board.colours.get(r.id) }));
  const many = panel.metrics.length > 1;
  const colours = many ? runColours(runs.flatMap((r) => panel.metrics.map((m) =>
    r.id + "|" + m))) : null;
  const settings = { smoothing: 0, log: false, xAxis: "_step" };
  const load = async (range) => {
    const found = await fetchLines(board.entity, board.project, runs, panel.metrics,
      settings, range);
    return panel.metrics.flatMap((m) => (found.get(m) || []).map((line) => (many
      ? { ...line, id: line.id + "|" + m, label: line.label + " · " + m,
        colour: colours.get(line.id + "|" + m) } : line)));
  };
  const chart = new ChartPanel({ title: panel.metrics.join(", "), settings, load,
    height: CHART_HEIGHTS[panel.layout.h] });
  box.append(chart.root);
  await chart.refresh();
}

function summaryOf(run, metric) {
  return toNumber(run.summary[metric]);
}

function barCell(board, box, panel) {
  for (const metric of panel.metrics) {
    const values = board.runs.map((r) => summaryOf(r, metric)).filter((v) => v !== null);
    const top = Math.max(...values.map(Math.abs), 1e-12);
    box.append(el("div", { class: "bars", "data-metric": metric },
      panel.metrics.length > 1 ? el("h4", {}, metric) : null,
      board.runs.map((run) => barRow(run, metric, top, board.colours.get(run.id)))));
  }
}

function barRow(run, metric, top, colour) {
  const value = summaryOf(run, metric);
  const width = value === null || !Number.isFinite(value) ? 0 : Math.abs(value) / top;
  return el("div", { class: "bar-row", "data-run": run.id },
    el("span", { class: "bar-label", title: run.name || run.id }, run.name || run.id),
    el("span", { class: "bar-track" }, el("span", { class: "bar",
      style: "width:" + (width * 100).toFixed(1) + "%;background:" + colour })),
    el("span", { class: "bar-value" }, show(run.summary[metric])));
}

// The newest matching run's value of each metric, big.
function scalarCell(board, box, panel) {
  box.append(el("div", { class: "scalars" }, panel.metrics.map((metric) => {
    const latest = board.runs.find((r) => summaryOf(r, metric) !== null);
    return el("div", { class: "scalar-box", "data-metric": metric },
      el("div", { class: "scalar" }, latest ? formatNumber(summaryOf(latest, metric))
        : "—"),
      el("div", { class: "muted" }, (panel.metrics.length > 1 ? metric + " · " : "") +
        (latest ? latest.name || latest.id : "no run has it")));
  })));
}

function tableCell(board, box, panel) {
  box.append(el("div", { class: "board-table" }, el("table", { class: "grid" },
    el("thead", {}, el("tr", {}, el("th", {}, "run"),
      panel.metrics.map((m) => el("th", {}, m)))),
    el("tbody", {}, board.runs.map((run) => el("tr", { "data-run": run.id },
      el("td", {}, el("i", { class: "swatch",
        style: "background:" + board.colours.get(run.id) }), " " + (run.name || run.id)),
      panel.metrics.map((m) => el("td", { class: "num" },
        show(run.summary[m])))))))));
}

// The latest logged media of the first metric, for the newest runs that have it.
async function mediaCell(board, box, panel) {
  const key = panel.metrics[0];
  const found = await Promise.all(board.runs.map(async (run) => {
    const history = await api.get("/runs" + runPath(board.entity, board.project,
      run.id) + "/history" + query({ key, samples: 50 }));
    const rows = history.rows.filter((r) => r[key] && typeof r[key] === "object" &&
      r[key]._type);
    return rows.length ? { run, row: rows[rows.length - 1] } : null;
  }));
  const shown = found.filter(Boolean).slice(0, MEDIA_RUNS);
  if (!shown.length) {
    box.append(empty("No media", "No matching run logged media under " + key + "."));
    return;
  }
  box.append(el("div", { class: "board-media" }, shown.map(({ run, row }) =>
    el("figure", { class: "board-media-item", "data-run": run.id },
      mediaValue(row[key], { entity: board.entity, project: board.project, id: run.id },
        key),
      el("figcaption", { class: "muted" }, (run.name || run.id) + " · step " +
        row._step)))));
}
