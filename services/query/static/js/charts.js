// Line charts on uPlot (canvas): smoothing with the raw line kept faint, log
// scale, min/max band where the server bucketed, NaN/±Inf as gaps with marks,
// drag to zoom (the panel fetches finer buckets for the new range), hover
// tooltip, full screen, CSV and PNG export, and a legend that hides lines.

import uPlot from "../vendor/uPlot.esm.js";
import { download, el, formatNumber } from "./dom.js";
import { toNumber } from "./api.js";

// Shared settings of every chart on a page; views keep them in the URL.
export function chartSettings(params) {
  return {
    smoothing: Number(params.get("smooth") || 0),
    log: params.get("log") === "1",
    xAxis: params.get("x") || "_step",
    members: params.get("members") === "1",
  };
}

export function ema(values, weight) {
  if (!weight) { return values; }
  const out = new Array(values.length);
  let last = 0, count = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined || !Number.isFinite(v)) { out[i] = v; continue; }
    last = last * weight + (1 - weight) * v;
    count += 1;
    out[i] = last / (1 - Math.pow(weight, count));
  }
  return out;
}

// Lines of several series on one x axis: the union of their x values, with
// `undefined` where a series has no point (uPlot joins over it) and `null`
// where the value was NaN or infinite (uPlot leaves a gap).
export function align(lines) {
  const xs = [...new Set(lines.flatMap((line) => line.x))].sort((a, b) => a - b);
  const at = new Map(xs.map((x, i) => [x, i]));
  const aligned = lines.map((line) => {
    const y = new Array(xs.length), lo = new Array(xs.length),
      hi = new Array(xs.length), bad = new Array(xs.length);
    line.x.forEach((x, i) => {
      const j = at.get(x);
      const value = toNumber(line.y[i]);
      y[j] = value === null || Number.isFinite(value) ? value : null;
      lo[j] = line.lo ? line.lo[i] : undefined;
      hi[j] = line.hi ? line.hi[i] : undefined;
      bad[j] = (line.bad && line.bad[i]) || (value !== null && !Number.isFinite(value))
        ? String(line.y[i]) : "";
    });
    return { ...line, y, lo, hi, bad };
  });
  return { xs, lines: aligned };
}

function cssColour(name, fallback) {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name);
  return value.trim() || fallback;
}

function fade(colour, alpha) {
  const n = parseInt(colour.slice(1), 16);
  return "rgba(" + (n >> 16) + "," + ((n >> 8) & 255) + "," + (n & 255) + "," +
    alpha + ")";
}

const X_LABELS = { _step: "step", _runtime: "runtime (s)", _timestamp: "time" };

// One panel: title, toolbar, canvas, legend. `load(range)` returns lines:
// [{id, label, colour, x, y, lo, hi, bad}]; range is null or [min, max].
export class ChartPanel {
  constructor({ title, load, settings, onZoom, xLabel }) {
    this.title = title;
    this.loader = load;
    this.settings = settings;
    this.onZoom = onZoom;
    this.xLabel = xLabel || X_LABELS[settings.xAxis] || settings.xAxis;
    this.range = null;
    this.lines = [];
    this.hidden = new Set();
    this.plot = null;
    this.root = this._frame();
  }

  _frame() {
    this.canvasBox = el("div", { class: "plot" });
    this.legend = el("ul", { class: "legend" });
    this.tooltip = el("div", { class: "tooltip", hidden: true });
    this.note = el("span", { class: "chart-note" });
    const tools = el("div", { class: "chart-tools" },
      this._button("⟲", "Reset zoom", () => this.zoom(null), "reset"),
      this._button("CSV", "Download the data as CSV", () => this.exportCsv(), "csv"),
      this._button("PNG", "Download the chart as PNG", () => this.exportPng(), "png"),
      this._button("⤢", "Full screen", () => this.toggleFull(), "full"));
    return el("section", { class: "chart", "data-title": this.title },
      el("header", {}, el("h3", { title: this.title }, this.title), this.note, tools),
      this.canvasBox, this.tooltip, this.legend);
  }

  _button(text, title, action, name) {
    return el("button", { type: "button", class: "icon", title, "aria-label": title,
      "data-action": name, onclick: action }, text);
  }

  async refresh() {
    this.root.classList.add("busy");
    try {
      this.lines = await this.loader(this.range);
      this.draw();
    } catch (error) {
      this.canvasBox.replaceChildren(el("p", { class: "error" }, error.message));
    } finally {
      this.root.classList.remove("busy");
    }
  }

  async zoom(range) {
    this.range = range;
    this.root.classList.toggle("zoomed", range !== null);
    if (this.onZoom) { this.onZoom(range); }
    await this.refresh();
  }

  draw() {
    const { xs, lines } = align(this.lines);
    this.aligned = { xs, lines };
    this.root.dataset.lastX = xs.length ? String(xs[xs.length - 1]) : "";
    this._drawLegend(lines);
    const sampled = this.lines.some((l) => l.sampled);
    this.note.textContent = sampled ? "sampled" : "";
    if (!xs.length) {
      this._destroy();
      this.canvasBox.replaceChildren(el("p", { class: "muted" }, "No numeric values"));
      return;
    }
    const { data, series, bands } = this._layers(xs, lines);
    const options = this._options(series, bands);
    this._destroy();
    this.canvasBox.replaceChildren();
    this.plot = new uPlot(options, data, this.canvasBox);
    if (this.range) { this.plot.setScale("x", { min: this.range[0], max: this.range[1] }); }
  }

  _layers(xs, lines) {
    const data = [xs], series = [{ label: this.xLabel }], bands = [];
    const weight = this.settings.smoothing;
    const positive = (v) => (this.settings.log && v !== null && v !== undefined &&
      v <= 0 ? undefined : v);
    lines.forEach((line) => {
      const show = !this.hidden.has(line.id);
      const hasBand = line.hi.some((v, i) => v !== undefined && v !== null &&
        v !== line.y[i]);
      if (hasBand) {
        data.push(line.hi.map(positive), line.lo.map(positive));
        const hiIndex = series.length;
        series.push({ label: line.label + " max", stroke: "transparent", show,
          points: { show: false } });
        series.push({ label: line.label + " min", stroke: "transparent", show,
          points: { show: false } });
        bands.push({ series: [hiIndex, hiIndex + 1], fill: fade(line.colour, 0.15) });
      }
      if (weight) {
        data.push(line.y.map(positive));
        series.push({ label: line.label + " raw", stroke: fade(line.colour, 0.25),
          width: 1, show, points: { show: false } });
      }
      data.push(ema(line.y, weight).map(positive));
      series.push({ label: line.label, stroke: line.colour, width: 1.6, show,
        points: { show: line.x.length < 40 }, lineId: line.id });
    });
    return { data, series, bands };
  }

  _options(series, bands) {
    const axis = { stroke: cssColour("--muted", "#666"),
      grid: { stroke: cssColour("--grid", "#eee"), width: 1 },
      ticks: { stroke: cssColour("--grid", "#eee") } };
    const timeX = this.settings.xAxis === "_timestamp";
    const width = Math.max(200, this.canvasBox.clientWidth || 400);
    const full = this.root.classList.contains("full");
    return {
      width,
      height: full ? Math.max(300, window.innerHeight - 160) : 220,
      series,
      bands,
      legend: { show: false },
      scales: { x: { time: timeX }, y: this.settings.log ? { distr: 3 } : {} },
      axes: [{ ...axis }, { ...axis, size: 56,
        values: (u, ticks) => ticks.map((t) => formatNumber(t)) }],
      cursor: { drag: { x: true, y: false, setScale: false }, points: { size: 6 } },
      hooks: {
        setSelect: [(u) => this._selected(u)],
        setCursor: [(u) => this._hover(u)],
        draw: [(u) => this._markBad(u)],
      },
    };
  }

  _selected(u) {
    if (u.select.width < 4) { return; }
    const min = u.posToVal(u.select.left, "x");
    const max = u.posToVal(u.select.left + u.select.width, "x");
    u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
    this.zoom([min, max]);
  }

  _hover(u) {
    const index = u.cursor.idx;
    if (index === null || index === undefined || u.cursor.left < 0) {
      this.tooltip.hidden = true;
      return;
    }
    const x = this.aligned.xs[index];
    const rows = this.aligned.lines.filter((l) => !this.hidden.has(l.id)).map((l) => {
      const value = l.bad[index] || (l.y[index] === undefined ? "–"
        : formatNumber(ema(l.y, this.settings.smoothing)[index]));
      return el("div", {}, el("i", { style: "background:" + l.colour }), l.label + ": ",
        el("b", {}, value));
    });
    const label = this.settings.xAxis === "_timestamp"
      ? new Date(x * 1000).toLocaleString() : formatNumber(x);
    this.tooltip.replaceChildren(el("div", { class: "muted" }, this.xLabel + " " + label),
      ...rows);
    this.tooltip.hidden = false;
    const left = u.cursor.left + 70;
    this.tooltip.style.left = Math.min(left, u.width - 160) + "px";
    this.tooltip.style.top = (u.cursor.top + 40) + "px";
  }

  _markBad(u) {
    const ctx = u.ctx;
    ctx.save();
    ctx.fillStyle = cssColour("--bad", "#d00");
    const bottom = u.bbox.top + u.bbox.height;
    for (const line of this.aligned.lines) {
      if (this.hidden.has(line.id)) { continue; }
      line.bad.forEach((bad, i) => {
        if (!bad) { return; }
        const x = u.valToPos(this.aligned.xs[i], "x", true);
        ctx.beginPath();
        ctx.moveTo(x, bottom - 9 * devicePixelRatio);
        ctx.lineTo(x - 4 * devicePixelRatio, bottom);
        ctx.lineTo(x + 4 * devicePixelRatio, bottom);
        ctx.fill();
      });
    }
    ctx.restore();
  }

  _drawLegend(lines) {
    this.legend.replaceChildren(...lines.map((line) => {
      const item = el("li", { class: this.hidden.has(line.id) ? "off" : "",
        "data-run": line.id, title: "Show or hide " + line.label },
      el("i", { style: "background:" + line.colour }), line.label);
      item.addEventListener("click", () => this.toggleLine(line.id));
      return item;
    }));
  }

  toggleLine(id) {
    if (this.hidden.has(id)) { this.hidden.delete(id); } else { this.hidden.add(id); }
    this.draw();
  }

  resize() {
    if (!this.plot) { return; }
    const full = this.root.classList.contains("full");
    this.plot.setSize({ width: Math.max(200, this.canvasBox.clientWidth),
      height: full ? Math.max(300, window.innerHeight - 160) : 220 });
  }

  toggleFull() {
    this.root.classList.toggle("full");
    document.body.classList.toggle("has-full", this.root.classList.contains("full"));
    this.draw();
  }

  exportCsv() {
    const { xs, lines } = this.aligned || align(this.lines);
    const head = [this.settings.xAxis, ...lines.flatMap((l) => [l.label,
      l.label + " (min)", l.label + " (max)"])];
    const rows = xs.map((x, i) => [x, ...lines.flatMap((l) => [
      l.bad[i] || (l.y[i] ?? ""), l.lo[i] ?? "", l.hi[i] ?? ""])]);
    const text = [head, ...rows].map((r) => r.map(csvCell).join(",")).join("\n");
    download(fileName(this.title, "csv"), new Blob([text + "\n"], { type: "text/csv" }));
  }

  exportPng() {
    if (!this.plot) { return; }
    const source = this.plot.ctx.canvas;
    const copy = document.createElement("canvas");
    copy.width = source.width;
    copy.height = source.height;
    const ctx = copy.getContext("2d");
    ctx.fillStyle = cssColour("--panel", "#fff");
    ctx.fillRect(0, 0, copy.width, copy.height);
    ctx.drawImage(source, 0, 0);
    copy.toBlob((blob) => download(fileName(this.title, "png"), blob), "image/png");
  }

  _destroy() {
    if (this.plot) { this.plot.destroy(); this.plot = null; }
  }
}

function csvCell(value) {
  const text = String(value);
  return /[",\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
}

function fileName(title, ext) {
  return (title.replace(/[^A-Za-z0-9_.-]+/g, "_") || "chart") + "." + ext;
}

// Lines of a group: per bucket, the mean of the members and their min-max.
export function groupLine(members, id, label, colour) {
  const buckets = new Map();
  for (const member of members) {
    member.x.forEach((x, i) => {
      const y = toNumber(member.y[i]);
      if (y === null || !Number.isFinite(y)) { return; }
      const slot = buckets.get(x) || { sum: 0, n: 0, lo: Infinity, hi: -Infinity };
      slot.sum += y;
      slot.n += 1;
      slot.lo = Math.min(slot.lo, member.lo[i] ?? y);
      slot.hi = Math.max(slot.hi, member.hi[i] ?? y);
      buckets.set(x, slot);
    });
  }
  const xs = [...buckets.keys()].sort((a, b) => a - b);
  return { id, label, colour, x: xs, y: xs.map((x) => buckets.get(x).sum / buckets.get(x).n),
    lo: xs.map((x) => buckets.get(x).lo), hi: xs.map((x) => buckets.get(x).hi),
    bad: xs.map(() => 0), sampled: false };
}

// A grid of panels that keeps every chart as wide as its cell.
export function watchResize(panels, container) {
  const observer = new ResizeObserver(() => panels.forEach((p) => p.resize()));
  observer.observe(container);
  return observer;
}
