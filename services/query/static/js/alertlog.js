// The delivery log of the alert settings: every alert, newest first, with
// the outcome of its delivery to each channel. Filters (entity, project,
// channel, outcome) and the page live in the URL; Refresh reads it again.

import { query } from "./api.js";
import { el, empty, failure, formatTime, loading } from "./dom.js";
import { current, setParams } from "./route.js";
import { alertsCall, choice, levelBadge } from "./alertform.js";

const PAGE = 20;
const FETCHED = 500;
const OUTCOMES = [["", "any outcome"], ["sent", "delivered"], ["failed", "failed"],
  ["retrying", "retrying"], ["unpaged", "not sent"]];
const WORDS = { sent: "delivered", failed: "failed", retrying: "retrying",
  sending: "sending", pending: "pending" };

export function logPart(page) {
  const body = el("div", { class: "log-body" });
  const head = el("div", { class: "toolbar log-filters" });
  const redraw = () => drawLog(page, head, body);
  page.redrawLog = redraw;
  redraw();
  return [head, body];
}

function filters() {
  const { params } = current();
  return {
    entity: params.get("log_entity") || "", project: params.get("log_project") || "",
    channel: params.get("log_channel") || "", status: params.get("log_status") || "",
    page: Math.max(0, Number(params.get("log_page") || 0) || 0),
  };
}

async function drawLog(page, head, body) {
  const wanted = filters();
  body.replaceChildren(loading("Reading the delivery log…"));
  head.replaceChildren(...filterBar(page, wanted).filter(Boolean));
  let alerts;
  try {
    const found = await alertsCall("GET", "log" + query({ entity: wanted.entity,
      project: wanted.project, limit: FETCHED }));
    alerts = found.alerts || [];
  } catch (error) {
    body.replaceChildren(failure(error));
    return;
  }
  const shown = alerts.filter((alert) => keeps(alert, wanted))
    .sort((a, b) => b.fired_at - a.fired_at);
  body.replaceChildren(...logTable(page, shown, wanted, alerts.length));
}

function filterBar(page, wanted) {
  const change = (name) => (event) => {
    setParams({ [name]: event.target.value.trim(), log_page: "" });
    page.redrawLog();
  };
  const entities = [...new Set([page.viewer.default_entity, ...page.viewer.entities])];
  const channels = [["", "any channel"], ...page.channels.map((c) => [c.id, c.name])];
  return [
    entities.length > 1 ? el("label", {}, "entity ", choice(entities.map((e) => [e, e]),
      wanted.entity || page.viewer.default_entity, { id: "log-entity",
        onchange: change("log_entity") })) : null,
    el("label", {}, "project ", el("input", { type: "search", id: "log-project",
      list: "alert-projects", value: wanted.project, placeholder: "every project",
      onchange: change("log_project") })),
    el("label", {}, "channel ", choice(channels, wanted.channel,
      { id: "log-channel", onchange: change("log_channel") })),
    el("label", {}, "outcome ", choice(OUTCOMES, wanted.status,
      { id: "log-status", onchange: change("log_status") })),
    el("button", { type: "button", id: "log-refresh", onclick: () => page.redrawLog() },
      "Refresh"),
    el("span", { class: "muted", id: "log-read-at" }, "read at " +
      new Date().toLocaleTimeString()),
  ];
}

// The last outcome per channel of an alert, in the order channels were tried.
export function outcomes(alert) {
  const last = new Map();
  for (const attempt of alert.attempts || []) { last.set(attempt.channel_id, attempt); }
  return [...last.values()];
}

function keeps(alert, wanted) {
  const tried = outcomes(alert);
  if (wanted.channel && !tried.some((t) => t.channel_id === wanted.channel)) {
    return false;
  }
  if (!wanted.status) { return true; }
  if (wanted.status === "unpaged") { return tried.length === 0; }
  return tried.some((t) => t.status === wanted.status &&
    (!wanted.channel || t.channel_id === wanted.channel));
}

function logTable(page, shown, wanted, total) {
  if (!shown.length) {
    return [empty(total ? "No alert matches these filters" : "No alerts yet",
      total ? "Clear a filter to see more." : "Alerts show here as runs raise them.")];
  }
  const last = Math.floor((shown.length - 1) / PAGE) * PAGE;
  const first = Math.min(wanted.page * PAGE, last);
  const rows = shown.slice(first, first + PAGE);
  return [el("div", { class: "table-wrap" }, el("table", { class: "grid",
    id: "alerts-log" },
  el("thead", {}, el("tr", {}, ["Fired", "Level", "Kind", "Alert", "Run", "Delivery"]
    .map((name) => el("th", {}, name)))),
  el("tbody", {}, rows.map((alert) => logRow(page, alert))))),
  pager(page, first, shown.length, total)];
}

function logRow(page, alert) {
  const run = alert.run_id ? el("a", { href: "#/" + [alert.entity, alert.project,
    "runs", alert.run_id].map(encodeURIComponent).join("/") }, alert.run_id)
    : el("span", { class: "muted" }, "no run");
  return el("tr", { "data-alert": alert.alert_id },
    el("td", { title: new Date(alert.fired_at * 1000).toLocaleString() },
      formatTime(alert.fired_at)),
    el("td", {}, levelBadge(alert.level)), el("td", {}, alert.kind),
    el("td", { class: "wrap", title: alert.text }, el("strong", {}, alert.title)),
    el("td", {}, alert.project + " / ", run),
    el("td", { class: "wrap deliveries" }, deliveries(page, alert)));
}

function deliveries(page, alert) {
  const tried = outcomes(alert);
  if (!tried.length) {
    return el("span", { class: "outcome outcome-unpaged", "data-status": "unpaged" },
      "not sent" + (alert.reason ? ": " + alert.reason : ""));
  }
  return tried.map((attempt) => {
    const channel = page.channels.find((c) => c.id === attempt.channel_id);
    const name = channel ? channel.name : attempt.channel_id;
    const word = WORDS[attempt.status] || attempt.status;
    return el("span", { class: "outcome outcome-" + attempt.status,
      "data-status": attempt.status, "data-channel": attempt.channel_id,
      title: "attempt " + attempt.attempt + (attempt.error ? ": " + attempt.error : "") },
    name + ": " + word + (attempt.error ? " (" + attempt.error + ")" : ""));
  });
}

function pager(page, first, count, total) {
  const turn = (delta) => () => {
    setParams({ log_page: Math.floor(first / PAGE) + delta || "" });
    page.redrawLog();
  };
  const more = total >= FETCHED ? " (the newest " + FETCHED + " read)" : "";
  return el("div", { class: "pager" },
    el("button", { type: "button", id: "log-newer", disabled: first === 0,
      onclick: turn(-1) }, "‹ Newer"),
    el("span", { id: "log-count" }, (first + 1) + "–" + Math.min(first + PAGE, count)
      + " of " + count + " alerts" + more),
    el("button", { type: "button", id: "log-older", disabled: first + PAGE >= count,
      onclick: turn(1) }, "Older ›"));
}
