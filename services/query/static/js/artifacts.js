// Artifacts: those a run used and produced, and a project's artifacts by type
// with their versions.

import { projectPath, runPath } from "./api.js";
import { el, empty, failure, loading } from "./dom.js";
import { objectsTable, SVC, tryGet } from "./objects.js";
import { projectTabs } from "./tabs.js";

export async function artifactsPanel(entity, project, runId) {
  const base = "/runs" + runPath(entity, project, runId) + "/artifacts";
  const [made, used] = await Promise.all([tryGet(base), tryGet(base + "?used=true")]);
  const part = (title, answer, id) => el("section", {}, el("h2", {}, title),
    answer.error ? failure(answer.error) : objectsTable(answer.found.artifacts, id) ||
      empty("None"));
  return el("div", {}, part("Produced", made, "artifacts-produced"),
    part("Used", used, "artifacts-used"));
}

export async function artifactsView(main, entity, project) {
  main.replaceChildren(el("div", { class: "page-head" }, el("h1", {}, project),
    projectTabs(entity, project, "artifacts")), loading());
  const { found, error } = await tryGet(SVC + "artifacts/artifacts" +
    projectPath(entity, project));
  main.lastChild.remove();
  if (error) { main.append(failure(error)); return; }
  const items = found.artifacts || [];
  if (!items.length) {
    main.append(empty("No artifacts in this project",
      "Log one with run.log_artifact(lodestar.Artifact(name, type)) and it shows here."));
    return;
  }
  const byType = new Map();
  for (const item of items) {
    const type = item.type || "other";
    if (!byType.has(type)) { byType.set(type, []); }
    byType.get(type).push(item);
  }
  const detail = el("div", { class: "artifact-detail" });
  main.append(el("div", { class: "split" }, el("nav", { class: "artifact-list" },
    [...byType].map(([type, list]) => el("section", {}, el("h3", {}, type),
      el("ul", {}, list.map((item) => el("li", {}, el("button", { type: "button",
        class: "link", onclick: () => showVersions(detail, entity, project, item.name) },
      item.name))))))), detail));
}

async function showVersions(detail, entity, project, name) {
  detail.replaceChildren(loading());
  const path = SVC + "artifacts/artifacts" + projectPath(entity, project) + "/" +
    encodeURIComponent(name) + "/versions";
  const { found, error } = await tryGet(path);
  if (error) { detail.replaceChildren(failure(error)); return; }
  detail.replaceChildren(el("h2", {}, name),
    objectsTable(found.versions || [], "artifact-versions") || empty("No versions"));
}

