// The flowactor web console: plain DOM code, no build step. The page shell loads its scripts in
// order (deferred classic scripts sharing one global scope); text always goes in through
// textContent (never innerHTML), so no data can become markup.
//
// The build view: the flow drawn from its stored positions, lit up by live build events.
"use strict";

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
