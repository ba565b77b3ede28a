//! `/api/v1/monitor/builds`, `/monitor/transactions` (Langflow's shapes, plus timing fields) and
//! `/monitor/builds/{job_id}/timeline` (flowactor): what recent builds did, vertex by vertex.
//! Scoped to the caller's flows like chat history: another user's flow lists as nothing and
//! another user's build answers 404.

use std::time::Duration;

use actix_web::{web, HttpResponse};
use flowactor_actors::clock::iso_micros;
use flowactor_actors::engine::{BuildTrace, Mode, VertexState, VertexTrace};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::http::auth::Identity;
use crate::http::body::{path_uuid, query_int};
use crate::http::routes::{route, RouteSpec};
use crate::http::AppState;

/// `size` of `/transactions` (Langflow's default and largest page).
const DEFAULT_PAGE_SIZE: usize = 50;
const MAX_PAGE_SIZE: usize = 100;

pub fn routes() -> Vec<RouteSpec> {
    vec![
        route!(Get "/api/v1/monitor/builds", User, vertex_builds),
        route!(Delete "/api/v1/monitor/builds", User, delete_vertex_builds),
        route!(Get "/api/v1/monitor/builds/{job_id}/timeline", User, timeline),
        route!(Get "/api/v1/monitor/transactions", User, transactions),
    ]
}

#[derive(Deserialize)]
struct FlowQuery {
    flow_id: Option<String>,
    page: Option<String>,
    size: Option<String>,
}

/// The required `flow_id` query parameter, with FastAPI's 422 items.
fn flow_param(raw: Option<&str>) -> ApiResult<Uuid> {
    let raw = raw.ok_or_else(|| ApiError::validation("missing", &["query", "flow_id"], "Field required"))?;
    Uuid::parse_str(raw.trim())
        .map_err(|_| ApiError::validation("uuid_parsing", &["query", "flow_id"], "Input should be a valid UUID"))
}

/// The caller's builds of a flow, oldest first (none when the flow is not theirs).
fn owned_builds(
    state: &AppState,
    caller: &Identity,
    raw: Option<&str>,
) -> ApiResult<(Uuid, Vec<std::sync::Arc<BuildTrace>>)> {
    let flow_id = flow_param(raw)?;
    if state.flows.get_owned(caller.user.id, flow_id)?.is_none() {
        return Ok((flow_id, Vec::new()));
    }
    Ok((flow_id, state.build_log.of_flow(flow_id)))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn status(state: &VertexState) -> &'static str {
    match state {
        VertexState::Built => "success",
        VertexState::Failed(_) => "error",
        VertexState::Inactive => "inactive",
        VertexState::UpstreamFailed => "upstream_failed",
        VertexState::Cancelled => "cancelled",
    }
}

fn error_of(state: &VertexState) -> Value {
    match state {
        VertexState::Failed(reason) => json!(reason),
        _ => Value::Null,
    }
}

/// When a vertex ended, wall clock.
fn vertex_end_micros(b: &BuildTrace, v: &VertexTrace) -> i64 {
    b.started_at + i64::try_from((v.start + v.duration).as_micros()).unwrap_or(i64::MAX)
}

/// The timing fields every view carries.
fn timing(b: &BuildTrace, v: &VertexTrace) -> Map<String, Value> {
    let vertex = &b.graph.vertices[v.vertex];
    let mut m = Map::new();
    m.insert("component".into(), json!(vertex.type_name));
    m.insert("start_ms".into(), json!(ms(v.start)));
    m.insert("end_ms".into(), json!(ms(v.start + v.duration)));
    m.insert("duration_ms".into(), json!(ms(v.duration)));
    m.insert("status".into(), json!(status(&v.state)));
    m.insert("error".into(), error_of(&v.state));
    m.insert("arbiter".into(), json!(v.arbiter));
    m
}

/// `GET /monitor/builds?flow_id=`: Langflow's `VertexBuildMapModel`, each vertex's kept builds
/// oldest first; `data` holds the timing fields.
async fn vertex_builds(
    state: web::Data<AppState>,
    caller: Identity,
    q: web::Query<FlowQuery>,
) -> ApiResult<HttpResponse> {
    let (flow_id, builds) = owned_builds(&state, &caller, q.flow_id.as_deref())?;
    let mut map: Map<String, Value> = Map::new();
    for b in &builds {
        for v in &b.vertices {
            let id = b.graph.vertices[v.vertex].id.to_string();
            let entry = json!({
                "id": id,
                "valid": matches!(v.state, VertexState::Built | VertexState::Inactive),
                "flow_id": flow_id,
                "build_id": b.run_id,
                "job_id": b.run_id,
                "timestamp": iso_micros(vertex_end_micros(b, v)),
                "params": "",
                "data": Value::Object(timing(b, v)),
                "artifacts": {},
            });
            match map.get_mut(&id) {
                Some(Value::Array(list)) => list.push(entry),
                _ => {
                    map.insert(id, json!([entry]));
                }
            }
        }
    }
    Ok(HttpResponse::Ok().json(json!({"vertex_builds": map})))
}

/// `DELETE /monitor/builds?flow_id=`: 204, also for a flow with nothing kept.
async fn delete_vertex_builds(
    state: web::Data<AppState>,
    caller: Identity,
    q: web::Query<FlowQuery>,
) -> ApiResult<HttpResponse> {
    let flow_id = flow_param(q.flow_id.as_deref())?;
    if state.flows.get_owned(caller.user.id, flow_id)?.is_some() {
        state.build_log.forget_flow(flow_id);
    }
    Ok(HttpResponse::NoContent().finish())
}

/// A paging parameter: an integer in `1..=max`, FastAPI's 422 otherwise.
fn page_param(name: &str, raw: Option<&str>, default: usize, max: Option<usize>) -> ApiResult<usize> {
    let n = query_int(name, raw, 1)?.unwrap_or(default);
    match max {
        Some(max) if n > max => Err(ApiError::validation(
            "less_than_equal",
            &["query", name],
            format!("Input should be less than or equal to {max}"),
        )),
        _ => Ok(n),
    }
}

/// `GET /monitor/transactions?flow_id=&page=&size=`: one row per vertex run, newest first, in
/// Langflow's `Page[TransactionLogsResponse]`, each row with the timing fields added.
async fn transactions(
    state: web::Data<AppState>,
    caller: Identity,
    q: web::Query<FlowQuery>,
) -> ApiResult<HttpResponse> {
    let page = page_param("page", q.page.as_deref(), 1, None)?;
    let size = page_param("size", q.size.as_deref(), DEFAULT_PAGE_SIZE, Some(MAX_PAGE_SIZE))?;
    let (_, builds) = owned_builds(&state, &caller, q.flow_id.as_deref())?;
    let rows: Vec<(&BuildTrace, &VertexTrace)> =
        builds.iter().rev().flat_map(|b| b.vertices.iter().rev().map(move |v| (&**b, v))).collect();
    let total = rows.len();
    let items: Vec<Value> = rows
        .iter()
        .skip(page.saturating_sub(1).saturating_mul(size))
        .take(size)
        .map(|(b, v)| {
            let mut m = timing(b, v);
            let id = b.graph.vertices[v.vertex].id.to_string();
            // A stable id per (build, vertex).
            let mut h = blake3::Hasher::new();
            h.update(b.run_id.as_bytes());
            h.update(id.as_bytes());
            let mut bytes = [0u8; 16];
            bytes.copy_from_slice(&h.finalize().as_bytes()[..16]);
            let row_id = uuid::Builder::from_random_bytes(bytes).into_uuid();
            m.insert("id".into(), json!(row_id));
            m.insert("vertex_id".into(), json!(id));
            m.insert("target_id".into(), Value::Null);
            m.insert("inputs".into(), json!({}));
            m.insert("outputs".into(), json!({}));
            m.insert("timestamp".into(), json!(iso_micros(vertex_end_micros(b, v))));
            m.insert("build_id".into(), json!(b.run_id));
            Value::Object(m)
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({
        "items": items,
        "total": total,
        "page": page,
        "size": size,
        "pages": total.div_ceil(size),
    })))
}

/// `GET /monitor/builds/{job_id}/timeline`: each vertex's start and end relative to the build's
/// start, in the order they started. `job_id` is a `/build` job id, or the `build_id` of a row
/// above (a `/run`).
async fn timeline(state: web::Data<AppState>, caller: Identity, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let id = path_uuid("job_id", &path)?;
    let not_found = || ApiError::not_found(format!("Build {id} not found"));
    let b = state.build_log.find(id).ok_or_else(not_found)?;
    if b.user_id != Some(caller.user.id) {
        return Err(not_found());
    }
    let mut vertices: Vec<&VertexTrace> = b.vertices.iter().collect();
    vertices.sort_by_key(|v| v.start);
    let rows: Vec<Value> = vertices
        .iter()
        .map(|v| {
            let mut m = timing(&b, v);
            m.insert("id".into(), json!(b.graph.vertices[v.vertex].id.as_ref()));
            Value::Object(m)
        })
        .collect();
    let threads: std::collections::BTreeSet<usize> = b.vertices.iter().map(|v| v.arbiter).collect();
    Ok(HttpResponse::Ok().json(json!({
        "job_id": b.run_id,
        "flow_id": b.flow_id,
        "mode": if b.mode == Mode::Build { "build" } else { "run" },
        "started_at": iso_micros(b.started_at),
        "duration_ms": ms(b.duration),
        "status": if b.error.is_some() { "error" } else { "success" },
        "error": b.error,
        "threads": threads.len(),
        "vertices": rows,
    })))
}
