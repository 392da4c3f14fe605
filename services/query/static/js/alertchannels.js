// The channels part of the alert settings: where alerts go (a Slack-style
// webhook or email), a test send per channel with its outcome, delete, and
// the form that adds one.

import { el, empty, formatTime } from "./dom.js";
import {
  alertForm, alertsCall, choice, deleteButton, entityChoice, field, formValues,
  textInput,
} from "./alertform.js";

const TYPES = [["slack", "Slack or webhook (JSON POST)"], ["email", "Email (SMTP)"]];
const SECURITY = [["starttls", "STARTTLS"], ["tls", "TLS"], ["none", "none"]];

export function channelsPart(page, channels) {
  const table = channels.length ? channelTable(page, channels)
    : empty("No channels yet", "Add a webhook or an email channel below; then "
      + "subscribe it to a project.");
  return [table, channelForm(page)];
}

function channelTable(page, channels) {
  return el("div", { class: "table-wrap" }, el("table", { class: "grid",
    id: "alerts-channels" },
  el("thead", {}, el("tr", {}, ["Name", "Type", "Owner", "Sends to", "Added", ""]
    .map((name) => el("th", {}, name)))),
  el("tbody", {}, channels.map((channel) => channelRow(page, channel)))));
}

function channelRow(page, channel) {
  const owner = channel.owner.user ? "user " + channel.owner.user
    : "team " + channel.owner.entity;
  return el("tr", { "data-channel": channel.id, "data-name": channel.name },
    el("td", {}, el("strong", {}, channel.name)),
    el("td", {}, channel.type === "slack" ? "webhook" : channel.type),
    el("td", {}, owner), el("td", { class: "key" }, target(channel)),
    el("td", { title: channel.created_by ? "by " + channel.created_by : null },
      formatTime(channel.created_at)),
    el("td", { class: "actions" }, el("div", { class: "row-actions" },
      testButton(channel), deleteButton("Delete channel " + channel.name,
        "Delete channel '" + channel.name
        + "'? Its subscriptions are deleted with it.",
      () => alertsCall("DELETE", "channels/" + encodeURIComponent(channel.id)),
      () => page.redraw("channels", "subscriptions")))));
}

function target(channel) {
  if (channel.type !== "email") { return channel.secret; }
  const conf = channel.settings;
  return conf.to.join(", ") + " via " + conf.smtp_host + ":" + conf.smtp_port;
}

function testButton(channel) {
  const result = el("span", { class: "test-result", role: "status" });
  const send = async (event) => {
    const button = event.currentTarget;
    button.disabled = true;
    result.className = "test-result pending";
    result.textContent = "sending…";
    try {
      const answer = await alertsCall("POST", "channels/" +
        encodeURIComponent(channel.id) + "/test");
      const sent = answer.status === "sent";
      result.className = "test-result " + (sent ? "sent" : "failed");
      result.textContent = sent ? "delivered" : "failed: " + answer.error;
    } catch (error) {
      result.className = "test-result failed";
      result.textContent = "failed: " + error.message;
    } finally {
      button.disabled = false;
    }
  };
  return el("span", { class: "test-send" }, el("button", { type: "button",
    "data-action": "test", onclick: send }, "Send test alert"), result);
}

function channelForm(page) {
  const type = choice(TYPES, "slack");
  const fields = [
    field("Type", "type", type),
    field("Name", "name", textInput({ placeholder: "e.g. team-slack" })),
    field("Owner", "entity", entityChoice(page.viewer),
      "a team's channels are shared with its members"),
    field("Webhook URL", "url", textInput({ placeholder:
      "https://hooks.slack.com/services/…", size: 40, "data-for": "slack" })),
    ...emailFields(),
  ];
  const form = alertForm("channel-form", "Add a channel", fields,
    (filled) => alertsCall("POST", "channels", channelBody(filled, page.viewer)),
    () => page.redraw("channels", "subscriptions"));
  const showType = () => showFor(form, type.value);
  form.addEventListener("change", showType);
  showType();
  return form;
}

function emailFields() {
  const email = (attrs) => textInput({ ...attrs, "data-for": "email" });
  return [
    field("To", "to", email({ placeholder: "ml-team@example.com, me@example.com",
      size: 36 }), "one or more addresses, comma-separated"),
    field("SMTP host", "smtp_host", email({ placeholder: "smtp.example.com" })),
    field("SMTP port", "smtp_port", email({ placeholder: "587", size: 6 })),
    field("Security", "security", choice(SECURITY, "starttls", { "data-for": "email" })),
    field("SMTP user", "smtp_user", email({})),
    field("SMTP password", "smtp_password", el("input", { type: "password",
      autocomplete: "new-password", "data-for": "email" })),
    field("From", "sender", email({ placeholder: "lodestar@example.com" })),
  ];
}

// Show only the fields of the chosen type (a hidden field is not sent).
export function showFor(form, kind) {
  form.querySelectorAll("[data-for]").forEach((input) => {
    const wanted = input.dataset.for.split(" ").includes(kind);
    input.closest(".field").hidden = !wanted;
    input.disabled = !wanted;
  });
}

function channelBody(form, viewer) {
  const body = formValues(form);
  if (body.entity === viewer.default_entity) { delete body.entity; }
  return body;
}
