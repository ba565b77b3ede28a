//! `/api/v1/api_key`: create (the only response with a full key), list (masked), delete, and
//! rotate (a flowactor addition: new key, same name and owner, old key retired at once or after
//! a grace period), and the usage audit of a key (flowactor).

use actix_web::{web, HttpResponse};
use flowactor_actors::clock::{now_micros, parse_iso};
use flowactor_actors::registry::{CreateApiKey, DeleteApiKey, GetKeyUsage, ListApiKeyUsage, RotateApiKey};
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

/// `ApiKeyCreate`: only `name` and `expires_at` are honoured; the rest (`api_key`, `user_id`,
/// counters) are server-controlled and ignored.
#[derive(Deserialize)]
struct ApiKeyCreate {
    name: Option<String>,
    expires_at: Option<Value>,
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
    let (record, plaintext) =
        state.registry.send(CreateApiKey { user_id: caller.user.id, name: body.name, expires_at }).await??;
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
    let (record, plaintext) =
        state.registry.send(RotateApiKey { user_id: caller.user.id, key_id, grace_seconds }).await??;
    let mut view = api_key_created(&record, &plaintext);
    if let Some(obj) = view.as_object_mut() {
        obj.insert("replaces".into(), json!(key_id));
        obj.insert("grace_period_seconds".into(), json!(grace_seconds));
    }
    Ok(HttpResponse::Ok().json(view))
}
