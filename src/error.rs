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
use flowactor_actors::engine::BuildError;
use flowactor_actors::error::{KeyRefusal, LoginRefusal};
use flowactor_actors::graph::GraphError;
use flowactor_actors::store::flows::FlowError;
use flowactor_actors::store::is_disk_full;
use flowactor_actors::store::messages::MessageStoreError;
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
            FlowError::Validation { field, violation } => {
                Self::validation("value_error", &["body", field], crate::http::flow_json::violation_text(&violation))
            }
            FlowError::IdsExist(_) => Self::detail(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
            FlowError::Storage(s) if is_disk_full(&s) => Self::insufficient_storage(),
            FlowError::Storage(_) | FlowError::Codec(_) => Self::internal(e),
        }
    }
}

/// Langflow's mapping of graph problems: refused tweaks 422 with its object, an oversized graph
/// 413, an unknown component 404, anything else 400 naming the node.
impl From<GraphError> for ApiError {
    fn from(e: GraphError) -> Self {
        match e {
            GraphError::RefusedTweaks(fields) => Self::DetailValue {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                detail: json!({
                    "error": "Refused tweaks",
                    "code": "TWEAKS_REFUSED",
                    "message": "The field is protected and keeps the value set by the flow author.",
                    "fields": fields,
                }),
            },
            GraphError::TooLarge { .. } => Self::detail(StatusCode::PAYLOAD_TOO_LARGE, e.to_string()),
            GraphError::UnknownComponent(_) => Self::not_found(e.to_string()),
            other => Self::bad_request(other.to_string()),
        }
    }
}

impl From<MessageStoreError> for ApiError {
    fn from(e: MessageStoreError) -> Self {
        Self::internal(e)
    }
}

/// The text Langflow reports for a failed build (`Error running graph: ...`).
#[must_use]
pub fn build_error_text(e: &BuildError) -> String {
    match e {
        BuildError::Failed(m) => m.clone(),
        other => format!("Error running graph: {other}"),
    }
}

impl ApiError {
    /// `/run`'s execution-failure answer: 500 whose `detail` is a string holding JSON (Langflow's
    /// quirk).
    #[must_use]
    pub fn run_failed(e: &BuildError) -> Self {
        let inner = json!({
            "message": build_error_text(e), "traceback": null, "description": null, "code": null, "suggestion": null
        });
        Self::detail(StatusCode::INTERNAL_SERVER_ERROR, inner.to_string())
    }
}

/// Failures of the server's own machinery (never caused by the request): logged, answered 500.
macro_rules! internal_errors {
    ($($t:ty),* $(,)?) => {$(
        impl From<$t> for ApiError {
            fn from(e: $t) -> Self {
                Self::internal(e)
            }
        }
    )*};
}
internal_errors!(actix_web::error::BlockingError, jsonwebtoken::errors::Error, zip::result::ZipError, std::io::Error,);

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

/// Every error leaves as JSON: answers that actix itself produces (an empty 405, a `text/plain`
/// 413 from a payload limit, a 400 for a malformed request line) get a `{"detail": ...}` body,
/// their status and headers kept. `max_body_mb` names the limit in 413 bodies.
pub fn json_error_bodies<B: actix_web::body::MessageBody + 'static>(
    max_body_mb: u64,
) -> actix_web::middleware::ErrorHandlers<B> {
    use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
    ErrorHandlers::new().default_handler(move |res: actix_web::dev::ServiceResponse<B>| {
        let is_json = res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if is_json || res.status().as_u16() < 400 {
            return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
        }
        let status = res.status();
        let (req, old) = res.into_parts();
        let mut new = match status {
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge { limit_mb: max_body_mb }.error_response(),
            other => ApiError::detail(other, other.canonical_reason().unwrap_or("Error").to_owned()).error_response(),
        };
        for (name, value) in old.headers() {
            if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
                new.headers_mut().append(name.clone(), value.clone());
            }
        }
        Ok(ErrorHandlerResponse::Response(actix_web::dev::ServiceResponse::new(req, new).map_into_right_body()))
    })
}
