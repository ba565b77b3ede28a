//! Login, auto-login, refresh, logout and session: JWT pairs and their cookies.

use actix_web::cookie::time::{Duration as CookieDuration, OffsetDateTime};
use actix_web::cookie::{Cookie, SameSite as CookieSameSite};
use actix_web::{web, HttpRequest, HttpResponse};
use flowactor_actors::records::UserRecord;
use flowactor_actors::registry::{FindUser, FirstSuperuser, GetUser, Login, TouchLogin};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::{ApiError, ApiResult};
use crate::http::auth::{ACCESS_COOKIE, REFRESH_COOKIE, STORE_KEY_COOKIE};
use crate::http::routes::{route, BodyKind, RouteSpec};
use crate::http::tokens::{TokenError, TokenKind};
use crate::http::views::user_read;
use crate::http::AppState;
use crate::settings::{CookiePolicy, SameSite};

/// The password Langflow shipped as a default; never accepted for the bootstrap superuser.
pub const LEGACY_DEFAULT_PASSWORD: &str = "langflow";

pub fn routes() -> Vec<RouteSpec> {
    vec![
        route!(Post "/api/v1/login", Public, login).body(BodyKind::Form).issues_tokens(),
        route!(Get "/api/v1/auto_login", Public, auto_login).issues_tokens(),
        route!(Post "/api/v1/refresh", Public, refresh).issues_tokens(),
        route!(Post "/api/v1/logout", Public, logout),
        route!(Get "/api/v1/session", Public, session),
    ]
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    grant_type: Option<String>,
}

fn same_site(s: SameSite) -> CookieSameSite {
    match s {
        SameSite::Lax => CookieSameSite::Lax,
        SameSite::Strict => CookieSameSite::Strict,
        SameSite::None => CookieSameSite::None,
    }
}

fn cookie<'a>(state: &AppState, name: &'a str, value: String, policy: &CookiePolicy, ttl: Option<u64>) -> Cookie<'a> {
    let mut c = Cookie::build(name, value)
        .path("/")
        .http_only(policy.http_only)
        .secure(policy.secure)
        .same_site(same_site(policy.same_site))
        .finish();
    if let Some(ttl) = ttl {
        c.set_expires(OffsetDateTime::now_utc() + CookieDuration::seconds(i64::try_from(ttl).unwrap_or(i64::MAX / 2)));
    }
    if let Some(domain) = &state.settings.cookie_domain {
        c.set_domain(domain.clone());
    }
    c
}

/// Deletes a cookie with exactly the attributes it was set with.
fn removal<'a>(state: &AppState, name: &'a str, policy: &CookiePolicy) -> Cookie<'a> {
    let mut c = cookie(state, name, String::new(), policy, None);
    c.set_max_age(CookieDuration::ZERO);
    c.set_expires(OffsetDateTime::UNIX_EPOCH);
    c
}

/// `{"access_token", "refresh_token", "token_type"}` plus the three cookies.
fn token_response(state: &AppState, user: &UserRecord) -> ApiResult<HttpResponse> {
    let access = state.tokens.issue(user.id, TokenKind::Access)?;
    let refresh = state.tokens.issue(user.id, TokenKind::Refresh)?;
    let s = &state.settings;
    Ok(HttpResponse::Ok()
        .cookie(cookie(state, REFRESH_COOKIE, refresh.clone(), &s.refresh_cookie, Some(s.refresh_token_expire_seconds)))
        .cookie(cookie(state, ACCESS_COOKIE, access.clone(), &s.access_cookie, Some(s.access_token_expire_seconds)))
        .cookie(cookie(state, STORE_KEY_COOKIE, String::new(), &s.access_cookie, None))
        .json(json!({"access_token": access, "refresh_token": refresh, "token_type": "bearer"})))
}

async fn login(state: web::Data<AppState>, req: HttpRequest, form: web::Form<LoginForm>) -> ApiResult<HttpResponse> {
    let form = form.into_inner();
    state
        .login_limiter
        .check(&req.peer_addr().map(|a| a.ip()))
        .map_err(|retry_after| ApiError::TooManyRequests { retry_after })?;
    if form.grant_type.as_deref().is_some_and(|g| g != "password") {
        return Err(ApiError::validation(
            "string_pattern_mismatch",
            &["body", "grant_type"],
            "String should match pattern '^password$'",
        ));
    }
    // The legacy default password is refused for the superuser, at the cost of any other failed
    // attempt (a full password check against a password that cannot match), so the refusal's
    // timing does not reveal the superuser's name.
    let password = if form.username == state.settings.superuser && form.password == LEGACY_DEFAULT_PASSWORD {
        flowactor_actors::crypto::generate_secret()
    } else {
        form.password
    };
    let username = form.username;
    let user = match state.registry.send(Login { username: username.clone(), password }).await? {
        Ok(user) => user,
        Err(e) => {
            tracing::info!(%username, peer = ?req.peer_addr().map(|a| a.ip()), "login refused");
            return Err(e.into());
        }
    };
    token_response(&state, &user)
}

async fn auto_login(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    if !state.settings.auto_login {
        return Err(ApiError::DetailValue {
            status: actix_web::http::StatusCode::FORBIDDEN,
            detail: json!({"message": "Auto login is disabled.", "auto_login": false}),
        });
    }
    let named = state.registry.send(FindUser { username: state.settings.superuser.clone() }).await??;
    let user = match named.filter(|u| u.is_superuser) {
        Some(u) => u,
        None => state
            .registry
            .send(FirstSuperuser)
            .await??
            .ok_or_else(|| ApiError::bad_request("Super user hasn't been created"))?,
    };
    if !user.is_active {
        return Err(ApiError::unauthorized("User account is inactive"));
    }
    let user = state.registry.send(TouchLogin { id: user.id }).await??;
    token_response(&state, &user)
}

async fn refresh(state: web::Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    let invalid = || ApiError::unauthorized_bearer("Invalid refresh token");
    let token = req.cookie(REFRESH_COOKIE).map(|c| c.value().to_owned()).ok_or_else(invalid)?;
    let user_id = state.tokens.verify(&token, TokenKind::Refresh).map_err(|_: TokenError| invalid())?;
    let user = state.registry.send(GetUser { id: user_id }).await??.ok_or_else(invalid)?;
    if !user.is_active {
        return Err(ApiError::unauthorized_bearer("User account is inactive"));
    }
    token_response(&state, &user)
}

async fn logout(state: web::Data<AppState>) -> HttpResponse {
    let s = &state.settings;
    HttpResponse::Ok()
        .cookie(removal(&state, REFRESH_COOKIE, &s.refresh_cookie))
        .cookie(removal(&state, ACCESS_COOKIE, &s.access_cookie))
        .cookie(removal(&state, STORE_KEY_COOKIE, &s.access_cookie))
        .json(json!({"message": "Logout successful"}))
}

async fn session(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let creds = crate::http::auth::Credentials::from_request(&req);
    let mut user: Option<Value> = None;
    if let Some(token) = creds.token {
        if let Ok(id) = state.tokens.verify(&token, TokenKind::Access) {
            if let Ok(Ok(Some(u))) = state.registry.send(GetUser { id }).await {
                if u.is_active {
                    user = Some(user_read(&u));
                }
            }
        }
    }
    HttpResponse::Ok().json(json!({"authenticated": user.is_some(), "user": user, "store_api_key": Value::Null}))
}
