// Media panels of a run page: images (with mask layers and boxes), histograms
// over steps as a heat-map, audio, video, HTML in a sandboxed frame and the
// paged table viewer. File bytes come from the same-origin route
// /api/v1/dashboard/file/<entity>/<project>/<run>?path=..., tables from the
// query service's /tables routes (paged, sorted and filtered on the server).

import { api, query, runPath } from "./api.js";
import { el, empty, failure, show } from "./dom.js";

const PAGE = 25;

export function fileUrl(run, value) {
  return "/api/v1/dashboard/file" + runPath(run.entity, run.project, run.id) +
    query({ path: value.path, sha: (value.sha256 || "").slice(0, 16) });
}

// One step's value as an element.
export function mediaValue(value, run) {
  const kind = value._type;
  if (kind === "image-file") { return imageView(value, run); }
  if (kind === "images/separated") {
    return el("div", { class: "image-row" }, (value.images || []).map((image) =>
      imageView(image, run)));
  }
  if (kind === "audio-file") {
    return captioned(el("audio", { controls: true, preload: "metadata",
      src: fileUrl(run, value), class: "media-audio" }), value);
  }
  if (kind === "video-file") {
    return captioned(el("video", { controls: true, preload: "metadata",
      src: fileUrl(run, value), class: "media-video" }), value);
  }
  if (kind === "html-file") {
    return captioned(el("iframe", { sandbox: "", src: fileUrl(run, value),
      class: "media-html", title: value.caption || "HTML" }), value);
  }
  if (kind === "table-file") { return new TableViewer(run, value.table_id).root; }
  if (kind === "histogram") { return histogramBars(value); }
  return factsView(value);
}

function captioned(node, value) {
  return el("figure", { class: "media-figure" }, node,
    value.caption ? el("figcaption", {}, value.caption) : null);
}

function factsView(value) {
  const facts = Object.entries(value).filter(([k]) => k !== "_type");
  return el("div", {}, el("span", { class: "tag" }, value._type),
    el("dl", { class: "facts" }, facts.flatMap(([k, v]) => [el("dt", {}, k),
      el("dd", {}, show(v))])));
}

// ---- images --------------------------------------------------------------------------

function imageView(value, run) {
  const img = el("img", { src: fileUrl(run, value), alt: value.caption || value.path,
    class: "media-image" });
  const stack = el("div", { class: "image-stack" }, img);
  const controls = el("div", { class: "layer-controls" });
  for (const [name, mask] of Object.entries(value.masks || {})) {
    addMask(stack, controls, name, mask, run);
  }
  if (value.boxes && Object.keys(value.boxes).length) {
    addBoxes(stack, controls, value);
  }
  return el("figure", { class: "media-figure" }, stack, controls,
    value.caption ? el("figcaption", {}, value.caption) : null);
}

// A mask is a PNG of class ids; it is coloured in a canvas, one hue per class.
function addMask(stack, controls, name, mask, run) {
  const canvas = el("canvas", { class: "mask-layer", "data-mask": name });
  const source = new Image();
  source.onload = () => {
    canvas.width = source.naturalWidth;
    canvas.height = source.naturalHeight;
    const ctx = canvas.getContext("2d");
    ctx.drawImage(source, 0, 0);
    const pixels = ctx.getImageData(0, 0, canvas.width, canvas.height);
    for (let i = 0; i < pixels.data.length; i += 4) {
      const id = pixels.data[i];
      const [r, g, b] = id ? hue(id) : [0, 0, 0];
      pixels.data.set([r, g, b, id ? 255 : 0], i);
    }
    ctx.putImageData(pixels, 0, 0);
  };
  source.src = fileUrl(run, mask);
  stack.append(canvas);
  const toggle = el("input", { type: "checkbox", checked: true,
    onchange: () => { canvas.hidden = !toggle.checked; } });
  const opacity = el("input", { type: "range", min: "0", max: "1", step: "0.05",
    value: "0.5", "aria-label": name + " opacity",
    oninput: () => { canvas.style.opacity = opacity.value; } });
  canvas.style.opacity = "0.5";
  controls.append(el("label", {}, toggle, " " + name + " "), opacity);
}

function hue(id) {
  const angle = (id * 137.508) % 360;
  const f = (n) => {
    const k = (n + angle / 30) % 12;
    return Math.round(255 * (0.5 - 0.5 * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
  };
  return [f(0), f(8), f(4)];
}

// Boxes as absolutely placed outlines, filtered by class and a minimum score.
function addBoxes(stack, controls, value) {
  const layer = el("div", { class: "box-layer" });
  stack.append(layer);
  const boxes = Object.entries(value.boxes).flatMap(([group, spec]) =>
    (spec.box_data || []).map((box) => ({ group, box,
      label: (spec.class_labels || {})[box.class_id] || String(box.class_id) })));
  const classes = [...new Set(boxes.map((b) => b.label))];
  const chosen = new Set(classes);
  const score = el("input", { type: "range", min: "0", max: "1", step: "0.05",
    value: "0", "aria-label": "minimum score" });
  const draw = () => {
    layer.replaceChildren(...boxes.filter((b) => chosen.has(b.label) &&
      firstScore(b.box) >= Number(score.value)).map((b) => boxOutline(b, value)));
  };
  score.addEventListener("input", draw);
  controls.append(...classes.map((name) => {
    const box = el("input", { type: "checkbox", checked: true, onchange: () => {
      if (box.checked) { chosen.add(name); } else { chosen.delete(name); }
      draw();
    } });
    return el("label", {}, box, " " + name + " ");
  }), el("label", {}, "score ≥ ", score));
  draw();
}

function firstScore(box) {
  const scores = Object.values(box.scores || {});
  return scores.length ? Number(scores[0]) : 1;
}

function boxOutline({ box, label }, value) {
  const p = box.position || {};
  const pixels = box.domain === "pixel";
  const w = pixels ? value.width : 1;
  const h = pixels ? value.height : 1;
  let [x0, y0, x1, y1] = [p.minX, p.minY, p.maxX, p.maxY];
  if (p.middle) {
    [x0, x1] = [p.middle[0] - p.width / 2, p.middle[0] + p.width / 2];
    [y0, y1] = [p.middle[1] - p.height / 2, p.middle[1] + p.height / 2];
  }
  const pct = (a, total) => (100 * a / total) + "%";
  return el("div", { class: "box", style: `left:${pct(x0, w)};top:${pct(y0, h)};` +
    `width:${pct(x1 - x0, w)};height:${pct(y1 - y0, h)}` },
  el("span", {}, box.box_caption || label));
}

// ---- histograms ----------------------------------------------------------------------

function histogramBars(value) {
  const counts = value.values || [];
  const top = Math.max(1, ...counts);
  return el("div", { class: "histogram-bars" }, counts.map((c) =>
    el("span", { style: `height:${(100 * c) / top}%`, title: String(c) })));
}

// Every logged step of a histogram key as one column of a heat-map: x is the
// step, y the value (bins re-cut onto a shared range), colour the count.
export function histogramHeatmap(key, rows) {
  const steps = rows.map((row) => ({ step: row._step, h: row[key] }));
  const edges = steps.flatMap(({ h }) => [h.bins[0], h.bins[h.bins.length - 1]]);
  const low = Math.min(...edges);
  const high = Math.max(...edges);
  const cells = 48;
  const canvas = el("canvas", { class: "heatmap", width: String(steps.length * 6),
    height: String(cells * 4), "data-key": key });
  const ctx = canvas.getContext("2d");
  const grid = steps.map(({ h }) => rebin(h, low, high, cells));
  const top = Math.max(1, ...grid.flat());
  grid.forEach((column, x) => column.forEach((count, y) => {
    ctx.fillStyle = `rgba(37, 99, 235, ${count / top})`;
    ctx.fillRect(x * 6, (cells - 1 - y) * 4, 6, 4);
  }));
  const span = (v) => Number(v).toPrecision(3);
  return el("figure", { class: "media-figure" }, canvas, el("figcaption", {},
    `steps ${steps[0].step}–${steps[steps.length - 1].step}; values ${span(low)}` +
    ` … ${span(high)}`));
}

function rebin(h, low, high, cells) {
  const out = new Array(cells).fill(0);
  const width = (high - low) || 1;
  h.values.forEach((count, i) => {
    const mid = (h.bins[i] + h.bins[i + 1]) / 2;
    const cell = Math.min(cells - 1, Math.max(0, Math.floor((mid - low) / width * cells)));
    out[cell] += count;
  });
  return out;
}

// ---- tables --------------------------------------------------------------------------

export class TableViewer {
  constructor(run, tableId) {
    this.run = run;
    this.base = "/runs" + runPath(run.entity, run.project, run.id) + "/tables/" +
      encodeURIComponent(tableId);
    this.offset = 0;
    this.order = "";
    this.filter = el("input", { type: "search", class: "table-filter",
      placeholder: '["column", ">", 0.5]', "aria-label": "table filter" });
    this.filter.addEventListener("change", () => { this.offset = 0; this.load(); });
    this.status = el("span", { class: "table-status muted" });
    this.prev = el("button", { type: "button", class: "table-prev",
      onclick: () => this.turn(-PAGE) }, "‹ Prev");
    this.next = el("button", { type: "button", class: "table-next",
      onclick: () => this.turn(PAGE) }, "Next ›");
    this.body = el("div", { class: "table-wrap" });
    this.root = el("div", { class: "table-viewer" }, el("div", { class: "toolbar" },
      this.filter, this.prev, this.next, this.status), this.body);
    this.load();
  }

  turn(delta) {
    this.offset = Math.max(0, this.offset + delta);
    this.load();
  }

  async load() {
    const text = this.filter.value.trim();
    let page;
    try {
      page = await api.get(this.base + "/rows" + query({ offset: this.offset,
        limit: PAGE, order: this.order, filter: text ? [text] : [] }));
    } catch (error) {
      this.body.replaceChildren(failure(error));
      return;
    }
    this.total = page.total;
    const last = Math.min(page.offset + page.rows.length, page.total);
    this.status.textContent = page.total ? `${page.offset + 1}–${last} of ` +
      `${page.total} rows` : "0 rows";
    this.prev.disabled = page.offset === 0;
    this.next.disabled = last >= page.total;
    this.body.replaceChildren(page.rows.length ? this.grid(page) : empty("No rows"));
  }

  grid(page) {
    const head = page.columns.map((name) => el("th", { "data-col": name,
      onclick: () => this.sortBy(name) }, name + this.arrow(name)));
    return el("table", { class: "grid table-rows" }, el("thead", {}, el("tr", {}, head)),
      el("tbody", {}, page.rows.map((row) => el("tr", {}, row.map((cell) =>
        el("td", {}, this.cell(cell)))))));
  }

  cell(value) {
    if (value && typeof value === "object" && value._type) {
      return mediaValue(value, this.run);
    }
    return show(value);
  }

  arrow(name) {
    if (this.order === name) { return " ▲"; }
    return this.order === "-" + name ? " ▼" : "";
  }

  sortBy(name) {
    this.order = this.order === name ? "-" + name : name;
    this.offset = 0;
    this.load();
  }
}
