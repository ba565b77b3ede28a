//! LLM provider clients: OpenAI's Chat Completions API (which Ollama's `/v1`, vLLM, llama.cpp's
//! server and LM Studio also speak) and Anthropic's Messages API.
//!
//! This module knows HTTP and the providers' wire formats, never the engine: components turn a
//! flow's fields into a [`ChatRequest`] and get back text, usage or a stream of chunks. What
//! makes a provider call safe to run inside a build lives here, in one place: a per-request
//! timeout, bounded retries with backoff for 429 and 5xx, a concurrency limit per provider, the
//! outbound address policy ([`address`]), and error texts that name the provider and the status
//! but never carry the API key or the upstream's response body.
//!
//! The HTTP client is built on first use (an engine that never calls a model never sets up TLS)
//! and shared by every arbiter thread; its futures are `Send`, so they run in the
//! current-thread runtimes of actix arbiters.

pub mod address;
mod anthropic;
pub mod conversation;
mod errors;
mod openai;
pub mod sse;
mod stream;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde_json::{json, Map, Value as Json};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use errors::*;
use sse::SseParser;

pub use conversation::{AssistantTurn, ChatMessage, ConversationRequest, ToolCall, ToolChoice, ToolSpec};
pub use stream::ChatStream;

/// Largest non-streamed response body read.
const MAX_RESPONSE_BYTES: usize = 16 << 20;
/// Largest error body read (only its message is kept).
const MAX_ERROR_BYTES: usize = 64 << 10;
/// Longest provider error type or code kept in a run error.
const MAX_ERROR_KIND: usize = 64;
/// A `Retry-After` longer than this is not waited for: the error is returned instead.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);
/// Longest pause between two retries.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Knobs for every provider call of an engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LlmSettings {
    /// Bound on one request: until the response headers, the whole body of a non-streamed
    /// answer, and each gap between two chunks of a stream. A node's own smaller `timeout`
    /// field wins.
    pub timeout: Duration,
    /// Retries after a 429, a 5xx or a failed connection (a node's smaller `max_retries` wins).
    pub max_retries: u32,
    /// First retry pause; doubled for each further retry (a small `Retry-After` replaces it).
    pub retry_base_delay: Duration,
    /// Provider calls in flight at once, per provider; further calls wait for a slot.
    pub concurrency_per_provider: usize,
    /// Which destinations may be contacted (Langflow's SSRF policy; on by default).
    pub outbound: address::OutboundPolicy,
    /// Hosts besides a provider's default endpoint that may receive a key taken from the
    /// server's environment (`LANGFLOW_PROVIDER_CREDENTIAL_ALLOWED_HOSTS`: `host`, `host:port`,
    /// `*.domain`; an `http://` prefix also allows clear text).
    pub credential_allowed_hosts: Vec<String>,
}

impl Default for LlmSettings {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(crate::runtime_default!(llm_timeout_seconds)),
            max_retries: crate::runtime_default!(llm_max_retries),
            retry_base_delay: Duration::from_millis(crate::runtime_default!(llm_retry_base_delay_ms)),
            concurrency_per_provider: crate::runtime_default!(llm_concurrency_per_provider),
            outbound: address::OutboundPolicy::default(),
            credential_allowed_hosts: Vec::new(),
        }
    }
}

/// Which wire format a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `POST {base}/chat/completions`, bearer token.
    OpenAi,
    /// `POST {base}/v1/messages`, `x-api-key`.
    Anthropic,
}

/// An API key: never printed, and scrubbed from every error text.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    #[must_use]
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// Removes the key from a text that may echo it (provider errors often do).
    #[must_use]
    pub fn scrub(&self, text: &str) -> String {
        // Very short keys (a placeholder for a local server) are not secrets worth garbling
        // every occurrence of a common substring for.
        if self.0.len() < 4 {
            return text.to_owned();
        }
        text.replace(&self.0, "********")
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() { "ApiKey(<empty>)" } else { "ApiKey(<redacted>)" })
    }
}

/// One chat call: a system message, the user's turn and the sampling settings.
#[derive(Debug, Clone)]
pub struct ChatRequest {
    /// Provider name used in errors and as the concurrency-limit key ("OpenAI", "Ollama", …).
    pub provider: String,
    pub protocol: Protocol,
    pub base_url: String,
    pub api_key: ApiKey,
    pub model: String,
    pub system: Option<String>,
    pub user: String,
    pub temperature: Option<f64>,
    pub max_tokens: Option<u64>,
    pub seed: Option<i64>,
    /// OpenAI's JSON mode (`response_format: json_object`).
    pub json_mode: bool,
    /// Extra body fields (`model_kwargs`); they never replace the fields set above.
    pub extra: Map<String, Json>,
    /// The node's own timeout, if it sets one (the settings' bound still applies).
    pub timeout: Option<Duration>,
    /// The node's own retry count, if it sets one (the settings' bound still applies).
    pub max_retries: Option<u32>,
}

/// Token counts as Langflow reports them in `properties.usage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Usage {
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    pub total_tokens: Option<u64>,
}

impl Usage {
    fn is_empty(&self) -> bool {
        self.input_tokens.is_none() && self.output_tokens.is_none() && self.total_tokens.is_none()
    }

    /// `{input_tokens, output_tokens, total_tokens}`, the total computed when only the parts
    /// were reported; `None` when the provider reported nothing.
    #[must_use]
    pub fn to_json(&self) -> Option<Json> {
        if self.is_empty() {
            return None;
        }
        let total = self.total_tokens.or_else(|| Some(self.input_tokens? + self.output_tokens?));
        Some(json!({"input_tokens": self.input_tokens, "output_tokens": self.output_tokens, "total_tokens": total}))
    }
}

/// A whole (non-streamed) answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatResponse {
    pub text: String,
    pub usage: Usage,
}

/// A failed provider call; the text names the provider and never contains the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct LlmError(pub String);

/// What a decoded stream event contributes.
#[derive(Debug, Default)]
pub(crate) struct StreamState {
    pub pending: VecDeque<String>,
    pub usage: Usage,
    /// The provider said the answer is complete (a finish reason, `message_stop`, `[DONE]`).
    pub finished: bool,
    /// Nothing more will come (`[DONE]`, `message_stop`).
    pub done: bool,
    /// Tool calls assembled from deltas.
    pub calls: conversation::PartialCalls,
    /// The last finish (stop) reason reported.
    pub finish_reason: Option<String>,
}

/// The HTTP client, per-provider limits and settings shared by every build of an engine.
pub struct LlmRuntime {
    settings: LlmSettings,
    policy: Arc<address::OutboundPolicy>,
    client: OnceLock<Result<reqwest::Client, String>>,
    limits: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl std::fmt::Debug for LlmRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmRuntime").field("settings", &self.settings).finish_non_exhaustive()
    }
}
impl LlmRuntime {
    #[must_use]
    pub fn new(settings: LlmSettings) -> Self {
        let policy = Arc::new(settings.outbound.clone());
        Self { settings, policy, client: OnceLock::new(), limits: Mutex::new(HashMap::new()) }
    }

    #[must_use]
    pub fn settings(&self) -> &LlmSettings {
        &self.settings
    }

    /// The outbound address policy, for any other component that makes requests on a flow's
    /// behalf (build clients with [`address::OutboundPolicy::resolver`] and check URLs with
    /// [`address::OutboundPolicy::check_url`]).
    #[must_use]
    pub fn outbound_policy(&self) -> &Arc<address::OutboundPolicy> {
        &self.policy
    }

    fn client(&self) -> Result<&reqwest::Client, String> {
        let built = self.client.get_or_init(|| {
            reqwest::Client::builder()
                .dns_resolver(self.policy.resolver())
                // A redirect could lead to an address the policy refuses, with the key attached.
                .redirect(reqwest::redirect::Policy::none())
                // A proxy would resolve names itself, out of the policy's reach.
                .no_proxy()
                .connect_timeout(self.settings.timeout)
                .tcp_nodelay(true)
                .pool_idle_timeout(Duration::from_secs(60))
                .build()
                .map_err(|e| format!("could not set up the HTTP client: {e}"))
        });
        built.as_ref().map_err(Clone::clone)
    }

    fn limit(&self, provider: &str) -> Arc<Semaphore> {
        let mut limits = self.limits.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        limits
            .entry(provider.to_owned())
            .or_insert_with(|| Arc::new(Semaphore::new(self.settings.concurrency_per_provider.max(1))))
            .clone()
    }

    fn timeout_for(&self, timeout: Option<Duration>) -> Duration {
        let t = timeout.filter(|t| !t.is_zero()).map_or(self.settings.timeout, |t| t.min(self.settings.timeout));
        t.max(Duration::from_millis(1))
    }

    fn retries_for(&self, max_retries: Option<u32>) -> u32 {
        max_retries.map_or(self.settings.max_retries, |r| r.min(self.settings.max_retries))
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let base = self.settings.retry_base_delay.saturating_mul(1u32 << attempt.min(16));
        let jitter = base.mul_f64(rand::random::<f64>() * 0.25);
        base.saturating_add(jitter).min(MAX_BACKOFF)
    }

    /// Sends the request, retrying 429, 5xx and failed connections; returns a success response.
    async fn send(
        &self,
        req: &ChatRequest,
        stream: bool,
        fail: &impl Fn(String) -> LlmError,
    ) -> Result<reqwest::Response, LlmError> {
        let body = match req.protocol {
            Protocol::OpenAi => openai::body(req, stream),
            Protocol::Anthropic => anthropic::body(req, stream),
        };
        let body = serde_json::to_vec(&body).map_err(|e| fail(format!("could not encode the request: {e}")))?;
        let target = Target {
            protocol: req.protocol,
            base_url: &req.base_url,
            api_key: &req.api_key,
            timeout: self.timeout_for(req.timeout),
            retries: self.retries_for(req.max_retries),
        };
        self.send_body(&target, body, stream, fail).await
    }

    /// Sends a serialised body to the target's endpoint under the outbound policy, retrying
    /// 429, 5xx and failed connections; returns a success response.
    async fn send_body(
        &self,
        req: &Target<'_>,
        body: Vec<u8>,
        stream: bool,
        fail: &impl Fn(String) -> LlmError,
    ) -> Result<reqwest::Response, LlmError> {
        let client = self.client().map_err(fail)?;
        let url = match req.protocol {
            Protocol::OpenAi => openai::url(req.base_url),
            Protocol::Anthropic => anthropic::url(req.base_url),
        };
        let url = reqwest::Url::parse(&url).map_err(|e| fail(format!("invalid base URL '{}': {e}", req.base_url)))?;
        self.policy.check_url(&url).map_err(fail)?;
        if !req.api_key.is_empty() {
            self.policy.check_cleartext_credential(&url).map_err(fail)?;
        }
        let timeout = req.timeout;
        let retries = req.retries;
        let mut attempt = 0u32;
        loop {
            let mut builder =
                client.post(url.clone()).header(reqwest::header::CONTENT_TYPE, "application/json").body(body.clone());
            builder = match req.protocol {
                Protocol::OpenAi => openai::authorize(builder, req.api_key),
                Protocol::Anthropic => anthropic::authorize(builder, req.api_key),
            };
            if stream {
                builder = builder.header(reqwest::header::ACCEPT, "text/event-stream");
            }
            let sent = tokio::time::timeout(timeout, builder.send()).await;
            let resp = match sent {
                Err(_) => return Err(fail(format!("request timed out after {}", seconds(timeout)))),
                Ok(Err(e)) if e.is_connect() && attempt < retries => {
                    tokio::time::sleep(self.backoff(attempt)).await;
                    attempt += 1;
                    continue;
                }
                Ok(Err(e)) => return Err(fail(format!("request to {} failed: {}", req.base_url, transport_text(&e)))),
                Ok(Ok(resp)) => resp,
            };
            let status = resp.status();
            if status.is_success() {
                return Ok(resp);
            }
            let retryable = status == reqwest::StatusCode::TOO_MANY_REQUESTS || status.is_server_error();
            let wait = retry_after(&resp);
            if retryable && attempt < retries && wait.is_none_or(|w| w <= MAX_RETRY_AFTER) {
                drop(resp);
                tokio::time::sleep(wait.unwrap_or_else(|| self.backoff(attempt))).await;
                attempt += 1;
                continue;
            }
            let body = read_limited(resp, MAX_ERROR_BYTES, timeout).await.unwrap_or_default();
            let mut text = format!("{} {}", status_text(status), error_text(&body));
            if retryable && attempt > 0 {
                text.push_str(&format!(" (after {} attempts)", attempt + 1));
            }
            return Err(fail(text.trim_end().to_owned()));
        }
    }

    /// Waits for a slot of the provider's concurrency limit.
    async fn permit(&self, provider: &str) -> Result<OwnedSemaphorePermit, LlmError> {
        self.limit(provider)
            .acquire_owned()
            .await
            .map_err(|_| LlmError(format!("{provider} API error: the provider's request slots are closed")))
    }

    /// One whole answer (no streaming).
    ///
    /// # Errors
    /// [`LlmError`] naming the provider.
    pub async fn complete(&self, req: &ChatRequest) -> Result<ChatResponse, LlmError> {
        let fail = failer(req);
        let _permit = self.permit(&req.provider).await?;
        let resp = self.send(req, false, &fail).await?;
        let timeout = self.timeout_for(req.timeout);
        let body = read_limited(resp, MAX_RESPONSE_BYTES, timeout).await.map_err(&fail)?;
        let json: Json =
            serde_json::from_slice(&body).map_err(|e| fail(format!("malformed response (not JSON): {e}")))?;
        let parsed = match req.protocol {
            Protocol::OpenAi => openai::parse_response(&json),
            Protocol::Anthropic => anthropic::parse_response(&json),
        };
        parsed.map_err(fail)
    }

    /// Starts a streamed answer; chunks are read with [`ChatStream::next_chunk`].
    ///
    /// # Errors
    /// [`LlmError`] naming the provider.
    pub async fn stream(&self, req: &ChatRequest) -> Result<ChatStream, LlmError> {
        let fail = failer(req);
        let permit = self.permit(&req.provider).await?;
        let resp = self.send(req, true, &fail).await?;
        Ok(ChatStream {
            provider: req.provider.clone(),
            protocol: req.protocol,
            key: req.api_key.clone(),
            resp,
            parser: SseParser::new(),
            state: StreamState::default(),
            idle: self.timeout_for(req.timeout),
            _permit: permit,
        })
    }

    fn conversation_target<'a>(&self, req: &'a ConversationRequest) -> Target<'a> {
        Target {
            protocol: req.protocol,
            base_url: &req.base_url,
            api_key: &req.api_key,
            timeout: self.timeout_for(req.timeout),
            retries: self.retries_for(req.max_retries),
        }
    }

    fn conversation_body(
        req: &ConversationRequest,
        stream: bool,
        fail: &impl Fn(String) -> LlmError,
    ) -> Result<Vec<u8>, LlmError> {
        match req.protocol {
            Protocol::OpenAi => conversation::openai_body(req, stream),
            Protocol::Anthropic => conversation::anthropic_body(req, stream, anthropic::DEFAULT_MAX_TOKENS),
        }
        .map_err(fail)
    }

    /// Starts a streamed conversation turn (whatever `req.stream` says): text chunks come from
    /// [`ChatStream::next_chunk`], tool calls from [`ChatStream::take_tool_calls`] once it is
    /// done.
    ///
    /// # Errors
    /// [`LlmError`] naming the provider.
    pub async fn stream_conversation(&self, req: &ConversationRequest) -> Result<ChatStream, LlmError> {
        let fail = fail_with(&req.provider, &req.api_key);
        let permit = self.permit(&req.provider).await?;
        let body = Self::conversation_body(req, true, &fail)?;
        let target = self.conversation_target(req);
        let resp = self.send_body(&target, body, true, &fail).await?;
        Ok(ChatStream {
            provider: req.provider.clone(),
            protocol: req.protocol,
            key: req.api_key.clone(),
            resp,
            parser: SseParser::new(),
            state: StreamState::default(),
            idle: target.timeout,
            _permit: permit,
        })
    }

    /// One conversation turn: streamed when `req.stream` is set (each text delta goes to
    /// `on_text` as it arrives), otherwise one whole answer (its text goes to `on_text` once).
    /// The text is bounded by the same limit as a whole response body.
    ///
    /// # Errors
    /// [`LlmError`] naming the provider.
    pub async fn converse(
        &self,
        req: &ConversationRequest,
        on_text: &mut (dyn FnMut(&str) + Send),
    ) -> Result<AssistantTurn, LlmError> {
        let fail = fail_with(&req.provider, &req.api_key);
        if req.stream {
            let mut stream = self.stream_conversation(req).await?;
            let mut text = String::new();
            while let Some(chunk) = stream.next_chunk().await? {
                if text.len() + chunk.len() > MAX_RESPONSE_BYTES {
                    return Err(fail(format!("the response is larger than {MAX_RESPONSE_BYTES} bytes")));
                }
                on_text(&chunk);
                text.push_str(&chunk);
            }
            return Ok(AssistantTurn {
                text,
                tool_calls: stream.take_tool_calls(),
                usage: stream.usage(),
                finish_reason: stream.finish_reason().map(str::to_owned),
            });
        }
        let _permit = self.permit(&req.provider).await?;
        let body = Self::conversation_body(req, false, &fail)?;
        let target = self.conversation_target(req);
        let resp = self.send_body(&target, body, false, &fail).await?;
        let body = read_limited(resp, MAX_RESPONSE_BYTES, target.timeout).await.map_err(&fail)?;
        let json: Json =
            serde_json::from_slice(&body).map_err(|e| fail(format!("malformed response (not JSON): {e}")))?;
        let turn = match req.protocol {
            Protocol::OpenAi => openai::parse_turn(&json),
            Protocol::Anthropic => anthropic::parse_turn(&json),
        }
        .map_err(&fail)?;
        if !turn.text.is_empty() {
            on_text(&turn.text);
        }
        Ok(turn)
    }
}

/// Where and how one request goes.
struct Target<'a> {
    protocol: Protocol,
    base_url: &'a str,
    api_key: &'a ApiKey,
    timeout: Duration,
    retries: u32,
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_redacted_and_scrubbed() {
        let key = ApiKey::new("sk-secret-123");
        assert_eq!(format!("{key:?}"), "ApiKey(<redacted>)");
        assert_eq!(key.scrub("bad key sk-secret-123!"), "bad key ********!");
        assert_eq!(ApiKey::new("x").scrub("x marks"), "x marks");
    }

    #[test]
    fn usage_totals_are_filled_in() {
        let u = Usage { input_tokens: Some(3), output_tokens: Some(4), total_tokens: None };
        assert_eq!(u.to_json(), Some(json!({"input_tokens": 3, "output_tokens": 4, "total_tokens": 7})));
        assert_eq!(Usage::default().to_json(), None);
    }

    #[test]
    fn provider_error_bodies_are_never_reflected() {
        assert_eq!(
            error_text(br#"{"error": {"message": "Invalid key sk-1", "type": "invalid_request_error"}}"#),
            "(invalid_request_error)"
        );
        assert_eq!(
            error_text(br#"{"error": {"message": "m", "code": "rate_limit_exceeded", "type": null}}"#),
            "(rate_limit_exceeded)"
        );
        assert_eq!(error_text(br#"{"error": {"message": "m", "type": "has spaces <b>"}}"#), "");
        assert_eq!(error_text(b"<html>internal admin page</html>"), "");
        assert_eq!(error_text("x".repeat(100).as_bytes()), "");
        let j = json!({"error": {"type": "overloaded_error", "message": "secret internal detail"}});
        assert_eq!(provider_error(&j).as_deref(), Some("the provider reported an error (overloaded_error)"));
        assert_eq!(provider_error(&json!({"error": "text"})).as_deref(), Some("the provider reported an error"));
        assert!(provider_error(&json!({"ok": true})).is_none());
    }
}
