// The dashboard's entry: sign-in, theme, and one view per URL hash.
//
//   #/                              projects        #/signin     sign in
//   #/alerts                        alert settings and log
//   #/E/P                           runs table      #/E/P/runs/ID  a run
//   #/E/P/compare?runs=a,b          compare         ?group=by:value a group
//   #/E/P/dashboards[/ID]           saved dashboards
//   #/E/P/artifacts                 artifacts
//   #/E/P/ID                        a run (the form of a run's "url")

import { api, signedOut } from "./api.js";
import { el, failure, loading } from "./dom.js";
import { closeAll } from "./live.js";
import { current, go, hashOf } from "./route.js";
import { projectsView } from "./projects.js";
import { runsView } from "./runs.js";
import { runView } from "./run.js";
import { compareView } from "./compare.js";
import { dashboardsView } from "./dashboards.js";
import { alertsView } from "./alerts.js";
import { artifactsView } from "./artifacts.js";

const main = document.getElementById("main");
let viewer = null;

// The signed-in user with memberships; else the automatic local sign-in.
async function whoAmI() {
  try {
    return await api.get("/dashboard/session");
  } catch (error) {
    if (error.status !== 401) { throw error; }
  }
  if (signedOut()) { return null; }
  try {
    await api.post("/dashboard/session/local");
  } catch (error) {
    if (error.status === 403) { return null; }
    throw error;
  }
  return api.get("/dashboard/session");
}

function signInForm(message) {
  const key = el("input", { id: "login-key", type: "password", size: "50",
    autocomplete: "off", placeholder: "lsk_…", "aria-label": "API key",
    required: true });
  const problem = el("p", { class: "error", id: "login-error", role: "alert" },
    message || "");
  const form = el("form", { id: "login-form", class: "signin",
    onsubmit: (event) => signInWith(event, key.value.trim(), problem) },
  el("h1", {}, "Sign in to Lodestar"),
  el("p", {}, "Paste an API key. Make one with ", el("code", {},
    "lodestar server key create --user NAME"), "; yours is in ~/.netrc after ",
  el("code", {}, "lodestar login"), "."), key,
  el("button", { type: "submit", class: "primary" }, "Sign in"), problem);
  main.replaceChildren(form);
  key.focus();
}

async function signInWith(event, apiKey, problem) {
  event.preventDefault();
  try {
    await api.post("/dashboard/session", { api_key: apiKey });
    viewer = await api.get("/dashboard/session");
    drawUser();
    go([]);
    await route();
  } catch (error) {
    problem.textContent = error.message;
  }
}

async function signOut() {
  await api.del("/dashboard/session");
  viewer = null;
  drawUser();
  signInForm("Signed out.");
}

function drawUser() {
  const box = document.getElementById("who");
  if (!viewer) { box.replaceChildren(); return; }
  box.replaceChildren(userMenu(viewer),
    el("a", { href: "#/alerts" }, "Alerts"),
    el("button", { type: "button", id: "sign-out", class: "link", onclick: signOut },
      "Sign out"));
}

// The user's name opens what the memberships allow: each entity, its kind
// and the role held there; an admin may open every entity.
function userMenu(who) {
  const rows = (who.memberships || []).map((m) => el("li", { "data-entity": m.entity },
    el("a", { href: "#/?entity=" + encodeURIComponent(m.entity) }, m.entity),
    el("span", { class: "muted" }, " " + m.kind + " · " + m.role)));
  return el("details", { id: "user-menu", class: "user-menu" },
    el("summary", { id: "user-name", title: "member of " + who.entities.join(", ") },
      who.user + (who.admin ? " (admin)" : "")),
    el("div", { class: "menu" },
      el("p", { class: "muted" }, who.admin ? "Platform admin: every entity is open."
        : "Read and write the runs of:"),
      el("ul", { id: "memberships" }, rows)));
}

function drawCrumbs(parts) {
  const crumbs = document.getElementById("crumbs");
  const links = [];
  if (parts.length >= 2 && parts[0] !== "alerts") {
    links.push(el("a", { href: "#/?entity=" + encodeURIComponent(parts[0]) }, parts[0]),
      " / ", el("a", { href: "#/" + parts.slice(0, 2).map(encodeURIComponent).join("/") },
        parts[1]));
    if (parts.length > 2) { links.push(" / ", parts.slice(2).join(" / ")); }
  }
  crumbs.replaceChildren(...links);
}

// An address whose hash cannot be decoded (a stray "%"): say so, and leave no
// breadcrumb or title of the page before it.
function badAddress(error) {
  drawCrumbs([]);
  document.title = "Lodestar · invalid address";
  main.replaceChildren(el("div", { class: "error", role: "alert", id: "bad-address" },
    el("strong", {}, "This address is not valid"),
    el("p", {}, "Its path could not be read (" + error.message + ")."),
    el("a", { href: "#/" }, "Open the projects")));
}

async function route() {
  closeAll();
  drawCrumbs([]);
  let parts;
  try {
    ({ parts } = current());
  } catch (error) {
    if (!(error instanceof URIError)) { throw error; }
    badAddress(error);
    return null;
  }
  if (!viewer) { viewer = await whoAmI(); drawUser(); }
  if (!viewer || parts[0] === "signin") { signInForm(); return; }
  drawCrumbs(parts);
  main.replaceChildren(loading());
  document.title = ["Lodestar", ...parts].join(" · ");
  const [entity, project, kind, id] = parts;
  if (!entity) { return projectsView(main, viewer); }
  if (entity === "alerts") { return alertsView(main); }
  if (!project) { go([], { entity }); return null; }
  if (!kind) { return runsView(main, entity, project, viewer); }
  if (kind === "compare") { return compareView(main, entity, project); }
  if (kind === "dashboards") { return dashboardsView(main, entity, project, id); }
  if (kind === "artifacts") { return artifactsView(main, entity, project); }
  if (kind === "runs" && id) { return runView(main, entity, project, id); }
  return runView(main, entity, project, kind);
}

async function safeRoute() {
  try {
    await route();
  } catch (error) {
    if (error.status === 401) {
      viewer = null;
      drawUser();
      signInForm(error.message);
      return;
    }
    main.replaceChildren(failure(error));
  }
}

function setupTheme() {
  const saved = localStorage.getItem("lodestar.theme");
  const dark = saved ? saved === "dark"
    : matchMedia("(prefers-color-scheme: dark)").matches;
  document.documentElement.dataset.theme = dark ? "dark" : "light";
  document.getElementById("theme").addEventListener("click", () => {
    const next = document.documentElement.dataset.theme === "dark" ? "light" : "dark";
    document.documentElement.dataset.theme = next;
    localStorage.setItem("lodestar.theme", next);
    safeRoute();
  });
}

// Links of the form /E/P[/ID][?view=charts] (notebooks embed these) and
// /?key=KEY open the same views as their #/ routes.
async function fromLocation() {
  if (window.self !== window.top) { document.body.classList.add("embedded"); }
  const search = new URLSearchParams(location.search);
  const key = search.get("key");
  if (key) {
    try {
      await api.post("/dashboard/session", { api_key: key });
    } catch {
      viewer = null;
    }
  }
  let parts;
  try {
    parts = location.pathname.split("/").filter(Boolean).map(decodeURIComponent);
  } catch {
    // Left as it is: the route reports the address as not valid.
    history.replaceState(null, "", "/#" + location.pathname);
    return;
  }
  if (parts.length >= 3 && !["runs", "compare", "dashboards", "artifacts"]
    .includes(parts[2])) { parts.splice(2, 0, "runs"); }
  const params = {};
  if (search.get("view") && search.get("view") !== "charts") {
    params.tab = search.get("view");
  }
  if (parts.length || key) {
    const hash = parts.length ? hashOf(parts, params) : location.hash.slice(1) || "/";
    history.replaceState(null, "", "/#" + hash);
  }
}

setupTheme();
window.addEventListener("hashchange", safeRoute);
await fromLocation();
window.lodestarReady = safeRoute();
