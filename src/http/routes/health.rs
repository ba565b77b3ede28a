//! Liveness, readiness, version and client configuration.

use actix_web::{web, HttpResponse};
use flowactor_actors::registry::Ping;
use serde_json::json;

use crate::error::{ApiError, ApiResult};
use crate::http::auth::MaybeIdentity;
use crate::http::routes::{route, RouteSpec};
use crate::http::AppState;

/// The Langflow version whose wire behaviour flowactor follows.
pub const COMPATIBLE_LANGFLOW_VERSION: &str = "1.13.0";

pub fn routes() -> Vec<RouteSpec> {
    vec![
        route!(Get "/health", Public, health),
        route!(Get "/health_check", Public, health_check),
        route!(Get "/healthz", Public, healthz),
        route!(Get "/api/v1/version", Public, version),
        route!(Get "/api/v1/config", Optional, config),
    ]
}

async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

async fn db_ok(state: &AppState) -> bool {
    matches!(state.registry.send(Ping).await, Ok(Ok(())))
}

async fn health_check(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    if db_ok(&state).await {
        return Ok(HttpResponse::Ok().json(json!({"status": "ok", "chat": "ok", "db": "ok"})));
    }
    Err(ApiError::DetailValue {
        status: actix_web::http::StatusCode::INTERNAL_SERVER_ERROR,
        detail: json!({"status": "nok", "chat": "ok", "db": "error check the server logs"}),
    })
}

async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    if db_ok(&state).await {
        HttpResponse::Ok().json(json!({"status": "ok"}))
    } else {
        HttpResponse::ServiceUnavailable().json(json!({"status": "nok"}))
    }
}

async fn version() -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "version": COMPATIBLE_LANGFLOW_VERSION,
        "main_version": COMPATIBLE_LANGFLOW_VERSION,
        "package": "Langflow",
        "server": format!("flowactor {}", env!("CARGO_PKG_VERSION")),
    }))
}

async fn config(state: web::Data<AppState>, caller: MaybeIdentity) -> HttpResponse {
    let s = &state.settings;
    let mut body = json!({
        "type": "public",
        "feature_flags": {"wxo_deployments": false, "mvp_components": false},
        "max_file_size_upload": s.max_file_size_upload,
        "event_delivery": s.event_delivery,
        "voice_mode_available": false,
        "frontend_timeout": 0,
        "mcp_base_url": "",
        "allow_custom_components": false,
    });
    if caller.0.is_some() {
        let full = json!({
            "type": "full",
            "serialization_max_items_length": 1000,
            "serialization_max_text_length": 6000,
            "auto_saving": true,
            "auto_saving_interval": 1000,
            "health_check_max_retries": 5,
            "webhook_polling_interval": 0,
            "public_flow_cleanup_interval": 3600,
            "public_flow_expiration": 86400,
            "webhook_auth_enable": s.webhook_auth_enable,
            "default_folder_name": "Starter Project",
            "hide_getting_started_progress": false,
        });
        if let (Some(b), Some(f)) = (body.as_object_mut(), full.as_object()) {
            b.extend(f.clone());
        }
    }
    HttpResponse::Ok().json(body)
}
