//! `/api/v1/api_key`: create (the only response with a full key), list (masked), delete, and
//! rotate (a flowactor addition: new key, same name and owner, old key retired at once or after
//! a grace period), and the usage audit of a key (flowactor).
//!
//! Scoped keys (a flowactor addition): the create body may carry `scopes`, `flow_ids`,
//! `endpoint_names` and `rate_limit_per_minute`; without them the key is Langflow's
//! full-privilege key. A key may only hand on what it holds: a scoped key creating or rotating a
//! key grants at most its own policy.

use actix_web::{web, HttpResponse};
use flowactor_actors::clock::{now_micros, parse_iso};
use flowactor_actors::records::{KeyPolicy, Scope};
use flowactor_actors::registry::{CreateApiKey, DeleteApiKey, GetKeyUsage, ListApiKeyUsage, ListApiKeys, RotateApiKey};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::{ApiError, ApiResult};
use crate::http::auth::Identity;
use crate::http::body::path_uuid;
use crate::http::routes::{route, RouteSpec};
use crate::http::views::{api_key_created, api_key_read_with_usage, api_key_usage};
use crate::http::AppState;

pub fn routes() -> Vec<RouteSpec> {
    vec![
        route!(Post "/api/v1/api_key/", User, create),
        route!(Get "/api/v1/api_key/", User, list),
        route!(Delete "/api/v1/api_key/{api_key_id}", User, delete),
        route!(Post "/api/v1/api_key/{api_key_id}/rotate", User, rotate),
        route!(Get "/api/v1/api_key/{api_key_id}/usage", User, usage),
    ]
}

/// `ApiKeyCreate`: `name` and `expires_at`, plus the policy fields; the rest (`api_key`,
/// `user_id`, counters) are server-controlled and ignored.
#[derive(Deserialize)]
struct ApiKeyCreate {
    name: Option<String>,
    expires_at: Option<Value>,
    #[serde(flatten)]
    policy: serde_json::Map<String, Value>,
}

/// Most entries in `flow_ids` or `endpoint_names`.
pub const MAX_POLICY_ENTRIES: usize = 100;

fn invalid(field: &str, msg: impl Into<String>) -> ApiError {
    ApiError::validation("value_error", &["body", field], msg)
}

/// A list field: absent or null is empty; otherwise non-empty strings, no duplicates.
fn string_list(body: &serde_json::Map<String, Value>, field: &str) -> ApiResult<Option<Vec<String>>> {
    let items = match body.get(field) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(ApiError::validation("list_type", &["body", field], "Input should be a valid list")),
    };
    if items.len() > MAX_POLICY_ENTRIES {
        return Err(invalid(field, format!("at most {MAX_POLICY_ENTRIES} entries")));
    }
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for item in items {
        let Some(text) = item.as_str().filter(|t| !t.is_empty()) else {
            return Err(invalid(field, "entries must be non-empty strings"));
        };
        if out.iter().any(|o| o == text) {
            return Err(invalid(field, format!("'{text}' is listed twice")));
        }
        out.push(text.to_owned());
    }
    Ok(Some(out))
}

/// The key policy of a create body (syntax only: flow ownership and who may grant what are
/// checked by the caller). Absent fields give Langflow's full-privilege key.
///
/// # Errors
/// 422 naming the field: an unknown, duplicate or empty list of scopes, a malformed or duplicate
/// flow id or endpoint name, a rate limit that is not a positive integer.
pub fn parse_policy(body: &serde_json::Map<String, Value>) -> ApiResult<KeyPolicy> {
    let scopes = match string_list(body, "scopes")? {
        None => None,
        Some(names) if names.is_empty() => {
            return Err(invalid("scopes", "must name at least one scope (omit it, or null, for a full key)"))
        }
        Some(names) => Some(
            names
                .iter()
                .map(|n| {
                    Scope::parse(n).ok_or_else(|| {
                        invalid("scopes", format!("unknown scope '{n}': expected run, read, write, keys or admin"))
                    })
                })
                .collect::<ApiResult<Vec<_>>>()?,
        ),
    };
    let flow_ids = string_list(body, "flow_ids")?
        .unwrap_or_default()
        .iter()
        .map(|t| uuid::Uuid::parse_str(t).map_err(|_| invalid("flow_ids", format!("'{t}' is not a valid UUID"))))
        .collect::<ApiResult<Vec<_>>>()?;
    let mut unique = flow_ids.clone();
    unique.sort_unstable();
    unique.dedup();
    if unique.len() != flow_ids.len() {
        return Err(invalid("flow_ids", "a flow is listed twice"));
    }
    let endpoint_names = string_list(body, "endpoint_names")?.unwrap_or_default();
    let rate_limit_per_minute = match body.get("rate_limit_per_minute") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_u64().and_then(|n| u32::try_from(n).ok()).filter(|n| *n > 0).ok_or_else(|| {
            ApiError::validation(
                "greater_than",
                &["body", "rate_limit_per_minute"],
                "Input should be a positive integer (at most 4294967295) or null",
            )
        })?),
    };
    let policy = KeyPolicy { scopes, flow_ids, endpoint_names, rate_limit_per_minute };
    if policy.restricts_flows() && !policy.allows(Scope::Run) {
        return Err(invalid(
            "flow_ids",
            "flow_ids and endpoint_names limit the 'run' scope, which scopes does not include",
        ));
    }
    Ok(policy)
}

/// May `caller` give a key this policy? `admin` only for a superuser (its key holding `admin`),
/// a scoped key at most its own policy, flow ids only of the caller's own flows.
fn check_grant(state: &AppState, caller: &Identity, policy: &KeyPolicy) -> ApiResult<()> {
    if policy.scopes.as_ref().is_some_and(|s| s.contains(&Scope::Admin)) && !caller.user.is_superuser {
        return Err(ApiError::forbidden("Only a superuser can create a key with the 'admin' scope"));
    }
    if let Some(own) = caller.key_policy() {
        if !policy.within(own) {
            return Err(ApiError::forbidden(
                "An API key can only grant what it holds: its scopes, flows and rate limit at most",
            ));
        }
    }
    for id in &policy.flow_ids {
        if state.flows.get_owned(caller.user.id, *id)?.is_none() {
            return Err(ApiError::not_found(format!("Flow with id {id} not found")));
        }
    }
    Ok(())
}

async fn create(
    state: web::Data<AppState>,
    caller: Identity,
    body: web::Json<ApiKeyCreate>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let expires_at = match body.expires_at {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => {
            let t = parse_iso(&text).ok_or_else(|| {
                ApiError::validation("datetime_parsing", &["body", "expires_at"], "Input should be a valid datetime")
            })?;
            if t <= now_micros() {
                return Err(ApiError::bad_request("expires_at must be in the future"));
            }
            Some(t)
        }
        Some(_) => {
            return Err(ApiError::validation(
                "datetime_type",
                &["body", "expires_at"],
                "Input should be a valid datetime",
            ))
        }
    };
    let policy = parse_policy(&body.policy)?;
    check_grant(&state, &caller, &policy)?;
    let (record, plaintext) =
        state.registry.send(CreateApiKey { user_id: caller.user.id, name: body.name, expires_at, policy }).await??;
    Ok(HttpResponse::Ok().json(api_key_created(&record, &plaintext)))
}

async fn list(state: web::Data<AppState>, caller: Identity) -> ApiResult<HttpResponse> {
    let keys = state.registry.send(ListApiKeyUsage { user_id: caller.user.id }).await??;
    Ok(HttpResponse::Ok().json(json!({
        "total_count": keys.len(),
        "user_id": caller.user.id,
        "api_keys": keys.iter().map(|(k, u)| api_key_read_with_usage(k, u)).collect::<Vec<_>>(),
    })))
}

/// The usage audit of one of the caller's keys (another user's key is "not found" too).
async fn usage(state: web::Data<AppState>, caller: Identity, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let key_id = path_uuid("api_key_id", &path)?;
    let usage = state.registry.send(GetKeyUsage { user_id: caller.user.id, key_id }).await??;
    Ok(HttpResponse::Ok().json(api_key_usage(key_id, &usage)))
}

async fn delete(state: web::Data<AppState>, caller: Identity, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let key_id = path_uuid("api_key_id", &path)?;
    state.registry.send(DeleteApiKey { user_id: caller.user.id, key_id }).await??;
    Ok(HttpResponse::Ok().json(json!({"detail": "API Key deleted"})))
}

#[derive(Deserialize, Default)]
struct RotateRequest {
    grace_period_seconds: Option<u64>,
}

async fn rotate(
    state: web::Data<AppState>,
    caller: Identity,
    path: web::Path<String>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let key_id = path_uuid("api_key_id", &path)?;
    let request: RotateRequest = if body.iter().all(u8::is_ascii_whitespace) {
        RotateRequest::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::validation("value_error", &["body", "grace_period_seconds"], e.to_string()))?
    };
    let grace_seconds = request.grace_period_seconds.unwrap_or(0);
    if let Some(own) = caller.key_policy() {
        // A scoped key may not turn a broader key into a fresh one it then holds.
        let keys = state.registry.send(ListApiKeys { user_id: caller.user.id }).await??;
        if keys.iter().find(|k| k.id == key_id).is_some_and(|k| !k.policy.within(own)) {
            return Err(ApiError::forbidden("An API key can only rotate keys that grant no more than it holds"));
        }
    }
    let (record, plaintext) =
        state.registry.send(RotateApiKey { user_id: caller.user.id, key_id, grace_seconds }).await??;
    let mut view = api_key_created(&record, &plaintext);
    if let Some(obj) = view.as_object_mut() {
        obj.insert("replaces".into(), json!(key_id));
        obj.insert("grace_period_seconds".into(), json!(grace_seconds));
    }
    Ok(HttpResponse::Ok().json(view))
}
