// A run's saved files: a browser over its folders with sizes, a download
// link per file and a preview of the file picked (kept in the URL's ?file=).

import { runPath } from "./api.js";
import { el, empty, failure } from "./dom.js";
import { fileBrowser } from "./filetree.js";
import { bytes, tryGet } from "./objects.js";
import { current, setParams } from "./route.js";

export async function filesPanel(entity, project, runId) {
  const path = runPath(entity, project, runId);
  const { found, error } = await tryGet("/runs" + path + "/files");
  if (error) { return failure(error); }
  const files = found.files || [];
  if (!files.length) {
    return empty("No files saved",
      "Files saved with run.save() or written to the run's files folder show here.");
  }
  const total = files.reduce((sum, f) => sum + (f.size || 0), 0);
  const urlOf = (name, download) => "/api/v1/dashboard/" +
    (download ? "download" : "file") + path + "?path=" + encodeURIComponent(name);
  return el("div", { id: "run-files" },
    el("p", { class: "muted" }, files.length + (files.length === 1 ? " file · " :
      " files · ") + bytes(total)),
    fileBrowser(files, { urlOf, selected: current().params.get("file"),
      onSelect: (name) => setParams({ file: name }) }));
}
