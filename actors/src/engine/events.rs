//! Builders for the payloads of Langflow's build events (`vertices_sorted`, `build_start`, `end_vertex`, `add_message`, `token`, `end`). Only shapes live
//! here; when each event is sent is the supervisor's and the vertex actor's business.

use serde_json::{json, Value as Json};
use uuid::Uuid;

use crate::clock::{iso_micros, now_micros};
use crate::components::{Message, Properties, Source};
use crate::graph::{CompiledGraph, Vertex};

use super::outcome::{human_duration, result_parts, VertexOutcome, VertexState};
use super::BuildEvent;

fn ids(graph: &CompiledGraph, vs: &[usize]) -> Vec<Json> {
    vs.iter().map(|&v| Json::String(graph.vertices[v].id.to_string())).collect()
}

pub(crate) fn vertices_sorted(graph: &CompiledGraph, first_layer: &[usize], to_run: &[usize]) -> BuildEvent {
    BuildEvent {
        name: "vertices_sorted",
        data: json!({ "ids": ids(graph, first_layer), "to_run": ids(graph, to_run) }),
    }
}

pub(crate) fn build_start() -> BuildEvent {
    BuildEvent { name: "build_start", data: json!({}) }
}

pub(crate) fn end(build_duration: f64) -> BuildEvent {
    BuildEvent { name: "end", data: json!({ "build_duration": build_duration }) }
}

/// `end_vertex {build_data: VertexBuildResponse, output_meta}`, plus flowactor's `engine_thread`
/// in `build_data.data` (the arbiter that ran the vertex: the web console's build view draws one
/// timeline lane per thread from it).
pub(crate) fn end_vertex(
    graph: &CompiledGraph,
    o: &VertexOutcome,
    session: &str,
    next: &[usize],
    inactivated: &[usize],
    thread: usize,
) -> BuildEvent {
    let v = &graph.vertices[o.vertex];
    let p = result_parts(v, o, session);
    let (valid, params) = match &o.state {
        VertexState::Failed(reason) => (false, Json::String(reason.clone())),
        _ => (true, Json::String("Built successfully ✨".into())),
    };
    let next_ids = ids(graph, next);
    BuildEvent {
        name: "end_vertex",
        data: json!({ "output_meta": output_meta(v), "build_data": {
            "id": &*v.id,
            "inactivated_vertices": ids(graph, inactivated),
            "next_vertices_ids": next_ids,
            "top_level_vertices": next_ids,
            "valid": valid,
            "params": params,
            "data": {
                "results": p.results,
                "outputs": p.outputs,
                "logs": p.logs,
                "message": p.artifacts,
                "artifacts": p.artifacts,
                "timedelta": o.duration.as_secs_f64(),
                "duration": human_duration(o.duration),
                "used_frozen_result": false,
                "token_usage": o.token_usage(),
                "engine_thread": thread,
            },
            "timestamp": iso_micros(now_micros()),
        }}),
    }
}

/// Langflow 1.13's `output_meta` of an `end_vertex`: the types of the outputs the vertex computes
/// (`["Tool"]` for a tool-mode vertex), and its `vertex_type` (the node type, or `Component` for a
/// node with a Tool output, as Langflow names a component in tool mode).
fn output_meta(v: &Vertex) -> Json {
    let mut types: Vec<&str> = Vec::new();
    for (o, computed) in v.outputs.iter().zip(&v.computed) {
        for t in o.types.iter().filter(|_| *computed) {
            if !types.contains(&t.as_str()) {
                types.push(t);
            }
        }
    }
    let tool = v.outputs.iter().any(|o| o.types.iter().any(|t| t == "Tool"));
    json!({
        "component_id": &*v.id,
        "display_name": v.display_name,
        "vertex_type": if tool { "Component" } else { v.type_name.as_str() },
        "is_output": v.kind.is_output(),
        "is_terminal": v.out_edges.is_empty(),
        "output_types": types,
    })
}

/// Langflow's `ErrorMessage` for a failed component: stored in the session and sent as the
/// `error` event.
pub(crate) fn error_message(v: &Vertex, reason: &str, session: &str, flow_id: Uuid, run_id: Uuid) -> Message {
    let mut m = Message::text(reason, now_micros());
    m.id = Some(Uuid::now_v7());
    m.sender = Some("Machine".into());
    m.sender_name = Some(v.display_name.clone());
    m.session_id = Some(session.to_owned());
    m.flow_id = Some(flow_id);
    m.run_id = Some(run_id);
    m.error = true;
    m.category = "error";
    m.properties = Properties {
        text_color: Some("red".into()),
        background_color: Some("red".into()),
        source: Source {
            id: Some(v.id.to_string()),
            display_name: Some(v.display_name.clone()),
            source: Some(v.display_name.clone()),
        },
        icon: Some("error".into()),
        ..Properties::default()
    };
    m.content_blocks = json!([{
        "title": "Error",
        "contents": [{
            "type": "error",
            "component": v.display_name,
            "field": null,
            "reason": reason,
            "solution": null,
            "traceback": reason,
        }],
        "allow_markdown": false,
        "media_url": null,
    }]);
    m
}

/// A build-level failure (deadline) as an `error` event, without a component.
pub(crate) fn build_error(text: &str, session: &str, flow_id: Uuid) -> BuildEvent {
    let mut m = Message::text(text, now_micros());
    m.id = Some(Uuid::now_v7());
    m.sender = Some("Machine".into());
    m.sender_name = Some("flowactor".into());
    m.session_id = Some(session.to_owned());
    m.flow_id = Some(flow_id);
    m.error = true;
    m.category = "error";
    BuildEvent { name: "error", data: m.event_json() }
}
