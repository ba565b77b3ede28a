// The flowactor web console. Plain DOM code, no build step: the page shell loads this module,
// which picks the view from the path and talks to the JSON API with the login cookies.
// Text always goes in through textContent (never innerHTML), so no data can become markup.

const main = document.getElementById("main");
const top = document.getElementById("top");
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
  top.replaceChildren(
    h("a.brand", { href: "/flows" }, h("img", { src: document.querySelector("link[rel=icon]").href, alt: "" }), "flowactor"),
    h("nav", { "aria-label": "Main" },
      link("/flows", "Flows", "flows"),
      link("/settings", "Settings", "settings"),
      me.is_superuser ? link("/admin", "Admin Page", "admin") : null),
    h("div.profile", avatar, menu));
  top.hidden = false;
}

function page(title, ...content) {
  document.title = `${title} · flowactor`;
  main.replaceChildren(...content);
}

// ---------- /login and /signup ----------

function loginView() {
  const err = errorBox();
  const [userField, user] = field("Username", { autocomplete: "username", required: true, autofocus: true });
  const [passField, pass] = field("Password", { type: "password", autocomplete: "current-password", required: true });
  const submit = h("button.primary", { type: "submit", text: "Sign In" });
  const form = h("form", { novalidate: true }, userField, passField, err, submit);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    err.hidden = true;
    if (!user.value || !pass.value) return showError(err, "Please enter your username and password.");
    submit.disabled = true;
    try {
      await api("POST", "/api/v1/login", undefined, { form: { username: user.value, password: pass.value } });
      location.assign("/flows");
    } catch (x) {
      if (x.status === 429) showError(err, "Too many login attempts. Please wait a minute and try again.");
      else if (x.detail === "Waiting for approval") showError(err, "Waiting for approval: an administrator has to activate your account before you can sign in.");
      else showError(err, x);
      submit.disabled = false;
    }
  });
  page("Sign in", h("div.auth",
    h("div.panel", h("h1", { text: "Sign in to flowactor" }), form,
      signupOpen ? h("p.alt", "Don't have an account? ", h("a", { href: "/signup", text: "Sign Up" })) : null)));
}

function signupView() {
  const err = errorBox();
  const done = h("div.success", { role: "status", hidden: true });
  const [userField, user] = field("Username", { autocomplete: "username", required: true, autofocus: true });
  const [passField, pass] = field("Password", { type: "password", autocomplete: "new-password", required: true });
  const [confField, conf] = field("Confirm your password", { type: "password", autocomplete: "new-password", required: true });
  const submit = h("button.primary", { type: "submit", text: "Sign Up" });
  const form = h("form", { novalidate: true }, userField, passField, confField, err, submit);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    err.hidden = true;
    if (!user.value || !pass.value) return showError(err, "Please enter a username and a password.");
    if (pass.value !== conf.value) return showError(err, "Passwords do not match.");
    submit.disabled = true;
    try {
      const u = await api("POST", "/api/v1/users/", { username: user.value, password: pass.value });
      form.hidden = true;
      done.textContent = u.is_active ? "Account created. You can sign in now." : "Account created. Waiting for approval: an administrator has to activate it before you can sign in.";
      done.hidden = false;
    } catch (x) {
      showError(err, x);
      submit.disabled = false;
    }
  });
  page("Sign up", h("div.auth", h("div.panel", h("h1", { text: "Sign up for flowactor" }),
    signupOpen ? [form, done] : h("p", { text: "Sign-up is closed on this server. Ask an administrator for an account." }),
    h("p.alt", "Already have an account? ", h("a", { href: "/login", text: "Sign In" })))));
}

// ---------- Settings ----------

function settingsLayout(current, ...content) {
  const link = (href, text, key) => h("a", { href, text, "aria-current": current === key ? "page" : null });
  page("Settings", h("h1", { text: "Settings" }),
    h("p.lead", { text: "Manage your API keys and global variables." }),
    h("div.settings",
      h("nav.side", { "aria-label": "Settings" },
        link("/settings/api-keys", "Langflow API Keys", "api-keys"),
        link("/settings/global-variables", "Global Variables", "global-variables")),
      h("section.panel", ...content)));
}

function settingsHome() {
  settingsLayout("", h("h2", { text: "Settings" }),
    h("p", "Choose ", h("a", { href: "/settings/api-keys", text: "Langflow API Keys" }),
      " to create keys for the API, or ", h("a", { href: "/settings/global-variables", text: "Global Variables" }),
      " for values your flows use."));
}

function showNewKey(close, created) {
  const keyInput = h("input", { type: "text", readonly: true, value: created.api_key, "aria-label": "API key", id: "new-api-key" });
  return h("div",
    h("p.notice", { role: "alert" },
      "Please save this secret key somewhere safe and accessible. For security reasons, ",
      h("strong", { text: "you won't be able to view it again" }),
      " through your account. If you lose this secret key, you'll need to generate a new one."),
    h("div.keybox", keyInput, h("button", { type: "button", onclick: () => copy(created.api_key), text: "Copy" })),
    h("div.buttons", h("button.primary", { type: "button", onclick: () => close(created), text: "Done" })));
}

async function apiKeysView() {
  const err = errorBox();
  const body = h("tbody");
  const table = h("div.table-wrap", h("table", h("thead", h("tr",
    ["Name", "Key", "Created", "Last Used", "Total Uses", "Expires", ""].map((t) => h("th", { scope: "col", text: t })))), body));
  const addNew = h("button.primary", { type: "button", text: "Add New", onclick: () => addKey() });
  settingsLayout("api-keys",
    h("div.row.spread", h("div",
      h("h2", { text: "Langflow API Keys" }),
      h("p.lead", { text: "Use Langflow API keys to authenticate requests to the API (the x-api-key header). A key has the same permissions as you." })),
      addNew), err, table);

  async function load() {
    try {
      const data = await api("GET", "/api/v1/api_key/");
      const keys = data.api_keys || [];
      body.replaceChildren(...(keys.length ? keys.map(row) : [h("tr", h("td.empty", { colspan: 7, text: "No API keys yet. Click Add New to create one." }))]));
    } catch (x) { showError(err, x); }
  }
  function row(k) {
    return h("tr",
      h("td", { text: k.name || "(unnamed)" }),
      h("td.mono", { text: k.api_key.length > 16 ? `${k.api_key.slice(0, 16)}…` : k.api_key, title: k.api_key }),
      h("td", { text: fmtDate(k.created_at) }),
      h("td", { text: fmtDate(k.last_used_at) }),
      h("td", { text: String(k.total_uses ?? 0) }),
      h("td", { text: k.expires_at ? fmtDate(k.expires_at) : "Never" }),
      h("td.actions",
        h("button.small", { type: "button", text: "Rotate", "aria-label": `Rotate ${k.name || "key"}`, onclick: () => rotateKey(k) }),
        h("button.small.danger", { type: "button", text: "Delete", "aria-label": `Delete ${k.name || "key"}`, onclick: () => deleteKey(k) })));
  }
  async function addKey() {
    await modal("Create API Key", (close) => {
      const box = h("div");
      const e2 = errorBox();
      const [nameField, name] = field("Name", { placeholder: "My API key", autofocus: true });
      const [expField, exp] = field("Expires (optional)", { type: "datetime-local" }, "Leave empty for a key that never expires.");
      const create = h("button.primary", { type: "submit", text: "Create API Key" });
      const form = h("form", nameField, expField, e2,
        h("div.buttons", h("button", { type: "button", onclick: () => close(null), text: "Cancel" }), create));
      form.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        create.disabled = true;
        try {
          const payload = { name: name.value.trim() || null };
          if (exp.value) payload.expires_at = new Date(exp.value).toISOString();
          const created = await api("POST", "/api/v1/api_key/", payload);
          box.replaceChildren(showNewKey(close, created));
        } catch (x) { showError(e2, x); create.disabled = false; }
      });
      box.append(form);
      return box;
    });
    load();
  }
  async function rotateKey(k) {
    await modal(`Rotate "${k.name || "key"}"`, (close) => {
      const box = h("div");
      const e2 = errorBox();
      const [graceField, grace] = field("Grace period (seconds)", { type: "number", min: 0, max: 604800, value: 300 },
        "The old key keeps working this long, so clients can switch without downtime. 0 revokes it now.");
      const go = h("button.primary", { type: "submit", text: "Rotate" });
      const form = h("form", h("p", { text: "A new key with the same name replaces this one." }), graceField, e2,
        h("div.buttons", h("button", { type: "button", onclick: () => close(null), text: "Cancel" }), go));
      form.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        go.disabled = true;
        try {
          const created = await api("POST", `/api/v1/api_key/${k.id}/rotate`, { grace_period_seconds: Number(grace.value || 0) });
          box.replaceChildren(showNewKey(close, created));
        } catch (x) { showError(e2, x); go.disabled = false; }
      });
      box.append(form);
      return box;
    });
    load();
  }
  async function deleteKey(k) {
    if (!(await confirmDialog("Delete API key", `Delete the API key "${k.name || k.api_key}"? Requests using it stop working at once. This can't be undone.`))) return;
    try { await api("DELETE", `/api/v1/api_key/${k.id}`); toast("API key deleted"); } catch (x) { showError(err, x); }
    load();
  }
  await load();
}

async function variablesView() {
  const err = errorBox();
  const body = h("tbody");
  settingsLayout("global-variables",
    h("div.row.spread", h("div",
      h("h2", { text: "Global Variables" }),
      h("p.lead", { text: "Global variables are available to every flow. Credential values are encrypted and never displayed." })),
      h("button.primary", { type: "button", text: "Add New", onclick: () => edit(null) })),
    err,
    h("div.table-wrap", h("table", h("thead", h("tr",
      ["Variable Name", "Type", "Value", "Apply To Fields", "Updated", ""].map((t) => h("th", { scope: "col", text: t })))), body)));

  async function load() {
    try {
      const vars = await api("GET", "/api/v1/variables/");
      body.replaceChildren(...(vars.length ? vars.map(row) : [h("tr", h("td.empty", { colspan: 6, text: "No global variables yet." }))]));
    } catch (x) { showError(err, x); }
  }
  function row(v) {
    return h("tr",
      h("td.mono", { text: v.name }),
      h("td", h("span.badge", { text: v.type })),
      h("td.mono", { text: v.type === "Credential" ? "••••••••" : (v.value ?? "") }),
      h("td", { text: (v.default_fields || []).join(", ") }),
      h("td", { text: fmtDate(v.updated_at) }),
      h("td.actions",
        h("button.small", { type: "button", text: "Edit", "aria-label": `Edit ${v.name}`, onclick: () => edit(v) }),
        h("button.small.danger", { type: "button", text: "Delete", "aria-label": `Delete ${v.name}`, onclick: () => remove(v) })));
  }
  async function edit(v) {
    await modal(v ? `Update Variable ${v.name}` : "Create Variable", (close) => {
      const e2 = errorBox();
      const [nameField, name] = field("Variable Name", { value: v?.name || "", required: true, autofocus: true });
      const type = h("select", { id: `t${++uid}` }, ["Credential", "Generic"].map((t) => h("option", { value: t, text: t })));
      type.value = v?.type || "Credential";
      if (v) type.disabled = true;
      const typeField = h("div", h("label", { for: type.id, text: "Type" }), type);
      const [valField, val] = field("Value", { type: "password", autocomplete: "off" },
        v?.type === "Credential" ? "The stored value is never shown; leave empty to keep it." : null);
      const syncType = () => { val.type = type.value === "Credential" ? "password" : "text"; };
      type.addEventListener("change", syncType);
      syncType();
      if (v && v.type === "Generic") val.value = v.value ?? "";
      const [fieldsField, fields] = field("Apply To Fields (optional)", { value: (v?.default_fields || []).join(", ") }, "Comma-separated input field names.");
      const save = h("button.primary", { type: "submit", text: v ? "Update Variable" : "Save Variable" });
      const form = h("form", nameField, typeField, valField, fieldsField, e2,
        h("div.buttons", h("button", { type: "button", onclick: () => close(null), text: "Cancel" }), save));
      form.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        save.disabled = true;
        const default_fields = fields.value.split(",").map((x) => x.trim()).filter(Boolean);
        try {
          if (v) {
            const patch = { id: v.id, name: name.value.trim(), default_fields };
            if (val.value) patch.value = val.value;
            await api("PATCH", `/api/v1/variables/${v.id}`, patch);
          } else {
            await api("POST", "/api/v1/variables/", { name: name.value.trim(), value: val.value, type: type.value, default_fields });
          }
          close(true);
        } catch (x) { showError(e2, x); save.disabled = false; }
      });
      return form;
    });
    load();
  }
  async function remove(v) {
    if (!(await confirmDialog("Delete variable", `Delete the global variable "${v.name}"? Flows that use it will no longer find it.`))) return;
    try { await api("DELETE", `/api/v1/variables/${v.id}`); } catch (x) { showError(err, x); }
    load();
  }
  await load();
}

// ---------- Admin Page ----------

async function adminView() {
  if (!me.is_superuser) { location.replace("/flows"); return; }
  const PAGE = 10;
  let skip = 0;
  let total = 0;
  const err = errorBox();
  const body = h("tbody");
  const [searchField, search] = field("Search users", { type: "search", placeholder: "Username" });
  const info = h("span.hint", { "aria-live": "polite" });
  const prev = h("button", { type: "button", text: "Previous", onclick: () => { skip = Math.max(0, skip - PAGE); load(); } });
  const next = h("button", { type: "button", text: "Next", onclick: () => { skip += PAGE; load(); } });
  let debounce;
  search.addEventListener("input", () => { clearTimeout(debounce); debounce = setTimeout(() => { skip = 0; load(); }, 250); });
  page("Admin Page",
    h("div.row.spread", h("div", h("h1", { text: "Admin Page" }), h("p.lead", { text: "Navigate through this section to efficiently oversee all application users." })),
      h("button.primary", { type: "button", text: "New User", onclick: () => userForm(null) })),
    h("div.panel", searchField, err,
      h("div.table-wrap", h("table", h("thead", h("tr",
        ["Username", "Active", "Superuser", "Created At", "Last Login", ""].map((t) => h("th", { scope: "col", text: t })))), body)),
      h("div.row.spread.pager", info, h("div.row", prev, next))));

  async function load() {
    try {
      const q = new URLSearchParams({ skip, limit: PAGE });
      if (search.value.trim()) q.set("search", search.value.trim());
      const data = await api("GET", `/api/v1/users/?${q}`);
      total = data.total_count;
      body.replaceChildren(...(data.users.length ? data.users.map(row) : [h("tr", h("td.empty", { colspan: 6, text: "No users found." }))]));
      info.textContent = total ? `${skip + 1}–${Math.min(skip + PAGE, total)} of ${total}` : "0 users";
      prev.disabled = skip === 0;
      next.disabled = skip + PAGE >= total;
    } catch (x) { showError(err, x); }
  }
  const badge = (on) => h(`span.badge.${on ? "on" : "off"}`, { text: on ? "Yes" : "No" });
  function row(u) {
    const self = u.id === me.id;
    return h("tr",
      h("td", { text: u.username }),
      h("td", badge(u.is_active)),
      h("td", badge(u.is_superuser)),
      h("td", { text: fmtDate(u.create_at) }),
      h("td", { text: fmtDate(u.last_login_at) }),
      h("td.actions",
        self ? null : h("button.small", { type: "button", text: u.is_active ? "Deactivate" : "Activate",
          "aria-label": `${u.is_active ? "Deactivate" : "Activate"} ${u.username}`, onclick: () => setActive(u, !u.is_active) }),
        h("button.small", { type: "button", text: "Edit", "aria-label": `Edit ${u.username}`, onclick: () => userForm(u) }),
        h("button.small", { type: "button", text: "Reset Password", "aria-label": `Reset password of ${u.username}`, onclick: () => resetPassword(u) }),
        self ? null : h("button.small.danger", { type: "button", text: "Delete", "aria-label": `Delete ${u.username}`, onclick: () => removeUser(u) })));
  }
  async function setActive(u, on) {
    try { await api("PATCH", `/api/v1/users/${u.id}`, { is_active: on }); toast(on ? "User activated" : "User deactivated"); } catch (x) { showError(err, x); }
    load();
  }
  async function userForm(u) {
    await modal(u ? `Edit ${u.username}` : "New User", (close) => {
      const e2 = errorBox();
      const [nameField, name] = field("Username", { value: u?.username || "", autocomplete: "off", required: true, autofocus: true });
      const [passField, pass] = field("Password", { type: "password", autocomplete: "new-password" }, u ? "Leave empty to keep the current password." : null);
      const [confField, conf] = field("Confirm Password", { type: "password", autocomplete: "new-password" });
      const [activeField, active] = checkbox("Active", u ? u.is_active : false);
      const [superField, superuser] = checkbox("Superuser", u ? u.is_superuser : false);
      if (u && u.id === me.id) { active.disabled = true; superuser.disabled = true; }
      const save = h("button.primary", { type: "submit", text: "Save" });
      const form = h("form", nameField, passField, confField, h("div.row", activeField, superField), e2,
        h("div.buttons", h("button", { type: "button", onclick: () => close(null), text: "Cancel" }), save));
      form.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        e2.hidden = true;
        if (!name.value.trim()) return showError(e2, "Please enter a username.");
        if (!u && !pass.value) return showError(e2, "Please enter a password.");
        if (pass.value !== conf.value) return showError(e2, "Passwords do not match.");
        save.disabled = true;
        try {
          if (u) {
            const patch = { username: name.value.trim() };
            if (pass.value) patch.password = pass.value;
            if (u.id !== me.id) { patch.is_active = active.checked; patch.is_superuser = superuser.checked; }
            await api("PATCH", `/api/v1/users/${u.id}`, patch);
          } else {
            await api("POST", "/api/v1/users/", { username: name.value.trim(), password: pass.value, is_active: active.checked, is_superuser: superuser.checked });
          }
          toast(u ? "User updated" : "New user added");
          close(true);
        } catch (x) { showError(e2, x); save.disabled = false; }
      });
      return form;
    });
    load();
  }
  async function resetPassword(u) {
    await modal(`Reset password of ${u.username}`, (close) => {
      const e2 = errorBox();
      const [passField, pass] = field("New Password", { type: "password", autocomplete: "new-password", autofocus: true });
      const [confField, conf] = field("Confirm Password", { type: "password", autocomplete: "new-password" });
      const save = h("button.primary", { type: "submit", text: "Reset Password" });
      const form = h("form", passField, confField, e2,
        h("div.buttons", h("button", { type: "button", onclick: () => close(null), text: "Cancel" }), save));
      form.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        if (!pass.value) return showError(e2, "Please enter a password.");
        if (pass.value !== conf.value) return showError(e2, "Passwords do not match.");
        save.disabled = true;
        try { await api("PATCH", `/api/v1/users/${u.id}`, { password: pass.value }); toast("Password reset"); close(true); } catch (x) { showError(e2, x); save.disabled = false; }
      });
      return form;
    });
  }
  async function removeUser(u) {
    if (!(await confirmDialog("Delete user", `Delete the user "${u.username}" with all their flows, keys and variables? This can't be undone.`))) return;
    try { await api("DELETE", `/api/v1/users/${u.id}`); toast("User deleted"); } catch (x) { showError(err, x); }
    load();
  }
  await load();
}

// ---------- Flows ----------

function download(name, text, type = "application/json") {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function snippets(flow) {
  const base = location.origin;
  const target = flow.endpoint_name || flow.id;
  const url = `${base}/api/v1/run/${target}`;
  const curl = `curl --request POST \\
  --url '${url}?stream=false' \\
  --header 'Content-Type: application/json' \\
  --header "x-api-key: $LANGFLOW_API_KEY" \\
  --data '{
  "output_type": "chat",
  "input_type": "chat",
  "input_value": "hello world!"
}'`;
  const python = `import os
import requests

url = "${url}"

payload = {
    "output_type": "chat",
    "input_type": "chat",
    "input_value": "hello world!"
}

headers = {
    "Content-Type": "application/json",
    "x-api-key": os.environ["LANGFLOW_API_KEY"]
}

response = requests.request("POST", url, json=payload, headers=headers)
response.raise_for_status()
print(response.text)`;
  return { curl, python };
}

async function flowsView() {
  const err = errorBox();
  const list = h("div.cards");
  const projectSel = h("select", { id: "project-select" });
  const fileInput = h("input", { type: "file", accept: ".json,application/json", multiple: true, id: "flow-file" });
  const drop = h("div.drop", { id: "drop-zone" },
    h("label", { for: "flow-file", text: "Import a Langflow JSON file" }), fileInput,
    h("p.hint", { text: "Choose a file or drop it here." }));
  page("Flows",
    h("div.row.spread", h("div", h("h1", { text: "Flows" }), h("p.lead", { text: "Your flows, per project. Import a flow exported from Langflow to run it here." })),
      h("div", h("label", { for: "project-select", text: "Project" }), projectSel)),
    drop, err, list);

  let projects = [];
  try { projects = await api("GET", "/api/v1/projects/"); } catch (x) { showError(err, x); }
  projectSel.replaceChildren(h("option", { value: "", text: "All projects" }), ...projects.map((p) => h("option", { value: p.id, text: p.name })));
  const saved = sessionStorage.getItem("project");
  if (saved && projects.some((p) => p.id === saved)) projectSel.value = saved;
  projectSel.addEventListener("change", () => { sessionStorage.setItem("project", projectSel.value); load(); });

  async function importFiles(files) {
    err.hidden = true;
    for (const file of files) {
      try {
        const fd = new FormData();
        fd.append("file", file, file.name);
        const q = projectSel.value ? `?folder_id=${encodeURIComponent(projectSel.value)}` : "";
        await api("POST", `/api/v1/flows/upload/${q}`, undefined, { multipart: fd });
        toast(`Imported ${file.name}`);
      } catch (x) { showError(err, `${file.name}: ${x.message}`); }
    }
    load();
  }
  fileInput.addEventListener("change", () => { importFiles([...fileInput.files]); fileInput.value = ""; });
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => { e.preventDefault(); drop.classList.remove("over"); importFiles([...e.dataTransfer.files]); });

  async function load() {
    try {
      const q = projectSel.value ? `?folder_id=${encodeURIComponent(projectSel.value)}` : "";
      const flows = (await api("GET", `/api/v1/flows/${q}`)).filter((f) => !f.is_component);
      flows.sort((a, b) => String(b.updated_at).localeCompare(String(a.updated_at)));
      list.replaceChildren(...(flows.length ? flows.map(card) : [h("p.empty", { text: "No flows yet. Import a Langflow JSON file to get started." })]));
    } catch (x) { showError(err, x); }
  }
  function card(f) {
    const nodes = f.data?.nodes?.length ?? 0;
    return h("article.card", { "aria-label": f.name },
      h("h3", { text: f.name }),
      f.description ? h("p.desc", { text: f.description }) : null,
      h("p.desc", { text: `${nodes} component${nodes === 1 ? "" : "s"}${f.endpoint_name ? ` · endpoint /${f.endpoint_name}` : ""}` }),
      h("div.row",
        h("a.button.primary", { href: `/playground/${f.id}`, text: "Playground" }),
        h("a.button", { href: `/flow/${f.id}`, text: "Build view" }),
        h("button", { type: "button", text: "API", "aria-label": `API snippets for ${f.name}`, onclick: () => apiDialog(f) }),
        h("button", { type: "button", text: "Export", "aria-label": `Export ${f.name}`, onclick: () => exportFlow(f) }),
        h("button.danger", { type: "button", text: "Delete", "aria-label": `Delete ${f.name}`, onclick: () => removeFlow(f) })));
  }
  async function exportFlow(f) {
    try {
      const full = await api("GET", `/api/v1/flows/${f.id}`);
      download(`${(f.name || "flow").replace(/[^\w.-]+/g, "_")}.json`, JSON.stringify(full, null, 2));
    } catch (x) { showError(err, x); }
  }
  async function removeFlow(f) {
    if (!(await confirmDialog("Delete flow", `Delete the flow "${f.name}" and its messages? This can't be undone.`))) return;
    try { await api("DELETE", `/api/v1/flows/${f.id}`); toast("Flow deleted"); } catch (x) { showError(err, x); }
    load();
  }
  async function apiDialog(f) {
    await modal(`API access: ${f.name}`, (close) => {
      const e2 = errorBox();
      const [epField, ep] = field("Endpoint name", { value: f.endpoint_name || "", placeholder: "my-flow" },
        "Run the flow at /api/v1/run/<endpoint name> instead of its id. Letters, numbers, - and _.");
      const pre = h("pre.snippet", { tabindex: 0 });
      let which = "curl";
      const render = () => { pre.textContent = snippets(f)[which]; };
      const tab = (key, label) => h("button", { type: "button", text: label, "aria-pressed": String(which === key),
        onclick: (e) => { which = key; e.target.parentNode.querySelectorAll("button").forEach((b) => b.setAttribute("aria-pressed", String(b === e.target))); render(); } });
      render();
      const saveEp = h("button", { type: "button", text: "Save endpoint name", onclick: async () => {
        try {
          const updated = await api("PATCH", `/api/v1/flows/${f.id}`, { endpoint_name: ep.value.trim() || null });
          f.endpoint_name = updated.endpoint_name;
          render();
          toast("Endpoint name saved");
          load();
        } catch (x) { showError(e2, x); }
      } });
      return h("div", h("div.row", h("div.grow", epField), saveEp), e2,
        h("p.hint", { text: "Set LANGFLOW_API_KEY to a key from Settings → Langflow API Keys." }),
        h("div.row", tab("curl", "cURL"), tab("python", "Python")), pre,
        h("div.buttons", h("button", { type: "button", text: "Copy", onclick: () => copy(pre.textContent) }),
          h("button.primary", { type: "button", text: "Close", onclick: () => close(null) })));
    });
  }
  await load();
}

// ---------- builds: the event stream of /build ----------

/** Starts a build and feeds each event of its stream to `onEvent`; `run.job` is the job id. */
async function streamBuild(flowId, inputs, onEvent, run, data) {
  const body = data ? { inputs, data } : { inputs };
  const { job_id: job } = await api("POST", `/api/v1/build/${flowId}/flow`, body);
  run.job = job;
  const res = await fetch(`/api/v1/build/${job}/events`, { credentials: "same-origin", headers: { Accept: "application/x-ndjson" } });
  if (!res.ok) {
    let detail = res.statusText;
    try { detail = (await res.json()).detail; } catch { /* not JSON */ }
    throw new ApiError(res.status, detail);
  }
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  const flush = (final) => {
    let i;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      if (line) onEvent(JSON.parse(line));
    }
    if (final && buf.trim()) onEvent(JSON.parse(buf));
  };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    flush(false);
  }
  flush(true);
}

async function cancelBuild(run) {
  if (run.job) await api("POST", `/api/v1/build/${run.job}/cancel`).catch(() => {});
}

// ---------- Playground ----------

/**
 * The flow's graph with tweaks applied as `/run` applies them: `{"<node id or display name>":
 * {"<field>": value}}`, or `{"<field>": value}` for every node that has the field.
 */
function applyTweaks(data, tweaks) {
  const graph = JSON.parse(JSON.stringify(data));
  const nodes = graph.nodes || [];
  const set = (node, field, value) => {
    const template = node.data?.node?.template;
    if (!template) return false;
    template[field] = { ...(template[field] || { type: "str" }), value, show: true };
    return true;
  };
  for (const [key, value] of Object.entries(tweaks)) {
    const targets = nodes.filter((n) => n.id === key || n.data?.node?.display_name === key);
    if (targets.length && value && typeof value === "object" && !Array.isArray(value)) {
      for (const n of targets) for (const [field, v] of Object.entries(value)) set(n, field, v);
    } else if (!targets.length) {
      const having = nodes.filter((n) => n.data?.node?.template && key in n.data.node.template);
      if (!having.length) throw new Error(`Tweaks: no component or field named "${key}"`);
      having.forEach((n) => set(n, key, value));
    }
  }
  return graph;
}

async function playgroundView(flowId) {
  const err = errorBox();
  let flow;
  try { flow = await api("GET", `/api/v1/flows/${flowId}`); } catch (x) {
    page("Playground", h("h1", { text: "Playground" }), h("p.error", { role: "alert", text: x.message }));
    return;
  }
  let session = sessionStorage.getItem(`session:${flowId}`) || flowId;
  let run = null;
  const sessionList = h("div.sessions", { role: "group", "aria-label": "Sessions" });
  const messages = h("div.messages", { role: "log", "aria-live": "polite", "aria-label": "Messages" });
  const [msgField, input] = field("Message", { tag: "textarea", placeholder: "Send a message...", rows: 2 });
  const send = h("button.primary", { type: "submit", text: "Send" });
  const stop = h("button.danger", { type: "button", text: "Stop", disabled: true });
  const status = h("p.hint", { "aria-live": "polite" });
  const form = h("form.composer", h("div.grow", msgField), h("div.row", send, stop));
  const [tweaksField, tweaksInput] = field("Tweaks (JSON)", { tag: "textarea", class: "mono", spellcheck: "false", rows: 4 },
    'Override component values for this chat, as in the API: {"<component id or name>": {"<field>": value}}.');
  tweaksInput.value = sessionStorage.getItem(`tweaks:${flowId}`) || "{}";
  const tweaks = h("details", h("summary", { text: "Tweaks" }), tweaksField);
  page(`Playground: ${flow.name}`,
    h("div.row.spread", h("div", h("h1", { text: "Playground" }), h("p.lead", { text: flow.name })),
      h("div.row", h("a.button", { href: `/flow/${flowId}`, text: "Build view" }), h("a.button", { href: "/flows", text: "Back to Flows" }))),
    h("div.chat",
      h("aside", h("div.row.spread", h("h2", { text: "Sessions" }),
        h("button.small", { type: "button", text: "New Chat", onclick: () => select(`${flowId}-${Date.now().toString(36)}`, true) })), sessionList),
      h("section", messages, err, form, status, tweaks)));
  input.addEventListener("keydown", (e) => { if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); } });

  const bubbles = new Map();
  function bubble(m) {
    const mine = m.sender === "User";
    let el = m.id && bubbles.get(m.id);
    if (!el) {
      el = h(`div.msg.${mine ? "user" : "bot"}`, h("span.who", { text: m.sender_name || (mine ? "User" : "AI") }), h("span.body"));
      if (m.id) bubbles.set(m.id, el);
      messages.append(el);
    }
    if (m.error) el.classList.add("failed");
    if (m.text !== undefined && m.text !== null) el.querySelector(".body").textContent = m.text;
    messages.scrollTop = messages.scrollHeight;
    return el;
  }
  async function loadSessions() {
    let ids = [];
    try { ids = await api("GET", `/api/v1/monitor/messages/sessions?flow_id=${flowId}`); } catch (x) { showError(err, x); }
    if (!ids.includes(session)) ids.unshift(session);
    sessionList.replaceChildren(...ids.map((id) => h("button", { type: "button", text: id === flowId ? "Default Session" : id,
      title: id, "aria-pressed": String(id === session), onclick: () => select(id) })));
  }
  async function loadHistory() {
    bubbles.clear();
    messages.replaceChildren();
    try {
      const q = new URLSearchParams({ flow_id: flowId, session_id: session });
      const history = await api("GET", `/api/v1/monitor/messages?${q}`);
      history.forEach(bubble);
      if (!history.length) messages.append(h("p.empty", { text: "No messages in this session yet." }));
    } catch (x) { showError(err, x); }
  }
  async function select(id, fresh) {
    session = id;
    sessionStorage.setItem(`session:${flowId}`, id);
    await loadSessions();
    if (fresh) { bubbles.clear(); messages.replaceChildren(h("p.empty", { text: "No messages in this session yet." })); } else await loadHistory();
    input.focus();
  }
  stop.addEventListener("click", async () => {
    if (!run) return;
    const current = run;
    current.stopped = true;
    status.textContent = "Stopping...";
    await cancelBuild(current);
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text || run) return;
    err.hidden = true;
    let data;
    try {
      const parsed = JSON.parse(tweaksInput.value.trim() || "{}");
      if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("Tweaks must be a JSON object.");
      sessionStorage.setItem(`tweaks:${flowId}`, tweaksInput.value);
      if (Object.keys(parsed).length) data = applyTweaks(flow.data, parsed);
    } catch (x) {
      showError(err, x instanceof SyntaxError ? `Tweaks are not valid JSON: ${x.message}` : x);
      return;
    }
    messages.querySelector(".empty")?.remove();
    input.value = "";
    send.disabled = true;
    stop.disabled = false;
    status.textContent = "Running...";
    run = { job: null, stopped: false };
    const streamed = new Map();
    try {
      await streamBuild(flowId, { input_value: text, session }, (ev) => {
        const d = ev.data || {};
        if (ev.event === "add_message") bubble(d);
        else if (ev.event === "token") {
          const el = bubbles.get(d.id) || bubble({ id: d.id, sender: "Machine", text: "" });
          // A streamed message shows exactly its tokens (the partial message may carry the first).
          const text = (streamed.get(d.id) || "") + d.chunk;
          streamed.set(d.id, text);
          el.querySelector(".body").textContent = text;
          messages.scrollTop = messages.scrollHeight;
        } else if (ev.event === "error") bubble({ ...d, error: true });
      }, run, data);
      status.textContent = run.stopped ? "Stopped." : "";
    } catch (x) {
      showError(err, x);
      status.textContent = "";
    }
    run = null;
    send.disabled = false;
    stop.disabled = true;
    loadSessions();
  });
  await loadSessions();
  await loadHistory();
}

// ---------- Build view ----------

async function buildView(flowId) {
  const err = errorBox();
  let flow;
  try { flow = await api("GET", `/api/v1/flows/${flowId}`); } catch (x) {
    page("Build view", h("h1", { text: "Build view" }), h("p.error", { role: "alert", text: x.message }));
    return;
  }
  const nodes = (flow.data?.nodes || []).filter((n) => n.type !== "noteNode" && n.data?.type);
  const edges = (flow.data?.edges || []).filter((e) => nodes.some((n) => n.id === e.source) && nodes.some((n) => n.id === e.target));
  const W = 280;
  const H = 90;
  const box = new Map(nodes.map((n) => [n.id, {
    x: n.position?.x ?? 0, y: n.position?.y ?? 0,
    w: Math.min(n.measured?.width || n.width || W, 360), h: Math.min(n.measured?.height || n.height || H, 120),
  }]));
  // Stored positions that all coincide say nothing: lay the graph out by depth instead.
  if (new Set([...box.values()].map((b) => `${b.x},${b.y}`)).size < Math.min(nodes.length, 2)) {
    const depth = new Map(nodes.map((n) => [n.id, 0]));
    for (let i = 0; i < nodes.length; i++) for (const e of edges) depth.set(e.target, Math.max(depth.get(e.target), depth.get(e.source) + 1));
    const rows = new Map();
    for (const n of nodes) {
      const d = depth.get(n.id);
      const r = rows.get(d) || 0;
      rows.set(d, r + 1);
      Object.assign(box.get(n.id), { x: d * (W + 120), y: r * (H + 40), w: W, h: H });
    }
  }
  const bs = [...box.values()];
  const pad = 40;
  const minX = Math.min(...bs.map((b) => b.x)) - pad;
  const minY = Math.min(...bs.map((b) => b.y)) - pad;
  const maxX = Math.max(...bs.map((b) => b.x + b.w)) + pad;
  const maxY = Math.max(...bs.map((b) => b.y + b.h)) + pad;
  const svg = s("svg", { class: "graph", viewBox: `${minX} ${minY} ${maxX - minX} ${maxY - minY}`, role: "img", "aria-label": `Graph of ${flow.name}: ${nodes.length} components` });
  for (const e of edges) {
    const a = box.get(e.source);
    const b = box.get(e.target);
    const x1 = a.x + a.w; const y1 = a.y + a.h / 2; const x2 = b.x; const y2 = b.y + b.h / 2;
    const mid = (x1 + x2) / 2;
    svg.append(s("path", { class: "edge", d: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}` }));
  }
  const nodeEls = new Map();
  // Text keeps a readable size on screen whatever the graph's extent (about 12px at 1100px).
  const unit = Math.max(1, (maxX - minX) / 1100);
  const font = 12 * unit;
  for (const n of nodes) {
    const b = box.get(n.id);
    const label = n.data.node?.display_name || n.data.type;
    const fits = Math.max(4, Math.floor((b.w - 8 * unit) / (0.6 * font)));
    const state = s("text", { x: b.x + 6 * unit, y: b.y + 2.4 * font, "font-size": font * 0.85 }, "waiting");
    const g = s("g", { class: "node", "data-id": n.id, "data-state": "waiting" },
      s("title", {}, `${label} (${n.id})`),
      s("rect", { x: b.x, y: b.y, width: b.w, height: b.h, rx: 10 }),
      s("text", { x: b.x + 6 * unit, y: b.y + 1.2 * font, "font-size": font, "font-weight": 600 }, label.length > fits ? `${label.slice(0, fits - 1)}…` : label),
      state);
    nodeEls.set(n.id, { g, state });
    svg.append(g);
  }
  const timeline = h("div.timeline");
  const progress = h("p", { "aria-live": "polite", id: "build-progress" });
  const [inField, input] = field("Input", { value: "hello", placeholder: "Chat input for the run" });
  const runBtn = h("button.primary", { type: "button", text: "Run" });
  const stopBtn = h("button.danger", { type: "button", text: "Stop", disabled: true });
  page(`Build view: ${flow.name}`,
    h("div.row.spread", h("div", h("h1", { text: "Build view" }), h("p.lead", { text: flow.name })),
      h("div.row", h("a.button", { href: `/playground/${flowId}`, text: "Playground" }), h("a.button", { href: "/flows", text: "Back to Flows" }))),
    h("div.row", h("div.grow", inField), runBtn, stopBtn), err,
    h("div.legend", ["waiting", "running", "built", "failed", "inactive"].map((t) => h("span", { text: `■ ${t}`, class: `lg-${t}` }))),
    progress, svg, h("h2", { text: "Timeline" }), timeline);

  function setState(id, st) {
    const n = nodeEls.get(id);
    if (!n) return;
    n.g.setAttribute("class", `node ${st}`);
    n.g.setAttribute("data-state", st);
    n.state.textContent = st;
  }
  function drawTimeline(spans) {
    if (!spans.length) { timeline.replaceChildren(h("p.hint", { text: "Run the flow to see when each component ran." })); return; }
    const t0 = Math.min(...spans.map((x) => x.start));
    const t1 = Math.max(...spans.map((x) => x.end), t0 + 1);
    // One lane per engine thread (reported by the server in each end_vertex event).
    const threads = [...new Set(spans.map((x) => x.thread))].sort((a, b) => a - b);
    const lanes = threads.map(() => 0);
    const placed = spans.map((x) => ({ ...x, lane: threads.indexOf(x.thread) }));
    const width = 1000; const rowH = 22; const left = 0;
    const chart = s("svg", { class: "graph", viewBox: `0 0 ${width} ${lanes.length * rowH + 24}`, role: "img",
      "aria-label": `Timeline: ${spans.length} components in ${(t1 - t0).toFixed(0)} ms on ${lanes.length} engine threads` });
    for (const x of placed) {
      const bx = left + ((x.start - t0) / (t1 - t0)) * (width - 10);
      const bw = Math.max(2, ((x.end - x.start) / (t1 - t0)) * (width - 10));
      chart.append(s("g", {}, s("title", {}, `${x.label}: ${(x.end - x.start).toFixed(1)} ms`),
        s("rect", { class: "bar", x: bx, y: x.lane * rowH + 4, width: bw, height: rowH - 6, rx: 3 }),
        bw > x.label.length * 6.5 ? s("text", { class: "lbl", x: bx + 3, y: x.lane * rowH + 17 }, x.label) : s("g")));
    }
    threads.forEach((t, i) => chart.append(s("text", { class: "lane", x: width - 60, y: i * rowH + 17 }, `thread ${t}`)));
    chart.append(s("text", { class: "lbl", x: 2, y: lanes.length * rowH + 18 }, `0 ms`));
    chart.append(s("text", { class: "lbl", x: width - 80, y: lanes.length * rowH + 18 }, `${(t1 - t0).toFixed(1)} ms`));
    timeline.replaceChildren(chart);
  }
  drawTimeline([]);
  progress.textContent = `${nodes.length} vertices`;
  let run = null;
  stopBtn.addEventListener("click", async () => {
    if (!run) return;
    const current = run;
    current.stopped = true;
    await cancelBuild(current);
  });
  runBtn.addEventListener("click", async () => {
    if (run) return;
    err.hidden = true;
    for (const id of nodeEls.keys()) setState(id, "waiting");
    const spans = [];
    let finished = 0;
    const total = nodes.length;
    const show = (extra = "") => { progress.textContent = `${finished} of ${total} vertices finished${extra}`; };
    show();
    run = { job: null, stopped: false };
    runBtn.disabled = true;
    stopBtn.disabled = false;
    try {
      await streamBuild(flowId, { input_value: input.value }, (ev) => {
        const d = ev.data || {};
        if (ev.event === "vertices_sorted") (d.ids || []).forEach((id) => setState(id, "running"));
        else if (ev.event === "end_vertex") {
          const b = d.build_data || {};
          setState(b.id, b.valid ? "built" : "failed");
          finished += 1;
          (b.inactivated_vertices || []).forEach((id) => setState(id, "inactive"));
          (b.next_vertices_ids || []).forEach((id) => { if (nodeEls.get(id)?.g.getAttribute("data-state") === "waiting") setState(id, "running"); });
          const end = Date.parse(b.timestamp) || Date.now();
          const ms = (b.data?.timedelta || 0) * 1000;
          const n = nodes.find((x) => x.id === b.id);
          spans.push({ label: n?.data.node?.display_name || b.id, start: end - ms, end, thread: b.data?.engine_thread ?? 0 });
          drawTimeline(spans);
          show();
        } else if (ev.event === "error") showError(err, d.text || "The build failed.");
      }, run);
      show(run.stopped ? " (stopped)" : ".");
    } catch (x) { showError(err, x); }
    run = null;
    runBtn.disabled = false;
    stopBtn.disabled = true;
  });
}

// ---------- router ----------

async function route() {
  const path = location.pathname.replace(/\/+$/, "") || "/";
  if (path === "/login") return loginView();
  if (path === "/signup") return signupView();
  if (!(await requireSession())) return;
  const [, first, second] = path.split("/");
  chrome(first);
  if (first === "flows" || path === "/") return flowsView();
  if (first === "settings" && !second) return settingsHome();
  if (first === "settings" && second === "api-keys") return apiKeysView();
  if (first === "settings" && second === "global-variables") return variablesView();
  if (first === "admin") return adminView();
  if (first === "playground" && second) return playgroundView(second);
  if (first === "flow" && second) return buildView(second);
  page("Not found", h("h1", { text: "Page not found" }), h("p", h("a", { href: "/flows", text: "Back to your flows" })));
}

route().catch((x) => {
  main.replaceChildren(h("p.error", { role: "alert", text: `Something went wrong: ${x.message}` }));
});
