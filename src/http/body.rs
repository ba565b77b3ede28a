//! Request-body, query and form extraction errors in FastAPI's shapes: 422 with a `detail` list
//! for malformed input, 413 with Langflow's text for oversized bodies.

use actix_web::error::{JsonPayloadError, QueryPayloadError, UrlencodedError};
use actix_web::{web, HttpRequest};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::error::ApiError;

fn serde_item(location: &str, message: &str) -> Value {
    if let Some(rest) = message.strip_prefix("missing field `") {
        let field = rest.split('`').next().unwrap_or_default();
        return json!({"type": "missing", "loc": [location, field], "msg": "Field required"});
    }
    if message.starts_with("expected") || message.contains("EOF") || message.contains("key must be a string") {
        return json!({"type": "json_invalid", "loc": [location, 0], "msg": "JSON decode error", "ctx": {"error": message}});
    }
    json!({"type": "value_error", "loc": [location], "msg": message})
}

/// `JsonConfig` error handler.
pub fn json_error(
    limit_mb: u64,
) -> impl Fn(JsonPayloadError, &HttpRequest) -> actix_web::Error + Send + Sync + Clone + 'static {
    move |err, _| {
        let api = match &err {
            JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => {
                ApiError::PayloadTooLarge { limit_mb }
            }
            JsonPayloadError::Deserialize(e) => {
                if e.is_syntax() || e.is_eof() {
                    ApiError::Validation(vec![
                        json!({"type": "json_invalid", "loc": ["body", e.column()], "msg": "JSON decode error", "ctx": {"error": e.to_string()}}),
                    ])
                } else {
                    ApiError::Validation(vec![serde_item("body", &e.to_string())])
                }
            }
            other => {
                ApiError::Validation(vec![json!({"type": "json_invalid", "loc": ["body"], "msg": other.to_string()})])
            }
        };
        api.into()
    }
}

/// `QueryConfig` error handler.
pub fn query_error(err: QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
    ApiError::Validation(vec![serde_item("query", &err.to_string())]).into()
}

/// Largest form body (the login form).
pub const FORM_LIMIT_BYTES: usize = 64 * 1024;

/// `FormConfig` error handler. `fields` are the form's required fields: a body that is not a
/// form (JSON, say) misses all of them, as FastAPI reports.
pub fn form_error(
    fields: &'static [&'static str],
) -> impl Fn(UrlencodedError, &HttpRequest) -> actix_web::Error + Send + Sync + Clone + 'static {
    move |err, _| {
        let api = match &err {
            UrlencodedError::Overflow { .. } => ApiError::detail(
                actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
                format!("Content size limit exceeded. Maximum allowed is {}KB and got more.", FORM_LIMIT_BYTES / 1024),
            ),
            UrlencodedError::ContentType => ApiError::Validation(
                fields
                    .iter()
                    .map(|f| json!({"type": "missing", "loc": ["body", f], "msg": "Field required", "input": null}))
                    .collect(),
            ),
            UrlencodedError::Parse(e) => ApiError::Validation(vec![serde_item("body", &e.to_string())]),
            other => ApiError::Validation(vec![json!({"type": "missing", "loc": ["body"], "msg": other.to_string()})]),
        };
        api.into()
    }
}

/// A raw JSON body that may be absent: `None` for an empty (or blank) body, FastAPI's 422
/// `json_invalid` for malformed JSON. For routes that read their body by hand.
///
/// # Errors
/// 422 when the body is not JSON.
pub fn optional_json(bytes: &[u8]) -> Result<Option<Value>, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(bytes).map(Some).map_err(|e| {
        ApiError::Validation(vec![
            json!({"type": "json_invalid", "loc": ["body", e.column()], "msg": "JSON decode error"}),
        ])
    })
}

/// A UUID path segment, or FastAPI's 422 `uuid_parsing`.
///
/// # Errors
/// 422 naming the parameter.
pub fn path_uuid(name: &str, raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw)
        .map_err(|_| ApiError::validation("uuid_parsing", &["path", name], "Input should be a valid UUID"))
}

/// Wraps `web::Json` registration with our limits and error shapes.
#[must_use]
pub fn json_config(limit_bytes: usize, limit_mb: u64) -> web::JsonConfig {
    web::JsonConfig::default().limit(limit_bytes).content_type_required(false).error_handler(json_error(limit_mb))
}

/// An integer query parameter of at least `min` (FastAPI's `ge=`), with its 422 items; `None`
/// when absent or empty.
///
/// # Errors
/// 422 `int_parsing` or `greater_than_equal`.
pub fn query_int(name: &str, raw: Option<&str>, min: i64) -> Result<Option<usize>, ApiError> {
    let Some(raw) = raw.filter(|r| !r.is_empty()) else { return Ok(None) };
    let n: i64 = raw.trim().parse().map_err(|_| {
        ApiError::validation(
            "int_parsing",
            &["query", name],
            "Input should be a valid integer, unable to parse string as an integer",
        )
    })?;
    if n < min {
        return Err(ApiError::validation(
            "greater_than_equal",
            &["query", name],
            format!("Input should be greater than or equal to {min}"),
        ));
    }
    Ok(Some(usize::try_from(n).unwrap_or(usize::MAX)))
}
