//! The HTTP boundary's error type and its single mapping to Langflow's JSON bodies.
//!
//! Every handler returns `Result<_, ApiError>`; `ResponseError` below is the only place that
//! chooses status codes and body shapes (`{"detail": "..."}`, `{"detail": {...}}`, FastAPI's
//! 422 list, 429 with `Retry-After`). Internal failures are logged and answered with a generic
//! body: no paths, no errno, no key material ever reaches a client.

use std::borrow::Cow;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use flowactor_actors::error::{KeyRefusal, LoginRefusal};
use flowactor_actors::store::flows::FlowError;
use flowactor_actors::store::is_disk_full;
use flowactor_actors::RegistryError;
use serde_json::{json, Value};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// `{"detail": "<text>"}` with a status; `bearer` adds `WWW-Authenticate: Bearer`.
    #[error("{status}: {detail}")]
    Detail { status: StatusCode, detail: Cow<'static, str>, bearer: bool },
    /// `{"detail": <object>}`.
    #[error("{status}: {detail}")]
    DetailValue { status: StatusCode, detail: Value },
    /// 422 with FastAPI/pydantic's list of problems.
    #[error("validation failed")]
    Validation(Vec<Value>),
    /// 429 with Langflow 1.13's body and `Retry-After`.
    #[error("rate limited")]
    TooManyRequests { retry_after: u64 },
    /// 413 for an oversized body.
    #[error("payload too large")]
    PayloadTooLarge { limit_mb: u64 },
    /// A bug or storage failure: logged, answered generically.
    #[error("internal error: {0}")]
    Internal(String),
    /// A dependency (the registry) is not answering.
    #[error("service unavailable")]
    Unavailable,
}

impl ApiError {
    pub fn detail(status: StatusCode, detail: impl Into<Cow<'static, str>>) -> Self {
        Self::Detail { status, detail: detail.into(), bearer: false }
    }
    pub fn bad_request(detail: impl Into<Cow<'static, str>>) -> Self {
        Self::detail(StatusCode::BAD_REQUEST, detail)
    }
    pub fn unauthorized(detail: impl Into<Cow<'static, str>>) -> Self {
        Self::detail(StatusCode::UNAUTHORIZED, detail)
    }
    /// 401 with `WWW-Authenticate: Bearer` (login and refresh failures).
    pub fn unauthorized_bearer(detail: impl Into<Cow<'static, str>>) -> Self {
        Self::Detail { status: StatusCode::UNAUTHORIZED, detail: detail.into(), bearer: true }
    }
    pub fn forbidden(detail: impl Into<Cow<'static, str>>) -> Self {
        Self::detail(StatusCode::FORBIDDEN, detail)
    }
    pub fn not_found(detail: impl Into<Cow<'static, str>>) -> Self {
        Self::detail(StatusCode::NOT_FOUND, detail)
    }
    /// One 422 item in FastAPI's shape (the offending input is not echoed, as in 1.13).
    pub fn validation(kind: &str, loc: &[&str], msg: impl Into<String>) -> Self {
        Self::Validation(vec![json!({"type": kind, "loc": loc, "msg": msg.into()})])
    }
    pub fn internal(e: impl std::fmt::Display) -> Self {
        Self::Internal(e.to_string())
    }
    /// 507: the database refused a write for lack of disk space.
    pub fn insufficient_storage() -> Self {
        Self::detail(
            StatusCode::INSUFFICIENT_STORAGE,
            "Insufficient storage: the server's disk is full, try again later",
        )
    }
}

impl From<RegistryError> for ApiError {
    fn from(e: RegistryError) -> Self {
        match e {
            RegistryError::Invalid(m) => Self::bad_request(m),
            RegistryError::NotFound(m) => Self::not_found(m),
            RegistryError::Forbidden(m) => Self::forbidden(m),
            RegistryError::Conflict(m) => Self::bad_request(m),
            RegistryError::Login(LoginRefusal::BadCredentials) => {
                Self::unauthorized_bearer("Incorrect username or password")
            }
            RegistryError::Login(LoginRefusal::WaitingForApproval) => Self::bad_request("Waiting for approval"),
            RegistryError::Login(LoginRefusal::Inactive) => Self::unauthorized_bearer("Inactive user"),
            RegistryError::Key(KeyRefusal::Unknown) => Self::forbidden("Invalid API key"),
            RegistryError::Key(KeyRefusal::Unusable) => Self::forbidden("API key authentication failed"),
            RegistryError::Unavailable => Self::Unavailable,
            RegistryError::Storage(s) if is_disk_full(&s) => Self::insufficient_storage(),
            other => Self::internal(other),
        }
    }
}

impl From<FlowError> for ApiError {
    fn from(e: FlowError) -> Self {
        match e {
            FlowError::NotFound(m) => Self::not_found(m),
            FlowError::Invalid(m) => Self::bad_request(m),
            FlowError::Conflict(m) => Self::detail(StatusCode::CONFLICT, m),
            FlowError::Precondition => Self::detail(StatusCode::PRECONDITION_FAILED, e.to_string()),
            FlowError::Validation { field, message } => Self::validation("value_error", &["body", field], message),
            FlowError::IdsExist(_) => Self::detail(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
            FlowError::Storage(s) if is_disk_full(&s) => Self::insufficient_storage(),
            FlowError::Storage(_) | FlowError::Codec(_) => Self::internal(e),
        }
    }
}

impl From<actix::MailboxError> for ApiError {
    fn from(_: actix::MailboxError) -> Self {
        Self::Unavailable
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Detail { status, .. } | Self::DetailValue { status, .. } => *status,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status_code());
        let body = match self {
            Self::Detail { detail, bearer, .. } => {
                if *bearer {
                    res.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
                }
                json!({ "detail": detail })
            }
            Self::DetailValue { detail, .. } => json!({ "detail": detail }),
            Self::Validation(items) => json!({ "detail": items }),
            Self::TooManyRequests { retry_after } => {
                res.insert_header((header::RETRY_AFTER, retry_after.to_string()));
                json!({ "detail": "Too many requests. Please try again later.", "retry_after": retry_after.to_string() })
            }
            Self::PayloadTooLarge { limit_mb } => json!({
                "detail": format!("Content size limit exceeded. Maximum allowed is {limit_mb}MB and got more.")
            }),
            Self::Internal(msg) => {
                tracing::error!(error = %msg, "internal error");
                json!({ "detail": "Internal server error" })
            }
            Self::Unavailable => {
                res.insert_header((header::RETRY_AFTER, "1"));
                json!({ "detail": "Service temporarily unavailable" })
            }
        };
        res.json(body)
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
