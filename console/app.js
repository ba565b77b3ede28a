// The flowactor web console: plain DOM code, no build step. The page shell loads its scripts in
// order (deferred classic scripts sharing one global scope); text always goes in through
// textContent (never innerHTML), so no data can become markup.
//
// The router: picks the page's view from the path. Loaded last.
"use strict";

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
