// The flowactor web console: plain DOM code, no build step. The page shell loads its scripts in
// order (deferred classic scripts sharing one global scope); text always goes in through
// textContent (never innerHTML), so no data can become markup.
//
// Shared by every page: the API client, DOM helpers, dialogs, and the signed-in chrome.
// Loaded first; the other scripts of the console use its functions.
"use strict";

const main = document.getElementById("main");
const topBar = document.getElementById("top");
const signupOpen = document.body.dataset.signup === "true";

// ---------- helpers ----------

class ApiError extends Error {
  constructor(status, detail) {
    super(typeof detail === "string" ? detail : JSON.stringify(detail));
    this.status = status;
    this.detail = detail;
  }
}

/** Calls the API; JSON bodies are sent as application/json (the CSRF rule for cookie sessions). */
async function api(method, path, body, opts = {}) {
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (opts.form) {
    init.headers["Content-Type"] = "application/x-www-form-urlencoded";
    init.body = new URLSearchParams(opts.form).toString();
  } else if (opts.multipart) {
    init.body = opts.multipart;
  } else if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  } else if (method !== "GET") {
    init.headers["Content-Type"] = "application/json";
  }
  const res = await fetch(path, init);
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  if (!res.ok) {
    let detail = data && typeof data === "object" && "detail" in data ? data.detail : text || res.statusText;
    if (Array.isArray(detail)) detail = detail.map((d) => d.msg || JSON.stringify(d)).join("; ");
    throw new ApiError(res.status, detail);
  }
  return data;
}

/** h("tag.class", {attrs}, ...children): a DOM element; strings become text nodes. */
function h(spec, attrs, ...children) {
  const [tag, ...classes] = spec.split(".");
  const el = document.createElement(tag);
  if (classes.length) el.className = classes.join(" ");
  if (attrs && (typeof attrs !== "object" || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "text") el.textContent = v;
    else if (k === "value") el.value = v;
    else if (k === "checked") el.checked = !!v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const svgNS = "http://www.w3.org/2000/svg";
function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(svgNS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

let uid = 0;
/** A labelled input: returns [wrapper, input]. */
function field(label, attrs = {}, hint) {
  const id = attrs.id || `f${++uid}`;
  const input = h(attrs.tag || "input", { type: "text", ...attrs, id, tag: undefined });
  const parts = [h("label", { for: id, text: label }), input];
  if (hint) parts.push(h("p.hint", { text: hint }));
  return [h("div", parts), input];
}

function checkbox(label, checked) {
  const input = h("input", { type: "checkbox", checked });
  return [h("label.check", input, label), input];
}

function toast(text) {
  const t = document.getElementById("toast");
  t.textContent = text;
  t.classList.add("show");
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => t.classList.remove("show"), 2200);
}

async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const ta = h("textarea", { value: text });
    document.body.append(ta);
    ta.select();
    document.execCommand("copy");
    ta.remove();
  }
  toast("Copied to clipboard");
}

function fmtDate(iso) {
  if (!iso) return "Never";
  const d = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(iso) ? iso : `${iso}Z`);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

/** A modal dialog; `build(close)` returns its content. Resolves with what `close` was given. */
function modal(title, build) {
  return new Promise((resolve) => {
    const dlg = h("dialog", { "aria-labelledby": `dlg${++uid}` });
    const close = (value) => { dlg.close(); dlg.remove(); resolve(value); };
    dlg.append(h("h2", { id: `dlg${uid}`, text: title }), build(close));
    dlg.addEventListener("cancel", (e) => { e.preventDefault(); close(null); });
    document.body.append(dlg);
    dlg.showModal();
  });
}

function confirmDialog(title, text, action = "Delete") {
  return modal(title, (close) => h("div",
    h("p", { text }),
    h("div.buttons",
      h("button", { type: "button", onclick: () => close(false), text: "Cancel" }),
      h("button.primary.danger", { type: "button", onclick: () => close(true), text: action }))));
}

function errorBox() {
  return h("p.error", { role: "alert", hidden: true });
}
function showError(box, err) {
  box.textContent = err instanceof Error ? err.message : String(err);
  box.hidden = false;
}

// ---------- session and chrome ----------

let me = null;

async function requireSession() {
  let s = await api("GET", "/api/v1/session");
  // An expired access token with a valid refresh cookie: renew the session in place.
  if (!s.authenticated && document.body.dataset.refresh === "true") {
    try {
      await api("POST", "/api/v1/refresh");
      s = await api("GET", "/api/v1/session");
    } catch { /* signed out after all */ }
  }
  if (!s.authenticated) {
    location.replace("/login");
    return null;
  }
  me = s.user;
  return me;
}

async function logout() {
  await api("POST", "/api/v1/logout");
  location.assign("/login");
}

function chrome(current) {
  const menu = h("div.menu", { id: "profile-menu", role: "menu", hidden: true },
    h("div.who", { text: `Signed in as ${me.username}` }),
    h("a", { href: "/settings", role: "menuitem", text: "Settings" }),
    me.is_superuser ? h("a", { href: "/admin", role: "menuitem", text: "Admin Page" }) : null,
    h("button", { type: "button", role: "menuitem", onclick: logout, text: "Logout" }));
  const avatar = h("button.avatar", {
    type: "button", "aria-label": "Profile", title: "Profile", "aria-haspopup": "menu",
    "aria-expanded": "false", "aria-controls": "profile-menu",
    text: (me.username || "?").slice(0, 1).toUpperCase(),
  });
  const toggle = (open) => {
    menu.hidden = !open;
    avatar.setAttribute("aria-expanded", String(open));
    if (open) menu.querySelector("a, button")?.focus();
  };
  avatar.addEventListener("click", () => toggle(menu.hidden));
  menu.addEventListener("keydown", (e) => { if (e.key === "Escape") { toggle(false); avatar.focus(); } });
  document.addEventListener("click", (e) => { if (!menu.hidden && !e.target.closest(".profile")) toggle(false); });
  const link = (href, text, key) => h("a", { href, text, "aria-current": current === key ? "page" : null });
  topBar.replaceChildren(
    h("a.brand", { href: "/flows" }, h("img", { src: document.querySelector("link[rel=icon]").href, alt: "" }), "flowactor"),
    h("nav", { "aria-label": "Main" },
      link("/flows", "Flows", "flows"),
      link("/settings", "Settings", "settings"),
      me.is_superuser ? link("/admin", "Admin Page", "admin") : null),
    h("div.profile", avatar, menu));
  topBar.hidden = false;
}

function page(title, ...content) {
  document.title = `${title} · flowactor`;
  main.replaceChildren(...content);
}
