//! What a build produced, and its projections onto Langflow's result shapes: the `ResultData`
//! entries of a `/run` response and the `data` of an `end_vertex` event.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value as Json};
use uuid::Uuid;

use crate::components::Value;
use crate::graph::{CompiledGraph, Subset, Vertex};

use super::Mode;

/// How a vertex ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VertexState {
    Built,
    /// The component failed with this reason.
    Failed(String),
    /// On the losing side of a branch: never ran.
    Inactive,
    /// A predecessor failed (`/build`): never ran.
    UpstreamFailed,
    Cancelled,
}

/// The result of one vertex.
#[derive(Debug, Clone)]
pub struct VertexOutcome {
    pub vertex: usize,
    pub state: VertexState,
    /// `(output index, value)` for every output the component produced.
    pub values: Vec<(usize, Value)>,
    /// Outputs whose branch was stopped.
    pub stopped: Vec<usize>,
    /// When the vertex fired (its inputs complete).
    pub started: Instant,
    pub duration: Duration,
}

impl VertexOutcome {
    #[must_use]
    pub fn value(&self, output: usize) -> Option<&Value> {
        self.values.iter().find(|(o, _)| *o == output).map(|(_, v)| v)
    }

    #[must_use]
    pub fn first_value(&self) -> Option<&Value> {
        self.values.first().map(|(_, v)| v)
    }

    /// `token_usage` of a `ResultData`: the usage an LLM put on its message (and a Chat Output
    /// carried over), or null.
    #[must_use]
    pub fn token_usage(&self) -> Json {
        self.values
            .iter()
            .find_map(|(_, v)| match v {
                Value::Message(m) => m.properties.usage.clone(),
                _ => None,
            })
            .unwrap_or(Json::Null)
    }
}

/// Langflow's human duration (`format_elapsed_time`).
pub(crate) fn human_duration(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 1.0 {
        format!("{} ms", (secs * 1000.0).round())
    } else if secs < 60.0 {
        format!("{secs:.1} seconds")
    } else {
        let minutes = (secs / 60.0).floor();
        format!("{minutes} minutes, {:.1} seconds", secs - minutes * 60.0)
    }
}

/// The parts of a `ResultData` shared by `/run` outputs and `end_vertex`.
pub(crate) struct ResultParts {
    pub results: Map<String, Json>,
    pub artifacts: Json,
    pub outputs: Map<String, Json>,
    pub logs: Map<String, Json>,
    pub messages: Vec<Json>,
}

pub(crate) fn result_parts(v: &Vertex, o: &VertexOutcome, session: &str) -> ResultParts {
    let mut results = Map::new();
    let mut outputs = Map::new();
    let mut logs = Map::new();
    let mut artifacts = Map::new();
    let mut messages = Vec::new();
    if let VertexState::Failed(reason) = &o.state {
        let name = v.outputs.first().map_or("output", |o| &*o.name).to_owned();
        outputs
            .insert(name.clone(), json!({"message": {"errorMessage": reason, "stackTrace": reason}, "type": "error"}));
        logs.insert(name, json!([]));
        return ResultParts { results, artifacts: Json::Object(artifacts), outputs, logs, messages };
    }
    for (idx, value) in &o.values {
        let name = v.outputs.get(*idx).map_or("output", |o| &*o.name);
        results.insert(name.to_owned(), value.to_json());
        outputs.insert(name.to_owned(), json!({"message": value.display(), "type": value.type_label()}));
        logs.insert(name.to_owned(), json!([]));
        if !v.kind.is_interface() {
            let text = value.text();
            artifacts.insert(name.to_owned(), json!({"repr": text, "raw": text, "type": value.type_label()}));
        }
    }
    let artifacts = match (v.kind.is_interface(), o.first_value()) {
        (true, Some(Value::Message(m))) => {
            messages.push(json!({
                "message": m.text,
                "sender": m.sender,
                "sender_name": m.sender_name,
                "session_id": m.session_id.as_deref().unwrap_or(session),
                "stream_url": null,
                "component_id": &*v.id,
                "files": m.files,
                "type": "text",
            }));
            json!({"message": m.text, "sender": m.sender, "sender_name": m.sender_name, "files": m.files, "type": "object"})
        }
        _ => Json::Object(artifacts),
    };
    ResultParts { results, artifacts, outputs, logs, messages }
}

/// One vertex of a finished (or failed) build, as build monitoring reports it.
#[derive(Debug, Clone)]
pub struct VertexTrace {
    /// Index into the build's graph.
    pub vertex: usize,
    /// From the build's start to the vertex firing.
    pub start: Duration,
    pub duration: Duration,
    pub state: VertexState,
    /// Index of the engine arbiter (thread) the vertex ran on.
    pub arbiter: usize,
}

/// What a build did, vertex by vertex: handed to the [`BuildRecorder`] when the build ends,
/// successfully or not.
#[derive(Debug, Clone)]
pub struct BuildTrace {
    pub graph: Arc<CompiledGraph>,
    pub run_id: Uuid,
    pub flow_id: Uuid,
    pub user_id: Option<Uuid>,
    pub mode: Mode,
    /// Wall-clock start.
    pub started_at: crate::clock::Micros,
    pub duration: Duration,
    /// Why the build failed; `None` when it completed.
    pub error: Option<String>,
    /// Vertices that ran or were settled, in the order they finished.
    pub vertices: Vec<VertexTrace>,
}

/// Receives every build's [`BuildTrace`]; called on the supervisor's thread, so it must be
/// cheap (hand the trace off, do not block).
#[derive(Clone)]
pub struct BuildRecorder(pub Arc<dyn Fn(BuildTrace) + Send + Sync>);

impl std::fmt::Debug for BuildRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BuildRecorder")
    }
}

/// Everything a finished build produced.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub graph: Arc<CompiledGraph>,
    pub subset: Subset,
    pub mode: Mode,
    pub flow_id: Uuid,
    pub run_id: Uuid,
    pub session_id: String,
    /// Per vertex (graph order); `None` for vertices outside the run.
    pub vertices: Vec<Option<Arc<VertexOutcome>>>,
    pub duration: Duration,
}

impl RunOutcome {
    /// The outcome of a vertex by id.
    #[must_use]
    pub fn vertex(&self, id: &str) -> Option<&VertexOutcome> {
        self.graph.index_of(id).and_then(|i| self.vertices.get(i)?.as_deref())
    }

    /// The text of a vertex's first output value (tests, logs).
    #[must_use]
    pub fn text_of(&self, id: &str) -> Option<String> {
        self.vertex(id)?.first_value().map(|v| v.text().into_owned())
    }

    /// Vertices `/run` reports (Langflow's `/run` output selection): `output_component` (id or display name) if
    /// given; else every output vertex whose lower-cased id contains `output_type` (`any`: every
    /// output vertex; `debug`: every vertex). Graph order.
    #[must_use]
    pub fn selected(&self, output_type: &str, output_component: Option<&str>) -> Vec<usize> {
        let g = &self.graph;
        let component = output_component.filter(|c| !c.is_empty());
        let output_type = output_type.to_lowercase();
        (0..g.len())
            .filter(|&i| {
                let v = &g.vertices[i];
                match component {
                    Some(c) => &*v.id == c || v.display_name == c,
                    None => {
                        output_type == "debug"
                            || (v.is_output() && (output_type == "any" || v.id.to_lowercase().contains(&output_type)))
                    }
                }
            })
            .filter(|&i| self.vertices[i].as_ref().is_some_and(|o| o.state == VertexState::Built))
            .collect()
    }

    /// The `outputs` list of one `/run` input entry: a `ResultData` per selected vertex.
    #[must_use]
    pub fn run_outputs(&self, output_type: &str, output_component: Option<&str>) -> Vec<Json> {
        self.selected(output_type, output_component)
            .into_iter()
            .filter_map(|i| {
                let v = &self.graph.vertices[i];
                let o = self.vertices[i].as_ref()?;
                let mut p = result_parts(v, o, &self.session_id);
                // Langflow's `/run` repeats an Agent's Output leaf once more at the top level
                // of the message (spec §4.2); `data.content_blocks` keeps it once.
                if let (Some(Json::Object(m)), Some(Value::Message(msg))) =
                    (p.results.get_mut("message"), o.first_value())
                {
                    if let Some(blocks) = m.get_mut("content_blocks") {
                        *blocks = crate::components::with_output_leaf(blocks, &msg.text);
                    }
                }
                Some(json!({
                    "results": p.results,
                    "artifacts": p.artifacts,
                    "outputs": p.outputs,
                    "logs": p.logs,
                    "messages": p.messages,
                    "timedelta": null,
                    "duration": null,
                    "component_display_name": v.display_name,
                    "component_id": &*v.id,
                    "used_frozen_result": false,
                    "token_usage": o.token_usage(),
                }))
            })
            .collect()
    }

    /// The whole non-streaming `/run` response body (`RunResponse`).
    #[must_use]
    pub fn run_response(&self, input_value: Option<&str>, output_type: &str, output_component: Option<&str>) -> Json {
        let inputs = match input_value {
            Some(v) => json!({"input_value": v}),
            None => json!({}),
        };
        json!({
            "session_id": self.session_id,
            "outputs": [{ "inputs": inputs, "outputs": self.run_outputs(output_type, output_component) }],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_langflow() {
        assert_eq!(human_duration(Duration::from_millis(12)), "12 ms");
        assert_eq!(human_duration(Duration::from_millis(2_500)), "2.5 seconds");
        assert_eq!(human_duration(Duration::from_secs(75)), "1 minutes, 15.0 seconds");
    }
}
