// Saved project dashboards: a grid of panels (line, bar, scalar, table,
// media) over the runs that match a filter, stored by the query service and
// opened again, or shared, by URL.

import { api, projectPath, query, toNumber } from "./api.js";
import { ChartPanel } from "./charts.js";
import { colourOf, el, empty, failure, formatNumber, link, show } from "./dom.js";
import { go } from "./route.js";
import { fetchLines } from "./series.js";
import { projectTabs } from "./tabs.js";

const KINDS = ["line", "bar", "scalar", "table", "media"];
const RUNS = 20;

export async function dashboardsView(main, entity, project, slug) {
  main.replaceChildren(el("div", { class: "page-head" }, el("h1", {}, project),
    projectTabs(entity, project, "dashboards")));
  if (slug) {
    await openDashboard(main, entity, project, slug);
    return;
  }
  const found = await api.get("/dashboard/views" + projectPath(entity, project));
  const name = el("input", { type: "text", id: "new-dashboard", placeholder: "new-id",
    pattern: "[a-z0-9][a-z0-9_-]*", "aria-label": "New dashboard id" });
  const create = el("form", { class: "toolbar", onsubmit: (event) => {
    event.preventDefault();
    if (name.value.trim()) { go([entity, project, "dashboards", name.value.trim()]); }
  } }, name, el("button", { type: "submit", class: "primary" }, "New dashboard"));
  const list = found.dashboards.length ? el("ul", { class: "dashboards" },
    found.dashboards.map((d) => el("li", {}, link(d.title, "/" + [entity, project,
      "dashboards", d.id].map(encodeURIComponent).join("/")), el("span",
      { class: "muted" }, " saved by " + d.saved_by)))) : empty("No dashboards yet",
    "Create one: pick panels and metrics, then save; its URL can be shared.");
  main.append(create, list);
}

async function openDashboard(main, entity, project, slug) {
  let board;
  try {
    board = await api.get("/dashboard/views" + projectPath(entity, project) + "/" + slug);
  } catch (error) {
    if (error.status !== 404) { main.append(failure(error)); return; }
    board = { id: slug, title: slug, filter: "", panels: [], unsaved: true };
  }
  const columns = await api.get("/dashboard/columns" + projectPath(entity, project));
  const editor = new Board(main, entity, project, board, columns);
  await editor.render();
}

class Board {
  constructor(main, entity, project, board, columns) {
    Object.assign(this, { main, entity, project, board, columns });
    this.root = el("div", { class: "board" });
  }

  async render() {
    const title = el("input", { type: "text", id: "board-title", value: this.board.title,
      "aria-label": "Dashboard title" });
    const filter = el("input", { type: "search", id: "board-filter",
      value: this.board.filter, placeholder: "runs filter", "aria-label": "Runs filter" });
    const save = el("button", { type: "button", class: "primary", id: "board-save",
      onclick: async () => {
        this.board.title = title.value;
        this.board.filter = filter.value;
        try {
          this.board = await api.put("/dashboard/views" + projectPath(this.entity,
            this.project) + "/" + this.board.id, this.board);
          this.status.textContent = "saved";
        } catch (error) {
          this.status.textContent = error.message;
        }
      } }, "Save");
    filter.addEventListener("change", () => {
      this.board.filter = filter.value;
      this.draw();
    });
    this.status = el("span", { class: "muted", id: "board-status" },
      this.board.unsaved ? "not saved yet" : "");
    this.main.append(el("div", { class: "toolbar" }, title, filter, save, this.status),
      this.adder(), this.root);
    await this.draw();
  }

  adder() {
    const kind = el("select", { id: "panel-kind", "aria-label": "Panel kind" },
      KINDS.map((k) => el("option", { value: k }, k)));
    const metrics = [...new Set([...this.columns.history,
      ...this.columns.summary.filter((k) => !k.startsWith("_"))])];
    const metric = el("select", { id: "panel-metric", "aria-label": "Metric" },
      metrics.map((m) => el("option", { value: m }, m)));
    return el("div", { class: "toolbar" }, kind, metric, el("button", { type: "button",
      id: "panel-add", onclick: () => {
        this.board.panels.push({ kind: kind.value, metrics: [metric.value],
          title: metric.value });
        this.draw();
      } }, "Add panel"));
  }

  async draw() {
    const found = await api.get("/dashboard/runs" + projectPath(this.entity,
      this.project) + query({ filter: this.board.filter, limit: RUNS }));
    this.runs = found.runs;
    if (!this.board.panels.length) {
      this.root.replaceChildren(empty("No panels", "Add a panel above, then save."));
      return;
    }
    const cells = this.board.panels.map((panel, index) => this.cell(panel, index));
    this.root.replaceChildren(el("div", { class: "board-grid" }, cells));
    await Promise.all(cells.map((c) => c.ready));
  }

  cell(panel, index) {
    const remove = el("button", { type: "button", class: "icon", title: "Remove panel",
      onclick: () => { this.board.panels.splice(index, 1); this.draw(); } }, "×");
    const box = el("section", { class: "board-cell", "data-kind": panel.kind },
      el("header", {}, el("h3", {}, panel.title || panel.metrics.join(", ")), remove));
    box.ready = this.fill(box, panel).catch((error) => box.append(failure(error)));
    return box;
  }

  async fill(box, panel) {
    const metric = panel.metrics[0];
    const value = (run) => toNumber(run.summary[metric]);
    if (panel.kind === "line") {
      const runs = this.runs.map((r) => ({ id: r.id, label: r.name || r.id,
        colour: colourOf(r.id) }));
      const settings = { smoothing: 0, log: false, xAxis: "_step" };
      const chart = new ChartPanel({ title: metric, settings, load: async (range) =>
        (await fetchLines(this.entity, this.project, runs, [metric], settings, range))
          .get(metric) || [] });
      box.append(chart.root);
      await chart.refresh();
    } else if (panel.kind === "bar") {
      const values = this.runs.map(value).filter((v) => v !== null);
      const top = Math.max(...values.map(Math.abs), 1e-12);
      box.append(el("div", { class: "bars" }, this.runs.map((run) => el("div",
        { class: "bar-row" }, el("span", {}, run.name || run.id), el("span",
          { class: "bar", style: "width:" + Math.abs(value(run) || 0) / top * 100 +
          "%;background:" + colourOf(run.id) }), el("span", {}, show(run.summary[metric]))))));
    } else if (panel.kind === "scalar") {
      const latest = this.runs.find((r) => value(r) !== null);
      box.append(el("div", { class: "scalar" }, latest ? formatNumber(value(latest)) : "—"),
        el("div", { class: "muted" }, latest ? latest.name || latest.id : "no run has it"));
    } else if (panel.kind === "table") {
      box.append(el("table", { class: "grid" }, el("tbody", {}, this.runs.map((run) =>
        el("tr", {}, el("td", {}, run.name || run.id), el("td", {},
          show(run.summary[metric])))))));
    } else {
      box.append(empty("Media panel", "Shows " + metric + " of the latest run on the "
        + "run page's Media tab."));
    }
  }
}
