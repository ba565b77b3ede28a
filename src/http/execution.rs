//! What `/run`, webhooks and `/build` share before a build starts: the compiled graph of a
//! stored flow and the global variables it needs.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use actix_web::HttpRequest;
use flowactor_actors::graph::CompiledGraph;
use flowactor_actors::registry::ResolveVariable;
use flowactor_actors::store::flows::FlowRecord;
use uuid::Uuid;

use super::AppState;
use crate::error::{ApiError, ApiResult};

/// Prefix of request-scoped global variable headers.
const GLOBAL_VAR_HEADER: &str = "x-langflow-global-var-";

/// Builds store chat messages: on a full disk they are refused before anything runs (507).
///
/// # Errors
/// 507 while the free-space reserve is not available.
pub fn require_space(state: &AppState) -> ApiResult<()> {
    state.flows.check_space().map_err(|_| ApiError::insufficient_storage())
}

/// The compiled graph of a stored flow (parsed only when this version is not cached); refused
/// with 507 while the disk is full, since running it stores messages.
pub fn compiled(state: &AppState, flow: &FlowRecord) -> ApiResult<Arc<CompiledGraph>> {
    require_space(state)?;
    if let Some(g) = state.engine.cached(flow.id, flow.content_hash) {
        return Ok(g);
    }
    let data = flow.data_value()?;
    if data.is_null() {
        return Err(ApiError::bad_request("Flow has no data"));
    }
    Ok(state.engine.compile(flow.id, flow.content_hash, &data)?)
}

/// Global variables a graph needs, and which of them came from the server's environment.
///
/// Request headers (`X-LANGFLOW-GLOBAL-VAR-*`) come first, but only from `headers_from`, a
/// request made by the flow's owner; then the owner's variables; then, unless
/// `LANGFLOW_FALLBACK_TO_ENV_VAR` is off, the values captured at start-up for the names listed in
/// `LANGFLOW_VARIABLES_TO_GET_FROM_ENVIRONMENT` (reserved names never). The environment is not
/// read at request time.
pub async fn resolve_variables(
    state: &AppState,
    headers_from: Option<&HttpRequest>,
    user_id: Uuid,
    graph: &CompiledGraph,
) -> ApiResult<(HashMap<String, String>, HashSet<String>)> {
    let mut vars = HashMap::new();
    let mut from_environment = HashSet::new();
    if let Some(req) = headers_from {
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
        } else if let Some(v) = state.settings.environment_fallback.get(name) {
            vars.insert(name.clone(), v.expose().to_owned());
            from_environment.insert(name.clone());
        }
    }
    Ok((vars, from_environment))
}
