// The plain dashboard: projects -> runs -> one line chart per metric.
// Talks only to the JSON API; the key is the lodestar_key cookie.
"use strict";

const main = document.getElementById("main");

function keyFromUrl() {
  const params = new URLSearchParams(location.search);
  const key = params.get("key");
  if (key) {
    document.cookie = "lodestar_key=" + encodeURIComponent(key) +
      "; path=/; SameSite=Strict";
    history.replaceState(null, "", location.pathname + location.hash);
  }
}

async function api(path) {
  const response = await fetch("/api/v1" + path, { credentials: "same-origin" });
  if (response.status === 401) { showLogin(); throw new Error("login needed"); }
  const body = await response.json();
  if (!response.ok) { throw new Error(body.detail || response.statusText); }
  return body;
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    node.setAttribute(name, value);
  }
  for (const child of children) {
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function showLogin() {
  main.replaceChildren(document.getElementById("login").content.cloneNode(true));
  document.getElementById("login-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const key = document.getElementById("login-key").value.trim();
    document.cookie = "lodestar_key=" + encodeURIComponent(key) +
      "; path=/; SameSite=Strict";
    route();
  });
}

function link(text, hash) { return el("a", { href: "#" + hash }, text); }

function show(value) {
  if (value === null || value === undefined) { return ""; }
  if (typeof value === "object") {
    if ("$text" in value && Object.keys(value).length === 1) { return value.$text; }
    return JSON.stringify(value);
  }
  return String(value);
}

async function projectsView(viewer) {
  const list = el("ul");
  for (const entity of viewer.entities) {
    const found = await api("/projects?entity=" + encodeURIComponent(entity));
    for (const project of found.projects) {
      const path = "/" + entity + "/" + encodeURIComponent(project.name);
      list.append(el("li", {}, link(entity + "/" + project.name, path),
        " (" + project.run_count + " runs)"));
    }
  }
  main.replaceChildren(el("h2", {}, "Projects"), list);
}

async function runsView(entity, project) {
  const found = await api("/runs/" + entity + "/" + project + "?limit=200");
  const configKeys = [...new Set(found.runs.flatMap((r) => Object.keys(r.config)))];
  const head = el("tr", {}, el("th", {}, "name"), el("th", {}, "state"),
    ...configKeys.map((k) => el("th", {}, k)));
  const table = el("table", {}, head);
  for (const run of found.runs) {
    const path = "/" + entity + "/" + project + "/" + encodeURIComponent(run.id);
    table.append(el("tr", {}, el("td", {}, link(run.name || run.id, path)),
      el("td", {}, run.state), ...configKeys.map((k) => el("td", {}, show(run.config[k])))));
  }
  main.replaceChildren(el("h2", {}, decodeURIComponent(project)), table);
}

function number(value) {
  if (typeof value === "number") { return value; }
  if (typeof value === "boolean") { return value ? 1 : 0; }
  if (value === "NaN" || value === "Infinity" || value === "-Infinity") {
    return Number(value);
  }
  return null;
}

function chart(key, rows) {
  const points = rows.map((r) => [r._step, number(r[key])])
    .filter((p) => p[1] !== null && Number.isFinite(p[1]));
  const width = 420, height = 220, pad = 36;
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("width", width);
  svg.setAttribute("height", height);
  if (points.length) {
    const xs = points.map((p) => p[0]), ys = points.map((p) => p[1]);
    const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
    const [y0, y1] = [Math.min(...ys), Math.max(...ys)];
    const sx = (x) => pad + (x - x0) / ((x1 - x0) || 1) * (width - 2 * pad);
    const sy = (y) => height - pad - (y - y0) / ((y1 - y0) || 1) * (height - 2 * pad);
    const line = document.createElementNS(svg.namespaceURI, "polyline");
    line.setAttribute("points", points.map((p) => sx(p[0]) + "," + sy(p[1])).join(" "));
    line.setAttribute("fill", "none");
    line.setAttribute("stroke", "#2b7bd6");
    line.setAttribute("stroke-width", "1.5");
    svg.append(line);
    for (const [text, x, y] of [[y1.toPrecision(4), 2, pad], [y0.toPrecision(4), 2,
      height - pad], [x0, pad, height - 8], [x1, width - pad - 20, height - 8]]) {
      const label = document.createElementNS(svg.namespaceURI, "text");
      label.setAttribute("x", x);
      label.setAttribute("y", y);
      label.setAttribute("font-size", "11");
      label.textContent = text;
      svg.append(label);
    }
  }
  return el("div", { class: "chart", "data-key": key }, el("h3", {}, key), svg);
}

async function runView(entity, project, runId) {
  const base = "/runs/" + entity + "/" + project + "/" + runId;
  const run = await api(base);
  const keys = (await api(base + "/keys")).keys;
  const charts = el("div", { class: "charts" });
  for (const key of keys) {
    const found = await api(base + "/history?samples=500&key=" + encodeURIComponent(key));
    charts.append(chart(key, found.rows));
  }
  const config = el("pre", {}, JSON.stringify(run.config, null, 2));
  const summary = el("pre", {}, JSON.stringify(run.summary, null, 2));
  main.replaceChildren(el("h2", {}, (run.name || run.id) + " (" + run.state + ")"),
    charts, el("h3", {}, "Config"), config, el("h3", {}, "Summary"), summary);
}

async function route() {
  const parts = location.hash.replace(/^#\/?/, "").split("/").filter(Boolean);
  try {
    const viewer = await api("/viewer");
    document.getElementById("who").textContent = viewer.user;
    document.getElementById("crumbs").textContent = parts.map(decodeURIComponent)
      .join(" / ");
    if (parts.length >= 3) { await runView(parts[0], parts[1], parts[2]); }
    else if (parts.length === 2) { await runsView(parts[0], parts[1]); }
    else { await projectsView(viewer); }
  } catch (error) {
    if (error.message !== "login needed") {
      main.replaceChildren(el("p", { class: "error" }, error.message));
    }
  }
}

keyFromUrl();
window.addEventListener("hashchange", route);
route();
