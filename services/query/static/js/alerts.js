// The alert settings page: channels (with a test send), subscriptions, rules
// and built-in kinds on or off, and the delivery log. Each part reads its own
// list from the alerts service, so a part that fails shows its error while
// the rest of the page still works.

import { api } from "./api.js";
import { el, failure, loading } from "./dom.js";
import { alertsCall } from "./alertform.js";
import { channelsPart } from "./alertchannels.js";
import { subscriptionsPart } from "./alertsubs.js";
import { rulesPart } from "./alertrules.js";
import { logPart } from "./alertlog.js";

const PARTS = [["channels", "Channels"], ["subscriptions", "Subscriptions"],
  ["rules", "Rules"], ["log", "Delivery log"]];

export async function alertsView(main) {
  main.replaceChildren(el("div", { class: "page-head" }, el("h1", {}, "Alerts")),
    loading());
  const viewer = await api.get("/viewer");
  const page = { viewer, channels: [], sections: {}, redrawLog: () => null };
  page.redraw = (...names) => redraw(page, names);
  const notice = el("div", { id: "alerts-notice" });
  main.replaceChildren(el("div", { class: "page-head" }, el("h1", {}, "Alerts"),
    roleLine(viewer)), notice, await projectList(viewer));
  for (const [name, title] of PARTS) {
    page.sections[name] = el("section", { class: "alerts-part", "data-part": name },
      el("h2", {}, title), el("div", { class: "part-body" }, loading()));
    main.append(page.sections[name]);
  }
  const reached = await redraw(page, ["channels", "subscriptions", "rules"]);
  if (!reached) { notice.replaceChildren(downNotice(page.down)); }
  fill(page, "log", logPart(page));
}

function roleLine(viewer) {
  const teams = viewer.entities.filter((name) => name !== viewer.user);
  const words = viewer.admin ? "As an admin you see and can change every channel."
    : teams.length ? "You can add and change channels of your own and of " +
      teams.join(", ") + "; team channels are shared with their members."
      : "You can add and change your own channels, subscriptions and rules.";
  return el("p", { class: "muted", id: "alerts-role" }, "Signed in as " + viewer.user +
    (viewer.admin ? " (admin)" : "") + ". " + words);
}

// Project names of the viewer's entities, offered in the project fields.
async function projectList(viewer) {
  const names = new Set();
  await Promise.all(viewer.entities.map(async (entity) => {
    try {
      const found = await api.get("/projects?entity=" + encodeURIComponent(entity));
      found.projects.forEach((p) => names.add(p.name));
    } catch {
      // Suggestions only: a field without them still takes any name.
    }
  }));
  return el("datalist", { id: "alert-projects" }, [...names].sort().map((name) =>
    el("option", { value: name })));
}

// Reads and draws the named parts in order; false when the service is down.
async function redraw(page, names) {
  let reached = true;
  for (const name of names) {
    if (name === "log") { page.redrawLog(); continue; }
    try {
      fill(page, name, await partOf(page, name));
    } catch (error) {
      fill(page, name, [failure(error)]);
      if (!error.status || error.status >= 500) { reached = false; page.down = error; }
    }
  }
  return reached;
}

async function partOf(page, name) {
  if (name === "channels") {
    page.channels = (await alertsCall("GET", "channels")).channels;
    return channelsPart(page, page.channels);
  }
  if (name === "subscriptions") {
    const found = await alertsCall("GET", "subscriptions");
    return subscriptionsPart(page, found.subscriptions);
  }
  const [rules, switches] = await Promise.all([alertsCall("GET", "rules"),
    alertsCall("GET", "switches")]);
  return rulesPart(page, rules.rules, switches.switches);
}

function fill(page, name, nodes) {
  const body = page.sections[name].querySelector(".part-body");
  body.replaceChildren(...nodes);
}

function downNotice(error) {
  return el("div", { class: "error alerts-down", role: "alert" },
    el("strong", {}, "The alerts service is not answering"),
    el("p", {}, "Channels, subscriptions, rules and the log cannot be read or "
      + "changed until it is back; runs and charts are not affected. Check "
      + "'lodestar server status'."),
    el("p", { class: "muted" }, error ? error.message : ""));
}
