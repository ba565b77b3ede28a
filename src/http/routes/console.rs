//! The web console: a handful of pages (one HTML shell; the script picks the view from the path)
//! and their assets, embedded in the binary. Pages hold no data: the script calls the JSON API
//! with the cookies the login route sets. Asset names carry a hash of their content, so they are
//! cached for good, and every page is served with a strict Content-Security-Policy (no inline
//! script or style, nothing from another origin). `--backend-only` (`LANGFLOW_BACKEND_ONLY`) turns
//! the console off: its routes then answer FastAPI's 404.

use std::sync::LazyLock;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use flowactor_actors::records::UserRecord;
use flowactor_actors::registry::GetUser;

use crate::http::auth::{Credentials, REFRESH_COOKIE};
use crate::http::routes::{not_found, route, RouteSpec};
use crate::http::tokens::TokenKind;
use crate::http::AppState;

/// The policy every console page is served with.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
form-action 'self'; frame-ancestors 'none'";

/// Where the console sends a signed-in user by default.
pub const HOME: &str = "/flows";

struct Asset {
    /// The file's name in `console/`.
    source: &'static str,
    content_type: &'static str,
    body: &'static [u8],
    /// The URL it is served at: `/assets/<stem>.<hash>.<ext>`.
    url: String,
}

fn asset(source: &'static str, content_type: &'static str, body: &'static [u8]) -> Asset {
    let hash = blake3::hash(body).to_hex();
    let (stem, ext) = source.rsplit_once('.').unwrap_or((source, ""));
    Asset { source, content_type, body, url: format!("/assets/{stem}.{}.{ext}", &hash.as_str()[..16]) }
}

/// One of the console's scripts (loaded in the shell's order, sharing one global scope).
fn script(source: &'static str, body: &'static [u8]) -> Asset {
    asset(source, "text/javascript; charset=utf-8", body)
}

static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| {
    vec![
        script("ui.js", include_bytes!("../../../console/ui.js")),
        script("auth.js", include_bytes!("../../../console/auth.js")),
        script("admin.js", include_bytes!("../../../console/admin.js")),
        script("flows.js", include_bytes!("../../../console/flows.js")),
        script("playground.js", include_bytes!("../../../console/playground.js")),
        script("buildview.js", include_bytes!("../../../console/buildview.js")),
        script("app.js", include_bytes!("../../../console/app.js")),
        asset("app.css", "text/css; charset=utf-8", include_bytes!("../../../console/app.css")),
        asset("favicon.svg", "image/svg+xml", include_bytes!("../../../console/favicon.svg")),
    ]
});

/// The HTML shell with the hashed asset URLs filled in.
static SHELL: LazyLock<String> = LazyLock::new(|| {
    let mut html = include_str!("../../../console/index.html").to_owned();
    for a in ASSETS.iter() {
        html = html.replace(&format!("{{{{{}}}}}", a.source), &a.url);
    }
    html
});

/// The URL an embedded console file is served at (`app.js` → `/assets/app.<hash>.js`).
#[must_use]
pub fn asset_url(source: &str) -> Option<String> {
    ASSETS.iter().find(|a| a.source == source).map(|a| a.url.clone())
}

pub fn routes() -> Vec<RouteSpec> {
    vec![
        route!(Get "/", Public, root),
        route!(Get "/login", Public, login),
        route!(Get "/signup", Public, page),
        route!(Get "/flows", Public, page),
        route!(Get "/settings", Public, page),
        route!(Get "/settings/api-keys", Public, page),
        route!(Get "/settings/global-variables", Public, page),
        route!(Get "/admin", Public, admin),
        route!(Get "/playground/{flow_id}", Public, page),
        route!(Get "/flow/{flow_id}", Public, page),
        route!(Get "/assets/{file}", Public, asset_file),
    ]
}

/// The active user the access-token cookie (or bearer token) names, if any.
async fn signed_in(state: &AppState, req: &HttpRequest) -> Option<UserRecord> {
    let token = Credentials::from_request(req).token?;
    let id = state.tokens.verify(&token, TokenKind::Access).ok()?;
    let user = state.registry.send(GetUser { id }).await.ok()?.ok()??;
    user.is_active.then_some(user)
}

/// A valid refresh-token cookie: the script can renew an expired access token with it.
fn refreshable(state: &AppState, req: &HttpRequest) -> bool {
    req.cookie(REFRESH_COOKIE).is_some_and(|c| state.tokens.verify(c.value(), TokenKind::Refresh).is_ok())
}

fn redirect(to: &str) -> HttpResponse {
    HttpResponse::Found()
        .insert_header((header::LOCATION, to))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// The shell; `data-signup` tells the login page whether to offer the sign-up link,
/// `data-refresh` whether the script may renew an expired session.
fn shell(state: &AppState, req: &HttpRequest) -> HttpResponse {
    let signup = if state.settings.public_signup_open() { "true" } else { "false" };
    let refresh = if refreshable(state, req) { "true" } else { "false" };
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::REFERRER_POLICY, "same-origin"))
        .body(SHELL.replace("{{signup}}", signup).replace("{{refresh}}", refresh))
}

async fn page(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    if state.settings.backend_only {
        return not_found().await;
    }
    shell(&state, &req)
}

/// `/`: the flows when signed in (or able to renew the session), the login page otherwise.
async fn root(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    if state.settings.backend_only {
        return not_found().await;
    }
    let renewable = refreshable(&state, &req);
    redirect(if renewable || signed_in(&state, &req).await.is_some() { HOME } else { "/login" })
}

/// `/login`: a signed-in user goes straight to the flows.
async fn login(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    if state.settings.backend_only {
        return not_found().await;
    }
    if signed_in(&state, &req).await.is_some() {
        return redirect(HOME);
    }
    shell(&state, &req)
}

/// The Admin Page: superusers only; others go to their flows (or to the login page).
async fn admin(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    if state.settings.backend_only {
        return not_found().await;
    }
    match signed_in(&state, &req).await {
        // The script renews the session, then decides.
        None if refreshable(&state, &req) => shell(&state, &req),
        None => redirect("/login"),
        Some(user) if !user.is_superuser => redirect(HOME),
        Some(_) => shell(&state, &req),
    }
}

async fn asset_file(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    if state.settings.backend_only {
        return not_found().await;
    }
    let path = req.path();
    match ASSETS.iter().find(|a| a.url == path) {
        Some(a) => HttpResponse::Ok()
            .content_type(a.content_type)
            .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .body(a.body),
        None => not_found().await,
    }
}
