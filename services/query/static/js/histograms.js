// Histograms over steps: a heat-map (x the step, y the value, colour the
// count) or a ridge view (one filled curve per step, later steps in front).
// The chosen view is the run page's `hist` URL parameter, shared by every
// histogram panel of the page.

import { current, setParams } from "./route.js";
import { el } from "./dom.js";
import { drawOnResize, label, theme, ticks } from "./plotkit.js";

const CELLS = 48;
const MAX_RIDGES = 24;
const VIEWS = [["heatmap", "Heat-map"], ["ridge", "Ridge"]];

export function histogramView() {
  return current().params.get("hist") === "ridge" ? "ridge" : "heatmap";
}

// Panels that switch view together: `add` one per histogram key.
export class HistogramGroup {
  constructor() {
    this.panels = [];
  }

  add(key, rows) {
    const panel = new HistogramPanel(key, rows, (view) => this.choose(view));
    this.panels.push(panel);
    return panel.root;
  }

  choose(view) {
    setParams({ hist: view === "ridge" ? "ridge" : null });
    for (const panel of this.panels) { panel.show(view); }
  }
}

class HistogramPanel {
  constructor(key, rows, choose) {
    this.steps = rows.map((row) => ({ step: row._step, h: row[key] }))
      .filter(({ h }) => h && h.bins && h.values && h.values.length);
    this.grid = regrid(this.steps);
    this.buttons = VIEWS.map(([id, text]) => el("button", { type: "button",
      class: "icon view-" + id, "data-view": id, onclick: () => choose(id) }, text));
    this.canvas = el("canvas", { class: "histogram-canvas", "data-key": key });
    this.box = el("div", { class: "histogram-box" }, this.canvas);
    this.root = el("figure", { class: "media-figure histogram-panel" },
      el("div", { class: "toolbar seg" }, this.buttons), this.box,
      el("figcaption", {}, this.caption()));
    this.redraw = drawOnResize(this.box, this.canvas, 220, (ctx, w, h) =>
      this.draw(ctx, w, h));
    this.show(histogramView());
  }

  caption() {
    const { steps, low, high } = this.grid;
    if (!steps.length) { return "no histogram values"; }
    return `${steps.length} steps (${steps[0]}–${steps[steps.length - 1]}); ` +
      `values ${label(low)} … ${label(high)}`;
  }

  show(view) {
    this.view = view;
    this.canvas.dataset.view = view;
    for (const button of this.buttons) {
      button.classList.toggle("active", button.dataset.view === view);
      button.setAttribute("aria-pressed", String(button.dataset.view === view));
    }
    this.redraw();
  }

  draw(ctx, width, height) {
    if (!this.grid.steps.length) { return; }
    const area = { left: 46, top: 8, right: width - 8, bottom: height - 28 };
    if (this.view === "ridge") { drawRidges(ctx, this.grid, area); } else {
      drawHeatmap(ctx, this.grid, area);
    }
  }
}

// Every step's counts re-cut onto one shared value range of CELLS bins.
function regrid(steps) {
  const edges = steps.flatMap(({ h }) => [h.bins[0], h.bins[h.bins.length - 1]]);
  const low = edges.length ? Math.min(...edges) : 0;
  const high = edges.length ? Math.max(...edges) : 1;
  const columns = steps.map(({ h }) => rebin(h, low, high));
  const top = Math.max(1, ...columns.flat());
  return { steps: steps.map((s) => s.step), columns, low, high, top };
}

function rebin(h, low, high) {
  const out = new Array(CELLS).fill(0);
  const width = (high - low) || 1;
  h.values.forEach((count, i) => {
    const mid = (h.bins[i] + h.bins[i + 1]) / 2;
    const cell = Math.floor((mid - low) / width * CELLS);
    out[Math.min(CELLS - 1, Math.max(0, cell))] += count;
  });
  return out;
}

function drawHeatmap(ctx, grid, area) {
  const colours = theme();
  const w = (area.right - area.left) / grid.columns.length;
  const h = (area.bottom - area.top) / CELLS;
  grid.columns.forEach((column, x) => column.forEach((count, y) => {
    if (!count) { return; }
    ctx.globalAlpha = 0.12 + 0.88 * count / grid.top;
    ctx.fillStyle = colours.accent;
    ctx.fillRect(area.left + x * w, area.bottom - (y + 1) * h, Math.ceil(w),
      Math.ceil(h));
  }));
  ctx.globalAlpha = 1;
  valueAxis(ctx, grid, area, colours, "y");
  stepAxis(ctx, grid, area, colours);
}

function drawRidges(ctx, grid, area) {
  const colours = theme();
  const picked = pick(grid.columns.length, MAX_RIDGES);
  const gap = (area.bottom - area.top) / (picked.length + 2);
  const rise = gap * 3;
  const dx = (area.right - area.left) / (CELLS - 1);
  picked.forEach((index, n) => {
    const base = area.top + rise + n * gap;
    const column = grid.columns[index];
    ctx.beginPath();
    ctx.moveTo(area.left, base);
    column.forEach((count, i) => ctx.lineTo(area.left + i * dx,
      base - rise * count / grid.top));
    ctx.lineTo(area.right, base);
    ctx.closePath();
    ctx.fillStyle = colours.panel;
    ctx.globalAlpha = 0.85;
    ctx.fill();
    ctx.globalAlpha = 1;
    ctx.strokeStyle = colours.accent;
    ctx.lineWidth = 1.25;
    ctx.stroke();
    ridgeLabel(ctx, grid.steps[index], area, base, colours, n, picked.length);
  });
  valueAxis(ctx, grid, area, colours, "x");
}

function pick(count, most) {
  if (count <= most) { return [...Array(count).keys()]; }
  return [...Array(most).keys()].map((i) => Math.round(i * (count - 1) / (most - 1)));
}

function ridgeLabel(ctx, step, area, base, colours, n, total) {
  if (n % Math.ceil(total / 8) !== 0 && n !== total - 1) { return; }
  ctx.fillStyle = colours.muted;
  ctx.font = "11px system-ui, sans-serif";
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  ctx.fillText(String(step), area.left - 6, base);
}

// Value ticks along y (heat-map) or x (ridge view).
function valueAxis(ctx, grid, area, colours, along) {
  ctx.fillStyle = colours.muted;
  ctx.font = "11px system-ui, sans-serif";
  const span = (grid.high - grid.low) || 1;
  for (const v of ticks(grid.low, grid.high, along === "y" ? 5 : 6)) {
    const f = (v - grid.low) / span;
    if (along === "y") {
      ctx.textAlign = "right";
      ctx.textBaseline = "middle";
      ctx.fillText(label(v), area.left - 6, area.bottom - f * (area.bottom - area.top));
    } else {
      ctx.textAlign = "center";
      ctx.textBaseline = "top";
      ctx.fillText(label(v), area.left + f * (area.right - area.left), area.bottom + 6);
    }
  }
}

function stepAxis(ctx, grid, area, colours) {
  const n = grid.steps.length;
  const w = (area.right - area.left) / n;
  ctx.fillStyle = colours.muted;
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  for (const i of pick(n, Math.min(n, 8))) {
    ctx.fillText(String(grid.steps[i]), area.left + (i + 0.5) * w, area.bottom + 6);
  }
  ctx.textAlign = "right";
  ctx.fillText("step", area.left - 6, area.bottom + 6);
}
