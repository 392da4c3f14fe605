// The rules part of the alert settings: user rules on a project's runs in
// plain words ("val/loss > 2 for 3 steps in project X"), delete, the form
// that adds one, and the switches that turn built-in alert kinds off.

import { el, empty, formatNumber } from "./dom.js";
import {
  alertForm, alertsCall, choice, deleteButton, entityChoice, field, formValues, KINDS,
  LEVELS, levelBadge, textInput,
} from "./alertform.js";
import { showFor } from "./alertchannels.js";

const RULE_KINDS = [["threshold", "a metric crosses a value"],
  ["stall", "no new step for a while"]];

export function rulesPart(page, rules, switches) {
  const list = rules.length ? ruleTable(page, rules)
    : empty("No rules yet", "A rule watches one project's runs, e.g. val/loss above "
      + "2.0 for 3 steps, or no new step for 10 minutes.");
  return [list, ruleForm(page), switchesPart(page, switches)];
}

export function ruleWords(rule) {
  const where = " in project " + rule.entity + "/" + rule.project +
    (rule.group ? ", group " + rule.group : "") + (rule.tag ? ", tag " + rule.tag : "");
  if (rule.kind === "stall") {
    return "no new step for " + formatNumber(rule.stall_s) + " s" + where;
  }
  const op = rule.op === "below" ? " < " : " > ";
  const steps = rule.steps > 1 ? " for " + rule.steps + " steps in a row" : "";
  return rule.metric + op + formatNumber(rule.value) + steps + where;
}

function ruleTable(page, rules) {
  return el("div", { class: "table-wrap" }, el("table", { class: "grid",
    id: "alerts-rules" },
  el("thead", {}, el("tr", {}, ["Rule", "Level", "By", ""].map((n) => el("th", {}, n)))),
  el("tbody", {}, rules.map((rule) => el("tr", { "data-rule": rule.id },
    el("td", { class: "rule-words" }, ruleWords(rule)),
    el("td", {}, levelBadge(rule.level)), el("td", {}, rule.created_by),
    el("td", { class: "actions" }, deleteButton("Delete rule " + ruleWords(rule),
      "Delete the rule '" + ruleWords(rule) + "'?",
      () => alertsCall("DELETE", "rules/" + encodeURIComponent(rule.id)),
      () => page.redraw("rules"))))))));
}

function ruleForm(page) {
  const kind = choice(RULE_KINDS, "threshold");
  const forThreshold = (attrs) => textInput({ ...attrs, "data-for": "threshold" });
  const fields = [
    field("When", "kind", kind),
    field("Entity", "entity", entityChoice(page.viewer)),
    field("Project", "project", textInput({ placeholder: "my-project",
      list: "alert-projects" })),
    field("Metric", "metric", forThreshold({ placeholder: "val/loss" })),
    field("Is", "op", choice([["above", "above"], ["below", "below"]], "above",
      { "data-for": "threshold" })),
    field("Value", "value", forThreshold({ placeholder: "2.0", size: 8 })),
    field("For steps", "steps", forThreshold({ placeholder: "1", size: 5 }),
      "consecutive logged steps"),
    field("Seconds without a step", "stall_s", textInput({ placeholder: "600",
      size: 8, "data-for": "stall" })),
    field("Group", "group", textInput({ placeholder: "any" })),
    field("Tag", "tag", textInput({ placeholder: "any" })),
    field("Level", "level", choice(LEVELS.map((l) => [l, l]), "warn")),
  ];
  const form = alertForm("rule-form", "Add a rule", fields,
    (filled) => alertsCall("POST", "rules", formValues(filled)),
    () => page.redraw("rules"));
  const showKind = () => showFor(form, kind.value);
  form.addEventListener("change", showKind);
  showKind();
  return form;
}

// Built-in kinds on or off: for the viewer's own subscriptions, and per
// project (a kind off for a project is not raised for it at all).
function switchesPart(page, switches) {
  const mine = switches.find((s) => s.user === page.viewer.user) ||
    { user: page.viewer.user, disabled: [] };
  const projects = switches.filter((s) => s.project);
  return el("div", { class: "alert-switches", id: "alert-switches" },
    el("h3", {}, "Built-in alerts on or off"),
    el("div", { class: "table-wrap" }, el("table", { class: "grid" },
      el("thead", {}, el("tr", {}, el("th", {}, "For"),
        KINDS.map(([kind, words]) => el("th", { title: words }, kind)))),
      el("tbody", {}, switchRow(page, "your subscriptions", mine, {}),
        projects.map((s) => switchRow(page, s.entity + "/" + s.project, s,
          { entity: s.entity, project: s.project }))))),
    projectSwitchForm(page));
}

function switchRow(page, label, found, scope) {
  return el("tr", { "data-scope": label }, el("td", {}, label),
    KINDS.map(([kind, words]) => el("td", {}, el("input", { type: "checkbox",
      "aria-label": words + " for " + label, "data-kind": kind,
      checked: !found.disabled.includes(kind),
      onchange: (event) => flip(page, event.target, { ...scope, kind }) }))));
}

async function flip(page, box, body) {
  box.disabled = true;
  try {
    await alertsCall("POST", "switches", { ...body, enabled: box.checked });
    await page.redraw("rules");
  } catch (error) {
    box.checked = !box.checked;
    box.disabled = false;
    box.title = error.message;
  }
}

function projectSwitchForm(page) {
  const fields = [
    field("Entity", "entity", entityChoice(page.viewer)),
    field("Project", "project", textInput({ placeholder: "my-project",
      list: "alert-projects" })),
    field("Kind", "kind", choice(KINDS.map(([kind, words]) => [kind, words]), "nan")),
  ];
  const form = alertForm("switch-form", "Turn a kind off for one project", fields,
    (filled) => switchOff(formValues(filled)),
    () => page.redraw("rules"));
  form.querySelector("button[type=submit]").textContent = "Turn off";
  return form;
}

// Without a project the service would switch the kind off for the viewer.
function switchOff(values) {
  if (!values.project) {
    return Promise.reject(new Error("project: name the project to turn it off for"));
  }
  return alertsCall("POST", "switches", { ...values, enabled: false });
}
