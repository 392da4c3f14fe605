// The subscriptions part of the alert settings: which alerts of which
// projects each channel receives, delete, and the form that adds one.

import { el, empty } from "./dom.js";
import {
  alertForm, alertsCall, choice, deleteButton, entityChoice, field, formValues, KINDS,
  LEVELS, textInput,
} from "./alertform.js";

export function subscriptionsPart(page, subs) {
  const table = subs.length ? subTable(page, subs)
    : empty("No subscriptions yet", "A channel receives nothing until it is "
      + "subscribed to a project or to every project of an entity.");
  return [table, page.channels.length ? subForm(page)
    : el("p", { class: "muted" }, "Add a channel first to subscribe it.")];
}

function subTable(page, subs) {
  return el("div", { class: "table-wrap" }, el("table", { class: "grid",
    id: "alerts-subscriptions" },
  el("thead", {}, el("tr", {}, ["Channel", "Projects", "Alerts", "Levels", ""]
    .map((name) => el("th", {}, name)))),
  el("tbody", {}, subs.map((sub) => subRow(page, sub)))));
}

function subRow(page, sub) {
  const channel = page.channels.find((c) => c.id === sub.channel_id);
  const name = channel ? channel.name : sub.channel_id;
  return el("tr", { "data-sub": sub.id, "data-channel": sub.channel_id },
    el("td", {}, el("strong", {}, name)),
    el("td", {}, sub.project ? sub.entity + "/" + sub.project
      : "every project of " + sub.entity),
    el("td", { class: "wrap" }, sub.kinds.length ? sub.kinds.join(", ") : "every kind"),
    el("td", {}, sub.min_level === "info" ? "all levels" : sub.min_level + " and above"),
    el("td", { class: "actions" }, deleteButton("Delete subscription of " + name,
      "Stop sending these alerts to '" + name + "'?",
      () => alertsCall("DELETE", "subscriptions/" + encodeURIComponent(sub.id)),
      () => page.redraw("subscriptions"))));
}

function subForm(page) {
  const channels = page.channels.map((c) => [c.id, c.name + " (" + c.type + ")"]);
  const fields = [
    field("Channel", "channel_id", choice(channels, channels[0][0])),
    field("Entity", "entity", entityChoice(page.viewer)),
    field("Project", "project", textInput({ placeholder: "every project",
      list: "alert-projects" }), "leave empty for every project of the entity"),
    field("Alert kinds", "kinds", kindBoxes(), "none ticked: every kind"),
    field("Lowest level", "min_level", choice(LEVELS.map((l) => [l, l]), "info")),
  ];
  return alertForm("subscription-form", "Subscribe a channel", fields,
    (form) => alertsCall("POST", "subscriptions", formValues(form)),
    () => page.redraw("subscriptions"));
}

// Checkboxes named "kinds": FormData gives each ticked one.
function kindBoxes() {
  const box = el("span", { class: "kind-boxes" }, KINDS.map(([kind, words]) =>
    el("label", { title: words }, el("input", { type: "checkbox", name: "kinds",
      value: kind }), kind)));
  box.setAttribute("role", "group");
  return box;
}
