// The runs table of a project: sorted on any column, filtered and paged by
// the server; columns chosen and ordered per project (kept on the server for
// the user, see columns.js); selection for compare (kept in the URL), bulk tag
// and delete, grouping with expand/collapse, live rows.

import { api, projectPath, query, runPath } from "./api.js";
import {
  cachedColumns, columnSpec, columnsForm, saveColumns, serverColumns,
} from "./columns.js";
import {
  el, empty, failure, formatDuration, formatTime, link, loading, runtimeOf, show,
  stateBadge,
} from "./dom.js";
import { current, go, hashOf, setParams } from "./route.js";
import { watch } from "./live.js";
import { projectTabs } from "./tabs.js";

const PAGE = 50;

function cell(run, spec, entity, project) {
  switch (spec.id) {
    case "name": return link(run.name || run.id, "/" + [entity, project, "runs", run.id]
      .map(encodeURIComponent).join("/"),
    { class: "run-link", title: run.name || run.id });
    case "state": return stateBadge(run.state);
    case "created_at": return formatTime(run.created_at);
    case "runtime": return formatDuration(runtimeOf(run));
    case "host": return (run.metadata && run.metadata.host) || "";
    case "tags": return (run.tags || []).map((t) => el("span", { class: "tag", title: t },
      t));
    case "user": case "group": case "job_type": case "notes": return show(run[spec.id]);
    default: return show(spec.value(run));
  }
}

export async function runsView(main, entity, project, viewer) {
  const view = new RunsTable(main, entity, project, viewer);
  await view.render();
  watch({ entity, project }, () => view.reloadRows(), 2000);
}

class RunsTable {
  constructor(main, entity, project, viewer) {
    Object.assign(this, { main, entity, project, viewer });
    this.columns = cachedColumns(entity, project);
    const { params } = current();
    this.selected = new Set((params.get("sel") || "").split(",").filter(Boolean));
    this.expanded = new Set();
    this.filter = params.get("filter") || "";
    this.sort = params.get("sort") || "-created_at";
    this.page = Number(params.get("page") || 0);
    this.groupBy = params.get("group") || "";
  }

  async render() {
    this.body = el("div", { class: "table-wrap" }, loading());
    this.status = el("div", { class: "pager" });
    this.actions = el("div", { class: "selection" });
    this.main.replaceChildren(
      el("div", { class: "page-head" }, el("h1", {}, this.project),
        projectTabs(this.entity, this.project, "runs")),
      this.toolbar(), this.actions, this.body, this.status);
    this.drawActions();
    await this.reloadRows();
    await this.followServerColumns();
  }

  // The server's choice wins over the cache: it may come from another browser.
  async followServerColumns() {
    try {
      const saved = await serverColumns(this.entity, this.project);
      if (saved && JSON.stringify([saved.order, [...saved.hidden]]) !==
        JSON.stringify([this.columns.order, [...this.columns.hidden]])) {
        this.columns = saved;
        await this.reloadRows();
      }
    } catch (error) {
      if (error.status === 403) { return; }
      this.filterError.textContent = "Column choice not loaded: " + error.message;
    }
  }

  toolbar() {
    this.filterInput = el("input", { type: "search", id: "run-filter", value: this.filter,
      placeholder: "filter: config.lr > 0.01 and summary.acc >= 0.9, state = running, "
        + "tags = best, or words", "aria-label": "Filter runs", spellcheck: "false" });
    this.filterInput.addEventListener("keydown", (event) => {
      if (event.key === "Enter") { this.applyFilter(this.filterInput.value.trim()); }
    });
    this.filterError = el("div", { class: "filter-error", role: "alert" });
    this.filterNote = el("div", { class: "filter-note", id: "filter-note" });
    const group = el("select", { id: "group-by", "aria-label": "Group runs by",
      onchange: (event) => this.setGroup(event.target.value) },
    ["", "group", "job_type", "state", "user"].map((v) => el("option", { value: v,
      selected: v === this.groupBy }, v ? "group by " + v : "no grouping")));
    return el("div", { class: "toolbar" },
      el("div", { class: "filter" }, this.filterInput, this.filterError,
        this.filterNote),
      group,
      el("button", { type: "button", id: "columns-button",
        onclick: () => this.columnsDialog() }, "Columns"));
  }

  applyFilter(text) {
    this.filter = text;
    this.page = 0;
    setParams({ filter: text, page: null });
    this.reloadRows();
  }

  setGroup(by) {
    this.groupBy = by;
    this.expanded.clear();
    setParams({ group: by });
    this.reloadRows();
  }

  visible() {
    return this.columns.order.filter((id) => !this.columns.hidden.has(id))
      .map(columnSpec);
  }

  async reloadRows() {
    try {
      if (this.groupBy) { await this.loadGroups(); } else { await this.loadPage(); }
      this.showFilterError(null);
    } catch (error) {
      if (error.status === 400 || error.status === 422) {
        this.badFilter(error);
      } else if (error.status === 403 && !this.filter) {
        this.body.replaceChildren(this.missing(false, error.message));
        this.status.replaceChildren();
      } else {
        this.body.replaceChildren(failure(error));
      }
    }
  }

  showFilterError(message, note) {
    this.filterError.textContent = message || "";
    this.filterNote.textContent = note || "";
    if (message) {
      this.filterInput.setAttribute("aria-invalid", "true");
    } else {
      this.filterInput.removeAttribute("aria-invalid");
    }
  }

  // The service refused the filter: its reason goes under the filter box, and
  // the rows of the last filter that worked stay, said to be so.
  badFilter(error) {
    if (this.body.querySelector("#runs-table")) {
      this.showFilterError(error.message,
        "The table still shows the runs of the last filter that worked.");
      return;
    }
    this.showFilterError(error.message);
    this.body.replaceChildren(empty("The filter cannot be used", error.message));
    this.status.replaceChildren();
  }

  // A project without runs: the entity may not exist (or not be the viewer's),
  // or the project may never have had a run.
  async noRuns() {
    const found = await api.get("/dashboard/projects" + query({ entity: this.entity }));
    if (found.projects.some((p) => p.name === this.project)) {
      return empty("No runs in this project yet",
        "Runs appear here as soon as they start.");
    }
    const known = !this.viewer || this.viewer.entities.includes(this.entity);
    return this.missing(known || found.projects.length > 0);
  }

  missing(entityKnown, reason) {
    const node = entityKnown
      ? empty("No project " + this.project + " in " + this.entity,
        "It has no runs: it does not exist yet, or every run was deleted. Log one " +
        "with lodestar.init(project=" + JSON.stringify(this.project) + ").")
      : empty("Entity " + this.entity + " does not exist, or you are not a member " +
        "of it", reason || "Your entities: " + ((this.viewer && this.viewer.entities
        .join(", ")) || "none") + ".");
    node.id = "runs-missing";
    return node;
  }

  async loadPage() {
    const found = await api.get("/dashboard/runs" + projectPath(this.entity,
      this.project) + query({ filter: this.filter, sort: this.sort, limit: PAGE,
      offset: this.page * PAGE }));
    this.runs = found.runs;
    if (!found.total) {
      this.body.replaceChildren(this.filter
        ? empty("No runs match", "Change or clear the filter.") : await this.noRuns());
    } else {
      this.body.replaceChildren(this.table(found.runs));
    }
    this.drawPager(found.total);
  }

  table(runs, extraRows) {
    const columns = this.visible();
    const head = el("tr", {}, el("th", { class: "pick" }, el("input", {
      type: "checkbox", "aria-label": "Select all on this page",
      onchange: (event) => this.selectAll(runs, event.target.checked) })),
    columns.map((spec) => this.header(spec)));
    const rows = extraRows || runs.map((run) => this.row(run, columns));
    return el("table", { class: "grid runs", id: "runs-table" }, el("thead", {}, head),
      el("tbody", {}, rows));
  }

  header(spec) {
    const active = this.sort.replace(/^-/, "") === spec.sort;
    const arrow = active ? (this.sort.startsWith("-") ? " ▼" : " ▲") : "";
    if (!spec.sort) { return el("th", { "data-col": spec.id }, spec.label); }
    return el("th", { "data-col": spec.id, class: "sortable" + (active ? " sorted" : ""),
      "aria-sort": active ? (this.sort.startsWith("-") ? "descending" : "ascending")
        : "none" },
    el("button", { type: "button", onclick: () => this.sortBy(spec.sort) },
      spec.label + arrow));
  }

  row(run, columns) {
    const box = el("input", { type: "checkbox", "aria-label": "Select " + (run.name ||
      run.id), checked: this.selected.has(run.id) });
    box.addEventListener("change", () => {
      if (box.checked) { this.selected.add(run.id); } else {
        this.selected.delete(run.id);
      }
      this.selectionChanged();
    });
    return el("tr", { "data-run": run.id }, el("td", { class: "pick" }, box),
      columns.map((spec) => el("td", { "data-col": spec.id },
        cell(run, spec, this.entity, this.project))));
  }

  sortBy(field) {
    this.sort = this.sort === "-" + field ? field : "-" + field;
    this.page = 0;
    setParams({ sort: this.sort, page: null });
    this.reloadRows();
  }

  selectAll(runs, on) {
    for (const run of runs) {
      if (on) { this.selected.add(run.id); } else { this.selected.delete(run.id); }
    }
    this.body.querySelectorAll("td.pick input").forEach((box) => { box.checked = on; });
    this.selectionChanged();
  }

  selectionChanged() {
    setParams({ sel: [...this.selected].join(",") });
    this.drawActions();
  }

  drawPager(total) {
    const first = total ? this.page * PAGE + 1 : 0;
    const last = Math.min(total, (this.page + 1) * PAGE);
    const pages = Math.max(1, Math.ceil(total / PAGE));
    const moveTo = (page) => {
      this.page = Math.min(pages - 1, Math.max(0, page));
      setParams({ page: this.page || null });
      this.reloadRows();
    };
    this.status.replaceChildren(
      el("span", { id: "run-count" }, first + "–" + last + " of " + total + " runs"),
      el("button", { type: "button", disabled: this.page === 0,
        onclick: () => moveTo(this.page - 1) }, "‹ Previous"),
      el("label", {}, "page ", el("input", { type: "number", id: "page-number",
        class: "page-number", min: "1", max: String(pages), value: String(this.page + 1),
        onchange: (event) => moveTo(Number(event.target.value || 1) - 1) }),
      " of " + pages),
      el("button", { type: "button", disabled: last >= total,
        onclick: () => moveTo(this.page + 1) }, "Next ›"));
  }

  drawActions() {
    const n = this.selected.size;
    const ids = [...this.selected];
    this.actions.replaceChildren(...[n ? el("span", {}, n + " selected") : el("span",
      { class: "muted" }, "Select runs to compare, tag or delete them"),
    el("button", { type: "button", id: "compare-button", disabled: n < 1,
      onclick: () => go([this.entity, this.project, "compare"],
        { runs: ids.join(",") }) }, "Compare"),
    el("button", { type: "button", disabled: n < 1, onclick: () => this.bulkTag(ids) },
      "Add tag"),
    el("button", { type: "button", class: "danger", disabled: n < 1,
      onclick: () => this.bulkDelete(ids) }, "Delete"),
    n ? el("button", { type: "button", class: "link", onclick: () => {
      this.selected.clear();
      this.selectionChanged();
      this.reloadRows();
    } }, "clear") : null].filter(Boolean));
  }

  async bulkTag(ids) {
    const tag = (window.prompt("Tag to add to " + ids.length + " run(s)") || "").trim();
    if (!tag) { return; }
    await this.bulk(ids, async (run) => api.patch("/runs" + runPath(this.entity,
      this.project, run.id), { tags: [...new Set([...(run.tags || []), tag])] }));
  }

  async bulkDelete(ids) {
    if (!window.confirm("Delete " + ids.length + " run(s)? They disappear from every "
      + "view.")) { return; }
    await this.bulk(ids, async (run) => api.del("/runs" + runPath(this.entity,
      this.project, run.id)));
    this.selected.clear();
    this.selectionChanged();
  }

  async bulk(ids, action) {
    this.actions.classList.add("busy");
    try {
      for (const id of ids) {
        const run = (this.runs || []).find((r) => r.id === id) ||
          await api.get("/runs" + runPath(this.entity, this.project, id));
        await action(run);
      }
    } catch (error) {
      window.alert("Could not change the runs: " + error.message);
    } finally {
      this.actions.classList.remove("busy");
      await this.reloadRows();
    }
  }

  async loadGroups() {
    const base = projectPath(this.entity, this.project);
    const found = await api.get("/dashboard/groups" + base + query({ by: this.groupBy,
      filter: this.filter }));
    const columns = this.visible();
    const rows = [];
    this.runs = [];
    for (const group of found.groups) {
      const open = this.expanded.has(group.value);
      rows.push(this.groupRow(group, columns.length + 1, open));
      if (open) {
        const members = await this.groupMembers(group.value);
        this.runs.push(...members);
        rows.push(...members.map((run) => this.row(run, columns)));
      }
    }
    this.body.replaceChildren(found.groups.length ? this.table(this.runs, rows)
      : empty("No runs match", "Change or clear the filter."));
    this.status.replaceChildren(el("span", {}, found.groups.length + " groups"));
  }

  async groupMembers(value) {
    const clause = this.groupBy + " = " + (value === "" ? "null" : JSON.stringify(value));
    const filter = this.filter ? this.filter + " and " + clause : clause;
    const found = await api.get("/dashboard/runs" + projectPath(this.entity,
      this.project) + query({ filter, sort: this.sort, limit: 200 }));
    return found.runs;
  }

  groupRow(group, span, open) {
    const label = group.value === "" ? "(none)" : group.value;
    const chart = hashOf([this.entity, this.project, "compare"],
      { group: this.groupBy + ":" + group.value });
    return el("tr", { class: "group-row", "data-group": group.value },
      el("td", { colspan: span },
        el("button", { type: "button", class: "expander", "aria-expanded": String(open),
          onclick: () => {
            if (open) { this.expanded.delete(group.value); } else {
              this.expanded.add(group.value);
            }
            this.reloadRows();
          } }, (open ? "▾ " : "▸ ") + label),
        el("span", { class: "muted" }, " " + group.runs + " runs "),
        el("a", { href: "#" + chart, class: "group-chart" }, "charts")));
  }

  async columnsDialog() {
    const available = await api.get("/dashboard/columns" + projectPath(this.entity,
      this.project));
    const dialog = el("dialog", { class: "columns-dialog", id: "columns-dialog" });
    const changed = (columns) => {
      this.columns = columns;
      draw();
      this.reloadRows();
      saveColumns(this.entity, this.project, columns).catch((error) => {
        this.filterError.textContent = "Column choice not saved: " + error.message;
      });
    };
    const draw = () => dialog.replaceChildren(...columnsForm(this.columns, available,
      changed, () => dialog.close()));
    draw();
    dialog.addEventListener("close", () => dialog.remove());
    document.body.append(dialog);
    dialog.showModal();
  }
}
