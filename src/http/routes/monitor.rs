//! `/api/v1/monitor/messages*`: chat history, scoped to the caller's flows. A message is visible
//! only through its flow, so another user's messages are listed as nothing and answer 404 when
//! addressed directly.

use std::collections::HashSet;

use actix_web::{web, HttpResponse};
use flowactor_actors::store::messages::{MessagePatch, MessageRecord};
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::http::auth::Identity;
use crate::http::body::{path_uuid, query_int};
use crate::http::routes::{route, RouteSpec};
use crate::http::AppState;

/// Most sessions one bulk delete may name (Langflow's limit).
const MAX_SESSIONS_PER_DELETE: usize = 500;
/// Most message ids one bulk delete may name.
const MAX_IDS_PER_DELETE: usize = 10_000;
/// Page size of `GET /messages` without `limit` (or with `limit=0`), and its largest page
/// (Langflow 1.13's `_MESSAGES_DEFAULT_LIMIT` / `_MESSAGES_MAX_LIMIT`).
const MESSAGES_DEFAULT_LIMIT: usize = 100;
const MESSAGES_MAX_LIMIT: usize = 200;

pub fn routes() -> Vec<RouteSpec> {
    vec![
        route!(Get "/api/v1/monitor/messages", User, list),
        route!(Delete "/api/v1/monitor/messages", User, delete_messages),
        route!(Get "/api/v1/monitor/messages/sessions", User, sessions),
        route!(Delete "/api/v1/monitor/messages/sessions", User, delete_sessions),
        route!(Patch "/api/v1/monitor/messages/session/{session_id}", User, rename_session),
        route!(Delete "/api/v1/monitor/messages/session/{session_id}", User, delete_session),
        route!(Put "/api/v1/monitor/messages/{message_id}", User, update),
    ]
}

/// The caller's flow ids (all of them, or the one asked for if it is theirs).
fn scoped_flows(state: &AppState, caller: &Identity, flow_id: Option<&str>) -> ApiResult<Vec<Uuid>> {
    match flow_id {
        Some(raw) => {
            let id = Uuid::parse_str(raw).map_err(|_| {
                ApiError::validation("uuid_parsing", &["query", "flow_id"], "Input should be a valid UUID")
            })?;
            Ok(state.flows.get_owned(caller.user.id, id)?.map(|f| f.id).into_iter().collect())
        }
        None => Ok(state.flows.owned_ids(caller.user.id)?),
    }
}

fn owns(state: &AppState, caller: &Identity, flow_id: Uuid) -> ApiResult<bool> {
    Ok(state.flows.get_owned(caller.user.id, flow_id)?.is_some())
}

#[derive(Deserialize)]
struct ListQuery {
    flow_id: Option<String>,
    session_id: Option<String>,
    sender: Option<String>,
    sender_name: Option<String>,
    order_by: Option<String>,
    order: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
}

fn sort_key(order_by: &str) -> ApiResult<fn(&MessageRecord, &MessageRecord) -> std::cmp::Ordering> {
    Ok(match order_by {
        "timestamp" => |a, b| a.timestamp.cmp(&b.timestamp),
        "sender" => |a, b| a.sender.cmp(&b.sender).then(a.timestamp.cmp(&b.timestamp)),
        "sender_name" => |a, b| a.sender_name.cmp(&b.sender_name).then(a.timestamp.cmp(&b.timestamp)),
        "session_id" => |a, b| a.session_id.cmp(&b.session_id).then(a.timestamp.cmp(&b.timestamp)),
        "text" => |a, b| a.text.cmp(&b.text).then(a.timestamp.cmp(&b.timestamp)),
        other => return Err(ApiError::bad_request(format!("Invalid order_by field: {other}"))),
    })
}

/// Langflow 1.13's paging: the window is always the newest messages (timestamp, then id,
/// descending) after `offset`, at most `limit` of them (default 100, at most 200); the window
/// is then shown in the requested order (`order_by`, `order` ASC or DESC).
async fn list(state: web::Data<AppState>, caller: Identity, q: web::Query<ListQuery>) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    let order_by = q.order_by.as_deref().unwrap_or("timestamp");
    let order = sort_key(order_by)?;
    let direction = q.order.as_deref().unwrap_or("ASC");
    let descending = match direction.to_ascii_uppercase().as_str() {
        "ASC" => false,
        "DESC" => true,
        _ => return Err(ApiError::bad_request(format!("Invalid order direction: {direction}"))),
    };
    let limit = match query_int("limit", q.limit.as_deref(), 0)? {
        None | Some(0) => MESSAGES_DEFAULT_LIMIT,
        Some(n) => n.min(MESSAGES_MAX_LIMIT),
    };
    let offset = query_int("offset", q.offset.as_deref(), 0)?.unwrap_or(0);
    let flows = scoped_flows(&state, &caller, q.flow_id.as_deref())?;
    let mut out = state.engine.messages().newest_page(
        &flows,
        q.session_id.as_deref(),
        q.sender.as_deref(),
        q.sender_name.as_deref(),
        offset,
        limit,
    )?;
    // The window is newest first.
    match (order_by, descending) {
        ("timestamp", false) => out.reverse(),
        ("timestamp", true) => {}
        (_, false) => out.sort_by(order),
        (_, true) => out.sort_by(|a, b| order(b, a)),
    }
    Ok(HttpResponse::Ok().json(out.iter().map(MessageRecord::to_json).collect::<Vec<_>>()))
}

#[derive(Deserialize)]
struct FlowQuery {
    flow_id: Option<String>,
}

async fn sessions(state: web::Data<AppState>, caller: Identity, q: web::Query<FlowQuery>) -> ApiResult<HttpResponse> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for flow_id in scoped_flows(&state, &caller, q.flow_id.as_deref())? {
        for s in state.engine.messages().sessions(flow_id)? {
            if !s.starts_with("agentic_") && seen.insert(s.clone()) {
                out.push(s);
            }
        }
    }
    Ok(HttpResponse::Ok().json(out))
}

async fn delete_messages(
    state: web::Data<AppState>,
    caller: Identity,
    body: web::Json<Vec<Uuid>>,
) -> ApiResult<HttpResponse> {
    let ids = body.into_inner();
    if ids.len() > MAX_IDS_PER_DELETE {
        return Err(ApiError::bad_request(format!("Cannot delete more than {MAX_IDS_PER_DELETE} messages at once.")));
    }
    let mut mine = Vec::new();
    for id in ids {
        if let Some(m) = state.engine.messages().get(id)? {
            if owns(&state, &caller, m.flow_id)? {
                mine.push(id);
            }
        }
    }
    state.engine.messages().delete_ids(&mine)?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
struct MessageUpdate {
    text: Option<String>,
    sender: Option<String>,
    sender_name: Option<String>,
    session_id: Option<String>,
    context_id: Option<String>,
    files: Option<Vec<String>>,
    edit: Option<bool>,
    error: Option<bool>,
    properties: Option<Value>,
    session_metadata: Option<Value>,
}

async fn update(
    state: web::Data<AppState>,
    caller: Identity,
    path: web::Path<String>,
    body: web::Json<MessageUpdate>,
) -> ApiResult<HttpResponse> {
    let id = path_uuid("message_id", &path)?;
    let not_found = || ApiError::not_found("Message not found");
    let message = state.engine.messages().get(id)?.ok_or_else(not_found)?;
    if !owns(&state, &caller, message.flow_id)? {
        return Err(not_found());
    }
    let b = body.into_inner();
    let limit = state.settings.max_message_bytes;
    if b.text.as_ref().is_some_and(|t| t.len() > limit) {
        return Err(ApiError::detail(
            actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
            format!("The message text is larger than the limit of {limit} bytes (FLOWACTOR_MAX_MESSAGE_BYTES)"),
        ));
    }
    let patch = MessagePatch {
        text: b.text,
        sender: b.sender,
        sender_name: b.sender_name,
        session_id: b.session_id,
        context_id: b.context_id,
        files: b.files,
        edit: b.edit,
        error: b.error,
        properties: b.properties.map(|p| p.to_string()),
        session_metadata: b.session_metadata.map(|p| p.to_string()),
        ..MessagePatch::default()
    };
    let updated = state.engine.messages().update(id, patch)?.ok_or_else(not_found)?;
    Ok(HttpResponse::Ok().json(updated.to_json()))
}

#[derive(Deserialize)]
struct RenameQuery {
    new_session_id: String,
}

async fn rename_session(
    state: web::Data<AppState>,
    caller: Identity,
    path: web::Path<String>,
    q: web::Query<RenameQuery>,
) -> ApiResult<HttpResponse> {
    let old = path.into_inner();
    let new = q.into_inner().new_session_id;
    let mut renamed = Vec::new();
    for flow_id in scoped_flows(&state, &caller, None)? {
        if state.engine.messages().rename_session(flow_id, &old, &new)? > 0 {
            renamed.extend(state.engine.messages().list(flow_id, Some(&new), None, None)?);
        }
    }
    if renamed.is_empty() {
        return Err(ApiError::not_found("No messages found with the given session ID"));
    }
    Ok(HttpResponse::Ok().json(renamed.iter().map(MessageRecord::to_json).collect::<Vec<_>>()))
}

async fn delete_session(
    state: web::Data<AppState>,
    caller: Identity,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    for flow_id in scoped_flows(&state, &caller, None)? {
        state.engine.messages().delete_session(flow_id, &path)?;
    }
    Ok(HttpResponse::NoContent().finish())
}

async fn delete_sessions(
    state: web::Data<AppState>,
    caller: Identity,
    body: web::Json<Vec<String>>,
) -> ApiResult<HttpResponse> {
    let sessions = body.into_inner();
    if sessions.len() > MAX_SESSIONS_PER_DELETE {
        return Err(ApiError::bad_request("Cannot delete more than 500 sessions at once. Please batch your requests."));
    }
    if sessions.is_empty() {
        return Ok(HttpResponse::Ok().json(json!({"message": "No sessions to delete", "deleted_count": 0})));
    }
    let flows = scoped_flows(&state, &caller, None)?;
    let mut deleted = 0;
    for s in &sessions {
        for flow_id in &flows {
            deleted += state.engine.messages().delete_session(*flow_id, s)?;
        }
    }
    Ok(HttpResponse::Ok().json(json!({
        "message": format!("Messages deleted successfully for {} session(s)", sessions.len()),
        "deleted_count": sessions.len(),
        "deleted_messages": deleted,
    })))
}
