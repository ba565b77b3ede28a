//! Which vertices a build runs, and the layer order Langflow reports for them.
//!
//! flowactor schedules by dataflow, not by layers, but the `/build` stream opens with a
//! `vertices_sorted` event whose `ids` are Langflow's first layer, so clients that animate the
//! canvas see what they expect. Layers follow Langflow: Kahn by layers, with a ChatInput that has
//! no predecessors moved alone to the front.

use crate::catalog::ComponentKind;

use super::{CompiledGraph, GraphError};

/// The vertices of one build.
#[derive(Debug, Clone, Default)]
pub struct Subset {
    /// Per vertex: runs in this build (as an actor of the outer run).
    pub in_run: Vec<bool>,
    /// Vertices that get an actor, in flow order.
    pub run: Vec<usize>,
    /// Everything reported in `to_run`: the run set plus the bodies of its Loops.
    pub to_run: Vec<usize>,
    /// Langflow's layers over `to_run`.
    pub layers: Vec<Vec<usize>>,
}

impl Subset {
    /// Langflow's first layer (`vertices_sorted.ids`).
    #[must_use]
    pub fn first_layer(&self) -> &[usize] {
        self.layers.first().map_or(&[], Vec::as_slice)
    }
}

impl CompiledGraph {
    pub(super) fn subset_all(&self) -> Result<Subset, GraphError> {
        self.make_subset(vec![true; self.vertices.len()])
    }

    /// The run set for `start_component_id` / `stop_component_id` (Langflow's partial builds): a stop
    /// vertex runs with its ancestors; a start vertex runs with its descendants and whatever
    /// they need. With neither, the whole graph.
    ///
    /// # Errors
    /// [`GraphError::UnknownComponent`] for an id not in the flow.
    pub fn subset(&self, start: Option<&str>, stop: Option<&str>) -> Result<Subset, GraphError> {
        let lookup = |id: &str| self.find(id).ok_or_else(|| GraphError::UnknownComponent(id.to_owned()));
        if let Some(stop) = stop.filter(|s| !s.is_empty()) {
            let v = lookup(stop)?;
            let mut keep = vec![false; self.vertices.len()];
            self.mark_ancestors(v, &mut keep);
            return self.make_subset(keep);
        }
        if let Some(start) = start.filter(|s| !s.is_empty()) {
            let v = lookup(start)?;
            let mut down = vec![false; self.vertices.len()];
            let mut stack = vec![v];
            while let Some(x) = stack.pop() {
                if std::mem::replace(&mut down[x], true) {
                    continue;
                }
                stack.extend(
                    self.vertices[x]
                        .out_edges
                        .iter()
                        .map(|&e| &self.edges[e])
                        .filter(|e| !e.feedback)
                        .map(|e| e.target),
                );
            }
            let mut keep = vec![false; self.vertices.len()];
            for x in (0..self.vertices.len()).filter(|&x| down[x]) {
                self.mark_ancestors(x, &mut keep);
            }
            return self.make_subset(keep);
        }
        Ok(self.full.clone())
    }

    fn mark_ancestors(&self, v: usize, keep: &mut [bool]) {
        let mut stack = vec![v];
        while let Some(x) = stack.pop() {
            if std::mem::replace(&mut keep[x], true) {
                continue;
            }
            stack.extend(
                self.vertices[x].in_edges.iter().map(|&e| &self.edges[e]).filter(|e| !e.feedback).map(|e| e.source),
            );
        }
    }

    fn make_subset(&self, mut selected: Vec<bool>) -> Result<Subset, GraphError> {
        let n = self.vertices.len();
        // A selected Loop brings its whole body; a selected body vertex brings its Loop.
        for v in 0..n {
            if selected[v] {
                if let Some(l) = self.vertices[v].in_loop_body {
                    selected[l] = true;
                }
            }
        }
        for v in 0..n {
            if selected[v] && self.vertices[v].kind == ComponentKind::Loop {
                for &b in &self.vertices[v].loop_body {
                    selected[b] = true;
                }
            }
        }
        let in_run: Vec<bool> = (0..n).map(|v| selected[v] && self.vertices[v].in_loop_body.is_none()).collect();
        let run: Vec<usize> = (0..n).filter(|&v| in_run[v]).collect();
        let to_run: Vec<usize> = (0..n).filter(|&v| selected[v]).collect();

        let mut indegree = vec![0usize; n];
        for e in self.edges.iter().filter(|e| !e.feedback && selected[e.source] && selected[e.target]) {
            indegree[e.target] += 1;
        }
        let mut layers: Vec<Vec<usize>> = Vec::new();
        let mut current: Vec<usize> = to_run.iter().copied().filter(|&v| indegree[v] == 0).collect();
        while !current.is_empty() {
            let mut next = Vec::new();
            for &v in &current {
                for &ei in &self.vertices[v].out_edges {
                    let e = &self.edges[ei];
                    if e.feedback || !selected[e.target] {
                        continue;
                    }
                    indegree[e.target] -= 1;
                    if indegree[e.target] == 0 {
                        next.push(e.target);
                    }
                }
            }
            next.sort_unstable();
            layers.push(std::mem::replace(&mut current, next));
        }

        let chat_roots: Vec<usize> = layers
            .first()
            .map(|l| l.iter().copied().filter(|&v| self.vertices[v].kind == ComponentKind::ChatInput).collect())
            .unwrap_or_default();
        if chat_roots.len() > 1 {
            return Err(GraphError::MultipleChatInputs);
        }
        if let (Some(&chat), Some(first)) = (chat_roots.first(), layers.first_mut()) {
            if first.len() > 1 {
                first.retain(|&v| v != chat);
                layers.insert(0, vec![chat]);
            }
        }
        Ok(Subset { in_run, run, to_run, layers })
    }
}
