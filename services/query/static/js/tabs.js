// The tabs under a project's title: runs, dashboards, artifacts.

import { el } from "./dom.js";

export function projectTabs(entity, project, active) {
  const base = "#/" + encodeURIComponent(entity) + "/" + encodeURIComponent(project);
  const tabs = [["runs", "Runs", base], ["dashboards", "Dashboards", base + "/dashboards"],
    ["artifacts", "Artifacts", base + "/artifacts"]];
  return el("nav", { class: "tabs", "aria-label": "Project" }, tabs.map(([id, text, href]) =>
    el("a", { href, class: id === active ? "active" : "", "aria-current":
      id === active ? "page" : null }, text)));
}
