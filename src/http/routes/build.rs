//! The Playground's build API: `POST /api/v1/build/{flow_id}/flow` starts a build and answers a
//! `job_id` (or streams directly), `GET /api/v1/build/{job_id}/events` streams or polls its
//! events, `POST /api/v1/build/{job_id}/cancel` stops it.
//!
//! Resuming (a flowactor extension): every event of a job has a sequence number (1, 2, …).
//! `GET …/events?since=N` streams or polls the events after N, each frame carrying `"seq"`;
//! with `Accept: text/event-stream` the events come as Server-Sent Events whose `id` is the
//! sequence number, and `Last-Event-ID` resumes after it. A reader that reads this way from its
//! first request can reconnect after any event and miss nothing, for as long as the job is
//! retained; events dropped past the retention bound answer 410.

use std::sync::Arc;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use flowactor_actors::engine::{BuildEvent, BuildRequest, Mode, RunInput};
use flowactor_actors::graph::{CompiledGraph, InputType};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::http::auth::{query_param, Identity};
use crate::http::body::{optional_json, path_uuid};
use crate::http::events::{all_events, EventStream, Framer};
use crate::http::execution::{compiled, require_space, resolve_variables};
use crate::http::lifecycle::Drain;
use crate::http::routes::{route, RouteSpec};
use crate::http::AppState;
use crate::jobs::{Gone, Job};

pub fn routes() -> Vec<RouteSpec> {
    vec![
        route!(Post "/api/v1/build/{flow_id}/flow", User, start),
        route!(Get "/api/v1/build/{job_id}/events", User, events),
        route!(Post "/api/v1/build/{job_id}/cancel", User, cancel),
    ]
}

const NDJSON: &str = "application/x-ndjson";
const SSE: &str = "text/event-stream";

/// How a reader wants a job's events: framing, and where it resumes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    /// Langflow's `{"event", "data"}` lines, consumed from the job.
    Plain,
    /// `{"event", "data", "seq"}` lines after event `since`.
    Numbered { since: u64 },
    /// Server-Sent Events after event `since` (`id` = sequence number).
    EventSource { since: u64 },
}

impl Framing {
    fn of(req: &HttpRequest) -> ApiResult<Self> {
        let sse = req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains(SSE));
        let number = |raw: &str, loc: [&str; 2]| {
            raw.trim().parse::<u64>().map_err(|_| {
                ApiError::validation(
                    "int_parsing",
                    &loc,
                    "Input should be a valid integer, unable to parse string as an integer",
                )
            })
        };
        let since = match query_param(req, "since") {
            Some(raw) => Some(number(&raw, ["query", "since"])?),
            None => match req.headers().get("last-event-id") {
                Some(v) => Some(number(v.to_str().unwrap_or("x"), ["header", "last-event-id"])?),
                None => None,
            },
        };
        Ok(match (sse, since) {
            (true, since) => Self::EventSource { since: since.unwrap_or(0) },
            (false, Some(since)) => Self::Numbered { since },
            (false, None) => Self::Plain,
        })
    }

    fn since(self) -> Option<u64> {
        match self {
            Self::Plain => None,
            Self::Numbered { since } | Self::EventSource { since } => Some(since),
        }
    }

    fn content_type(self) -> &'static str {
        if matches!(self, Self::EventSource { .. }) {
            SSE
        } else {
            NDJSON
        }
    }

    fn frame(self, seq: u64, event: &BuildEvent) -> String {
        match self {
            Self::Plain => event.to_frame(),
            Self::Numbered { .. } => {
                let mut frame = json!({"event": event.name, "data": event.data, "seq": seq}).to_string();
                frame.push_str("\n\n");
                frame
            }
            Self::EventSource { .. } => format!("id: {seq}\nevent: {}\ndata: {}\n\n", event.name, event.data),
        }
    }

    /// A framer numbering the events of a stream that starts after `since`.
    fn framer(self) -> Framer {
        let mut next = self.since().unwrap_or(0) + 1;
        Box::new(move |event| {
            let frame = self.frame(next, event);
            next += 1;
            frame
        })
    }
}

fn gone(g: Gone) -> ApiError {
    let kept = g.oldest.saturating_sub(1);
    ApiError::detail(
        StatusCode::GONE,
        format!("The events of this job up to {kept} are no longer retained: resume with since={kept} or later"),
    )
}

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
    let flow = state.flows.get_owned(caller.user.id, flow_id)?.ok_or_else(|| {
        caller.missing_flow(&flow_id.to_string(), ApiError::not_found(format!("Flow with id {flow_id} not found")))
    })?;
    caller.require_flow(flow.id, flow.endpoint_name.as_deref())?;
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
    let job = state.jobs.get(caller.user.id, id).ok_or_else(|| job_not_found(raw))?;
    if caller.key_policy().is_some_and(flowactor_actors::records::KeyPolicy::restricts_flows) {
        // A flow-limited key reaches only the jobs of the flows it may run.
        let endpoint = state.flows.get_owned(caller.user.id, job.flow_id)?.and_then(|f| f.endpoint_name);
        caller.require_flow(job.flow_id, endpoint.as_deref())?;
    }
    Ok(job)
}

async fn events(
    state: web::Data<AppState>,
    caller: Identity,
    req: HttpRequest,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let job = owned_job(&state, &caller, &path)?;
    let framing = Framing::of(&req)?;
    let delivery = query_param(&req, "event_delivery").unwrap_or_else(|| "streaming".into());
    if delivery == "polling" {
        return tokio::select! {
            res = poll(&job, framing) => res,
            () = state.drain.expired() => {
                job.cancel();
                Err(Drain::error())
            }
        };
    }
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    let stream = match framing.since() {
        None => {
            if !job.log.take_shared() {
                return Ok(HttpResponse::Ok().content_type(NDJSON).body(closing_frame()));
            }
            let (done, abandoned) = (job.clone(), job.clone());
            EventStream::new(rx, all_events, state.heartbeat)
                .on_end(move || done.finish())
                .on_abandon(move || abandoned.cancel())
        }
        Some(since) => {
            job.log.check_after(since).map_err(gone)?;
            job.attach();
            let (done, left, grace) = (job.clone(), job.clone(), state.resume_grace);
            EventStream::new(rx, all_events, state.heartbeat)
                .framed(framing.framer())
                .on_end(move || {
                    done.reader_done();
                    done.finish();
                })
                .on_abandon(move || left.detach(grace))
        }
    };
    let log = job.log.clone();
    let since = framing.since();
    actix_web::rt::spawn(async move { log.forward_events(since, tx).await });
    Ok(HttpResponse::Ok().content_type(framing.content_type()).streaming(stream.until(state.drain.expired())))
}

/// What the job has after the reader's position (waiting for at least one event), each frame
/// on its own line; the plain form consumes it.
async fn poll(job: &Job, framing: Framing) -> ApiResult<HttpResponse> {
    let read = match framing.since() {
        None if job.log.is_taken() => crate::jobs::Read { events: Vec::new(), closed: true },
        None => job.log.read_shared().await,
        Some(since) => job.log.read_after(since).await.map_err(gone)?,
    };
    let frames: Vec<String> = read.events.iter().map(|(seq, e)| framing.frame(*seq, e)).collect();
    let mut body = frames.join("\n");
    if read.closed {
        if framing.since().is_none() {
            job.finish();
        }
        if body.is_empty() {
            body = closing_frame();
        }
    }
    Ok(HttpResponse::Ok().content_type(framing.content_type()).body(body))
}

async fn cancel(state: web::Data<AppState>, caller: Identity, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let job = owned_job(&state, &caller, &path)?;
    job.cancel();
    Ok(HttpResponse::Ok().json(json!({"success": true, "message": "Flow build cancelled successfully"})))
}
