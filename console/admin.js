// The flowactor web console: plain DOM code, no build step. The page shell loads its scripts in
// order (deferred classic scripts sharing one global scope); text always goes in through
// textContent (never innerHTML), so no data can become markup.
//
// The Admin Page: users table, paging, search and user management for superusers.
"use strict";

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
