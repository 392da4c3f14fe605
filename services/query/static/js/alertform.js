// Pieces shared by the alert settings forms: the alerts service's routes and
// vocabulary, labelled fields, and a submit that puts the service's message
// next to the field it names ("url: give the Slack ... URL").

import { api } from "./api.js";
import { el } from "./dom.js";
import { SVC } from "./objects.js";

export const ALERTS = SVC + "alerts/alerts/";

export const LEVELS = ["info", "warn", "error"];

// The alert kinds the service knows, in the words a user would use.
export const KINDS = [
  ["user", "alerts from training code (lodestar.alert)"],
  ["finished", "run finished"], ["failed", "run failed"], ["killed", "run killed"],
  ["preempted", "run preempted"], ["crashed", "run crashed or lost its heartbeat"],
  ["nan", "a metric became NaN or infinite"], ["threshold", "threshold rules"],
  ["stalled", "no-new-step rules"],
];

export function alertsCall(method, path, body) {
  const url = ALERTS + path;
  if (method === "GET") { return api.get(url); }
  if (method === "DELETE") { return api.del(url); }
  return api.post(url, body);
}

// A labelled input; `name` ties it to the service's field name for errors.
export function field(label, name, input, hint) {
  input.setAttribute("name", name);
  return el("label", { class: "field", "data-field": name },
    el("span", { class: "field-label" }, label), input,
    hint ? el("small", { class: "muted" }, hint) : null,
    el("span", { class: "field-error", role: "alert" }));
}

export function textInput(attrs) {
  return el("input", { type: "text", autocomplete: "off", ...(attrs || {}) });
}

export function choice(options, selected, attrs) {
  return el("select", attrs || {}, options.map(([value, text]) => el("option",
    { value, selected: value === selected }, text)));
}

// Owner choices: the viewer, or a team the viewer belongs to.
export function entityChoice(viewer, selected) {
  const names = [...new Set([viewer.default_entity, ...viewer.entities])];
  return choice(names.map((name) => [name, name === viewer.user ? name + " (you)"
    : name]), selected || viewer.default_entity);
}

// A form whose submit sends `values(form)` and calls `done(answer)`; a refusal
// shows next to its field, or under the form when it names none.
export function alertForm(id, title, fields, send, done) {
  const problem = el("p", { class: "form-error error", role: "alert" });
  const form = el("form", { id, class: "alert-form", novalidate: true },
    el("h3", {}, title), el("div", { class: "fields" }, fields),
    el("div", { class: "form-actions" },
      el("button", { type: "submit", class: "primary" }, "Add"), problem));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    form.classList.add("busy");
    try {
      await done(await send(form), form);
      form.reset();
      form.dispatchEvent(new Event("change"));
    } catch (error) {
      showError(form, error);
    } finally {
      form.classList.remove("busy");
    }
  });
  return form;
}

function clearErrors(form) {
  form.querySelectorAll(".field-error, .form-error").forEach((n) => {
    n.textContent = "";
  });
  form.querySelectorAll("[aria-invalid]").forEach((n) => {
    n.removeAttribute("aria-invalid");
  });
}

function showError(form, error) {
  const text = error && error.message ? error.message : String(error);
  const match = /^([a-z_]+): (.+)$/s.exec(text);
  const slot = match && form.querySelector(`[data-field="${match[1]}"]`);
  if (!slot) {
    form.querySelector(".form-error").textContent = text;
    return;
  }
  slot.querySelector(".field-error").textContent = match[2];
  const input = slot.querySelector("input, select, textarea");
  if (input) { input.setAttribute("aria-invalid", "true"); input.focus(); }
}

// The named values of a form, blanks left out.
export function formValues(form) {
  const values = {};
  for (const [name, value] of new FormData(form)) {
    const text = String(value).trim();
    if (text === "") { continue; }
    if (name in values) {
      values[name] = [].concat(values[name], text);
    } else {
      values[name] = text;
    }
  }
  return values;
}

// A delete button that asks first, then calls `remove` and `done`.
export function deleteButton(label, question, remove, done) {
  return el("button", { type: "button", class: "danger icon", "data-action": "delete",
    "aria-label": label, onclick: async (event) => {
      if (!window.confirm(question)) { return; }
      const button = event.currentTarget;
      button.disabled = true;
      try {
        await remove();
        await done();
      } catch (error) {
        button.disabled = false;
        button.title = error.message;
        button.textContent = "Delete failed: " + error.message;
      }
    } }, "Delete");
}

export function levelBadge(level) {
  const name = typeof level === "number" ? LEVELS[level] || String(level) : level;
  return el("span", { class: "alert-level level-" + name }, name);
}
