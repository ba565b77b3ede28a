//! The access policy, bound to routes: every [`RouteSpec`](super::routes::RouteSpec) carries a
//! [`RouteRule`], and [`enforce`] runs as that route's own middleware, after the router matched
//! it and before any handler (and so before any body) is touched. The decision therefore holds
//! for whatever spelling of the path reached the route (`%75sers`, `_cli` as `%5Fcli`, ...).
//! Paths no route matches are default-deny (see `routes::fallback`).
//!
//! Beyond who may call a route, the same place applies the rules that depend on how the caller
//! authenticated:
//! - CSRF: a state-changing request authenticated by ambient authority (the access-token cookie,
//!   or auto-login without any credential) must carry a JSON body type (multipart for uploads)
//!   and, when it sends an `Origin`, one that is this server's own or explicitly allowed;
//! - CLI routes: only from a loopback peer, only with the token from `runtime.json`;
//! - token-issuing routes: marked so the CORS layer never lets another origin read them unless
//!   that origin is listed explicitly ([`protect_tokens`]);
//! - API-key scopes: every route has a [`ScopeRule`]; a key without the scope the route needs is
//!   refused (403 naming it), and a key without `admin` acts as a regular user even when its owner
//!   is a superuser. JWT, cookie and auto-login callers are unrestricted.

use std::net::{IpAddr, SocketAddr};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, ResponseError};

use flowactor_actors::clock::{now_micros, Micros};
use flowactor_actors::records::Scope;
use flowactor_actors::usage::KeyUse;
use uuid::Uuid;

use super::auth::{self, Credentials};
use super::routes::BodyKind;
use super::AppState;
use crate::error::ApiError;
use crate::settings::Settings;

/// Header carrying the local CLI's token (see `runtime.json` in the config dir).
pub const CLI_TOKEN_HEADER: &str = "x-flowactor-cli-token";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No credentials looked at.
    Public,
    /// Credentials used when valid, anonymous otherwise.
    Optional,
    /// Active user by JWT or API key.
    User,
    /// Active superuser.
    Superuser,
    /// API key only (`/run`).
    ApiKey,
    /// Webhooks: the handler applies `LANGFLOW_WEBHOOK_AUTH_ENABLE`.
    Webhook,
    /// The local CLI talking to a running server.
    Cli,
}

/// The API-key scope a route needs (see `routes::scope_of`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeRule {
    /// Nobody decided: a test refuses such a route, and at run time only a full key passes.
    Undecided,
    /// Any key (routes that take no identity, redirects, the not-found fallback).
    Free,
    Needs(Scope),
}

/// What the policy knows about the route a request matched; also left in the request's
/// extensions for the layers outside the router (CORS, logs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteRule {
    /// The route's pattern (`""` for the not-found fallback).
    pub pattern: &'static str,
    pub access: Access,
    pub body: BodyKind,
    pub issues_tokens: bool,
    pub scope: ScopeRule,
}

impl RouteRule {
    #[must_use]
    pub const fn new(pattern: &'static str, access: Access) -> Self {
        Self { pattern, access, body: BodyKind::Json, issues_tokens: false, scope: ScopeRule::Undecided }
    }
}

/// A scoped key on this route: refused without the route's scope; without `admin` it acts as a
/// regular user (its owner's superuser flag is off for the request).
fn apply_scopes(rule: RouteRule, identity: &mut auth::Identity) -> Result<(), ApiError> {
    let Some(policy) = identity.key_policy() else { return Ok(()) };
    match rule.scope {
        ScopeRule::Free => {}
        ScopeRule::Needs(scope) => identity.require_scope(scope)?,
        ScopeRule::Undecided if policy.scopes.is_some() => {
            return Err(ApiError::forbidden("This route is not open to scoped API keys"));
        }
        ScopeRule::Undecided => {}
    }
    if !policy.allows(Scope::Admin) {
        identity.user.is_superuser = false;
    }
    Ok(())
}

/// Webhooks with `LANGFLOW_WEBHOOK_AUTH_ENABLE`: the header key is preferred over the query one.
async fn webhook_key_user(state: &AppState, req: &actix_web::HttpRequest) -> Result<auth::Identity, ApiError> {
    let key = req
        .headers()
        .get(auth::API_KEY_PARAM)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| auth::query_param(req, auth::API_KEY_PARAM))
        .filter(|k| !k.is_empty())
        .ok_or_else(|| ApiError::forbidden("API key required when webhook authentication is enabled"))?;
    let creds = Credentials { token: None, api_key: Some(key), token_from_cookie: false };
    auth::current_user(state, &creds).await.map_err(|e| match e {
        ApiError::TooManyRequests { .. } => e,
        _ => ApiError::forbidden("Invalid API key"),
    })
}

/// A loopback peer (IPv4-mapped loopback included). Forwarding headers are never consulted.
#[must_use]
pub fn is_loopback_peer(peer: Option<SocketAddr>) -> bool {
    peer.is_some_and(|a| match a.ip() {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(v6.is_loopback(), |v4| v4.is_loopback()),
    })
}

/// The CLI routes' gate: a loopback peer and the runtime file's token.
///
/// # Errors
/// 403 otherwise.
pub fn cli_gate(state: &AppState, peer: Option<SocketAddr>, presented: &str) -> Result<(), ApiError> {
    if !is_loopback_peer(peer) {
        return Err(ApiError::forbidden("The CLI routes are only reachable from this machine"));
    }
    if !state.cli_token_matches(presented) {
        return Err(ApiError::forbidden("Invalid CLI token"));
    }
    Ok(())
}

/// `host[:port]` of an `Origin` value (`scheme://host[:port]`).
fn origin_authority(origin: &str) -> Option<&str> {
    let (scheme, rest) = origin.split_once("://")?;
    (matches!(scheme, "http" | "https") && !rest.is_empty() && !rest.contains('/')).then_some(rest)
}

/// An `Origin` this server accepts for cookie-authenticated writes: its own (the `Host` the
/// request was sent to) or one listed explicitly in `LANGFLOW_CORS_ORIGINS` (a wildcard lists
/// none).
#[must_use]
pub fn origin_allowed(settings: &Settings, origin: &str, host: Option<&str>) -> bool {
    if origin_listed(settings, origin) {
        return true;
    }
    match (origin_authority(origin), host) {
        (Some(authority), Some(host)) => authority.eq_ignore_ascii_case(host),
        _ => false,
    }
}

/// Listed explicitly in `LANGFLOW_CORS_ORIGINS` (token-issuing routes).
#[must_use]
pub fn origin_listed(settings: &Settings, origin: &str) -> bool {
    settings.cors_origins.iter().any(|o| o != "*" && o.trim_end_matches('/').eq_ignore_ascii_case(origin))
}

fn is_json_type(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// The CSRF rule for a request authenticated by ambient authority.
fn csrf_check(state: &AppState, rule: RouteRule, req: &ServiceRequest) -> Result<(), ApiError> {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    let headers = req.headers();
    let origin = headers.get(header::ORIGIN).map(|v| v.to_str().unwrap_or("\u{0}"));
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    if let Some(origin) = origin {
        if !origin_allowed(&state.settings, origin, host) {
            return Err(ApiError::forbidden("Origin not allowed for a cookie-authenticated request"));
        }
    }
    let content_type = headers.get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap_or_default());
    let has_body = headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .is_some_and(|n| n > 0);
    let unsupported = |expected: &str| {
        ApiError::detail(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("Unsupported Media Type: cookie-authenticated requests must send Content-Type: {expected}"),
        )
    };
    match rule.body {
        BodyKind::Json | BodyKind::Form => {
            if (has_body || content_type.is_some()) && !content_type.is_some_and(is_json_type) {
                return Err(unsupported("application/json"));
            }
        }
        BodyKind::Multipart => {
            let multipart =
                content_type.is_some_and(|c| c.trim_start().to_ascii_lowercase().starts_with("multipart/form-data"));
            if !multipart {
                return Err(unsupported("multipart/form-data"));
            }
            if origin.is_none() {
                return Err(ApiError::forbidden("A cookie-authenticated upload must send its Origin"));
            }
        }
    }
    Ok(())
}

/// Who is calling, per the route's [`Access`]; `None` for routes that take no identity.
async fn decide(state: &AppState, rule: RouteRule, req: &ServiceRequest) -> Result<Option<auth::Identity>, ApiError> {
    let creds = Credentials::from_request(req.request());
    let mut identity = match rule.access {
        Access::Public => None,
        Access::Webhook if !state.settings.webhook_auth_enable => None,
        Access::Webhook => Some(webhook_key_user(state, req.request()).await?),
        Access::Optional => auth::optional_user(state, &creds).await?,
        Access::User | Access::Superuser => Some(auth::current_user(state, &creds).await?),
        Access::ApiKey => Some(auth::api_key_user(state, &creds).await?),
        Access::Cli => {
            let presented = req.headers().get(CLI_TOKEN_HEADER).and_then(|v| v.to_str().ok()).unwrap_or_default();
            cli_gate(state, req.peer_addr(), presented)?;
            None
        }
    };
    if let Some(identity) = &mut identity {
        note_key(state, req, identity);
        apply_scopes(rule, identity)?;
        if rule.access == Access::Superuser && !identity.user.is_superuser {
            return Err(ApiError::forbidden("The user doesn't have enough privileges"));
        }
        // Ambient authority: the browser attaches it by itself (the cookie), or nothing was
        // presented at all (auto-login without a key).
        let ambient = !identity.via_api_key && (creds.token.is_none() || creds.token_from_cookie);
        if ambient {
            csrf_check(state, rule, req)?;
        }
    }
    Ok(identity)
}

/// The API key a request authenticated with and when, noted (and counted) as soon as it is
/// known, so that a refusal after authentication (a superuser route, say) is a use of that key.
#[derive(Debug, Clone, Copy)]
struct UsedKey(Uuid, Micros);

/// The TCP peer's address (forwarding headers are not trusted).
fn client(peer: Option<SocketAddr>) -> Option<String> {
    peer.map(|a| a.ip().to_canonical().to_string())
}

fn note_key(state: &AppState, req: &ServiceRequest, identity: &auth::Identity) {
    let Some((key_id, _)) = identity.key else { return };
    if req.extensions().get::<UsedKey>().is_some() {
        return;
    }
    let at = now_micros();
    state.key_usage.count(key_id, at, client(req.peer_addr()).as_deref());
    req.extensions_mut().insert(UsedKey(key_id, at));
}

/// Adds the request to its API key's recent uses, if it had one, now that the status is known:
/// the route pattern (never the raw path, which may carry the key), the status, the peer.
fn record_use<B>(state: &AppState, rule: RouteRule, res: &ServiceResponse<B>) {
    let req = res.request();
    let Some(UsedKey(key_id, at)) = req.extensions().get::<UsedKey>().copied() else { return };
    state.key_usage.finish(
        key_id,
        KeyUse {
            at,
            method: req.method().to_string(),
            route: rule.pattern.to_owned(),
            status: res.status().as_u16(),
            client: client(req.peer_addr()),
        },
    );
}

/// The route middleware: resolves identity per the route's [`Access`], applies the CSRF rule to
/// ambient credentials, and stores the identity and the rule in request extensions. A refusal
/// is answered here, as a response (so the access log sees it), before the handler runs. Once
/// the response status is known, a use of the request's API key is recorded.
pub async fn enforce(
    rule: RouteRule,
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    req.extensions_mut().insert(rule);
    if rule.access == Access::Public {
        return Ok(next.call(req).await?.map_into_left_body());
    }
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        let e = ApiError::internal("application state missing");
        return Ok(req.into_response(e.error_response()).map_into_right_body());
    };
    let res = match decide(&state, rule, &req).await {
        Ok(identity) => {
            if let Some(identity) = identity {
                req.extensions_mut().insert(identity);
            }
            next.call(req).await?.map_into_left_body()
        }
        Err(e) => req.into_response(e.error_response()).map_into_right_body(),
    };
    record_use(&state, rule, &res);
    Ok(res)
}

/// Outermost layer: a token-issuing route's answer is never readable by another origin unless
/// that origin is listed explicitly (the wildcard CORS default included).
pub async fn protect_tokens(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let origin = req.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let mut res = next.call(req).await?;
    let issues_tokens = res.request().extensions().get::<RouteRule>().is_some_and(|r| r.issues_tokens);
    if issues_tokens {
        let listed = match (&origin, res.request().app_data::<web::Data<AppState>>()) {
            (Some(o), Some(state)) => origin_listed(&state.settings, o),
            _ => false,
        };
        if !listed {
            let headers = res.headers_mut();
            headers.remove(header::ACCESS_CONTROL_ALLOW_ORIGIN);
            headers.remove(header::ACCESS_CONTROL_ALLOW_CREDENTIALS);
            headers.remove(header::ACCESS_CONTROL_EXPOSE_HEADERS);
        }
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_peers_only() {
        assert!(is_loopback_peer("127.0.0.1:5000".parse().ok()));
        assert!(is_loopback_peer("[::1]:5000".parse().ok()));
        assert!(is_loopback_peer("[::ffff:127.0.0.1]:5000".parse().ok()));
        assert!(!is_loopback_peer("10.0.0.1:5000".parse().ok()));
        assert!(!is_loopback_peer("[::ffff:192.168.1.1]:5000".parse().ok()));
        assert!(!is_loopback_peer(None));
    }

    #[test]
    fn json_types() {
        assert!(is_json_type("application/json"));
        assert!(is_json_type("Application/JSON; charset=utf-8"));
        assert!(is_json_type("application/merge-patch+json"));
        assert!(!is_json_type("text/plain"));
        assert!(!is_json_type("application/x-www-form-urlencoded"));
        assert!(!is_json_type("multipart/form-data; boundary=x"));
    }

    #[test]
    fn origin_authority_parsing() {
        assert_eq!(origin_authority("http://127.0.0.1:7860"), Some("127.0.0.1:7860"));
        assert_eq!(origin_authority("null"), None);
        assert_eq!(origin_authority("http://a/b"), None);
    }
}
