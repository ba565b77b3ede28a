//! Langflow flow JSON → a validated, immutable [`CompiledGraph`].
//!
//! Everything that can be decided from the flow document alone is decided here, once per flow
//! version: which component each node is, which template values become parameters, which edge
//! feeds which field, which outputs must be computed, the layer order Langflow reports, and the
//! bodies of Loop components. A build then only clones `Arc`s; it never walks the JSON again.
//!
//! Node code (`template.code.value`) is never read: components are looked up by type name, so a
//! flow cannot make the server execute anything it does not already implement.

pub mod builder;
pub mod handles;
mod layers;
mod tweaks;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::Value as Json;

use crate::catalog::{self, ComponentKind};

pub use crate::catalog::{json_text, Params};
pub use builder::FlowBuilder;
pub use layers::Subset;
pub use tweaks::{InputType, OverrideRequest, VertexOverrides};

/// Default upper bound on the number of vertices in one flow.
pub const DEFAULT_MAX_VERTICES: usize = crate::runtime_default!(max_graph_vertices);

/// Why a flow cannot run. Every message names the node it is about.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    #[error("Invalid flow data: {0}")]
    Invalid(String),
    #[error("Component type '{type_name}' (node {node_id}) is not supported by flowactor")]
    UnsupportedComponent { node_id: String, type_name: String },
    /// More than one unsupported node: every `(node id, type name)`, in flow order.
    #[error("{}", unsupported_message(.0))]
    UnsupportedComponents(Vec<(String, String)>),
    #[error("Duplicate node id '{0}' in the flow")]
    DuplicateNode(String),
    #[error("Edge {edge} refers to node '{node_id}', which is not in the flow")]
    MissingNode { edge: String, node_id: String },
    #[error("Edge {edge} targets field '{field}' of node {node_id}, which has no such field")]
    MissingField { edge: String, node_id: String, field: String },
    #[error("Edge {edge} leaves output '{output}' of node {node_id}, which has no such output")]
    MissingOutput { edge: String, node_id: String, output: String },
    #[error("Edge {0} has invalid handles")]
    BadHandles(String),
    #[error("The flow contains a cycle through node {0} that is not closed by a Loop component")]
    Cycle(String),
    #[error("The flow has {vertices} components, more than the limit of {limit}")]
    TooLarge { vertices: usize, limit: usize },
    #[error("Refused tweaks: {}", .0.join(", "))]
    RefusedTweaks(Vec<String>),
    #[error("Component {0} not found in the flow")]
    UnknownComponent(String),
    #[error("Only one chat input is allowed")]
    MultipleChatInputs,
}

/// `Component type 'A' (nodes a, b) is …` for one type, `Component types 'A' (node a), 'B' (node
/// b) are …` for several.
fn unsupported_message(nodes: &[(String, String)]) -> String {
    let list = unsupported_list(nodes);
    let mut types: Vec<&str> = nodes.iter().map(|(_, ty)| ty.as_str()).collect();
    types.sort_unstable();
    types.dedup();
    if types.len() == 1 {
        format!("Component type {list} is not supported by flowactor")
    } else {
        format!("Component types {list} are not supported by flowactor")
    }
}

/// `'A' (node a), 'B' (nodes b, c)`: each type once, in order of first appearance.
fn unsupported_list(nodes: &[(String, String)]) -> String {
    let mut types: Vec<(&str, Vec<&str>)> = Vec::new();
    for (node, ty) in nodes {
        match types.iter_mut().find(|(t, _)| *t == ty.as_str()) {
            Some((_, ids)) => ids.push(node),
            None => types.push((ty, vec![node])),
        }
    }
    types
        .iter()
        .map(|(ty, ids)| {
            let label = if ids.len() == 1 { "node" } else { "nodes" };
            format!("'{ty}' ({label} {})", ids.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl GraphError {
    /// The refusal of a flow with these unsupported `(node id, type name)` pairs (at least
    /// one): the single-node wording when there is one, else one error listing them all.
    #[must_use]
    pub fn unsupported(mut nodes: Vec<(String, String)>) -> Self {
        if nodes.len() == 1 {
            let (node_id, type_name) = nodes.remove(0);
            return Self::UnsupportedComponent { node_id, type_name };
        }
        Self::UnsupportedComponents(nodes)
    }
}

/// One template field of a node.
#[derive(Debug, Clone)]
pub struct FieldSpec {
    pub name: Arc<str>,
    pub field_type: String,
    pub value: Json,
    pub show: bool,
    pub list: bool,
    pub load_from_db: bool,
    pub input_types: Vec<String>,
}

/// One output of a node.
#[derive(Debug, Clone)]
pub struct OutputSpec {
    pub name: Arc<str>,
    pub types: Vec<String>,
    pub allows_loop: bool,
}

/// A runnable node.
#[derive(Debug)]
pub struct Vertex {
    pub id: Arc<str>,
    /// `data.type` as written in the flow.
    pub type_name: String,
    pub kind: ComponentKind,
    pub display_name: String,
    pub icon: Option<String>,
    pub fields: Vec<FieldSpec>,
    pub outputs: Vec<OutputSpec>,
    pub params: Arc<Params>,
    /// Edges entering this vertex (including Loop feedback edges), in flow order.
    pub in_edges: Vec<usize>,
    /// Edges leaving this vertex, in flow order.
    pub out_edges: Vec<usize>,
    /// Edges whose values this vertex waits for before it runs: its own non-feedback inputs,
    /// plus, for a Loop, every edge entering its body from outside.
    pub wait_edges: Vec<usize>,
    /// Per output: whether it must be computed (it has an outgoing edge, or the vertex has none).
    pub computed: Vec<bool>,
    /// For a Loop: the vertices of its body, in flow order.
    pub loop_body: Vec<usize>,
    /// The Loop whose body contains this vertex, if any.
    pub in_loop_body: Option<usize>,
}

impl Vertex {
    #[must_use]
    pub fn field(&self, name: &str) -> Option<&FieldSpec> {
        self.fields.iter().find(|f| &*f.name == name)
    }

    #[must_use]
    pub fn output_index(&self, name: &str) -> Option<usize> {
        self.outputs.iter().position(|o| &*o.name == name)
    }

    #[must_use]
    pub fn is_input(&self) -> bool {
        self.kind.is_input()
    }

    #[must_use]
    pub fn is_output(&self) -> bool {
        self.kind.is_output()
    }
}

/// A directed edge between two vertices.
#[derive(Debug)]
pub struct Edge {
    pub source: usize,
    pub source_output: usize,
    pub target: usize,
    /// The target field (for a feedback edge: the Loop output it returns to).
    pub field: Arc<str>,
    /// A Loop feedback edge (returns a body result to the Loop).
    pub feedback: bool,
    /// The vertex that waits for this edge in the outer run and the slot it fills there;
    /// `None` for edges that only exist inside a Loop body run.
    pub waiter: Option<(usize, usize)>,
}

/// A parsed, validated flow, shared by every build of that flow version.
#[derive(Debug)]
pub struct CompiledGraph {
    pub vertices: Vec<Vertex>,
    pub edges: Vec<Edge>,
    index: HashMap<Arc<str>, usize>,
    required_variables: Vec<String>,
    full: Subset,
}

/// Reads `data.node` of a node object.
fn node_spec(node: &Json) -> Option<&Json> {
    node.get("data")?.get("node")
}

fn string_list(v: Option<&Json>) -> Vec<String> {
    v.and_then(Json::as_array)
        .map(|a| a.iter().filter_map(Json::as_str).map(str::to_owned).collect())
        .unwrap_or_default()
}

fn is_note(node: &Json) -> bool {
    node.get("type").and_then(Json::as_str) == Some("noteNode")
        || node.get("data").and_then(|d| d.get("type")).and_then(Json::as_str) == Some("note")
}

fn parse_fields(template: Option<&Json>) -> Vec<FieldSpec> {
    let Some(Json::Object(template)) = template else { return Vec::new() };
    template
        .iter()
        .filter_map(|(name, entry)| {
            let Json::Object(e) = entry else { return None };
            Some(FieldSpec {
                name: Arc::from(name.as_str()),
                field_type: e.get("type").and_then(Json::as_str).unwrap_or("str").to_owned(),
                value: e.get("value").cloned().unwrap_or(Json::Null),
                show: e.get("show").and_then(Json::as_bool).unwrap_or(true),
                list: e.get("list").and_then(Json::as_bool).unwrap_or(false),
                load_from_db: e.get("load_from_db").and_then(Json::as_bool).unwrap_or(false),
                input_types: string_list(e.get("input_types")),
            })
        })
        .collect()
}

fn parse_outputs(spec: Option<&Json>) -> Vec<OutputSpec> {
    spec.and_then(|s| s.get("outputs"))
        .and_then(Json::as_array)
        .map(|outs| {
            outs.iter()
                .filter_map(|o| {
                    Some(OutputSpec {
                        name: Arc::from(o.get("name")?.as_str()?),
                        types: string_list(o.get("types")),
                        allows_loop: o.get("allows_loop").and_then(Json::as_bool).unwrap_or(false),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Template fields that become parameters: shown, not pure handles, not the code.
fn initial_params(fields: &[FieldSpec]) -> Params {
    let mut p = Params::default();
    for f in fields {
        if !f.show || f.field_type == "other" || f.field_type == "code" || f.name.starts_with('_') {
            continue;
        }
        p.set(f.name.clone(), f.value.clone());
    }
    p
}

fn resolve_kind(node: &Json, id: &str) -> Result<(ComponentKind, String), GraphError> {
    let data = node.get("data");
    let type_name = data.and_then(|d| d.get("type")).and_then(Json::as_str);
    let class_name = node_spec(node)
        .and_then(|s| s.get("metadata"))
        .and_then(|m| m.get("component_class_name"))
        .and_then(Json::as_str);
    let prefix = id.rsplit_once('-').map_or(id, |(p, _)| p);
    let kind = type_name
        .and_then(ComponentKind::from_type_name)
        .or_else(|| class_name.and_then(ComponentKind::from_type_name))
        .or_else(|| type_name.is_none().then(|| ComponentKind::from_type_name(prefix)).flatten());
    let shown = type_name.or(class_name).unwrap_or(prefix).to_owned();
    kind.map(|k| (k, shown.clone()))
        .ok_or(GraphError::UnsupportedComponent { node_id: id.to_owned(), type_name: shown })
}

fn edge_label(edge: &Json, i: usize) -> String {
    match (edge.get("source").and_then(Json::as_str), edge.get("target").and_then(Json::as_str)) {
        (Some(s), Some(t)) => format!("{s} -> {t}"),
        _ => format!("#{i}"),
    }
}

impl CompiledGraph {
    /// Parses and validates a flow (the whole flow object with `data`, or a bare
    /// `{nodes, edges}`) with the default size limit.
    ///
    /// # Errors
    /// A [`GraphError`] naming the first offending node or edge.
    pub fn parse(flow: &Json) -> Result<Self, GraphError> {
        Self::parse_with_limit(flow, DEFAULT_MAX_VERTICES)
    }

    /// [`CompiledGraph::parse`] with an explicit vertex limit.
    ///
    /// # Errors
    /// A [`GraphError`] naming the first offending node or edge.
    pub fn parse_with_limit(flow: &Json, max_vertices: usize) -> Result<Self, GraphError> {
        let data = match flow.get("data") {
            Some(d) if d.get("nodes").is_some() => d,
            _ => flow,
        };
        let nodes = data
            .get("nodes")
            .and_then(Json::as_array)
            .ok_or_else(|| GraphError::Invalid("the flow has no nodes".into()))?;
        let empty = Vec::new();
        let edges_json = match data.get("edges") {
            None | Some(Json::Null) => &empty,
            Some(Json::Array(a)) => a,
            Some(_) => return Err(GraphError::Invalid("edges must be a list".into())),
        };
        let runnable: Vec<&Json> = nodes.iter().filter(|n| !is_note(n)).collect();
        if runnable.len() > max_vertices {
            return Err(GraphError::TooLarge { vertices: runnable.len(), limit: max_vertices });
        }

        let mut unsupported: Vec<(String, String)> = Vec::new();
        let mut vertices = Vec::with_capacity(runnable.len());
        let mut index: HashMap<Arc<str>, usize> = HashMap::with_capacity(runnable.len());
        for node in runnable {
            let id = node
                .get("id")
                .or_else(|| node.get("data").and_then(|d| d.get("id")))
                .and_then(Json::as_str)
                .ok_or_else(|| GraphError::Invalid("a node has no id".into()))?;
            // An unsupported node is reported only after the edges have been checked, so a
            // flow that fails here is known to be otherwise well formed.
            let (kind, type_name) = match resolve_kind(node, id) {
                Ok(found) => found,
                Err(GraphError::UnsupportedComponent { node_id, type_name }) => {
                    unsupported.push((node_id, type_name));
                    (ComponentKind::Pass, String::new())
                }
                Err(e) => return Err(e),
            };
            let id: Arc<str> = Arc::from(id);
            if index.insert(id.clone(), vertices.len()).is_some() {
                return Err(GraphError::DuplicateNode(id.to_string()));
            }
            let spec = node_spec(node);
            let fields = parse_fields(spec.and_then(|s| s.get("template")));
            let display_name = spec
                .and_then(|s| s.get("display_name"))
                .and_then(Json::as_str)
                .or_else(|| node.get("data").and_then(|d| d.get("display_name")).and_then(Json::as_str))
                .unwrap_or(&type_name)
                .to_owned();
            let mut outputs = parse_outputs(spec);
            if outputs.is_empty() {
                outputs = kind
                    .default_outputs()
                    .map(|n| OutputSpec { name: Arc::from(n), types: vec!["Message".into()], allows_loop: false })
                    .collect();
            }
            vertices.push(Vertex {
                params: Arc::new(initial_params(&fields)),
                icon: spec.and_then(|s| s.get("icon")).and_then(Json::as_str).map(str::to_owned),
                computed: vec![true; outputs.len()],
                id,
                type_name,
                kind,
                display_name,
                fields,
                outputs,
                in_edges: Vec::new(),
                out_edges: Vec::new(),
                wait_edges: Vec::new(),
                loop_body: Vec::new(),
                in_loop_body: None,
            });
        }

        let mut edges: Vec<Edge> = Vec::with_capacity(edges_json.len());
        let mut seen = HashSet::with_capacity(edges_json.len());
        for (i, e) in edges_json.iter().enumerate() {
            let label = edge_label(e, i);
            let (Some(sh), Some(th)) = (handles::source_handle(e), handles::target_handle(e)) else {
                return Err(GraphError::BadHandles(label));
            };
            let source_id = e.get("source").and_then(Json::as_str).unwrap_or(&sh.node_id);
            let lookup = |nid: &str| {
                index
                    .get(nid)
                    .copied()
                    .ok_or_else(|| GraphError::MissingNode { edge: label.clone(), node_id: nid.to_owned() })
            };
            let source = lookup(source_id)?;
            let (target_id, field, feedback) = match &th {
                handles::TargetHandle::Field { node_id, field } => (node_id, field, false),
                handles::TargetHandle::LoopBack { node_id, output } => (node_id, output, true),
            };
            let target_id = e.get("target").and_then(Json::as_str).unwrap_or(target_id);
            let target = lookup(target_id)?;
            let sv = &vertices[source];
            let source_output = sv.output_index(&sh.output).ok_or_else(|| GraphError::MissingOutput {
                edge: label.clone(),
                node_id: sv.id.to_string(),
                output: sh.output.clone(),
            })?;
            let tv = &vertices[target];
            let known = if feedback {
                tv.outputs.iter().any(|o| &*o.name == field.as_str() && o.allows_loop)
            } else {
                tv.field(field).is_some()
            };
            if !known {
                return Err(GraphError::MissingField { edge: label, node_id: tv.id.to_string(), field: field.clone() });
            }
            if !seen.insert((source, source_output, target, field.clone())) {
                continue;
            }
            let field = if feedback {
                tv.outputs[tv.output_index(field).unwrap_or(0)].name.clone()
            } else {
                tv.field(field).map_or_else(|| Arc::from(field.as_str()), |f| f.name.clone())
            };
            edges.push(Edge { source, source_output, target, field, feedback, waiter: None });
        }

        if !unsupported.is_empty() {
            return Err(GraphError::unsupported(unsupported));
        }
        for (i, e) in edges.iter().enumerate() {
            vertices[e.source].out_edges.push(i);
            vertices[e.target].in_edges.push(i);
        }
        for v in &mut vertices {
            if !v.out_edges.is_empty() {
                let mut computed = vec![false; v.outputs.len()];
                for &ei in &v.out_edges {
                    computed[edges[ei].source_output] = true;
                }
                v.computed = computed;
            }
        }

        let mut graph = Self { vertices, edges, index, required_variables: Vec::new(), full: Subset::default() };
        graph.check_acyclic()?;
        graph.find_loop_bodies();
        graph.assign_waiters();
        graph.required_variables = graph.collect_variables();
        graph.full = graph.subset_all()?;
        Ok(graph)
    }

    /// Kahn's algorithm without the feedback edges: whatever is left lies on (or behind) a cycle.
    fn check_acyclic(&self) -> Result<(), GraphError> {
        let n = self.vertices.len();
        let mut indegree = vec![0usize; n];
        for e in self.edges.iter().filter(|e| !e.feedback) {
            indegree[e.target] += 1;
        }
        let mut queue: Vec<usize> = (0..n).filter(|&v| indegree[v] == 0).collect();
        let mut done = 0;
        while let Some(v) = queue.pop() {
            done += 1;
            for &ei in &self.vertices[v].out_edges {
                let e = &self.edges[ei];
                if e.feedback {
                    continue;
                }
                indegree[e.target] -= 1;
                if indegree[e.target] == 0 {
                    queue.push(e.target);
                }
            }
        }
        if done == n {
            return Ok(());
        }
        // Report a vertex that is on the cycle itself, not merely downstream of it: walk
        // predecessors that are still blocked until one repeats.
        let mut v = (0..n).find(|&v| indegree[v] > 0).unwrap_or(0);
        let mut visited = vec![false; n];
        while !visited[v] {
            visited[v] = true;
            let next = self.vertices[v]
                .in_edges
                .iter()
                .map(|&ei| &self.edges[ei])
                .find(|e| !e.feedback && indegree[e.source] > 0)
                .map(|e| e.source);
            match next {
                Some(p) => v = p,
                None => break,
            }
        }
        Err(GraphError::Cycle(self.vertices[v].id.to_string()))
    }

    /// A Loop's body: everything reachable from its looping outputs without passing through
    /// the Loop again.
    fn find_loop_bodies(&mut self) {
        for l in 0..self.vertices.len() {
            if self.vertices[l].kind != ComponentKind::Loop {
                continue;
            }
            let mut in_body = vec![false; self.vertices.len()];
            let mut stack: Vec<usize> = self.vertices[l]
                .out_edges
                .iter()
                .map(|&ei| &self.edges[ei])
                .filter(|e| self.vertices[l].outputs[e.source_output].allows_loop && !e.feedback)
                .map(|e| e.target)
                .collect();
            while let Some(v) = stack.pop() {
                if v == l || in_body[v] {
                    continue;
                }
                in_body[v] = true;
                stack.extend(
                    self.vertices[v]
                        .out_edges
                        .iter()
                        .map(|&ei| &self.edges[ei])
                        .filter(|e| !e.feedback)
                        .map(|e| e.target),
                );
            }
            let body: Vec<usize> = (0..self.vertices.len()).filter(|&v| in_body[v]).collect();
            for &v in &body {
                self.vertices[v].in_loop_body.get_or_insert(l);
            }
            self.vertices[l].loop_body = body;
        }
    }

    /// Decides, for every edge, which vertex waits for it in the outer run.
    fn assign_waiters(&mut self) {
        for ei in 0..self.edges.len() {
            let (source, target, feedback) = (self.edges[ei].source, self.edges[ei].target, self.edges[ei].feedback);
            if feedback || self.vertices[source].in_loop_body.is_some() {
                continue;
            }
            let waiter = match self.vertices[target].in_loop_body {
                None => target,
                // The Loop itself feeds its body; only outside values must be collected.
                Some(l) if l == source => continue,
                Some(l) => l,
            };
            let slot = self.vertices[waiter].wait_edges.len();
            self.vertices[waiter].wait_edges.push(ei);
            self.edges[ei].waiter = Some((waiter, slot));
        }
    }

    fn collect_variables(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for v in &self.vertices {
            for f in v.fields.iter().filter(|f| f.load_from_db) {
                if let Json::String(name) = &f.value {
                    if !name.is_empty() && !names.contains(name) {
                        names.push(name.clone());
                    }
                }
            }
        }
        // LLM components also read their provider's key and base-URL variables when no field
        // supplies them (Langflow 1.13's Language Model looks up OPENAI_API_KEY and the like).
        for v in &self.vertices {
            let key_from_db = v.field(catalog::models::API_KEY.name).is_some_and(|f| f.load_from_db);
            for name in catalog::models::implied_variables(v.kind, &v.params, key_from_db) {
                if !names.iter().any(|n| n == name) {
                    names.push(name.to_owned());
                }
            }
        }
        names
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.vertices.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.vertices.is_empty()
    }

    /// Vertex index by node id.
    #[must_use]
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    /// Vertex index by node id, then by display name.
    #[must_use]
    pub fn find(&self, id_or_name: &str) -> Option<usize> {
        self.index_of(id_or_name).or_else(|| self.vertices.iter().position(|v| v.display_name == id_or_name))
    }

    /// Names of the global variables that `load_from_db` fields refer to, plus the provider
    /// key and base-URL variables LLM components fall back to; the caller resolves them (the
    /// owner's variables, then the process environment) and passes the values it found in the
    /// build request. A name it cannot resolve is simply left out.
    #[must_use]
    pub fn required_variables(&self) -> &[String] {
        &self.required_variables
    }

    /// The whole graph's run set and layers.
    #[must_use]
    pub fn full_subset(&self) -> &Subset {
        &self.full
    }
}

/// Compatibility name used by callers that think of the parsed flow as "the graph".
pub type Graph = CompiledGraph;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
