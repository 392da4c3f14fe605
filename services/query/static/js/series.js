// Chart data from the dashboard's series route: one request for every key of
// a page, then one request per chart when it is zoomed (finer buckets).

import { api, projectPath, query } from "./api.js";
import { colourOf } from "./dom.js";

const MAX_SERIES = 400;

export async function fetchLines(entity, project, runs, keys, settings, range) {
  if (!runs.length || !keys.length) { return new Map(); }
  const step = Math.max(1, Math.floor(MAX_SERIES / runs.length));
  if (keys.length > step) {
    const parts = [];
    for (let i = 0; i < keys.length; i += step) {
      parts.push(fetchLines(entity, project, runs, keys.slice(i, i + step), settings,
        range));
    }
    return new Map((await Promise.all(parts)).flatMap((part) => [...part]));
  }
  const found = await api.get("/dashboard/series" + projectPath(entity, project) + query({
    run: runs.map((r) => r.id), key: keys, x_axis: settings.xAxis,
    buckets: range ? 800 : 600, lo: range ? range[0] : null, hi: range ? range[1] : null,
  }));
  const byId = new Map(runs.map((r) => [r.id, r]));
  const lines = new Map(keys.map((k) => [k, []]));
  for (const s of found.series) {
    const run = byId.get(s.run) || { id: s.run, label: s.run };
    const x = found.sampled ? snap(s.x, found) : s.x;
    lines.get(s.key).push({ id: run.id, label: run.label || run.id,
      colour: run.colour || colourOf(run.id), x, y: s.y, lo: s.lo, hi: s.hi,
      bad: s.bad, marks: s.marks, sampled: found.sampled });
  }
  return lines;
}

// Bucketed x values moved to their bucket's end, so that the lines of
// several runs share x positions (needed for group means and tooltips).
function snap(xs, found) {
  const [lo, hi] = found.range;
  const width = ((hi - lo) || 1) / found.buckets;
  return xs.map((x) => Math.min(hi, lo + (Math.floor((x - lo) / width) + 1) * width));
}

// Loads a page's charts: the first load of all keys together.
export class SeriesSource {
  constructor(entity, project, runs, settings) {
    Object.assign(this, { entity, project, runs, settings });
    this.first = null;
  }

  prefetch(keys) {
    this.first = fetchLines(this.entity, this.project, this.runs, keys, this.settings,
      null);
    return this.first;
  }

  loaderFor(key) {
    return async (range) => {
      if (!range && this.first) {
        const lines = (await this.first).get(key);
        if (lines) { return lines; }
      }
      const found = await fetchLines(this.entity, this.project, this.runs, [key],
        this.settings, range);
      return found.get(key) || [];
    };
  }
}
