// The flowactor web console: plain DOM code, no build step. The page shell loads its scripts in
// order (deferred classic scripts sharing one global scope); text always goes in through
// textContent (never innerHTML), so no data can become markup.
//
// Builds over /build's event stream, and the Playground chat that runs them.
"use strict";

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
