//! The Playground's build API: `POST /api/v1/build/{flow_id}/flow` starts a build and answers a
//! `job_id` (or streams directly), `GET /api/v1/build/{job_id}/events` streams or polls its
//! events, `POST /api/v1/build/{job_id}/cancel` stops it.

use std::sync::Arc;

use actix_web::{web, HttpRequest, HttpResponse};
use flowactor_actors::engine::{BuildEvent, BuildRequest, Mode, RunInput};
use flowactor_actors::graph::{CompiledGraph, InputType};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::http::auth::{query_param, Identity};
use crate::http::body::{optional_json, path_uuid};
use crate::http::events::{all_events, EventStream};
use crate::http::execution::{compiled, require_space, resolve_variables};
use crate::http::lifecycle::Drain;
use crate::http::routes::{route, RouteSpec};
use crate::http::AppState;
use crate::jobs::Job;

pub fn routes() -> Vec<RouteSpec> {
    vec![
        route!(Post "/api/v1/build/{flow_id}/flow", User, start),
        route!(Get "/api/v1/build/{job_id}/events", User, events),
        route!(Post "/api/v1/build/{job_id}/cancel", User, cancel),
    ]
}

const NDJSON: &str = "application/x-ndjson";

fn job_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Job not found: Job queue not found for job_id: {id}"))
}

/// The frame a reader gets for a job that has nothing more to say.
fn closing_frame() -> String {
    BuildEvent { name: "end", data: json!({}) }.to_frame()
}

async fn start(
    state: web::Data<AppState>,
    caller: Identity,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let flow_id = path_uuid("flow_id", &path)?;
    let flow = state
        .flows
        .get_owned(caller.user.id, flow_id)?
        .ok_or_else(|| ApiError::not_found(format!("Flow with id {flow_id} not found")))?;
    let body = optional_json(&body)?.unwrap_or_else(|| json!({}));
    let delivery = query_param(&req, "event_delivery").unwrap_or_else(|| "polling".into());
    if !["polling", "streaming", "direct"].contains(&delivery.as_str()) {
        return Err(ApiError::validation(
            "enum",
            &["query", "event_delivery"],
            "Input should be 'polling', 'streaming' or 'direct'",
        ));
    }
    let graph: Arc<CompiledGraph> = match body.get("data").filter(|d| d.get("nodes").is_some()) {
        Some(data) => {
            require_space(&state)?;
            Arc::new(CompiledGraph::parse_with_limit(data, state.settings.max_graph_vertices)?)
        }
        None => compiled(&state, &flow)?,
    };
    let inputs = body.get("inputs").cloned().unwrap_or(Value::Null);
    let input = inputs.get("input_value").and_then(Value::as_str).map(|v| RunInput {
        input_value: v.to_owned(),
        input_type: InputType::parse(inputs.get("type").and_then(Value::as_str).unwrap_or("chat")),
    });
    let session = inputs.get("session").and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned);
    let (variables, environment_variables) = resolve_variables(&state, Some(&req), flow.user_id, &graph).await?;
    let request = BuildRequest {
        flow_id: flow.id,
        user_id: Some(flow.user_id),
        session_id: session,
        input,
        variables,
        environment_variables,
        start_component_id: query_param(&req, "start_component_id").filter(|s| !s.is_empty()),
        stop_component_id: query_param(&req, "stop_component_id").filter(|s| !s.is_empty()),
        mode: Mode::Build,
        ..BuildRequest::default()
    };
    let handle = state.engine.start(graph, request)?;
    if delivery == "direct" {
        let canceller = handle.cancel.clone();
        let stream = EventStream::new(handle.events, all_events, state.heartbeat)
            .on_abandon(move || canceller.cancel())
            .until(state.drain.expired());
        return Ok(HttpResponse::Ok().content_type(NDJSON).streaming(stream));
    }
    let job = state
        .jobs
        .register(caller.user.id, flow.id, handle.events, handle.cancel)
        .map_err(|_| ApiError::TooManyRequests { retry_after: 1 })?;
    Ok(HttpResponse::Ok().json(json!({"job_id": job.id})))
}

fn owned_job(state: &AppState, caller: &Identity, raw: &str) -> ApiResult<Arc<Job>> {
    let id = Uuid::parse_str(raw).map_err(|_| job_not_found(raw))?;
    state.jobs.get(caller.user.id, id).ok_or_else(|| job_not_found(raw))
}

async fn events(
    state: web::Data<AppState>,
    caller: Identity,
    req: HttpRequest,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let job = owned_job(&state, &caller, &path)?;
    let delivery = query_param(&req, "event_delivery").unwrap_or_else(|| "streaming".into());
    if delivery == "polling" {
        return tokio::select! {
            res = poll(&job) => Ok(res),
            () = state.drain.expired() => {
                job.cancel();
                Err(Drain::error())
            }
        };
    }
    let Some(rx) = job.take_events().await else {
        return Ok(HttpResponse::Ok().content_type(NDJSON).body(closing_frame()));
    };
    let (done, abandoned) = (job.clone(), job.clone());
    let stream = EventStream::new(rx, all_events, state.heartbeat)
        .on_end(move || done.finish())
        .on_abandon(move || abandoned.cancel())
        .until(state.drain.expired());
    Ok(HttpResponse::Ok().content_type(NDJSON).streaming(stream))
}

/// Everything queued so far (waiting for at least one event), each frame on its own line.
async fn poll(job: &Job) -> HttpResponse {
    let mut guard = job.lock_events().await;
    let mut body = String::new();
    let mut closed = false;
    if let Some(rx) = guard.as_mut() {
        match rx.recv().await {
            Some(first) => {
                body.push_str(&first.to_frame());
                loop {
                    match rx.try_recv() {
                        Ok(e) => {
                            body.push('\n');
                            body.push_str(&e.to_frame());
                        }
                        Err(tokio::sync::mpsc::error::TryRecvError::Empty) => break,
                        Err(tokio::sync::mpsc::error::TryRecvError::Disconnected) => {
                            closed = true;
                            break;
                        }
                    }
                }
            }
            None => closed = true,
        }
    }
    if closed || guard.is_none() {
        *guard = None;
        job.finish();
        if body.is_empty() {
            body = closing_frame();
        }
    }
    HttpResponse::Ok().content_type(NDJSON).body(body)
}

async fn cancel(state: web::Data<AppState>, caller: Identity, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let job = owned_job(&state, &caller, &path)?;
    job.cancel();
    Ok(HttpResponse::Ok().json(json!({"success": true, "message": "Flow build cancelled successfully"})))
}
