// The flowactor web console: plain DOM code, no build step. The page shell loads its scripts in
// order (deferred classic scripts sharing one global scope); text always goes in through
// textContent (never innerHTML), so no data can become markup.
//
// The flows list: import, export, endpoint names and code snippets, deletion.
"use strict";

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
