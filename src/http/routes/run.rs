//! `POST /api/v1/run/{flow_id_or_name}` (API key only, scoped to the key owner's flows) and
//! `POST /api/v1/webhook/{flow_id_or_name}`: Langflow's run surfaces, executed by the engine.

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use flowactor_actors::engine::{BuildError, BuildEvent, BuildHandle, BuildRequest, Mode, RunInput};
use flowactor_actors::graph::{CompiledGraph, GraphError, InputType};
use flowactor_actors::registry::ResolveVariable;
use flowactor_actors::store::flows::FlowRecord;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::http::auth::{query_param, Identity, MaybeIdentity};
use crate::http::body::optional_json;
use crate::http::events::{run_events, EventStream};
use crate::http::AppState;

/// Prefix of request-scoped global variable headers.
const GLOBAL_VAR_HEADER: &str = "x-langflow-global-var-";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/run/{flow_id_or_name}", web::post().to(run))
        .route("/api/v1/webhook/{flow_id_or_name}", web::post().to(webhook));
}

/// Langflow's mapping of graph problems to HTTP answers.
pub fn graph_error(e: GraphError) -> ApiError {
    match e {
        GraphError::RefusedTweaks(fields) => ApiError::DetailValue {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            detail: json!({
                "error": "Refused tweaks",
                "code": "TWEAKS_REFUSED",
                "message": "The field is protected and keeps the value set by the flow author.",
                "fields": fields,
            }),
        },
        GraphError::TooLarge { .. } => ApiError::detail(StatusCode::PAYLOAD_TOO_LARGE, e.to_string()),
        GraphError::UnknownComponent(_) => ApiError::not_found(e.to_string()),
        other => ApiError::bad_request(other.to_string()),
    }
}

/// `/run`'s execution-failure body: `detail` is a string holding JSON.
pub fn run_failure(message: &str) -> ApiError {
    let inner = json!({"message": message, "traceback": null, "description": null, "code": null, "suggestion": null});
    ApiError::detail(StatusCode::INTERNAL_SERVER_ERROR, inner.to_string())
}

fn build_error_text(e: &BuildError) -> String {
    match e {
        BuildError::Failed(m) => m.clone(),
        other => format!("Error running graph: {other}"),
    }
}

/// Builds store chat messages: on a full disk they are refused before anything runs (507).
pub fn require_space(state: &AppState) -> ApiResult<()> {
    state.flows.store().check_space().map_err(|_| ApiError::insufficient_storage())
}

/// The compiled graph of a stored flow (parsed only when this version is not cached); refused
/// with 507 while the disk is full, since running it stores messages.
pub fn compiled(state: &AppState, flow: &FlowRecord) -> ApiResult<Arc<CompiledGraph>> {
    require_space(state)?;
    if let Some(g) = state.engine.cached(flow.id, flow.content_hash) {
        return Ok(g);
    }
    let data = flow.data_value().map_err(ApiError::internal)?;
    if data.is_null() {
        return Err(ApiError::bad_request("Flow has no data"));
    }
    state.engine.compile(flow.id, flow.content_hash, &data).map_err(graph_error)
}

/// Global variables a graph needs: request headers first, then the owner's variables, then the
/// process environment (Langflow's fallback).
pub async fn resolve_variables(
    state: &AppState,
    req: Option<&HttpRequest>,
    user_id: Uuid,
    graph: &CompiledGraph,
) -> ApiResult<HashMap<String, String>> {
    let mut vars = HashMap::new();
    if let Some(req) = req {
        for (name, value) in req.headers() {
            if let Some(var) = name.as_str().strip_prefix(GLOBAL_VAR_HEADER) {
                if let Ok(v) = value.to_str() {
                    vars.insert(var.to_uppercase(), v.to_owned());
                }
            }
        }
    }
    for name in graph.required_variables() {
        if vars.contains_key(name) {
            continue;
        }
        if let Some(v) = state.registry.send(ResolveVariable { user_id, name: name.clone() }).await?? {
            vars.insert(name.clone(), v);
        } else if let Ok(v) = std::env::var(name) {
            vars.insert(name.clone(), v);
        }
    }
    Ok(vars)
}

/// `SimplifiedAPIRequest`, flat or embedded under `input_request`.
#[derive(Debug, Default)]
struct RunRequest {
    input_value: Option<String>,
    input_type: String,
    output_type: String,
    output_component: Option<String>,
    tweaks: Option<Value>,
    session_id: Option<String>,
}

fn str_field(obj: &serde_json::Map<String, Value>, key: &str) -> Option<String> {
    obj.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn parse_run_request(body: &[u8]) -> ApiResult<RunRequest> {
    let mut req = RunRequest { input_type: "chat".into(), output_type: "chat".into(), ..RunRequest::default() };
    let Some(value) = optional_json(body)? else { return Ok(req) };
    let value = match value.get("input_request") {
        Some(inner @ Value::Object(_)) => inner.clone(),
        _ => value,
    };
    let Value::Object(obj) = value else { return Ok(req) };
    match obj.get("input_value") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => req.input_value = Some(s.clone()),
        Some(_) => {
            return Err(ApiError::validation("string_type", &["body", "input_value"], "Input should be a valid string"))
        }
    }
    if let Some(t) = str_field(&obj, "input_type").filter(|t| ["chat", "text", "any"].contains(&t.as_str())) {
        req.input_type = t;
    }
    if let Some(t) = str_field(&obj, "output_type").filter(|t| ["chat", "text", "any", "debug"].contains(&t.as_str())) {
        req.output_type = t;
    }
    req.output_component = str_field(&obj, "output_component").filter(|s| !s.is_empty());
    req.tweaks = obj.get("tweaks").filter(|t| t.is_object()).cloned();
    req.session_id = str_field(&obj, "session_id").filter(|s| !s.is_empty());
    Ok(req)
}

/// Langflow refuses an `input_value` together with an input-component tweak of the same field.
fn check_input_tweak_conflict(req: &RunRequest) -> ApiResult<()> {
    let (Some(_), Some(Value::Object(tweaks))) = (&req.input_value, &req.tweaks) else { return Ok(()) };
    for (key, value) in tweaks {
        let sets_input = value.get("input_value").is_some();
        if sets_input && req.input_type == "chat" && (key.contains("ChatInput") || key.contains("Chat Input")) {
            return Err(ApiError::bad_request(
                "If you pass an input_value to the chat input, you cannot pass a tweak with the same name.",
            ));
        }
        if sets_input && req.input_type == "text" && (key.contains("TextInput") || key.contains("Text Input")) {
            return Err(ApiError::bad_request(
                "If you pass an input_value to the text input, you cannot pass a tweak with the same name.",
            ));
        }
    }
    Ok(())
}

async fn run(
    state: web::Data<AppState>,
    caller: Identity,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let id_or_name = path.into_inner();
    let run_req = parse_run_request(&body)?;
    check_input_tweak_conflict(&run_req)?;
    let stream = query_param(&req, "stream").is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1");
    let flow = state
        .flows
        .resolve(caller.user.id, &id_or_name)
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found(format!("Flow identifier {id_or_name} not found")))?;
    let graph = compiled(&state, &flow)?;
    let variables = resolve_variables(&state, Some(&req), flow.user_id, &graph).await?;
    let request = BuildRequest {
        flow_id: flow.id,
        user_id: Some(flow.user_id),
        session_id: run_req.session_id.clone(),
        input: run_req
            .input_value
            .clone()
            .map(|v| RunInput { input_value: v, input_type: InputType::parse(&run_req.input_type) }),
        tweaks: run_req.tweaks.clone(),
        variables,
        mode: Mode::Run,
        stream,
        quiet: !stream,
        ..BuildRequest::default()
    };
    let handle = state.engine.start(graph, request).map_err(graph_error)?;
    if stream {
        return Ok(stream_run(&state, handle, run_req));
    }
    match handle.finish().await {
        Ok(outcome) => Ok(HttpResponse::Ok().json(outcome.run_response(
            run_req.input_value.as_deref(),
            &run_req.output_type,
            run_req.output_component.as_deref(),
        ))),
        Err(e) => Err(run_failure(&build_error_text(&e))),
    }
}

fn stream_run(state: &AppState, handle: BuildHandle, run_req: RunRequest) -> HttpResponse {
    let canceller = handle.cancel.clone();
    let finisher = Box::new(move |result| match result {
        Ok(outcome) => vec![BuildEvent {
            name: "end",
            data: json!({"result": flowactor_actors::engine::RunOutcome::run_response(
                &outcome,
                run_req.input_value.as_deref(),
                &run_req.output_type,
                run_req.output_component.as_deref(),
            )}),
        }],
        Err(e) => vec![BuildEvent { name: "error", data: json!({"error": build_error_text(&e)}) }],
    });
    let stream = EventStream::new(handle.events, run_events, state.heartbeat)
        .with_outcome(handle.outcome, finisher)
        .on_abandon(move || canceller.cancel());
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(stream)
}

async fn webhook(
    state: web::Data<AppState>,
    caller: MaybeIdentity,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let id_or_name = path.into_inner();
    let not_found = || ApiError::not_found(format!("Flow identifier {id_or_name} not found"));
    let flow = match &caller.0 {
        Some(identity) => state.flows.resolve(identity.user.id, &id_or_name),
        None => state.flows.resolve_any(&id_or_name),
    }
    .map_err(ApiError::internal)?
    .ok_or_else(not_found)?;
    if body.is_empty() {
        return Err(ApiError::bad_request(
            "Request body is empty. You should provide a JSON payload containing the flow ID.",
        ));
    }
    let payload = String::from_utf8_lossy(&body).into_owned();
    let graph = compiled(&state, &flow)?;
    let mut tweaks = serde_json::Map::new();
    for v in &graph.vertices {
        if v.type_name == "Webhook" {
            tweaks.insert(v.id.to_string(), json!({"data": payload}));
        }
    }
    let variables = resolve_variables(&state, Some(&req), flow.user_id, &graph).await?;
    let request = BuildRequest {
        flow_id: flow.id,
        user_id: Some(flow.user_id),
        input: Some(RunInput { input_value: String::new(), input_type: InputType::Chat }),
        tweaks: Some(Value::Object(tweaks)),
        variables,
        mode: Mode::Run,
        quiet: true,
        ..BuildRequest::default()
    };
    let handle = state.engine.start(graph, request).map_err(graph_error)?;
    let flow_id = flow.id;
    actix_rt::spawn(async move {
        if let Err(e) = handle.finish().await {
            tracing::warn!(%flow_id, error = %e, "webhook run failed");
        }
    });
    Ok(HttpResponse::Accepted().json(json!({"message": "Task started in the background", "status": "in progress"})))
}
