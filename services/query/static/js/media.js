// Media panels of a run page: images (with mask layers and boxes), audio,
// video, HTML in a sandboxed frame, 3-D point clouds, lodestar.plot charts and
// the paged table viewer. File bytes come from the same-origin route
// /api/v1/dashboard/file/<entity>/<project>/<run>?path=..., tables from the
// query service's /tables routes (paged, sorted and filtered on the server).

import { api, query, runPath } from "./api.js";
import { chartView } from "./curves.js";
import { el, empty, failure, show } from "./dom.js";
import { classColour } from "./plotkit.js";
import { pointCloudView } from "./pointcloud.js";
import { current, setParams } from "./route.js";

const PAGE = 25;
const OPERATORS = ["==", "!=", "<", "<=", ">", ">=", "contains"];

export function fileUrl(run, value) {
  return "/api/v1/dashboard/file" + runPath(run.entity, run.project, run.id) +
    query({ path: value.path, sha: (value.sha256 || "").slice(0, 16) });
}

// One step's value as an element; `key` names the panel (for URL state).
export function mediaValue(value, run, key) {
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
  if (kind === "video-file") { return videoView(value, run); }
  if (kind === "html-file") {
    return captioned(el("iframe", { sandbox: "", src: fileUrl(run, value),
      class: "media-html", title: value.caption || "HTML",
      referrerpolicy: "no-referrer" }), value);
  }
  if (kind === "object3D-file") { return pointCloudView(value, fileUrl(run, value)); }
  if (kind === "chart") { return chartView(value, run); }
  if (kind === "table-file") {
    return new TableViewer(run, value.table_id, key || value.table_id).root;
  }
  if (kind === "histogram") { return histogramBars(value); }
  return factsView(value);
}

// A GIF clip is an image to a browser; other formats play in <video>.
function videoView(value, run) {
  const url = fileUrl(run, value);
  const node = value.format === "gif"
    ? el("img", { src: url, class: "media-video media-gif", alt: value.caption || "" })
    : el("video", { controls: true, preload: "metadata", src: url,
      class: "media-video", muted: true });
  return captioned(node, value);
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

function histogramBars(value) {
  const counts = value.values || [];
  const top = Math.max(1, ...counts);
  return el("div", { class: "histogram-bars" }, counts.map((c) =>
    el("span", { style: `height:${(100 * c) / top}%`, title: String(c) })));
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
      const [r, g, b] = id ? classColour(id) : [0, 0, 0];
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

// ---- tables --------------------------------------------------------------------------

// A logged table, a page at a time; sorting and filters run on the server.
// Its state (order, first row, filters) is the URL parameter "t.<key>".
export class TableViewer {
  constructor(run, tableId, key) {
    this.run = run;
    this.param = "t." + key;
    this.base = "/runs" + runPath(run.entity, run.project, run.id) + "/tables/" +
      encodeURIComponent(tableId);
    Object.assign(this, readState(current().params.get(this.param)));
    this.builder = new FilterBuilder((filter) => this.addFilter(filter));
    this.chips = el("div", { class: "filter-chips" });
    this.status = el("span", { class: "table-status muted" });
    this.prev = el("button", { type: "button", class: "table-prev",
      onclick: () => this.turn(-PAGE) }, "‹ Prev");
    this.next = el("button", { type: "button", class: "table-next",
      onclick: () => this.turn(PAGE) }, "Next ›");
    this.body = el("div", { class: "table-wrap" });
    this.root = el("div", { class: "table-viewer" }, el("div", { class: "toolbar" },
      this.builder.root, this.prev, this.next, this.status), this.chips, this.body);
    this.load();
  }

  turn(delta) {
    this.offset = Math.max(0, this.offset + delta);
    this.load();
  }

  addFilter(filter) {
    this.filters.push(filter);
    this.offset = 0;
    this.load();
  }

  dropFilter(index) {
    this.filters.splice(index, 1);
    this.offset = 0;
    this.load();
  }

  remember() {
    const state = { o: this.order || undefined, p: this.offset || undefined,
      f: this.filters.length ? this.filters : undefined };
    const text = JSON.stringify(state);
    setParams({ [this.param]: text === "{}" ? null : text });
  }

  async load() {
    this.remember();
    this.chips.replaceChildren(...this.filters.map((f, i) => el("span",
      { class: "chip" }, `${f[0]} ${f[1]} ${JSON.stringify(f[2])}`,
      el("button", { type: "button", class: "link", "aria-label": "remove filter",
        onclick: () => this.dropFilter(i) }, "×"))));
    const ticket = (this.ticket = (this.ticket || 0) + 1);
    let page;
    try {
      page = await api.get(this.base + "/rows" + query({ offset: this.offset,
        limit: PAGE, order: this.order,
        filter: this.filters.map((f) => JSON.stringify(f)) }));
    } catch (error) {
      if (ticket !== this.ticket) { return; }
      this.status.textContent = "";
      this.body.replaceChildren(failure(error));
      return;
    }
    if (ticket !== this.ticket) { return; }  // a later request answers instead
    this.builder.columns(page.columns, page.column_types);
    const last = Math.min(page.offset + page.rows.length, page.total);
    this.status.textContent = page.total ? `${page.offset + 1}–${last} of ` +
      `${page.total} rows` : "0 rows";
    this.prev.disabled = page.offset === 0;
    this.next.disabled = last >= page.total;
    this.body.replaceChildren(page.rows.length ? this.grid(page)
      : empty("No rows", this.filters.length ? "No row matches the filters." : ""));
  }

  grid(page) {
    const head = page.columns.map((name) => el("th", { "data-col": name,
      class: "sortable", title: "sort by " + name,
      onclick: () => this.sortBy(name) }, name + this.arrow(name)));
    return el("table", { class: "grid table-rows" }, el("thead", {}, el("tr", {}, head)),
      el("tbody", {}, page.rows.map((row) => el("tr", {}, row.map((cell) =>
        el("td", {}, this.cell(cell)))))));
  }

  cell(value) {
    if (value && typeof value === "object" && value._type === "image-file") {
      return thumbnail(value, this.run);
    }
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

function readState(text) {
  let state = {};
  try { state = JSON.parse(text || "{}") || {}; } catch { state = {}; }
  const filters = Array.isArray(state.f) ? state.f.filter((f) =>
    Array.isArray(f) && f.length === 3) : [];
  return { order: typeof state.o === "string" ? state.o : "",
    offset: Math.max(0, Number(state.p) || 0), filters };
}

// An image cell as a small picture that opens the full image.
function thumbnail(value, run) {
  const url = fileUrl(run, value);
  return el("a", { href: url, target: "_blank", rel: "noopener", class: "thumb-link",
    title: value.caption || "open the full image" }, el("img", { src: url,
    loading: "lazy", class: "media-thumb", alt: value.caption || "image" }));
}

// Column, operator and value of one filter; numbers for numeric columns.
class FilterBuilder {
  constructor(add) {
    this.types = {};
    this.column = el("select", { class: "filter-column", "aria-label": "column" });
    this.op = el("select", { class: "filter-op", "aria-label": "operator" },
      OPERATORS.map((op) => el("option", { value: op }, op)));
    this.value = el("input", { type: "search", class: "filter-value",
      placeholder: "value", "aria-label": "filter value" });
    const submit = (event) => {
      event.preventDefault();
      const filter = this.filter();
      if (filter) { this.value.value = ""; add(filter); }
    };
    this.root = el("form", { class: "table-filter", onsubmit: submit }, this.column,
      this.op, this.value, el("button", { type: "submit" }, "Filter"));
  }

  columns(names, types) {
    if (this.column.options.length) { return; }
    names.forEach((name, i) => { this.types[name] = (types || [])[i]; });
    this.column.replaceChildren(...names.map((name) =>
      el("option", { value: name }, name)));
  }

  filter() {
    const text = this.value.value.trim();
    if (!text || !this.column.value) { return null; }
    const numeric = ["number", "bool"].includes(this.types[this.column.value]);
    const value = numeric && this.op.value !== "contains" && Number.isFinite(Number(text))
      ? Number(text) : text;
    return [this.column.value, this.op.value, value];
  }
}
