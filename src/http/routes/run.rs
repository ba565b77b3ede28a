//! `POST /api/v1/run/{flow_id_or_name}` (API key only, scoped to the key owner's flows) and
//! `POST /api/v1/webhook/{flow_id_or_name}`: Langflow's run surfaces, executed by the engine.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use flowactor_actors::engine::{BuildCanceller, BuildEvent, BuildHandle, BuildRequest, Mode, RunInput};
use flowactor_actors::graph::InputType;
use flowactor_actors::store::flows::FlowError;
use serde_json::{json, Value};

use crate::error::{build_error_text, ApiError, ApiResult};
use crate::http::auth::{query_param, Identity, MaybeIdentity};
use crate::http::body::optional_json;
use crate::http::events::{run_events, EventStream};
use crate::http::execution::{compiled, resolve_variables};
use crate::http::lifecycle::Drain;
use crate::http::routes::{route, RouteSpec};
use crate::http::AppState;

pub fn routes() -> Vec<RouteSpec> {
    vec![
        route!(Post "/api/v1/run/{flow_id_or_name}", ApiKey, run),
        route!(Post "/api/v1/webhook/{flow_id_or_name}", Webhook, webhook),
        route!(Post "/api/v1/process/{flow_id}", ApiKey, process),
    ]
}

/// Langflow 1.13's answer on its removed `/process` endpoint.
const PROCESS_DEPRECATED: &str =
    "The /process endpoint is deprecated and will be removed in a future version. Please use /run instead.";

/// `POST /api/v1/process/{flow_id}`: removed in Langflow; answers its 400 so old clients learn
/// to use `/run`.
async fn process() -> ApiResult<HttpResponse> {
    Err(ApiError::bad_request(PROCESS_DEPRECATED))
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
    let flow = state.flows.resolve(caller.user.id, &id_or_name)?.ok_or_else(|| {
        caller.missing_flow(&id_or_name, ApiError::not_found(format!("Flow identifier {id_or_name} not found")))
    })?;
    caller.require_flow(flow.id, flow.endpoint_name.as_deref())?;
    let graph = compiled(&state, &flow)?;
    let (variables, environment_variables) = resolve_variables(&state, Some(&req), flow.user_id, &graph).await?;
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
        environment_variables,
        mode: Mode::Run,
        stream,
        quiet: !stream,
        ..BuildRequest::default()
    };
    let handle = state.engine.start(graph, request)?;
    if stream {
        return Ok(stream_run(&state, handle, run_req));
    }
    // actix-web drops this future when the client disconnects; the guard then cancels the build.
    let guard = CancelOnDrop(Some(handle.cancel.clone()));
    let canceller = handle.cancel.clone();
    let result = tokio::select! {
        finished = handle.finish() => finished,
        () = state.drain.expired() => {
            canceller.cancel();
            return Err(Drain::error());
        }
    };
    guard.disarm();
    match result {
        Ok(outcome) => Ok(HttpResponse::Ok().json(outcome.run_response(
            run_req.input_value.as_deref(),
            &run_req.output_type,
            run_req.output_component.as_deref(),
        ))),
        Err(e) => Err(ApiError::run_failed(&e)),
    }
}

/// Cancels a build when dropped before it is disarmed: a non-streamed `/run` whose client went
/// away stops running instead of finishing for nobody.
struct CancelOnDrop(Option<BuildCanceller>);

impl CancelOnDrop {
    /// The build finished: nothing to cancel.
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(canceller) = self.0.take() {
            canceller.cancel();
        }
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
        .on_abandon(move || canceller.cancel())
        .until(state.drain.expired());
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
    let not_found = || {
        let e = ApiError::not_found(format!("Flow identifier {id_or_name} not found"));
        match &caller.0 {
            Some(identity) => identity.missing_flow(&id_or_name, e),
            None => e,
        }
    };
    let flow = match &caller.0 {
        Some(identity) => state.flows.resolve(identity.user.id, &id_or_name),
        None => state.flows.resolve_any(&id_or_name),
    }
    .map_err(|e| match e {
        FlowError::Conflict(m) => ApiError::detail(StatusCode::CONFLICT, m),
        other => ApiError::internal(other),
    })?
    .ok_or_else(not_found)?;
    if let Some(identity) = &caller.0 {
        identity.require_flow(flow.id, flow.endpoint_name.as_deref())?;
    }
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
    // An anonymous caller (webhook auth off) is not the owner: its headers set no variables.
    let headers_from = caller.0.is_some().then_some(&req);
    let (variables, environment_variables) = resolve_variables(&state, headers_from, flow.user_id, &graph).await?;
    let request = BuildRequest {
        flow_id: flow.id,
        user_id: Some(flow.user_id),
        input: Some(RunInput { input_value: String::new(), input_type: InputType::Chat }),
        tweaks: Some(Value::Object(tweaks)),
        variables,
        environment_variables,
        mode: Mode::Run,
        quiet: true,
        ..BuildRequest::default()
    };
    let handle = state.engine.start(graph, request)?;
    let flow_id = flow.id;
    actix_rt::spawn(async move {
        if let Err(e) = handle.finish().await {
            tracing::warn!(%flow_id, error = %e, "webhook run failed");
        }
    });
    Ok(HttpResponse::Accepted().json(json!({"message": "Task started in the background", "status": "in progress"})))
}
