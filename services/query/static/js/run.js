// One run: header (state, runtime, host, command, commit, tags, notes) and
// tabs for charts, system metrics, config, summary, console, files, media
// and artifacts. The page follows the run live while it trains.

import { api, runPath, toNumber } from "./api.js";
import { ChartPanel, watchResize } from "./charts.js";
import { ChartGrid, keysOf, numericKeys, prefixOf } from "./chartpage.js";
import {
  colourOf, el, empty, failure, formatDuration, formatTime, loading, runtimeOf, show,
  stateBadge,
} from "./dom.js";
import { watch } from "./live.js";
import { current, setParams } from "./route.js";
import { artifactsPanel } from "./artifacts.js";
import { filesPanel } from "./files.js";
import { mediaPanel } from "./mediapanel.js";

const TABS = [["charts", "Charts"], ["system", "System"], ["config", "Config"],
  ["summary", "Summary"], ["console", "Console"], ["media", "Media"],
  ["files", "Files"], ["artifacts", "Artifacts"]];

export async function runView(main, entity, project, runId) {
  const page = new RunPage(main, entity, project, runId);
  await page.render();
  watch({ entity, project, run: runId }, () => page.live(), 1000);
}

class RunPage {
  constructor(main, entity, project, runId) {
    Object.assign(this, { main, entity, project, runId });
    this.base = "/runs" + runPath(entity, project, runId);
    this.tab = current().params.get("tab") || "charts";
  }

  async render() {
    this.run = await api.get(this.base);
    this.header = el("div", { class: "run-head" });
    this.body = el("div", { class: "tab-body" }, loading());
    this.main.replaceChildren(this.header, this.tabs(), this.body);
    this.drawHeader();
    await this.showTab(this.tab);
  }

  tabs() {
    this.tabBar = el("nav", { class: "tabs", "aria-label": "Run" }, TABS.map(
      ([id, text]) =>
      el("a", { href: "javascript:void 0", "data-tab": id, class: id === this.tab
        ? "active" : "", onclick: () => this.showTab(id) }, text)));
    return this.tabBar;
  }

  async showTab(id) {
    this.tab = id;
    setParams({ tab: id === "charts" ? null : id });
    this.tabBar.querySelectorAll("a").forEach((a) => a.classList.toggle("active",
      a.dataset.tab === id));
    this.body.replaceChildren(loading());
    Object.assign(this, { grid: null, system: null, console: null });
    delete this.body.dataset.samples;
    try {
      await this.drawTab(id);
    } catch (error) {
      this.body.replaceChildren(failure(error));
    }
  }

  async drawTab(id) {
    const run = { id: this.runId, label: this.run.name || this.runId,
      colour: colourOf(this.runId) };
    if (id === "charts") {
      const keys = await keysOf(this.entity, this.project, [this.runId]);
      this.grid = new ChartGrid({ entity: this.entity, project: this.project,
        runs: [run] });
      this.body.replaceChildren(this.grid.root);
      const numeric = await numericKeys(this.entity, this.project, [run], keys);
      await this.grid.render(numeric, numeric);
    } else if (id === "system") {
      await this.drawSystem();
    } else if (id === "config" || id === "summary") {
      this.body.replaceChildren(keyTable(this.run[id], id));
    } else if (id === "console") {
      await this.drawConsole();
    } else if (id === "media") {
      this.body.replaceChildren(await mediaPanel(this.entity, this.project, this.runId));
    } else if (id === "files") {
      this.body.replaceChildren(await filesPanel(this.entity, this.project, this.runId));
    } else if (id === "artifacts") {
      this.body.replaceChildren(await artifactsPanel(this.entity, this.project,
        this.runId));
    }
  }

  drawHeader() {
    this.facts = el("dl", { class: "facts" });
    this.header.replaceChildren(...[
      el("div", { class: "title-line" }, el("h1", { title: this.run.name || this.run.id },
        this.run.name || this.run.id),
        el("span", { class: "run-state" }), el("span", { class: "muted run-id" },
          this.run.id)),
      this.facts, el("pre", { class: "command", title: "command line", hidden: true }),
      this.tagEditor(), this.notesEditor()]);
    this.drawFacts();
    this.tick();
  }

  // What changes while the run trains: state, facts and command line. The
  // tag and note editors are left alone so a live update never eats typing.
  drawFacts() {
    const run = this.run, meta = run.metadata || {};
    this.header.querySelector(".run-state").replaceChildren(stateBadge(run.state));
    this.facts.replaceChildren(...headerFacts(run).flatMap(([name, value, title]) => [
      el("dt", {}, name), el("dd", { "data-fact": name, title }, value)]));
    const command = meta.command ||
      [meta.program, ...(meta.args || [])].filter(Boolean).join(" ");
    const line = this.header.querySelector("pre.command");
    line.textContent = command;
    line.hidden = !command;
  }

  // The runtime counts up each second while the run is running.
  tick() {
    clearInterval(this.ticker);
    if (this.run.state !== "running") { return; }
    this.ticker = setInterval(() => {
      const cell = this.facts.querySelector("dd[data-fact=runtime]");
      if (!this.facts.isConnected || !cell) { clearInterval(this.ticker); return; }
      cell.textContent = formatDuration(runtimeOf(this.run));
    }, 1000);
  }

  tagEditor() {
    const tags = this.run.tags || [];
    const input = el("input", { type: "text", id: "new-tag", placeholder: "add tag",
      "aria-label": "Add a tag", size: "10" });
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && input.value.trim()) {
        this.edit({ tags: [...new Set([...tags, input.value.trim()])] });
      }
    });
    return el("div", { class: "tags", id: "run-tags" }, tags.map((tag) => el("span",
      { class: "tag", title: tag }, el("span", { class: "cut" }, tag),
      el("button", { type: "button", class: "icon",
        title: "Remove tag " + tag, onclick: () => this.edit({ tags: tags.filter((t) =>
          t !== tag) }) }, "×"))), input);
  }

  notesEditor() {
    const notes = el("textarea", { id: "run-notes", rows: "2", placeholder: "notes",
      "aria-label": "Notes" }, this.run.notes || "");
    const save = el("button", { type: "button", onclick: () => this.edit({
      notes: notes.value }) }, "Save notes");
    return el("div", { class: "notes" }, notes, save);
  }

  async edit(change) {
    try {
      this.run = await api.patch(this.base, change);
      this.drawHeader();
      this.header.querySelector(change.tags ? "#new-tag" : "#run-notes").focus();
    } catch (error) {
      window.alert("Could not save: " + error.message);
    }
  }

  async drawSystem() {
    const found = await api.get(this.base + "/system?samples=600");
    const keys = systemKeys(found.rows);
    if (!keys.length) {
      this.body.replaceChildren(empty("No system metrics",
        "The SDK records CPU, memory, GPU, disk and network while a run trains."));
      return;
    }
    this.system = { rows: found.rows, keys: keys.join("\n"), panels: [] };
    const settings = { smoothing: 0, log: false, xAxis: "_timestamp" };
    const panels = keys.map((key) => new ChartPanel({ title: key, settings,
      load: async () => [systemLine(this.system.rows, key, this.runId)] }));
    this.system.panels = panels;
    const groups = new Map();
    panels.forEach((panel, i) => {
      const prefix = prefixOf(keys[i]) || keys[i].split(".")[0];
      if (!groups.has(prefix)) { groups.set(prefix, []); }
      groups.get(prefix).push(panel.root);
    });
    const sections = el("div", { class: "sections", id: "system-charts" },
      [...groups].map(([prefix, roots]) => el("details", { open: true,
        class: "chart-section", "data-prefix": prefix }, el("summary", {}, prefix),
      el("div", { class: "chart-grid" }, roots))));
    this.body.replaceChildren(sections);
    this.body.dataset.samples = String(found.rows.length);
    await Promise.all(panels.map((p) => p.refresh()));
    watchResize(panels, sections);
  }

  // New samples redraw the same panels; a new metric redraws the tab.
  async refreshSystem() {
    const found = await api.get(this.base + "/system?samples=600");
    if (!this.system || systemKeys(found.rows).join("\n") !== this.system.keys) {
      await this.drawSystem();
      return;
    }
    this.system.rows = found.rows;
    await Promise.all(this.system.panels.map((p) => p.refresh()));
    this.body.dataset.samples = String(found.rows.length);
  }

  async drawConsole() {
    const search = el("input", { type: "search", id: "console-search",
      placeholder: "search the console", "aria-label": "Search the console",
      value: current().params.get("cq") || "" });
    const count = el("span", { class: "muted", id: "console-count" });
    const out = el("pre", { class: "console", id: "console" });
    this.console = { search, count, out, lines: [] };
    search.addEventListener("input", () => {
      setParams({ cq: search.value });
      this.drawLines();
    });
    this.body.replaceChildren(el("div", { class: "toolbar" }, search, count), out);
    await this.refreshConsole();
  }

  // Fetches the latest lines and redraws them under the kept search box.
  async refreshConsole() {
    const found = await api.get(this.base + "/console?last=5000");
    const { out } = this.console;
    const atEnd = out.scrollTop + out.clientHeight >= out.scrollHeight - 4;
    this.console.lines = found.lines;
    this.drawLines();
    if (atEnd) { out.scrollTop = out.scrollHeight; }
  }

  drawLines() {
    const { search, count, out, lines } = this.console;
    const needle = search.value.toLowerCase();
    const shown = lines.filter((l) => !needle || l.text.toLowerCase().includes(needle));
    count.textContent = (needle ? shown.length + " of " : "") + lines.length + " lines";
    out.replaceChildren(...shown.map((l) => el("div", { class: l.stream === "stderr"
      ? "stderr" : "" }, l.text)));
    if (!shown.length) {
      out.replaceChildren(el("span", { class: "muted" }, lines.length
        ? "No line matches." : "No console output recorded."));
    }
  }

  async live() {
    this.run = await api.get(this.base);
    this.drawFacts();
    this.tick();
    if (this.tab === "charts" && this.grid) {
      await this.grid.refresh(await numericKeys(this.entity, this.project,
        this.grid.runs, await keysOf(this.entity, this.project, [this.runId])));
    } else if (this.tab === "system") {
      await this.refreshSystem();
    } else if (this.tab === "console" && this.console) {
      await this.refreshConsole();
    }
  }
}

// The header's facts as [name, text, title] rows; empty ones left out.
function headerFacts(run) {
  const meta = run.metadata || {}, git = meta.git || {};
  const commit = git.commit ? git.commit.slice(0, 12) + (git.dirty ? " (dirty)" : "")
    : "";
  return [
    ["created", formatTime(run.created_at)],
    ["runtime", formatDuration(runtimeOf(run))],
    ["user", run.user], ["host", meta.host], ["group", run.group],
    ["job type", run.job_type],
    ["commit", commit, [git.branch, git.remote, git.commit].filter(Boolean).join(" · ")],
    ["exit code", run.state === "running" ? null : run.exit_code],
  ].filter(([, value]) => value !== null && value !== undefined && value !== "");
}

function systemKeys(rows) {
  return [...new Set(rows.flatMap((r) => Object.keys(r)))]
    .filter((k) => k !== "_timestamp").sort();
}

function systemLine(rows, key, runId) {
  const kept = rows.filter((r) => r[key] !== undefined);
  return { id: runId, label: key, colour: colourOf(runId), x: kept.map((r) =>
    r._timestamp), y: kept.map((r) => toNumber(r[key])), lo: null, hi: null, bad: null };
}

// Config or summary as a table of dotted keys, with a search box.
export function keyTable(values, name) {
  const rows = flatten(values || {}).sort((a, b) => a[0].localeCompare(b[0]));
  if (!rows.length) { return empty("No " + name + " recorded"); }
  const search = el("input", { type: "search", placeholder: "search " + name,
    "aria-label": "Search " + name, id: name + "-search" });
  const body = el("tbody", {}, rows.map(([key, value]) => el("tr", { "data-key": key },
    el("td", { class: "key", title: key }, key),
    el("td", { title: show(value) }, show(value)))));
  search.addEventListener("input", () => {
    const needle = search.value.toLowerCase();
    body.querySelectorAll("tr").forEach((tr) => {
      tr.hidden = Boolean(needle) && !tr.textContent.toLowerCase().includes(needle);
    });
  });
  return el("div", {}, el("div", { class: "toolbar" }, search),
    el("table", { class: "grid keys", id: name + "-table" }, body));
}

export function flatten(value, prefix = "") {
  if (value === null || typeof value !== "object" || Array.isArray(value) ||
    ("$text" in value && Object.keys(value).length === 1)) {
    return [[prefix, value]];
  }
  const entries = Object.entries(value);
  if (!entries.length && prefix) { return [[prefix, value]]; }
  return entries.flatMap(([k, v]) => flatten(v, prefix ? prefix + "." + k : k));
}
