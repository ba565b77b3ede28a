// The flowactor web console: plain DOM code, no build step. The page shell loads its scripts in
// order (deferred classic scripts sharing one global scope); text always goes in through
// textContent (never innerHTML), so no data can become markup.
//
// The login and sign-up pages, and Settings (API keys, global variables).
"use strict";

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

/** The API-key scopes a key can be limited to. */
const KEY_SCOPES = [
  ["run", "run: run and stream flows, webhooks"],
  ["read", "read: GET routes"],
  ["write", "write: create and change flows, projects, variables, files"],
  ["keys", "keys: manage API keys"],
  ["admin", "admin: superuser routes"],
];

/** What a key may do, from the listing's optional policy fields (absent: nothing to show). */
function keyAccess(k) {
  if (!("scopes" in k)) return null;
  const parts = [k.scopes === null || k.scopes === undefined ? "Full access" : (k.scopes.length ? k.scopes.join(", ") : "No scopes")];
  if (Array.isArray(k.flow_ids) && k.flow_ids.length) parts.push(`flows: ${k.flow_ids.length === 1 ? k.flow_ids[0] : `${k.flow_ids.length} flows`}`);
  if (Array.isArray(k.endpoint_names) && k.endpoint_names.length) parts.push(`endpoints: ${k.endpoint_names.join(", ")}`);
  if (k.rate_limit_per_minute) parts.push(`${k.rate_limit_per_minute}/min`);
  return parts.join(" · ");
}

/** The usage audit of one key: totals, per-day counts and the most recent uses. */
async function keyUsageDialog(k) {
  let u;
  try { u = await api("GET", `/api/v1/api_key/${k.id}/usage`); } catch (x) { toast(x.message); return; }
  const table = (heads, rows, empty) => h("div.table-wrap", h("table",
    h("thead", h("tr", heads.map((t) => h("th", { scope: "col", text: t })))),
    h("tbody", rows.length ? rows : h("tr", h("td.empty", { colspan: heads.length, text: empty })))));
  await modal(`Usage of "${k.name || "key"}"`, (close) => h("div.usage",
    h("dl.facts",
      h("dt", { text: "Total uses" }), h("dd", { text: String(u.total_uses) }),
      h("dt", { text: "Last used" }), h("dd", { text: fmtDate(u.last_used_at) }),
      h("dt", { text: "Last IP" }), h("dd.mono", { text: u.last_used_ip || "—" })),
    h("h3", { text: "Uses per day (UTC)" }),
    table(["Date", "Uses"], u.days.map((d) => h("tr", h("td", { text: d.date }), h("td", { text: String(d.count) }))), "No uses yet."),
    h("h3", { text: `Recent uses (last ${u.recent.length})` }),
    table(["Time", "Method", "Route", "Status", "Client"], u.recent.map((r) => h("tr",
      h("td", { text: fmtDate(r.at) }),
      h("td", { text: r.method }),
      h("td.mono", { text: r.route }),
      h("td", h(`span.badge${r.status < 400 ? ".on" : ".off"}`, { text: String(r.status) })),
      h("td.mono", { text: r.client || "—" }))), "No uses yet."),
    h("div.buttons", h("button.primary", { type: "button", onclick: () => close(null), text: "Close" }))));
}

async function apiKeysView() {
  const err = errorBox();
  const body = h("tbody");
  const head = h("tr");
  const table = h("div.table-wrap", h("table", h("thead", head), body));
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
      // Scopes and limits are shown when the server reports them.
      const policy = keys.some((k) => keyAccess(k) !== null);
      const heads = ["Name", "Key", "Created", "Last Used", "Last IP", "Total Uses", "Expires", ...(policy ? ["Access"] : []), ""];
      head.replaceChildren(...heads.map((t) => h("th", { scope: "col", text: t })));
      body.replaceChildren(...(keys.length ? keys.map((k) => row(k, policy)) : [h("tr", h("td.empty", { colspan: heads.length, text: "No API keys yet. Click Add New to create one." }))]));
    } catch (x) { showError(err, x); }
  }
  function row(k, policy) {
    return h("tr",
      h("td", { text: k.name || "(unnamed)" }),
      h("td.mono", { text: k.api_key.length > 16 ? `${k.api_key.slice(0, 16)}…` : k.api_key, title: k.api_key }),
      h("td", { text: fmtDate(k.created_at) }),
      h("td", { text: fmtDate(k.last_used_at) }),
      h("td.mono", { text: k.last_used_ip || "—" }),
      h("td", { text: String(k.total_uses ?? 0) }),
      h("td", { text: k.expires_at ? fmtDate(k.expires_at) : "Never" }),
      policy ? h("td", { text: keyAccess(k) ?? "Full access" }) : null,
      h("td.actions",
        h("button.small", { type: "button", text: "Usage", "aria-label": `Usage of ${k.name || "key"}`, onclick: () => keyUsageDialog(k) }),
        h("button.small", { type: "button", text: "Rotate", "aria-label": `Rotate ${k.name || "key"}`, onclick: () => rotateKey(k) }),
        h("button.small.danger", { type: "button", text: "Delete", "aria-label": `Delete ${k.name || "key"}`, onclick: () => deleteKey(k) })));
  }
  async function addKey() {
    await modal("Create API Key", (close) => {
      const box = h("div");
      const e2 = errorBox();
      const [nameField, name] = field("Name", { placeholder: "My API key", autofocus: true });
      const [expField, exp] = field("Expires (optional)", { type: "datetime-local" }, "Leave empty for a key that never expires.");
      // Restrictions: without them the key has all of your permissions (Langflow's keys).
      const [fullField, full] = checkbox("Full access", true);
      const scopeBoxes = KEY_SCOPES.filter(([name]) => name !== "admin" || me?.is_superuser)
        .map(([name, label]) => [name, ...checkbox(label, false)]);
      const flowPicker = h("select", { id: `f${++uid}`, multiple: true, size: 4 });
      api("GET", "/api/v1/flows/?header_flows=true").then((flows) => {
        flowPicker.replaceChildren(...flows.filter((f) => !f.is_component).map((f) => h("option", { value: f.id, text: f.name })));
      }).catch(() => {});
      const [limitField, limit] = field("Requests per minute (optional)", { type: "number", min: 1 }, "Leave empty for no per-key limit.");
      const restrict = h("fieldset.scopes", { hidden: true },
        h("legend", { text: "Scopes" }), scopeBoxes.map(([, f]) => f),
        h("div", h("label", { for: flowPicker.id, text: "Run only these flows (optional)" }), flowPicker,
          h("p.hint", { text: "With flows selected, the run scope covers those flows only." })));
      full.addEventListener("change", () => { restrict.hidden = full.checked; });
      const create = h("button.primary", { type: "submit", text: "Create API Key" });
      const form = h("form", nameField, expField, fullField, restrict, limitField, e2,
        h("div.buttons", h("button", { type: "button", onclick: () => close(null), text: "Cancel" }), create));
      form.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        create.disabled = true;
        try {
          const payload = { name: name.value.trim() || null };
          if (exp.value) payload.expires_at = new Date(exp.value).toISOString();
          if (!full.checked) {
            payload.scopes = scopeBoxes.filter(([, , box]) => box.checked).map(([n]) => n);
            const flows = [...flowPicker.selectedOptions].map((o) => o.value);
            if (flows.length) payload.flow_ids = flows;
          }
          if (limit.value) payload.rate_limit_per_minute = Number(limit.value);
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
