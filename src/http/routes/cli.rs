//! Local-only routes through which `flowactor superuser` / `flowactor api-key` act while the
//! server holds the database lock. They are authenticated by the random token the server writes
//! (mode 0600) into `runtime.json` in the config dir: whoever can read it could open the
//! database directly anyway.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use crate::admin::{self, AdminOutcome};
use crate::http::routes::{route, RouteSpec};
use crate::http::AppState;

pub fn routes() -> Vec<RouteSpec> {
    vec![route!(Post "/api/v1/_cli/superuser", Cli, superuser), route!(Post "/api/v1/_cli/api-key", Cli, api_key)]
}

#[derive(Deserialize)]
struct SuperuserRequest {
    username: Option<String>,
    password: Option<String>,
    auth_token: Option<String>,
}

fn respond(outcome: AdminOutcome) -> HttpResponse {
    HttpResponse::Ok().json(json!({"ok": outcome.ok, "lines": outcome.lines}))
}

async fn superuser(state: web::Data<AppState>, body: web::Json<SuperuserRequest>) -> HttpResponse {
    let b = body.into_inner();
    let ctx = admin::AdminContext { registry: &state.registry, settings: &state.settings, tokens: &state.tokens };
    respond(admin::create_superuser(&ctx, b.username, b.password, b.auth_token).await)
}

/// The body carries the key's policy fields, as `POST /api/v1/api_key/` spells them.
async fn api_key(state: web::Data<AppState>, body: web::Json<serde_json::Value>) -> HttpResponse {
    let policy = match admin::cli_policy(&body) {
        Ok(policy) => policy,
        Err(line) => return respond(AdminOutcome { ok: false, lines: vec![line] }),
    };
    let ctx = admin::AdminContext { registry: &state.registry, settings: &state.settings, tokens: &state.tokens };
    respond(admin::create_cli_api_key(&ctx, policy).await)
}
