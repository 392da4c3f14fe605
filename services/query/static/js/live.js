// Live updates: one server-sent event stream per open view, fed by the
// writer's fan-out. An event only says "this run has new rows"; the view then
// fetches, at most once per `ms`, so a fast-logging run cannot flood it.

import { query } from "./api.js";
import { throttle } from "./dom.js";

let open = [];

export function watch(scope, onChange, ms = 1000) {
  const url = "/api/v1/dashboard/live" + query({
    entity: scope.entity, project: scope.project, run: scope.run,
  });
  const source = new EventSource(url, { withCredentials: true });
  const pending = new Set();
  const flush = throttle(() => {
    const runs = [...pending];
    pending.clear();
    onChange(runs);
  }, ms);
  source.addEventListener("applied", (event) => {
    const news = JSON.parse(event.data);
    pending.add(news.run_id);
    flush();
  });
  source.addEventListener("open", () => { document.body.dataset.live = "on"; });
  source.addEventListener("error", () => { document.body.dataset.live = "off"; });
  open.push(source);
  return source;
}

// Called on every navigation: a view's streams end with the view.
export function closeAll() {
  for (const source of open) { source.close(); }
  open = [];
}
