// An interactive 3-D point-cloud viewer on a 2-D canvas: drag to rotate,
// wheel to zoom, Reset to go back. Points come from an Object3D's
// `.pts.json` file ({"points": [[x, y, z], [x, y, z, class] or
// [x, y, z, r, g, b], ...]}, optional "boxes" with eight "corners" and
// "vectors" with "start" and "end"). Large clouds are thinned for drawing and
// the viewer says how many points it shows.

import { el, failure, loading } from "./dom.js";
import { classColour, drawOnResize, theme } from "./plotkit.js";

export const MAX_DRAWN = 60000;
const HEIGHT = 360;
const EDGES = [[0, 1], [1, 2], [2, 3], [3, 0], [4, 5], [5, 6], [6, 7], [7, 4],
  [0, 4], [1, 5], [2, 6], [3, 7]];

// The viewer of an Object3D value; `url` reads its file.
export function pointCloudView(value, url) {
  const root = el("figure", { class: "media-figure cloud" },
    loading("Loading point cloud…"));
  if (value.format && value.format !== "pts.json") {
    root.replaceChildren(el("p", { class: "muted" }, `A ${value.format} model: `,
      el("a", { href: url, download: "" }, "download")));
    return root;
  }
  fetch(url, { credentials: "same-origin" }).then((answer) => {
    if (!answer.ok) { throw new Error(`the file answered ${answer.status}`); }
    return answer.json();
  }).then((scene) => {
    root.replaceChildren(...new CloudViewer(scene, value).nodes.filter(Boolean));
  }).catch((error) => root.replaceChildren(failure(error)));
  return root;
}

export class CloudViewer {
  constructor(scene, value) {
    const all = scene.points || [];
    this.points = thin(all, MAX_DRAWN);
    this.boxes = scene.boxes || [];
    this.vectors = scene.vectors || [];
    this.frame = bounds(this.points, this.boxes);
    this.colours = this.points.map((p) => colourOf(p, this.frame));
    this.canvas = el("canvas", { class: "cloud-canvas", tabindex: "0",
      "aria-label": "3-D point cloud; drag to rotate, wheel to zoom" });
    this.box = el("div", { class: "cloud-box" }, this.canvas);
    const reset = el("button", { type: "button", class: "icon cloud-reset",
      onclick: () => this.reset() }, "Reset view");
    const shown = this.points.length < all.length
      ? `showing ${this.points.length.toLocaleString()} of ` +
        `${all.length.toLocaleString()} points (thinned for drawing)`
      : plural(all.length, "point");
    const extra = this.boxes.length ? ", " + plural(this.boxes.length, "box") : "";
    this.nodes = [el("div", { class: "toolbar" }, reset,
      el("span", { class: "muted cloud-count" }, shown + extra)), this.box,
    value.caption ? el("figcaption", {}, value.caption) : null];
    this.reset(true);
    this.redraw = drawOnResize(this.box, this.canvas, HEIGHT, (ctx, w, h) =>
      this.draw(ctx, w, h));
    this.listen();
  }

  reset(quiet) {
    this.yaw = -0.6;
    this.pitch = 0.45;
    this.zoom = 1;
    if (!quiet) { this.redraw(); }
  }

  listen() {
    let last = null;
    this.canvas.addEventListener("pointerdown", (event) => {
      last = [event.clientX, event.clientY];
      this.canvas.setPointerCapture(event.pointerId);
    });
    this.canvas.addEventListener("pointermove", (event) => {
      if (!last) { return; }
      this.yaw += (event.clientX - last[0]) * 0.01;
      this.pitch = clamp(this.pitch + (event.clientY - last[1]) * 0.01, -1.55, 1.55);
      last = [event.clientX, event.clientY];
      this.redraw();
    });
    const stop = () => { last = null; };
    this.canvas.addEventListener("pointerup", stop);
    this.canvas.addEventListener("pointercancel", stop);
    this.canvas.addEventListener("wheel", (event) => {
      event.preventDefault();
      this.zoom = clamp(this.zoom * Math.exp(-event.deltaY * 0.0015), 0.2, 20);
      this.redraw();
    }, { passive: false });
  }

  // Rotates about the cloud's centre (yaw about z, then pitch) and scales to
  // the canvas; returns [x, y, depth] in CSS pixels.
  projector(width, height) {
    const { centre, radius } = this.frame;
    const [cy, sy, cp, sp] = [Math.cos(this.yaw), Math.sin(this.yaw),
      Math.cos(this.pitch), Math.sin(this.pitch)];
    const scale = this.zoom * Math.min(width, height) / (2.2 * radius);
    return (p) => {
      const x = p[0] - centre[0], y = p[1] - centre[1], z = p[2] - centre[2];
      const rx = x * cy - y * sy;
      const ry = x * sy + y * cy;
      const depth = ry * cp + z * sp;
      const up = z * cp - ry * sp;
      return [width / 2 + rx * scale, height / 2 - up * scale, depth];
    };
  }

  draw(ctx, width, height) {
    const colours = theme();
    ctx.clearRect(0, 0, width, height);
    const project = this.projector(width, height);
    const size = this.points.length > 20000 ? 1.5 : 2.5;
    const drawn = this.points.map((p, i) => [project(p), this.colours[i]]);
    drawn.sort((a, b) => b[0][2] - a[0][2]);
    for (const [[x, y], colour] of drawn) {
      ctx.fillStyle = colour;
      ctx.fillRect(x - size / 2, y - size / 2, size, size);
    }
    this.boxes.forEach((box) => drawBox(ctx, box, project, colours));
    this.vectors.forEach((vector) => drawVector(ctx, vector, project, colours));
    drawAxes(ctx, this.projector(width, height), this.frame, height);
  }
}

function plural(count, noun) {
  const word = count === 1 ? noun : noun + (noun.endsWith("x") ? "es" : "s");
  return `${count.toLocaleString()} ${word}`;
}

function clamp(value, low, high) {
  return Math.min(high, Math.max(low, value));
}

// At most `most` points, evenly strided, so the cloud keeps its shape.
export function thin(points, most) {
  if (points.length <= most) { return points; }
  const stride = points.length / most;
  return Array.from({ length: most }, (_, i) => points[Math.floor(i * stride)]);
}

function bounds(points, boxes) {
  const all = points.concat(boxes.flatMap((b) => b.corners || []));
  if (!all.length) { return { centre: [0, 0, 0], radius: 1, low: 0, high: 1 }; }
  const low = all[0].slice(0, 3);
  const high = all[0].slice(0, 3);
  for (const p of all) {
    for (let i = 0; i < 3; i += 1) {
      low[i] = Math.min(low[i], p[i]);
      high[i] = Math.max(high[i], p[i]);
    }
  }
  const centre = low.map((v, i) => (v + high[i]) / 2);
  const radius = Math.max(1e-9, ...high.map((v, i) => (v - low[i]) / 2)) * 1.2;
  return { centre, radius, low: low[2], high: high[2] };
}

function colourOf(p, frame) {
  if (p.length >= 6) { return `rgb(${p[3]}, ${p[4]}, ${p[5]})`; }
  if (p.length === 4) { return `rgb(${classColour(Math.round(p[3]) + 1).join(",")})`; }
  const f = (p[2] - frame.low) / ((frame.high - frame.low) || 1);
  return `hsl(${Math.round(230 - 190 * f)}, 75%, 52%)`;
}

function rgb(colour, fallback) {
  return Array.isArray(colour) ? `rgb(${colour.slice(0, 3).join(",")})` : fallback;
}

function drawBox(ctx, box, project, colours) {
  const corners = (box.corners || []).map(project);
  if (corners.length !== 8) { return; }
  ctx.strokeStyle = rgb(box.color, colours.accent);
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  for (const [a, b] of EDGES) {
    ctx.moveTo(corners[a][0], corners[a][1]);
    ctx.lineTo(corners[b][0], corners[b][1]);
  }
  ctx.stroke();
  if (box.label) {
    const top = corners.reduce((a, b) => (b[1] < a[1] ? b : a));
    ctx.fillStyle = ctx.strokeStyle;
    ctx.font = "11px system-ui, sans-serif";
    ctx.fillText(String(box.label), top[0] + 3, top[1] - 4);
  }
}

function drawVector(ctx, vector, project, colours) {
  if (!vector.start || !vector.end) { return; }
  const [a, b] = [project(vector.start), project(vector.end)];
  ctx.strokeStyle = rgb(vector.color, colours.text);
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  ctx.moveTo(a[0], a[1]);
  ctx.lineTo(b[0], b[1]);
  ctx.stroke();
}

// A small x/y/z gizmo in the lower-left corner.
function drawAxes(ctx, project, frame, height) {
  const origin = project(frame.centre);
  const colours = ["#ef4444", "#10b981", "#3b82f6"];
  const arms = [0, 1, 2].map((i) => {
    const tip = frame.centre.slice();
    tip[i] += frame.radius;
    const end = project(tip);
    return [end[0] - origin[0], end[1] - origin[1]];
  });
  const reach = Math.max(1e-9, ...arms.map(([x, y]) => Math.hypot(x, y)));
  ["x", "y", "z"].forEach((name, i) => {
    const [dx, dy] = arms[i].map((v) => v * 50 / reach);
    ctx.strokeStyle = colours[i];
    ctx.fillStyle = colours[i];
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(30, height - 30);
    ctx.lineTo(30 + dx * 0.5, height - 30 + dy * 0.5);
    ctx.stroke();
    ctx.font = "11px system-ui, sans-serif";
    ctx.fillText(name, 33 + dx * 0.6, height - 27 + dy * 0.6);
  });
}
