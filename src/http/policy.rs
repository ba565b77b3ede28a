//! The access policy: one table that says, for every route, who may call it, enforced by a
//! middleware before any handler (and so before any body) is touched.
//!
//! Default-deny: a path not listed as public needs an authenticated, active user. This is the
//! single place to audit; a test walks the route inventory and checks that every non-public
//! route refuses an anonymous caller.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage};

use super::auth::{self, Credentials};
use super::AppState;
use crate::error::ApiError;

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

/// Decides the access rule for a request line.
#[must_use]
pub fn access_for(method: &Method, path: &str) -> Access {
    let trimmed = path.trim_end_matches('/');
    let segments: Vec<&str> = trimmed.split('/').filter(|s| !s.is_empty()).collect();
    if *method == Method::OPTIONS {
        return Access::Public;
    }
    match segments.as_slice() {
        ["health" | "health_check" | "healthz"] => Access::Public,
        ["api", "v1", "version" | "login" | "auto_login" | "refresh" | "logout" | "session"] => Access::Public,
        ["api", "v1", "config"] => Access::Optional,
        ["api", "v1", "users"] if *method == Method::POST => Access::Optional,
        ["api", "v1", "users"] if *method == Method::GET => Access::Superuser,
        ["api", "v1", "users", _] if *method == Method::DELETE => Access::Superuser,
        ["api", "v1", "run", ..] => Access::ApiKey,
        ["api", "v1", "webhook", _] => Access::Webhook,
        ["api", "v1", "flows", "basic_examples"] => Access::Public,
        ["api", "v1", "_cli", ..] => Access::Cli,
        _ => Access::User,
    }
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
    let creds = Credentials { token: None, api_key: Some(key) };
    auth::current_user(state, &creds).await.map_err(|_| ApiError::forbidden("Invalid API key"))
}

/// The middleware: resolves identity per [`access_for`] and stores it in request extensions.
pub async fn enforce(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let access = access_for(req.method(), req.path());
    if access == Access::Public {
        return next.call(req).await;
    }
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::internal("application state missing"))?;
    let creds = Credentials::from_request(req.request());
    let identity = match access {
        Access::Public => None,
        Access::Webhook if !state.settings.webhook_auth_enable => None,
        Access::Webhook => Some(webhook_key_user(&state, req.request()).await?),
        Access::Optional => auth::optional_user(&state, &creds).await,
        Access::User => Some(auth::current_user(&state, &creds).await?),
        Access::Superuser => {
            let id = auth::current_user(&state, &creds).await?;
            if !id.user.is_superuser {
                return Err(ApiError::forbidden("The user doesn't have enough privileges").into());
            }
            Some(id)
        }
        Access::ApiKey => Some(auth::api_key_user(&state, &creds).await?),
        Access::Cli => {
            let presented = req.headers().get(CLI_TOKEN_HEADER).and_then(|v| v.to_str().ok()).unwrap_or_default();
            if !state.cli_token_matches(presented) {
                return Err(ApiError::forbidden("Invalid CLI token").into());
            }
            None
        }
    };
    if let Some(identity) = identity {
        req.extensions_mut().insert(identity);
    }
    next.call(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_deny() {
        assert_eq!(access_for(&Method::GET, "/api/v1/anything/new"), Access::User);
        assert_eq!(access_for(&Method::GET, "/api/v1/users/"), Access::Superuser);
        assert_eq!(access_for(&Method::POST, "/api/v1/users/"), Access::Optional);
        assert_eq!(access_for(&Method::GET, "/api/v1/users/whoami"), Access::User);
        assert_eq!(access_for(&Method::DELETE, "/api/v1/users/abc"), Access::Superuser);
        assert_eq!(access_for(&Method::POST, "/api/v1/run/x"), Access::ApiKey);
        assert_eq!(access_for(&Method::GET, "/health"), Access::Public);
        assert_eq!(access_for(&Method::GET, "/api/v1/monitor/messages"), Access::User);
    }
}
