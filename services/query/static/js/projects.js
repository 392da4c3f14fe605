// The projects page: every project of the viewer's entities with its run
// count, last activity and a sparkline of a chosen summary metric.

import { api, query } from "./api.js";
import { el, empty, formatAgo, link, sparkline } from "./dom.js";
import { current, setParams } from "./route.js";

export async function projectsView(main, viewer) {
  const { params } = current();
  const entity = params.get("entity") || viewer.default_entity;
  const metric = params.get("metric") || "";
  const found = await api.get("/dashboard/projects" + query({ entity, metric }));
  main.replaceChildren(
    el("div", { class: "page-head" }, el("h1", {}, "Projects"),
      entityPicker(viewer, entity), metricPicker(found.metrics, metric)),
    found.projects.length ? grid(entity, found.projects, metric)
      : empty("No projects yet in " + entity,
        "Log a run with lodestar.init(project=\"my-project\") and it shows here."));
}

function entityPicker(viewer, entity) {
  if (viewer.entities.length < 2) {
    return el("span", { class: "muted" }, "entity " + entity);
  }
  const select = el("select", { "aria-label": "Entity", onchange: (event) => {
    setParams({ entity: event.target.value });
    window.dispatchEvent(new HashChangeEvent("hashchange"));
  } }, viewer.entities.map((name) => el("option", { value: name,
    selected: name === entity }, name)));
  return el("label", {}, "entity ", select);
}

function metricPicker(metrics, metric) {
  const select = el("select", { "aria-label": "Sparkline metric", id: "spark-metric",
    title: metric || "runs per day",
    onchange: (event) => {
      setParams({ metric: event.target.value });
      window.dispatchEvent(new HashChangeEvent("hashchange"));
    } }, el("option", { value: "" }, "runs per day"),
  metrics.map((name) => el("option", { value: name, title: name,
    selected: name === metric }, name)));
  return el("label", {}, "sparkline ", select);
}

function grid(entity, projects, metric) {
  const rows = projects.map((project) => el("tr", { "data-project": project.name },
    el("td", {}, link(project.name, "/" + encodeURIComponent(entity) + "/" +
      encodeURIComponent(project.name), { title: project.name })),
    el("td", { class: "num" }, String(project.run_count)),
    el("td", { title: new Date(project.last_activity * 1000).toLocaleString() },
      formatAgo(project.last_activity)),
    el("td", { title: metric ? metric + ", latest runs" : "runs per day" },
      sparkline(project.sparkline))));
  return el("table", { class: "grid projects" },
    el("thead", {}, el("tr", {}, el("th", {}, "Project"), el("th", {}, "Runs"),
      el("th", {}, "Last activity"),
      el("th", { title: metric || "runs per day" }, metric || "Runs per day"))),
    el("tbody", {}, rows));
}
