// A run's saved files.

import { runPath } from "./api.js";
import { empty, failure } from "./dom.js";
import { objectsTable, tryGet } from "./objects.js";

export async function filesPanel(entity, project, runId) {
  const { found, error } = await tryGet("/runs" + runPath(entity, project, runId) +
    "/files");
  if (error) { return failure(error); }
  return objectsTable(found.files, "files-table") || empty("No files saved",
    "Files saved with run.save() or written to the run's files folder show here.");
}

