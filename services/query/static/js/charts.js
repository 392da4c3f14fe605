// Line charts on uPlot (canvas): smoothing with the raw line kept faint, log
// scale, min/max band where the server bucketed, NaN/±Inf as gaps with marks,
// drag to zoom (the panel fetches finer buckets for the new range), hover
// tooltip, full screen, CSV and PNG export, and a legend that hides lines.

import uPlot from "../vendor/uPlot.esm.js";
import { colourOf, download, el, formatNumber } from "./dom.js";
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
      bad[j] = markOf(line, i, value);
    });
    return { ...line, y, lo, hi, bad };
  });
  return { xs, lines: aligned };
}

// What a point's gap mark says: the server's name for the non-finite values of
// a point or bucket ("NaN", "2 NaN, 1 +Inf"), else the value's own.
function markOf(line, i, value) {
  if (line.marks && line.marks[i]) { return line.marks[i]; }
  if (value !== null && value !== undefined && !Number.isFinite(value)) {
    return Number.isNaN(value) ? "NaN" : value > 0 ? "+Inf" : "-Inf";
  }
  return line.bad && line.bad[i] ? line.bad[i] + " non-finite" : "";
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
  constructor({ title, load, settings, onZoom, xLabel, height }) {
    this.title = title;
    this.height = height || 220;
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
    const group = this.lines.find((l) => l.members);
    this.note.textContent = group ? "mean of " + group.members + ", min–max band"
      : sampled ? "sampled · min–max band" : "";
    this.note.title = sampled ? "Each point is a bucket: its last value, with the " +
      "bucket's min and max as a band. Drag to zoom in to the raw points." : "";
    Object.assign(this.root.dataset, { sampled: sampled ? "1" : "0",
      points: String(this.lines.reduce((n, l) => n + l.x.length, 0)) });
    if (!xs.length) {
      this._destroy();
      this.canvasBox.replaceChildren(el("p", { class: "muted" }, "No numeric values"));
      return;
    }
    this.bands = 0;
    const { data, series, bands } = this._layers(xs, lines);
    this.root.dataset.bands = String(this.bands);
    const options = this._options(series, bands);
    this._destroy();
    this.canvasBox.replaceChildren();
    this.plot = new uPlot(options, data, this.canvasBox);
    if (this.range) {
      this.plot.setScale("x", { min: this.range[0], max: this.range[1] });
    }
    this.root.dataset.visible = String(this._visiblePoints());
  }

  // How many points of the shown lines lie in the x range on screen.
  _visiblePoints() {
    const [lo, hi] = this.range || [-Infinity, Infinity];
    return this.lines.filter((l) => !this.hidden.has(l.id)).reduce((n, line) =>
      n + line.x.filter((x) => x >= lo && x <= hi).length, 0);
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
      this.bands = (this.bands || 0) + (hasBand && show ? 1 : 0);
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
      height: full ? Math.max(300, window.innerHeight - 160) : this.height,
      series,
      bands,
      legend: { show: false },
      scales: { x: { time: timeX }, y: this.settings.log ? { distr: 3 } : {} },
      axes: [{ ...axis }, { ...axis, size: 56,
        values: (u, ticks) => ticks.map(tickLabel) }],
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
      return el("div", {}, el("i", { style: "background:" + l.colour }),
        el("span", {}, l.label + ": "), el("b", {}, value));
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

  // Non-finite values: a faint dashed line through the gap and a red mark,
  // +Inf at the top, -Inf and NaN at the bottom, named when there are few.
  _markBad(u) {
    const marks = this._marks(u);
    this.root.dataset.marks = JSON.stringify(marks.map(({ x, mark, left }) =>
      ({ x, mark, left: Math.round(left) })));
    const ctx = u.ctx, ratio = devicePixelRatio;
    const top = u.bbox.top, bottom = u.bbox.top + u.bbox.height;
    const colour = cssColour("--bad", "#d00");
    ctx.save();
    for (const { mark, left } of marks) {
      const x = left * ratio + u.bbox.left;
      ctx.strokeStyle = fade(colour, 0.45);
      ctx.setLineDash([3 * ratio, 3 * ratio]);
      ctx.beginPath();
      ctx.moveTo(x, top);
      ctx.lineTo(x, bottom);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = colour;
      const up = mark.includes("+Inf") && !mark.includes("NaN") && !mark.includes("-Inf");
      triangle(ctx, x, up ? top : bottom, up ? 1 : -1, ratio);
      if (marks.length <= 12) {
        ctx.font = 10 * ratio + "px sans-serif";
        ctx.textAlign = "left";
        ctx.fillText(mark, x + 5 * ratio, up ? top + 18 * ratio : bottom - 12 * ratio);
      }
    }
    ctx.restore();
  }

  // Marked points of the shown lines, with their left offset in CSS pixels.
  _marks(u) {
    const marks = [];
    for (const line of this.aligned.lines) {
      if (this.hidden.has(line.id)) { continue; }
      line.bad.forEach((mark, i) => {
        if (!mark) { return; }
        const x = this.aligned.xs[i];
        const left = u.valToPos(x, "x");
        if (left >= 0 && left <= u.bbox.width / devicePixelRatio) {
          marks.push({ x, mark, left, run: line.id });
        }
      });
    }
    return marks;
  }

  _drawLegend(lines) {
    this.legend.replaceChildren(...lines.map((line) => {
      const item = el("li", { class: this.hidden.has(line.id) ? "off" : "",
        "data-run": line.id, title: "Show or hide " + line.label },
      el("i", { style: "background:" + line.colour }), el("span", {}, line.label));
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
      height: full ? Math.max(300, window.innerHeight - 160) : this.height });
  }

  toggleFull() {
    const full = this.root.classList.toggle("full");
    document.body.classList.toggle("has-full", full);
    if (full) {
      this.onKey = (event) => { if (event.key === "Escape") { this.toggleFull(); } };
      document.addEventListener("keydown", this.onKey);
    } else if (this.onKey) {
      document.removeEventListener("keydown", this.onKey);
      this.onKey = null;
    }
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

  // The chart as drawn, with its title above and its legend below.
  exportPng() {
    if (!this.plot) { return; }
    const source = this.plot.ctx.canvas, ratio = devicePixelRatio;
    const shown = this.aligned.lines.filter((l) => !this.hidden.has(l.id));
    const head = 28 * ratio, foot = (shown.length ? 22 : 0) * ratio;
    const copy = document.createElement("canvas");
    copy.width = source.width;
    copy.height = source.height + head + foot;
    const ctx = copy.getContext("2d");
    ctx.fillStyle = cssColour("--panel", "#fff");
    ctx.fillRect(0, 0, copy.width, copy.height);
    ctx.drawImage(source, 0, head);
    ctx.fillStyle = cssColour("--text", "#111");
    ctx.font = "600 " + 13 * ratio + "px sans-serif";
    ctx.fillText(this.title, 8 * ratio, 19 * ratio);
    pngLegend(ctx, shown, source.height + head + 15 * ratio, ratio);
    copy.toBlob((blob) => download(fileName(this.title, "png"), blob), "image/png");
  }

  _destroy() {
    if (this.plot) { this.plot.destroy(); this.plot = null; }
  }
}

// A filled triangle whose tip touches `y`; its base lies `dir` (1 down the
// canvas, -1 up) from there, so it points at the plot's edge.
function triangle(ctx, x, y, dir, ratio) {
  const base = y + dir * 9 * ratio;
  ctx.beginPath();
  ctx.moveTo(x, y);
  ctx.lineTo(x - 4.5 * ratio, base);
  ctx.lineTo(x + 4.5 * ratio, base);
  ctx.fill();
}

function pngLegend(ctx, lines, y, ratio) {
  ctx.font = 11 * ratio + "px sans-serif";
  let x = 8 * ratio;
  for (const line of lines) {
    ctx.fillStyle = line.colour;
    ctx.fillRect(x, y - 9 * ratio, 10 * ratio, 10 * ratio);
    ctx.fillStyle = cssColour("--text", "#111");
    ctx.fillText(line.label, x + 14 * ratio, y);
    x += ctx.measureText(line.label).width + 30 * ratio;
  }
}

// Short axis labels: uPlot passes null for log-scale ticks it leaves bare.
function tickLabel(tick) {
  if (tick === null || tick === undefined) { return ""; }
  const text = formatNumber(tick);
  return text.includes("e") ? tick.toExponential().replace("e+", "e") : text;
}

function csvCell(value) {
  const text = String(value);
  return /[",\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
}

function fileName(title, ext) {
  return (title.replace(/[^A-Za-z0-9_.-]+/g, "_") || "chart") + "." + ext;
}

// Lines of a group: per bucket, the mean of the members and their min-max;
// a member's NaN or infinity there marks the group's point, naming the member.
export function groupLine(members, id, label, colour) {
  const buckets = new Map();
  const slotAt = (x) => {
    if (!buckets.has(x)) {
      buckets.set(x, { sum: 0, n: 0, lo: Infinity, hi: -Infinity, marks: [] });
    }
    return buckets.get(x);
  };
  for (const member of members) {
    member.x.forEach((x, i) => {
      const y = toNumber(member.y[i]);
      const slot = slotAt(x);
      const mark = markOf(member, i, y);
      if (mark) { slot.marks.push(member.label + ": " + mark); }
      if (y === null || !Number.isFinite(y)) { return; }
      slot.sum += y;
      slot.n += 1;
      slot.lo = Math.min(slot.lo, member.lo[i] ?? y);
      slot.hi = Math.max(slot.hi, member.hi[i] ?? y);
    });
  }
  const xs = [...buckets.keys()].sort((a, b) => a - b);
  const at = xs.map((x) => buckets.get(x));
  return { id, label, colour, x: xs, members: members.length,
    y: at.map((b) => (b.n ? b.sum / b.n : null)),
    lo: at.map((b) => (b.n ? b.lo : null)), hi: at.map((b) => (b.n ? b.hi : null)),
    bad: at.map((b) => b.marks.length), marks: at.map((b) => b.marks.join("; ")),
    sampled: members.some((m) => m.sampled) };
}

// Colours of the runs shown together: each run's own stable colour, unless a
// run earlier in id order already has it; then another derived from its id,
// so the same set of runs gets the same colours on every page and reload.
export function runColours(ids) {
  const taken = new Set(), colours = new Map();
  for (const id of [...new Set(ids)].sort()) {
    let colour = colourOf(id);
    for (let n = 1; taken.has(colour) && n < 64; n++) { colour = colourOf(id + "~" + n); }
    taken.add(colour);
    colours.set(id, colour);
  }
  return colours;
}

// A grid of panels that keeps every chart as wide as its cell.
export function watchResize(panels, container) {
  const observer = new ResizeObserver(() => panels.forEach((p) => p.resize()));
  observer.observe(container);
  return observer;
}
