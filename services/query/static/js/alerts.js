// The alert settings page: channels (with a test send), subscriptions, rules
// and the delivery log.

import { api } from "./api.js";
import { el, empty, failure, loading } from "./dom.js";
import { objectsTable, SVC, tryGet } from "./objects.js";

export async function alertsView(main) {
  main.replaceChildren(el("div", { class: "page-head" }, el("h1", {}, "Alerts")),
    loading());
  const parts = [["Channels", "channels"], ["Subscriptions", "subscriptions"],
    ["Rules", "rules"], ["Delivery log", "log"]];
  const answers = await Promise.all(parts.map(([, path]) => tryGet(SVC + "alerts/alerts/"
    + path)));
  main.lastChild.remove();
  parts.forEach(([title, path], i) => {
    const { found, error } = answers[i];
    const list = found ? (found[path] || found.alerts || found.entries || []) : [];
    const table = error ? failure(error) : objectsTable(list, "alerts-" + path) ||
      empty("None yet");
    const section = el("section", { class: "alerts-part", "data-part": path },
      el("h2", {}, title), table);
    if (path === "channels" && found) { addTestButtons(section, list); }
    main.append(section);
  });
}

function addTestButtons(section, channels) {
  const rows = section.querySelectorAll("tbody tr");
  channels.forEach((channel, i) => {
    const result = el("span", { class: "muted" });
    const button = el("button", { type: "button", onclick: async () => {
      result.textContent = "sending…";
      try {
        const answer = await api.post(SVC + "alerts/alerts/channels/" +
          encodeURIComponent(channel.id) + "/test");
        result.textContent = answer.status + (answer.error ? ": " + answer.error : "");
      } catch (error) {
        result.textContent = error.message;
      }
    } }, "Send test alert");
    if (rows[i]) { rows[i].append(el("td", {}, button, " ", result)); }
  });
}
