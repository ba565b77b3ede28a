//! One module per resource. `configure` is the route inventory; `policy::access_for` must agree
//! with it (a test checks every non-public route refuses anonymous callers).

pub mod api_keys;
pub mod build;
pub mod cli;
pub mod flows;
pub mod health;
pub mod login;
pub mod monitor;
pub mod projects;
pub mod run;
pub mod users;
pub mod variables;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::error::ApiError;

/// Collection paths that Langflow declares with a trailing slash; the bare form answers 307.
pub const SLASHED_COLLECTIONS: &[&str] = &[
    "/api/v1/users",
    "/api/v1/api_key",
    "/api/v1/variables",
    "/api/v1/flows",
    "/api/v1/flows/batch",
    "/api/v1/flows/upload",
    "/api/v1/flows/download",
    "/api/v1/flows/basic_examples",
    "/api/v1/projects",
    "/api/v1/projects/upload",
];

pub fn configure(cfg: &mut web::ServiceConfig) {
    for path in SLASHED_COLLECTIONS {
        cfg.route(path, web::to(redirect_to_slash));
    }
    health::configure(cfg);
    login::configure(cfg);
    users::configure(cfg);
    api_keys::configure(cfg);
    variables::configure(cfg);
    run::configure(cfg);
    build::configure(cfg);
    monitor::configure(cfg);
    flows::configure(cfg);
    projects::configure(cfg);
    cli::configure(cfg);
}

/// FastAPI's `redirect_slashes`: 307 to the slashed URL, method and body preserved.
async fn redirect_to_slash(req: HttpRequest) -> HttpResponse {
    let query = req.query_string();
    let location = if query.is_empty() { format!("{}/", req.path()) } else { format!("{}/?{query}", req.path()) };
    HttpResponse::TemporaryRedirect().insert_header((header::LOCATION, location)).finish()
}

/// Unknown routes: FastAPI's 404 body.
pub async fn not_found() -> HttpResponse {
    actix_web::ResponseError::error_response(&ApiError::not_found("Not Found"))
}
