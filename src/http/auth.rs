//! Who is calling? Credential extraction and the three resolution algorithms Langflow uses:
//! `get_current_user` (JWT or API key, for most routes), `api_key_security` (API key only, for
//! `/run`) and the optional variant (`/api/v1/config`, sign-up). The registry actor answers every
//! lookup, so a revoked key or deactivated user fails on the very next request.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use flowactor_actors::error::{KeyRefusal, RegistryError};
use flowactor_actors::records::{KeyGrant, KeyPolicy, Scope, UserRecord};
use flowactor_actors::registry::{AuthenticateApiKey, FindUser, GetUser};
use std::future::{ready, Ready};
use uuid::Uuid;

use super::tokens::{TokenError, TokenKind};
use super::AppState;
use crate::error::{ApiError, ApiResult};

pub const ACCESS_COOKIE: &str = "access_token_lf";
pub const REFRESH_COOKIE: &str = "refresh_token_lf";
pub const STORE_KEY_COOKIE: &str = "apikey_tkn_lflw";
pub const API_KEY_PARAM: &str = "x-api-key";
/// Longest credential we look at; longer values are refused without any lookup.
const MAX_CREDENTIAL_LEN: usize = 8192;

/// Langflow's text when auto-login is on but no key was sent.
pub const AUTO_LOGIN_ERROR: &str = "Since v1.5, LANGFLOW_AUTO_LOGIN requires a valid API key. Set LANGFLOW_SKIP_AUTH_AUTO_LOGIN=true to skip this check. Please update your authentication method.";

/// Credentials found on a request.
#[derive(Debug, Default)]
pub struct Credentials {
    /// Access JWT: `Authorization: Bearer` first, else the `access_token_lf` cookie.
    pub token: Option<String>,
    /// API key: the `x-api-key` query parameter first (Langflow's precedence), else the header.
    pub api_key: Option<String>,
    /// The access token came from the cookie (ambient authority: the CSRF rule applies).
    pub token_from_cookie: bool,
}

fn bounded(value: String) -> Option<String> {
    (!value.is_empty() && value.len() <= MAX_CREDENTIAL_LEN).then_some(value)
}

/// The last value of a query parameter (Langflow splits and keeps the last piece).
#[must_use]
pub fn query_param(req: &HttpRequest, name: &str) -> Option<String> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(req.query_string())
        .ok()?
        .into_iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v)
        .next_back()
}

impl Credentials {
    #[must_use]
    pub fn from_request(req: &HttpRequest) -> Self {
        let bearer =
            req.headers().get(actix_web::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| {
                let (scheme, rest) = v.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim().to_owned())
            });
        let token_from_cookie = bearer.is_none();
        let token = bearer.or_else(|| req.cookie(ACCESS_COOKIE).map(|c| c.value().to_owned())).and_then(bounded);
        let token_from_cookie = token_from_cookie && token.is_some();
        let api_key = query_param(req, API_KEY_PARAM)
            .or_else(|| req.headers().get(API_KEY_PARAM).and_then(|v| v.to_str().ok()).map(str::to_owned))
            .and_then(bounded);
        Self { token, api_key, token_from_cookie }
    }
}

/// The authenticated caller, stored in request extensions by the access policy.
#[derive(Debug, Clone)]
pub struct Identity {
    pub user: UserRecord,
    /// Authenticated by an API key (some routes refuse that, e.g. password changes).
    pub via_api_key: bool,
    /// The key's id and policy when authenticated by an API key (`None`: a JWT, the cookie or
    /// auto-login, which are unrestricted).
    pub key: Option<(Uuid, KeyPolicy)>,
}

impl Identity {
    fn person(user: UserRecord) -> Self {
        Self { user, via_api_key: false, key: None }
    }

    /// The policy of the key that authenticated this request (`None`: unrestricted).
    #[must_use]
    pub fn key_policy(&self) -> Option<&KeyPolicy> {
        self.key.as_ref().map(|(_, p)| p)
    }

    /// 403 unless the caller holds `scope` (everyone but a scoped key does).
    ///
    /// # Errors
    /// The missing scope, named.
    pub fn require_scope(&self, scope: Scope) -> ApiResult<()> {
        match self.key_policy() {
            Some(p) if !p.allows(scope) => Err(lacks_scope(scope)),
            _ => Ok(()),
        }
    }

    /// 403 unless the caller may run this flow (a key limited to other flows may not).
    ///
    /// # Errors
    /// The restriction, named; the same answer whether the flow exists or not.
    pub fn require_flow(&self, id: Uuid, endpoint_name: Option<&str>) -> ApiResult<()> {
        match self.key_policy() {
            Some(p) if !p.allows_flow(id, endpoint_name) => Err(flow_not_allowed()),
            _ => Ok(()),
        }
    }

    /// For a flow identifier (id or endpoint name) that resolved to no flow: 403 when a
    /// flow-limited key names a flow outside its limit (so it learns nothing about that flow),
    /// else `not_found`.
    #[must_use]
    pub fn missing_flow(&self, identifier: &str, not_found: ApiError) -> ApiError {
        match self.key_policy() {
            Some(p) if p.restricts_flows() => {
                let named = Uuid::parse_str(identifier).is_ok_and(|id| p.flow_ids.contains(&id))
                    || p.endpoint_names.iter().any(|n| n == identifier);
                if named {
                    not_found
                } else {
                    flow_not_allowed()
                }
            }
            _ => not_found,
        }
    }
}

/// 403 for a key outside its scopes.
#[must_use]
pub fn lacks_scope(scope: Scope) -> ApiError {
    ApiError::forbidden(format!("This API key lacks the '{}' scope", scope.as_str()))
}

fn flow_not_allowed() -> ApiError {
    ApiError::forbidden("This API key may only run the flows named by its flow_ids and endpoint_names")
}

impl FromRequest for Identity {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            req.extensions()
                .get::<Self>()
                .cloned()
                .ok_or_else(|| ApiError::forbidden("No authentication credentials provided")),
        )
    }
}

/// An optional caller (public routes that behave differently for signed-in users).
#[derive(Debug, Clone)]
pub struct MaybeIdentity(pub Option<Identity>);

impl FromRequest for MaybeIdentity {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Self(req.extensions().get::<Identity>().cloned())))
    }
}

async fn user_by_token(state: &AppState, token: &str) -> ApiResult<Option<UserRecord>> {
    let user_id = state.tokens.verify(token, TokenKind::Access).map_err(|e| {
        ApiError::unauthorized(match e {
            TokenError::Invalid => "Invalid token",
            TokenError::Expired => "Token has expired",
            TokenError::WrongType => "Invalid token type",
            TokenError::BadPayload => "Invalid token payload",
        })
    })?;
    if let Some(user) = state.auth_cache.user(user_id) {
        return Ok(Some(user));
    }
    let epoch = state.auth_cache.epoch();
    let user = state.registry.send(GetUser { id: user_id }).await??;
    if let Some(u) = &user {
        state.auth_cache.store_user(u.clone(), epoch);
    }
    Ok(user)
}

async fn grant_by_key(state: &AppState, key: &str) -> Result<KeyGrant, RegistryError> {
    if !flowactor_actors::crypto::looks_like_api_key(key) {
        return Err(RegistryError::Key(KeyRefusal::Unknown));
    }
    let hash = state.auth_cache.key_hash(key);
    if let Some(grant) = state.auth_cache.grant(&hash) {
        return Ok(grant);
    }
    let epoch = state.auth_cache.epoch();
    match state.registry.send(AuthenticateApiKey { key: key.to_owned() }).await {
        Ok(Ok(grant)) => {
            state.auth_cache.store_grant(hash, grant.clone(), epoch);
            Ok(grant)
        }
        Ok(Err(e)) => Err(e),
        Err(_) => Err(RegistryError::Unavailable),
    }
}

/// The identity of a granted key, after its own rate limit (counted per key, per instance).
fn key_identity(state: &AppState, grant: KeyGrant) -> ApiResult<Identity> {
    if let Some(limit) = grant.policy.rate_limit_per_minute {
        state
            .key_limiter
            .check_at_most(&grant.key_id, limit)
            .map_err(|retry_after| ApiError::TooManyRequests { retry_after })?;
    }
    Ok(Identity { user: grant.user, via_api_key: true, key: Some((grant.key_id, grant.policy)) })
}

/// The configured auto-login superuser (for `SKIP_AUTH_AUTO_LOGIN`).
async fn auto_login_user(state: &AppState) -> ApiResult<UserRecord> {
    if state.settings.superuser.is_empty() {
        return Err(ApiError::bad_request("Missing first superuser credentials"));
    }
    let user = state.registry.send(FindUser { username: state.settings.superuser.clone() }).await??;
    let user = user.ok_or_else(|| {
        ApiError::detail(actix_web::http::StatusCode::SERVICE_UNAVAILABLE, "Superuser not found in database")
    })?;
    if !user.is_active {
        return Err(ApiError::forbidden("User account is inactive"));
    }
    Ok(user)
}

/// Langflow's `get_current_user` + active check (1.13 semantics).
pub async fn current_user(state: &AppState, creds: &Credentials) -> ApiResult<Identity> {
    if let Some(token) = &creds.token {
        match user_by_token(state, token).await? {
            Some(user) if user.is_active => return Ok(Identity::person(user)),
            Some(_) => return Err(ApiError::unauthorized("User account is inactive")),
            None if creds.api_key.is_none() => return Err(ApiError::unauthorized("Token authentication failed")),
            None => {}
        }
    }
    if let Some(key) = &creds.api_key {
        return match grant_by_key(state, key).await {
            Ok(grant) => key_identity(state, grant),
            Err(RegistryError::Key(KeyRefusal::Unknown | KeyRefusal::Unusable)) => {
                Err(ApiError::forbidden("Invalid API key"))
            }
            Err(e) => Err(e.into()),
        };
    }
    if state.settings.auto_login && state.settings.skip_auth_auto_login {
        return Ok(Identity::person(auto_login_user(state).await?));
    }
    Err(ApiError::forbidden("No authentication credentials provided"))
}

/// Langflow's `api_key_security` (1.13): API keys only; JWTs are ignored.
pub async fn api_key_user(state: &AppState, creds: &Credentials) -> ApiResult<Identity> {
    if let Some(key) = &creds.api_key {
        return match grant_by_key(state, key).await {
            Ok(grant) => key_identity(state, grant),
            Err(RegistryError::Key(_)) => Err(ApiError::forbidden("Invalid or missing API key")),
            Err(e) => Err(e.into()),
        };
    }
    if state.settings.auto_login {
        if state.settings.superuser.is_empty() {
            return Err(ApiError::bad_request("Missing first superuser credentials"));
        }
        if state.settings.skip_auth_auto_login {
            tracing::warn!("LANGFLOW_SKIP_AUTH_AUTO_LOGIN is deprecated: a key-less request runs as the superuser");
            return Ok(Identity::person(auto_login_user(state).await?));
        }
        return Err(ApiError::forbidden(AUTO_LOGIN_ERROR));
    }
    Err(ApiError::forbidden("An API key must be passed as query or header"))
}

/// Any valid credential, else anonymous. Invalid credentials count as anonymous; a key over its
/// own rate limit is still refused.
///
/// # Errors
/// Only 429 for a rate-limited key.
pub async fn optional_user(state: &AppState, creds: &Credentials) -> ApiResult<Option<Identity>> {
    if creds.token.is_none() && creds.api_key.is_none() {
        return Ok(None);
    }
    match current_user(state, creds).await {
        Ok(identity) => Ok(Some(identity)),
        Err(e @ ApiError::TooManyRequests { .. }) => Err(e),
        Err(_) => Ok(None),
    }
}
