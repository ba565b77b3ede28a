//! Runs a Loop's body for one item: the body vertices execute in dependency order inside the
//! Loop's own task, like Langflow's per-item subgraph, so iterations never interleave and each
//! sees only its own item.

use std::collections::HashMap;

use crate::components::{
    implementation, BodyRunner, BoxFuture, ComponentContext, ComponentError, InputSlot, Inputs, Value,
};

/// The engine's [`BodyRunner`]: what every build hands its Loop components.
pub(crate) struct LoopBodies;

impl BodyRunner for LoopBodies {
    fn run_body<'a>(
        &'a self,
        ctx: &'a ComponentContext,
        inputs: &'a Inputs,
        item: Value,
    ) -> BoxFuture<'a, Result<Option<Value>, ComponentError>> {
        Box::pin(run_loop_body(ctx, inputs, item))
    }
}

/// Runs the body of the Loop `ctx` belongs to with `item` on its looping outputs; returns the
/// value that came back on the feedback edge.
async fn run_loop_body(ctx: &ComponentContext, inputs: &Inputs, item: Value) -> Result<Option<Value>, ComponentError> {
    let g = &ctx.shared.graph;
    let l = ctx.vertex;
    let lv = &g.vertices[l];
    let body = &lv.loop_body;
    let mut values: HashMap<usize, Value> = HashMap::new();
    for s in inputs.slots() {
        if s.target != l {
            if let Some(v) = &s.value {
                values.insert(s.edge, v.clone());
            }
        }
    }
    for &ei in &lv.out_edges {
        let e = &g.edges[ei];
        if lv.outputs[e.source_output].allows_loop && !e.feedback {
            values.insert(ei, item.clone());
        }
    }

    // Dependency order within the body.
    let mut indegree: HashMap<usize, usize> = body.iter().map(|&v| (v, 0)).collect();
    for &v in body {
        for &ei in &g.vertices[v].in_edges {
            let e = &g.edges[ei];
            if !e.feedback && indegree.contains_key(&e.source) {
                *indegree.entry(v).or_default() += 1;
            }
        }
    }
    let mut ready: Vec<usize> = body.iter().copied().filter(|v| indegree.get(v) == Some(&0)).collect();
    ready.reverse();
    let mut result = None;
    while let Some(v) = ready.pop() {
        let vert = &g.vertices[v];
        let slots: Vec<InputSlot> = vert
            .in_edges
            .iter()
            .filter(|&&ei| !g.edges[ei].feedback)
            .map(|&ei| InputSlot {
                edge: ei,
                target: v,
                field: g.edges[ei].field.clone(),
                value: values.get(&ei).cloned(),
            })
            .collect();
        let inactive = !slots.is_empty() && slots.iter().all(|s| s.value.is_none());
        if !inactive {
            let cctx = ComponentContext::new(ctx.shared.clone(), v);
            let limit = ctx.shared.limits.max_output_bytes;
            let run = implementation(vert.kind).run(&cctx, &Inputs::new(v, slots)).await;
            let out = run.and_then(|out| out.check_size(limit).map(|()| out)).map_err(|e| match e {
                ComponentError::Failed(reason) => {
                    ComponentError::Failed(format!("Error building Component {}: {reason}", vert.display_name))
                }
                other => other,
            })?;
            for &ei in &vert.out_edges {
                let e = &g.edges[ei];
                let name = &*vert.outputs[e.source_output].name;
                if out.stopped.contains(&name) {
                    continue;
                }
                if let Some(value) = out.get(name) {
                    if e.feedback && e.target == l {
                        result = Some(value.clone());
                    } else {
                        values.insert(ei, value.clone());
                    }
                }
            }
        }
        let mut newly = Vec::new();
        for &ei in &vert.out_edges {
            let e = &g.edges[ei];
            if e.feedback {
                continue;
            }
            if let Some(d) = indegree.get_mut(&e.target) {
                *d -= 1;
                if *d == 0 {
                    newly.push(e.target);
                }
            }
        }
        newly.sort_unstable_by(|a, b| b.cmp(a));
        ready.extend(newly);
    }
    Ok(result)
}
