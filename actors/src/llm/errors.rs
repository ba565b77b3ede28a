//! Provider failures as run errors: error bodies reduced to their kind (never reflected),
//! transport and status texts, `Retry-After`, and size- and time-bounded body reads.

use super::*;

/// The machine-readable kind of a provider's JSON error (`error.type` or `error.code`, as both
/// APIs send it), when it is a short identifier. Nothing else of an upstream body ever reaches a
/// run error: the body may come from whatever a flow's base URL points at, so its text could be
/// an internal service's data, markup meant for a browser, or an echo of the key.
pub(super) fn error_kind(j: &Json) -> Option<String> {
    let e = j.get("error")?;
    ["type", "code"]
        .iter()
        .filter_map(|f| e.get(*f).and_then(Json::as_str))
        .find(|k| {
            !k.is_empty()
                && k.len() <= MAX_ERROR_KIND
                && k.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        })
        .map(str::to_owned)
}

/// A provider's in-band error (an `error` object in a 200 body or a stream event), without
/// its free text.
pub(super) fn provider_error(j: &Json) -> Option<String> {
    j.get("error")?;
    Some(match error_kind(j) {
        Some(kind) => format!("the provider reported an error ({kind})"),
        None => "the provider reported an error".to_owned(),
    })
}

/// ` (kind)` for an error status's body, or nothing.
pub(super) fn error_text(body: &[u8]) -> String {
    serde_json::from_slice::<Json>(body)
        .ok()
        .as_ref()
        .and_then(error_kind)
        .map(|k| format!("({k})"))
        .unwrap_or_default()
}

/// The error chain of a transport failure, each cause once (the policy's refusal sits deep
/// inside reqwest's "error sending request").
pub(super) fn transport_text(e: &reqwest::Error) -> String {
    let mut parts: Vec<String> = vec![e.to_string()];
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        let t = c.to_string();
        if !parts.iter().any(|p| p.contains(&t)) {
            parts.push(t);
        }
        cause = c.source();
    }
    parts.join(": ")
}

pub(super) fn status_text(status: reqwest::StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("{} {reason}", status.as_u16()),
        None => status.as_u16().to_string(),
    }
}

/// A `Retry-After` in seconds (the HTTP-date form is ignored: backoff is used instead).
pub(super) fn retry_after(resp: &reqwest::Response) -> Option<Duration> {
    let v = resp.headers().get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    v.trim().parse::<f64>().ok().and_then(|s| Duration::try_from_secs_f64(s).ok())
}

pub(super) fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0} s")
    } else {
        format!("{s:.1} s")
    }
}

/// Wraps a failure text as `<Provider> API error: <text>`, scrubbed of the key.
pub(super) fn failer(req: &ChatRequest) -> impl Fn(String) -> LlmError + '_ {
    fail_with(&req.provider, &req.api_key)
}

pub(super) fn fail_with<'a>(provider: &'a str, key: &'a ApiKey) -> impl Fn(String) -> LlmError + 'a {
    move |text: String| LlmError(key.scrub(&format!("{provider} API error: {text}")))
}

/// Reads a body up to `max` bytes, each chunk within `timeout`.
pub(super) async fn read_limited(
    mut resp: reqwest::Response,
    max: usize,
    timeout: Duration,
) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        match tokio::time::timeout(timeout, resp.chunk()).await {
            Err(_) => return Err(format!("the response stalled for {}", seconds(timeout))),
            Ok(Err(e)) => return Err(format!("reading the response failed: {}", transport_text(&e))),
            Ok(Ok(None)) => return Ok(out),
            Ok(Ok(Some(chunk))) => {
                if out.len() + chunk.len() > max {
                    return Err(format!("the response is larger than {max} bytes"));
                }
                out.extend_from_slice(&chunk);
            }
        }
    }
}
