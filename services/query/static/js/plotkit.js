// Small canvas helpers shared by the media panels' own drawings: theme colours,
// a canvas sized for the screen's pixel ratio, axis ticks and class colours.

import { formatNumber } from "./dom.js";

export const SERIES = ["#3b82f6", "#ef4444", "#10b981", "#f59e0b", "#8b5cf6",
  "#ec4899", "#14b8a6", "#f97316", "#6366f1", "#84cc16", "#06b6d4", "#a855f7"];

export function theme() {
  const style = getComputedStyle(document.documentElement);
  const read = (name, fallback) => style.getPropertyValue(name).trim() || fallback;
  return { text: read("--text", "#1b1f24"), muted: read("--muted", "#667085"),
    line: read("--line", "#e3e6ea"), grid: read("--grid", "#eef0f3"),
    panel: read("--panel", "#ffffff"), accent: read("--accent", "#2563eb") };
}

// Sizes `canvas` to `width`×`height` CSS pixels at the screen's density; the
// returned context draws in CSS pixels.
export function fitCanvas(canvas, width, height) {
  const ratio = window.devicePixelRatio || 1;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  canvas.style.height = height + "px";
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  return ctx;
}

// The width a canvas in `box` may take: the box's width once laid out.
export function widthOf(box, fallback) {
  return Math.max(200, Math.floor(box.clientWidth || fallback || 400));
}

export function ticks(low, high, count) {
  const span = high - low || 1;
  const raw = span / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw) || raw;
  const out = [];
  for (let v = Math.ceil(low / step) * step; v <= high + step * 1e-9; v += step) {
    out.push(Number(v.toPrecision(12)));
  }
  return out;
}

export function label(value) {
  return formatNumber(value);
}

// A distinct colour for class id `id`, as [r, g, b].
export function classColour(id) {
  const angle = (id * 137.508) % 360;
  const f = (n) => {
    const k = (n + angle / 30) % 12;
    return Math.round(255 * (0.5 - 0.5 * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
  };
  return [f(0), f(8), f(4)];
}

// Draws into `canvas` (inside `box`) now and whenever the box's width or the
// theme changes: `draw(ctx, width, height)` in CSS pixels.
export function drawOnResize(box, canvas, height, draw) {
  let drawn = 0;
  const paint = () => {
    const width = widthOf(box);
    if (width === drawn) { return; }
    drawn = width;
    draw(fitCanvas(canvas, width, height), width, height);
  };
  const again = () => { drawn = 0; paint(); };
  new ResizeObserver(paint).observe(box);
  const themes = new MutationObserver(() => {
    if (box.isConnected) { again(); } else { themes.disconnect(); }
  });
  themes.observe(document.documentElement, { attributes: true,
    attributeFilter: ["data-theme"] });
  return again;
}
