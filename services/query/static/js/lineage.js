// The lineage graph of an artifact version as SVG: boxes in columns (the
// artifacts its producer used, the producing run, the version, the runs that
// used it, what they logged) joined by arrows. Each box is a link.

import { hashOf } from "./route.js";

const NS = "http://www.w3.org/2000/svg";
const BOX_W = 190, BOX_H = 46, GAP_X = 70, GAP_Y = 16, TOP = 30, PAD = 10;
const TITLES = ["Inputs of the producer", "Produced by", "This version", "Used by",
  "Outputs of the users"];

function svgEl(tag, attrs, ...children) {
  const node = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    node.setAttribute(name, String(value));
  }
  for (const child of children) {
    node.append(child instanceof Node ? child : document.createTextNode(child));
  }
  return node;
}

export function nodeHref(node) {
  if (node.kind === "run") {
    return "#" + hashOf([node.entity, node.project, "runs", node.run_id]);
  }
  return "#" + hashOf([node.entity, node.project, "artifacts"],
    { name: node.name, version: node.version });
}

// `graph`: {nodes: [{id, kind, column, label, ...}], edges: [[from, to]], more}.
export function lineageGraph(graph) {
  const columns = [...new Set(graph.nodes.map((n) => n.column))].sort((a, b) => a - b);
  const place = layout(graph, columns);
  const tallest = Math.max(...columns.map((c) => countIn(graph, c) +
    (graph.more[c] ? 1 : 0)));
  const width = PAD * 2 + columns.length * BOX_W + (columns.length - 1) * GAP_X;
  const height = TOP + tallest * (BOX_H + GAP_Y) + PAD;
  const svg = svgEl("svg", { class: "lineage", width, height,
    viewBox: "0 0 " + width + " " + height, role: "img",
    "aria-label": "Lineage graph" }, arrowHead());
  columns.forEach((c, i) => svg.append(svgEl("text", { class: "lineage-title",
    x: xOf(i) + BOX_W / 2, y: 16, "text-anchor": "middle" }, TITLES[c] || "")));
  for (const [from, to] of graph.edges) { svg.append(edge(place[from], place[to])); }
  // Left to right in the document too, so keyboard and screen reader order
  // follow the arrows.
  const ordered = [...graph.nodes].sort((a, b) => a.column - b.column);
  for (const node of ordered) { svg.append(box(node, place[node.id])); }
  columns.forEach((c, i) => {
    if (graph.more[c]) { svg.append(moreNote(graph, c, i, columns)); }
  });
  return svg;
}

function countIn(graph, column) {
  return graph.nodes.filter((n) => n.column === column).length;
}

function xOf(index) { return PAD + index * (BOX_W + GAP_X); }

function layout(graph, columns) {
  const place = {};
  const tallest = Math.max(...columns.map((c) => countIn(graph, c)));
  columns.forEach((column, index) => {
    const nodes = graph.nodes.filter((n) => n.column === column);
    const offset = (tallest - nodes.length) * (BOX_H + GAP_Y) / 2;
    nodes.forEach((node, row) => {
      place[node.id] = { x: xOf(index), y: TOP + offset + row * (BOX_H + GAP_Y) };
    });
  });
  return place;
}

function arrowHead() {
  return svgEl("defs", {}, svgEl("marker", { id: "lineage-arrow", viewBox: "0 0 10 10",
    refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" },
  svgEl("path", { d: "M0,0 L10,5 L0,10 z", class: "lineage-arrow" })));
}

function edge(from, to) {
  if (!from || !to) { return svgEl("g", {}); }
  const x1 = from.x + BOX_W, y1 = from.y + BOX_H / 2;
  const x2 = to.x - 2, y2 = to.y + BOX_H / 2;
  const mid = (x1 + x2) / 2;
  return svgEl("path", { class: "lineage-edge", "marker-end": "url(#lineage-arrow)",
    d: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}` });
}

function box(node, at) {
  const current = node.column === 2;
  const kind = node.kind === "run" ? "run" : "artifact";
  const sub = node.kind === "run" ? "run · " + (node.state || "unknown")
    : (node.type || "artifact");
  const link = svgEl("a", { href: nodeHref(node), class: "lineage-node " + kind +
    (current ? " current" : ""), "data-node": node.id,
    "data-label": node.label },
  svgEl("title", {}, node.kind === "run" ? "run " + node.entity + "/" + node.project +
    "/" + node.run_id : node.entity + "/" + node.project + "/" + node.label),
  svgEl("rect", { x: at.x, y: at.y, width: BOX_W, height: BOX_H,
    rx: node.kind === "run" ? 6 : 14 }),
  svgEl("text", { class: "lineage-label", x: at.x + 12, y: at.y + 19 }, clip(node.label)),
  svgEl("text", { class: "lineage-sub", x: at.x + 12, y: at.y + 36 }, clip(sub)));
  return link;
}

function clip(text) {
  const value = String(text);
  return value.length > 24 ? value.slice(0, 23) + "…" : value;
}

function moreNote(graph, column, index, columns) {
  const tallest = Math.max(...columns.map((c) => countIn(graph, c)));
  const count = countIn(graph, column);
  const y = TOP + (tallest + count) * (BOX_H + GAP_Y) / 2 + 14;
  return svgEl("text", { class: "lineage-sub", x: xOf(index) + BOX_W / 2, y,
    "text-anchor": "middle" }, "+" + graph.more[column] + " more");
}
