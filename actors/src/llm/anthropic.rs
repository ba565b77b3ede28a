//! Anthropic's Messages API wire format: the system prompt is a top-level field, `max_tokens`
//! is mandatory, and a stream is a sequence of typed events (`message_start`,
//! `content_block_delta`, `message_delta`, `message_stop`, `error`, `ping`).

use serde_json::{json, Map, Value as Json};

use super::conversation::{anthropic_turn, AssistantTurn};
use super::sse::SseEvent;
use super::{ApiKey, ChatRequest, ChatResponse, StreamState, Usage};

/// The API version this client speaks.
const API_VERSION: &str = "2023-06-01";
/// Anthropic requires `max_tokens`; this is used when the flow leaves it unset.
pub(super) const DEFAULT_MAX_TOKENS: u64 = 4096;

/// `{base}/v1/messages`, without doubling a `/v1` the base already ends with.
pub(super) fn url(base: &str) -> String {
    let base = base.trim_end_matches('/');
    if base.ends_with("/v1") {
        format!("{base}/messages")
    } else {
        format!("{base}/v1/messages")
    }
}

pub(super) fn authorize(builder: reqwest::RequestBuilder, key: &ApiKey) -> reqwest::RequestBuilder {
    builder.header("x-api-key", key.expose()).header("anthropic-version", API_VERSION)
}

pub(super) fn body(req: &ChatRequest, stream: bool) -> Json {
    let mut body = Map::new();
    body.insert("model".into(), json!(req.model));
    body.insert("max_tokens".into(), json!(req.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS)));
    body.insert("messages".into(), json!([{"role": "user", "content": req.user}]));
    if let Some(system) = req.system.as_deref().filter(|s| !s.is_empty()) {
        body.insert("system".into(), json!(system));
    }
    if let Some(t) = req.temperature {
        body.insert("temperature".into(), json!(t));
    }
    if stream {
        body.insert("stream".into(), json!(true));
    }
    for (k, v) in &req.extra {
        body.entry(k.clone()).or_insert_with(|| v.clone());
    }
    Json::Object(body)
}

fn usage_into(u: &Json, into: &mut Usage) {
    if let Some(n) = u.get("input_tokens").and_then(Json::as_u64) {
        into.input_tokens = Some(n);
    }
    if let Some(n) = u.get("output_tokens").and_then(Json::as_u64) {
        into.output_tokens = Some(n);
    }
}

pub(super) fn parse_response(j: &Json) -> Result<ChatResponse, String> {
    if let Some(e) = super::provider_error(j) {
        return Err(e);
    }
    let blocks =
        j.get("content").and_then(Json::as_array).ok_or_else(|| "malformed response: no content".to_owned())?;
    let text: String = blocks
        .iter()
        .filter(|b| b.get("type").and_then(Json::as_str) == Some("text"))
        .filter_map(|b| b.get("text").and_then(Json::as_str))
        .collect();
    let mut usage = Usage::default();
    if let Some(u) = j.get("usage") {
        usage_into(u, &mut usage);
    }
    Ok(ChatResponse { text, usage })
}

/// A whole answer to a conversation turn: text and `tool_use` blocks.
pub(super) fn parse_turn(j: &Json) -> Result<AssistantTurn, String> {
    if let Some(e) = super::provider_error(j) {
        return Err(e);
    }
    let (text, tool_calls) = anthropic_turn(j)?;
    let mut usage = Usage::default();
    if let Some(u) = j.get("usage") {
        usage_into(u, &mut usage);
    }
    let finish_reason = j.get("stop_reason").and_then(Json::as_str).map(str::to_owned);
    Ok(AssistantTurn { text, tool_calls, usage, finish_reason })
}

pub(super) fn decode_event(event: &SseEvent, state: &mut StreamState) -> Result<(), String> {
    if event.data.trim().is_empty() {
        return Ok(());
    }
    let j: Json = serde_json::from_str(&event.data).map_err(|e| format!("malformed stream event (not JSON): {e}"))?;
    let kind = j.get("type").and_then(Json::as_str).or(event.event.as_deref()).unwrap_or_default();
    match kind {
        "message_start" => {
            if let Some(u) = j.get("message").and_then(|m| m.get("usage")) {
                usage_into(u, &mut state.usage);
            }
        }
        "content_block_start" => {
            let block = j.get("content_block");
            if block.and_then(|b| b.get("type")).and_then(Json::as_str) == Some("tool_use") {
                let index = j.get("index").and_then(Json::as_u64).unwrap_or(0);
                let call = state.calls.at(index)?;
                let field = |k: &str| block.and_then(|b| b.get(k)).and_then(Json::as_str).unwrap_or_default();
                field("id").clone_into(&mut call.id);
                field("name").clone_into(&mut call.name);
            }
        }
        "content_block_delta" => {
            let delta = j.get("delta").ok_or_else(|| "malformed stream event: delta missing".to_owned())?;
            if let Some(text) = delta.get("text").and_then(Json::as_str) {
                if !text.is_empty() {
                    state.pending.push_back(text.to_owned());
                }
            }
            if let Some(part) = delta.get("partial_json").and_then(Json::as_str) {
                let index = j.get("index").and_then(Json::as_u64).unwrap_or(0);
                state.calls.append_arguments(index, part)?;
            }
        }
        "message_delta" => {
            if let Some(u) = j.get("usage") {
                usage_into(u, &mut state.usage);
            }
            if let Some(r) = j.get("delta").and_then(|d| d.get("stop_reason")).filter(|r| !r.is_null()) {
                state.finished = true;
                state.finish_reason = r.as_str().map(str::to_owned);
            }
        }
        "message_stop" => {
            state.finished = true;
            state.done = true;
        }
        "error" => return Err(super::provider_error(&j).unwrap_or_else(|| "the stream reported an error".to_owned())),
        // ping, content_block_stop and future event types carry no text.
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn urls_do_not_double_the_version() {
        assert_eq!(url("https://api.anthropic.com"), "https://api.anthropic.com/v1/messages");
        assert_eq!(url("http://127.0.0.1:9/v1/"), "http://127.0.0.1:9/v1/messages");
    }

    #[test]
    fn assembles_streamed_tool_use_blocks() {
        let mut s = StreamState::default();
        let ev = |d: &str| SseEvent { event: None, data: d.into() };
        for d in [
            r#"{"type":"message_start","message":{"usage":{"input_tokens":5,"output_tokens":1}}}"#,
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Let me."}}"#,
            r#"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"tu_1","name":"calc","input":{}}}"#,
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"expression\": "}}"#,
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"\"1+1\"}"}}"#,
            r#"{"type":"content_block_stop","index":1}"#,
            r#"{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":9}}"#,
            r#"{"type":"message_stop"}"#,
        ] {
            decode_event(&ev(d), &mut s).unwrap();
        }
        assert_eq!(s.pending, ["Let me."]);
        assert_eq!(s.finish_reason.as_deref(), Some("tool_use"));
        let calls = s.calls.take();
        assert_eq!(calls.len(), 1);
        assert_eq!((calls[0].id.as_str(), calls[0].name.as_str()), ("tu_1", "calc"));
        assert_eq!(calls[0].arguments, r#"{"expression": "1+1"}"#);
    }

    #[test]
    fn decodes_the_event_sequence() {
        let mut s = StreamState::default();
        let ev = |d: &str| SseEvent { event: None, data: d.into() };
        for d in [
            r#"{"type":"message_start","message":{"usage":{"input_tokens":5,"output_tokens":1}}}"#,
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
            r#"{"type":"ping"}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hel"}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"lo"}}"#,
            r#"{"type":"content_block_stop","index":0}"#,
            r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":2}}"#,
            r#"{"type":"message_stop"}"#,
        ] {
            decode_event(&ev(d), &mut s).unwrap();
        }
        assert_eq!(s.pending, ["Hel", "lo"]);
        assert_eq!((s.usage.input_tokens, s.usage.output_tokens), (Some(5), Some(2)));
        assert!(s.done);
        let err =
            decode_event(&ev(r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#), &mut s);
        assert_eq!(err.unwrap_err(), "the provider reported an error (overloaded_error)");
    }
}
