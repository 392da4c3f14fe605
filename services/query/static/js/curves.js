// Charts logged with lodestar.plot (values of type "chart"): PR and ROC curves
// and line series as canvas line charts with axis labels and a per-class
// legend that hides lines, scatter plots, bars, and confusion matrices as a
// heat-map grid with the count in every cell. The chart's data is its table,
// read from the query service's table routes.

import { api, runPath, toNumber } from "./api.js";
import { el, failure, formatNumber, loading } from "./dom.js";
import { SERIES, drawOnResize, label, theme, ticks } from "./plotkit.js";

const ROWS = 10000;
const HEIGHT = 300;
const AXES = {
  pr_curve: ["Recall", "Precision"],
  roc_curve: ["False positive rate", "True positive rate"],
};
const LINES = new Set(["pr_curve", "roc_curve", "line_series", "line", "scatter"]);

export function chartView(value, run) {
  const root = el("figure", { class: "media-figure chart-figure",
    "data-kind": value.kind }, loading("Loading chart…"));
  const table = value.table || {};
  const path = "/runs" + runPath(run.entity, run.project, run.id) + "/tables/" +
    encodeURIComponent(table.table_id || "") + "/rows?limit=" + ROWS;
  api.get(path).then((page) => {
    const caption = value.title ? [el("figcaption", {}, value.title)] : [];
    root.replaceChildren(...chartNodes(value, page), ...caption);
  }).catch((error) => root.replaceChildren(failure(error)));
  return root;
}

function chartNodes(value, page) {
  const column = columnReader(page);
  if (value.kind === "confusion_matrix") { return [matrixView(value, column)]; }
  if (LINES.has(value.kind)) { return new LineChart(value, column).nodes; }
  if (value.kind === "bar") {
    return [barsView(column(value.fields.label).map(String),
      column(value.fields.value).map(toNumber))];
  }
  if (value.kind === "histogram") {
    return [histogramBars(column(value.fields.value).map(toNumber))];
  }
  return [el("p", { class: "muted" }, `A ${value.kind} chart`)];
}

// `column(name)` is the list of that column's cells, in row order.
function columnReader(page) {
  return (name) => {
    const index = page.columns.indexOf(name);
    return index < 0 ? [] : page.rows.map((row) => row[index]);
  };
}

function cellText(value) {
  if (value && typeof value === "object" && "$text" in value) { return value.$text; }
  return String(value);
}

// ---- line charts -----------------------------------------------------------

class LineChart {
  constructor(value, column) {
    this.kind = value.kind;
    this.fields = value.fields;
    this.series = seriesOf(value, column);
    this.hidden = new Set();
    this.unit = value.kind in AXES;
    this.canvas = el("canvas", { class: "curve-canvas", "data-kind": value.kind });
    const box = el("div", { class: "curve-box" }, this.canvas);
    this.legend = el("div", { class: "legend curve-legend" }, this.series.map((s) =>
      this.legendItem(s)));
    this.nodes = [box, this.legend];
    this.redraw = drawOnResize(box, this.canvas, HEIGHT, (ctx, w, h) =>
      this.draw(ctx, w, h));
  }

  legendItem(series) {
    const item = el("button", { type: "button", class: "legend-item",
      "data-series": series.name, "aria-pressed": "true", onclick: () => {
        const off = !this.hidden.has(series.name);
        if (off) { this.hidden.add(series.name); } else {
          this.hidden.delete(series.name);
        }
        item.classList.toggle("off", off);
        item.setAttribute("aria-pressed", String(!off));
        this.redraw();
      } },
    el("span", { class: "swatch", style: `background:${series.colour}` }),
    series.name + (series.area === null ? "" : ` (AUC ${series.area.toFixed(3)})`));
    return item;
  }

  names() {
    const [x, y] = AXES[this.kind] || [this.fields.x, this.fields.y];
    return { x, y };
  }

  draw(ctx, width, height) {
    const colours = theme();
    const area = { left: 56, top: 10, right: width - 14, bottom: height - 42 };
    const shown = this.series.filter((s) => !this.hidden.has(s.name));
    const range = this.unit ? { x0: 0, x1: 1, y0: 0, y1: 1 }
      : extent(shown.length ? shown : this.series);
    const sx = (v) => area.left + (v - range.x0) / ((range.x1 - range.x0) || 1) *
      (area.right - area.left);
    const sy = (v) => area.bottom - (v - range.y0) / ((range.y1 - range.y0) || 1) *
      (area.bottom - area.top);
    grid(ctx, area, range, sx, sy, colours, this.names());
    if (this.kind === "roc_curve") { chance(ctx, sx, sy, colours); }
    for (const series of shown) {
      if (this.kind === "scatter") { dots(ctx, series, sx, sy); } else {
        line(ctx, series, sx, sy);
      }
    }
  }
}

function seriesOf(value, column) {
  const fields = value.fields || {};
  const xs = column(fields.x).map(toNumber);
  const ys = column(fields.y).map(toNumber);
  const group = fields.series || fields.stroke;
  const names = group ? column(group).map(cellText) : xs.map(() => fields.y);
  const found = new Map();
  names.forEach((name, i) => {
    if (xs[i] === null || ys[i] === null) { return; }
    if (!found.has(name)) { found.set(name, []); }
    found.get(name).push([xs[i], ys[i]]);
  });
  const curve = value.kind in AXES;
  return [...found].map(([name, points], i) => ({ name, points,
    colour: SERIES[i % SERIES.length],
    area: curve ? auc(points) : null }));
}

function auc(points) {
  let area = 0;
  for (let i = 1; i < points.length; i += 1) {
    area += (points[i][0] - points[i - 1][0]) * (points[i][1] + points[i - 1][1]) / 2;
  }
  return Math.abs(area);
}

function extent(series) {
  const points = series.flatMap((s) => s.points).filter(([x, y]) =>
    Number.isFinite(x) && Number.isFinite(y));
  if (!points.length) { return { x0: 0, x1: 1, y0: 0, y1: 1 }; }
  const xs = points.map((p) => p[0]), ys = points.map((p) => p[1]);
  const pad = (lo, hi) => (hi - lo ? [lo, hi] : [lo - 0.5, hi + 0.5]);
  const [x0, x1] = pad(Math.min(...xs), Math.max(...xs));
  const [y0, y1] = pad(Math.min(...ys), Math.max(...ys));
  return { x0, x1, y0, y1 };
}

function grid(ctx, area, range, sx, sy, colours, names) {
  ctx.font = "11px system-ui, sans-serif";
  ctx.lineWidth = 1;
  ctx.fillStyle = colours.muted;
  for (const v of ticks(range.x0, range.x1, 5)) {
    rule(ctx, sx(v), area.top, sx(v), area.bottom, colours.grid);
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    ctx.fillText(label(v), sx(v), area.bottom + 5);
  }
  for (const v of ticks(range.y0, range.y1, 5)) {
    rule(ctx, area.left, sy(v), area.right, sy(v), colours.grid);
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    ctx.fillText(label(v), area.left - 6, sy(v));
  }
  ctx.strokeStyle = colours.line;
  ctx.strokeRect(area.left, area.top, area.right - area.left, area.bottom - area.top);
  ctx.fillStyle = colours.text;
  ctx.textAlign = "center";
  ctx.textBaseline = "bottom";
  ctx.fillText(names.x, (area.left + area.right) / 2, area.bottom + 36);
  ctx.save();
  ctx.translate(14, (area.top + area.bottom) / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textBaseline = "middle";
  ctx.fillText(names.y, 0, 0);
  ctx.restore();
}

function rule(ctx, x0, y0, x1, y1, colour) {
  ctx.strokeStyle = colour;
  ctx.beginPath();
  ctx.moveTo(x0, y0);
  ctx.lineTo(x1, y1);
  ctx.stroke();
}

function chance(ctx, sx, sy, colours) {
  ctx.setLineDash([4, 4]);
  rule(ctx, sx(0), sy(0), sx(1), sy(1), colours.muted);
  ctx.setLineDash([]);
}

function line(ctx, series, sx, sy) {
  ctx.strokeStyle = series.colour;
  ctx.lineWidth = 2;
  ctx.beginPath();
  series.points.forEach(([x, y], i) => {
    if (i) { ctx.lineTo(sx(x), sy(y)); } else { ctx.moveTo(sx(x), sy(y)); }
  });
  ctx.stroke();
}

function dots(ctx, series, sx, sy) {
  ctx.fillStyle = series.colour;
  for (const [x, y] of series.points) {
    ctx.beginPath();
    ctx.arc(sx(x), sy(y), 2.5, 0, 2 * Math.PI);
    ctx.fill();
  }
}

// ---- confusion matrix ------------------------------------------------------

// Rows are the actual class, columns the predicted one; a cell's shade is its
// share of the largest count, its title the share of its actual class.
function matrixView(value, column) {
  const fields = value.fields || {};
  const actual = column(fields.actual).map(cellText);
  const predicted = column(fields.predicted).map(cellText);
  const counts = column(fields.value).map((v) => toNumber(v) || 0);
  const classes = [...new Set([...actual, ...predicted])];
  const cell = new Map(actual.map((a, i) => [a + "\u0000" + predicted[i], counts[i]]));
  const at = (a, p) => cell.get(a + "\u0000" + p) || 0;
  const top = Math.max(1, ...counts);
  const head = el("tr", {}, el("th", { class: "corner" }, "actual ↓ / predicted →"),
    classes.map((p) => el("th", { scope: "col", class: "predicted" }, p)));
  const body = classes.map((a) => {
    const total = classes.reduce((sum, p) => sum + at(a, p), 0) || 1;
    return el("tr", {}, el("th", { scope: "row", class: "actual" }, a),
      classes.map((p) => matrixCell(at(a, p), top, total, a, p)));
  });
  return el("div", { class: "matrix-wrap" }, el("table", { class: "confusion" },
    el("thead", {}, head), el("tbody", {}, body)));
}

function matrixCell(count, top, total, actual, predicted) {
  const share = count / top;
  const mix = Math.round(share * 90);
  const style = `background: color-mix(in srgb, var(--accent) ${mix}%, transparent)`;
  return el("td", { style, class: share > 0.5 ? "strong" : "", "data-actual": actual,
    "data-predicted": predicted,
    title: `${actual} → ${predicted}: ${count} (${(100 * count / total).toFixed(1)}% ` +
      `of ${actual})` }, formatNumber(count));
}

// ---- bars ------------------------------------------------------------------

function barsView(labels, values) {
  const top = Math.max(1e-12, ...values.filter(Number.isFinite).map(Math.abs));
  return el("div", { class: "chart-bars" }, labels.map((name, i) =>
    el("div", { class: "chart-bar" }, el("span", { class: "name" }, name),
      el("span", { class: "bar",
        style: `width:${100 * Math.abs(values[i] || 0) / top}%` }),
      el("span", { class: "value" }, formatNumber(values[i])))));
}

function histogramBars(values) {
  const finite = values.filter(Number.isFinite);
  if (!finite.length) { return el("p", { class: "muted" }, "No values"); }
  const low = Math.min(...finite), high = Math.max(...finite);
  const counts = new Array(20).fill(0);
  for (const v of finite) {
    counts[Math.min(19, Math.floor((v - low) / ((high - low) || 1) * 20))] += 1;
  }
  const tallest = Math.max(...counts);
  return el("div", { class: "histogram-bars", title: `${label(low)} … ${label(high)}` },
    counts.map((c) => el("span", { style: `height:${(100 * c) / tallest}%`,
      title: String(c) })));
}
