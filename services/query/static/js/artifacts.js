// Artifacts: a project's artifact names by type, a name's versions, and a
// version's metadata, files (with previews and downloads) and lineage. The
// URL keeps ?name=&version=&file=, so a reload shows the same version and
// file. The run page's panel of artifacts used and produced links here.

import { api, projectPath, runPath } from "./api.js";
import { el, empty, failure, formatTime, link, loading, show } from "./dom.js";
import { fileBrowser } from "./filetree.js";
import { lineageGraph } from "./lineage.js";
import { bytes, SVC, tryGet } from "./objects.js";
import { current, hashOf, setParams } from "./route.js";
import { projectTabs } from "./tabs.js";

const FILES = "/dashboard/artifact-files";

export function versionHash(entity, project, name, version) {
  return hashOf([entity, project, "artifacts"], { name, version });
}

function namePath(entity, project, name) {
  return projectPath(entity, project) + "/" + encodeURIComponent(name);
}

// ---- the run page's panel ------------------------------------------------------

export async function artifactsPanel(entity, project, runId) {
  const base = "/runs" + runPath(entity, project, runId) + "/artifacts";
  const [made, used] = await Promise.all([tryGet(base), tryGet(base + "?used=true")]);
  const part = (title, answer, id) => el("section", {}, el("h2", {}, title),
    answer.error ? failure(answer.error) : usageTable(answer.found.artifacts, id));
  return el("div", {}, part("Produced", made, "artifacts-produced"),
    part("Used", used, "artifacts-used"));
}

function usageTable(items, id) {
  if (!items || !items.length) { return empty("None"); }
  return el("div", { class: "table-wrap" }, el("table", { class: "grid", id },
    el("thead", {}, el("tr", {}, ["Artifact", "Type", "Project", "Digest"]
      .map((n) => el("th", {}, n)))),
    el("tbody", {}, items.map((a) => el("tr", {},
      el("td", {}, link(a.name + ":" + a.version,
        versionHash(a.entity, a.project, a.name, a.version), { class: "artifact-link" })),
      el("td", {}, a.type), el("td", {}, a.entity + "/" + a.project),
      el("td", {}, el("code", { title: a.digest }, (a.digest || "").slice(0, 12))))))));
}

// ---- the project's artifacts page ----------------------------------------------

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
  const page = { entity, project, detail: el("div", { class: "artifact-detail" }) };
  page.nav = el("nav", { class: "artifact-list", "aria-label": "Artifacts" });
  drawNames(page, items);
  main.append(el("div", { class: "split artifacts-page" }, page.nav, page.detail));
  const { params } = current();
  const chosen = params.get("name");
  if (chosen) { await openName(page, chosen, params.get("version"), params.get("file")); }
  else {
    page.detail.replaceChildren(empty(items.length + " artifacts",
      "Pick a name on the left to see its versions, files and lineage."));
  }
}

function drawNames(page, items) {
  const byType = new Map();
  for (const item of items) {
    const type = item.type || "other";
    if (!byType.has(type)) { byType.set(type, []); }
    byType.get(type).push(item);
  }
  page.nav.replaceChildren(...[...byType].sort((a, b) => a[0].localeCompare(b[0]))
    .map(([type, list]) => el("section", { "data-type": type },
      el("h3", {}, type, el("span", { class: "count" }, " · " + list.length)),
      el("ul", {}, list.map((item) => el("li", {}, el("button", { type: "button",
        class: "link artifact-name", "data-name": item.name, onclick: () => {
          setParams({ name: item.name, version: null, file: null });
          openName(page, item.name, null, null);
        } }, item.name, el("span", { class: "muted" },
          " " + plural(item.versions, "version")))))))));
}

async function openName(page, name, version, file) {
  page.nav.querySelectorAll(".artifact-name").forEach((b) =>
    b.classList.toggle("active", b.dataset.name === name));
  page.detail.replaceChildren(loading());
  const { found, error } = await tryGet(SVC + "artifacts/artifacts" +
    namePath(page.entity, page.project, name) + "/versions");
  if (error) { page.detail.replaceChildren(failure(error)); return; }
  const versions = found.versions || [];
  if (!versions.length) {
    page.detail.replaceChildren(empty("No versions left"));
    return;
  }
  const shown = version || versions[versions.length - 1].version;
  page.versionBox = el("div", { class: "artifact-version" });
  page.detail.replaceChildren(el("h2", {}, name, el("span", { class: "tag" },
    found.type)), versionsTable(page, name, versions, shown), page.versionBox);
  await openVersion(page, name, shown, file);
}

function versionsTable(page, name, versions, shown) {
  const rows = [...versions].reverse().map((v) => {
    const pick = () => {
      setParams({ version: v.version, file: null });
      markVersion(page, v.version);
      openVersion(page, name, v.version, null);
    };
    return el("tr", { "data-version": v.version, class: v.version === shown ?
      "selected" : "" },
    el("td", {}, el("button", { type: "button", class: "link version-pick",
      onclick: pick }, v.version)),
    el("td", {}, aliasChips(v.aliases)), el("td", { class: "num" }, bytes(v.size || 0)),
    el("td", { class: "num" }, String(v.file_count || 0)),
    el("td", {}, formatTime(v.created_at)), el("td", {}, runLink(v.producer_run)));
  });
  return el("div", { class: "table-wrap" }, el("table", { class: "grid",
    id: "artifact-versions" }, el("thead", {}, el("tr", {}, ["Version", "Aliases",
    "Size", "Files", "Created", "Produced by"].map((n) => el("th", {}, n)))),
  el("tbody", {}, rows)));
}

function markVersion(page, version) {
  page.detail.querySelectorAll("#artifact-versions tbody tr").forEach((tr) =>
    tr.classList.toggle("selected", tr.dataset.version === version));
}

function plural(count, noun) {
  return count + " " + noun + (count === 1 ? "" : "s");
}

function aliasChips(aliases) {
  return el("span", { class: "aliases" }, (aliases || []).map((a) =>
    el("span", { class: "tag alias" + (a === "latest" ? " latest" : "") }, a)));
}

function runLink(path) {
  const parts = (path || "").split("/");
  if (parts.length !== 3 || !parts.every(Boolean)) {
    return el("span", { class: "muted" }, "unknown");
  }
  return link(parts[2], hashOf([parts[0], parts[1], "runs", parts[2]]),
    { class: "producer-link", title: path });
}

// ---- one version ---------------------------------------------------------------

async function openVersion(page, name, version, file) {
  const box = page.versionBox;
  box.replaceChildren(loading());
  const path = namePath(page.entity, page.project, name) + "/" +
    encodeURIComponent(version);
  let found;
  try { found = await api.get(FILES + path); } catch (error) {
    box.replaceChildren(failure(error));
    return;
  }
  const graph = el("div", { class: "lineage-box" }, loading());
  box.replaceChildren(versionHead(found), overview(found),
    el("section", {}, el("h3", { class: "section-title" }, "Files"),
      filesOf(page, found, path, file)),
    el("section", {}, el("h3", { class: "section-title" }, "Lineage"), graph));
  drawLineage(graph, path);
}

function versionHead(version) {
  return el("div", { class: "version-head" },
    el("h3", { id: "version-title" }, version.name + ":" + version.version),
    aliasChips(version.aliases),
    el("span", { class: "muted" }, bytes(version.size || 0) + " · " +
      plural(version.file_count || 0, "file") + " · " +
      formatTime(version.created_at)),
    el("span", { class: "muted" }, "produced by "), runLink(version.producer_run));
}

function overview(version) {
  const rows = flatten(version.metadata || {});
  const meta = rows.length ? el("table", { class: "grid keys", id: "artifact-metadata" },
    el("tbody", {}, rows.map(([key, value]) => el("tr", {}, el("th", {}, key),
      el("td", {}, show(value)))))) : el("p", { class: "muted" }, "No metadata.");
  return el("div", { class: "version-overview" },
    el("section", {}, el("h3", { class: "section-title" }, "Description"),
      el("p", { class: "description" }, version.description ||
        el("span", { class: "muted" }, "No description."))),
    el("section", {}, el("h3", { class: "section-title" }, "Metadata"),
      el("div", { class: "table-wrap" }, meta)),
    el("section", {}, el("h3", { class: "section-title" }, "Digest"),
      el("code", { class: "digest" }, version.digest)));
}

// Nested metadata as dotted keys, in key order.
export function flatten(value, prefix = "") {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return [[prefix, value]];
  }
  const entries = Object.entries(value);
  if (!entries.length && prefix) { return [[prefix, value]]; }
  return entries.sort((a, b) => a[0].localeCompare(b[0])).flatMap(([key, inner]) =>
    flatten(inner, prefix ? prefix + "." + key : key));
}

function filesOf(page, version, path, file) {
  const refs = (version.files || []).filter((f) => f.ref).length;
  const note = refs ? el("p", { class: "muted reference-count" }, refs +
    (refs === 1 ? " entry is a reference" : " entries are references") +
    ": the artifact records where the content is, Lodestar does not store it.") : null;
  const urlOf = (name, download) => "/api/v1/dashboard/artifact-file" + path +
    "?path=" + encodeURIComponent(name) + (download ? "&download=1" : "");
  return el("div", {}, note, fileBrowser(version.files || [], {
    urlOf, selected: file, onSelect: (name) => setParams({ file: name }) }));
}

async function drawLineage(box, path) {
  try {
    const graph = await api.get("/dashboard/artifact-lineage" + path);
    box.replaceChildren(graph.nodes.length > 1 ? el("div", { class: "lineage-scroll" },
      lineageGraph(graph)) : empty("No runs recorded for this version yet"));
  } catch (error) {
    box.replaceChildren(failure(error));
  }
}
