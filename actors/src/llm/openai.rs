//! OpenAI's Chat Completions wire format — also spoken by Ollama's `/v1`, vLLM, llama.cpp's
//! server and LM Studio, so every field sent here is one those servers accept too.

use serde_json::{json, Map, Value as Json};

use super::conversation::{openai_tool_calls, AssistantTurn};
use super::sse::SseEvent;
use super::{ApiKey, ChatRequest, ChatResponse, StreamState, Usage};

pub(super) fn url(base: &str) -> String {
    format!("{}/chat/completions", base.trim_end_matches('/'))
}

pub(super) fn authorize(builder: reqwest::RequestBuilder, key: &ApiKey) -> reqwest::RequestBuilder {
    if key.is_empty() {
        builder
    } else {
        builder.bearer_auth(key.expose())
    }
}

pub(super) fn body(req: &ChatRequest, stream: bool) -> Json {
    let mut messages = Vec::with_capacity(2);
    if let Some(system) = req.system.as_deref().filter(|s| !s.is_empty()) {
        messages.push(json!({"role": "system", "content": system}));
    }
    if !req.user.is_empty() || messages.is_empty() {
        messages.push(json!({"role": "user", "content": req.user}));
    }
    let mut body = Map::new();
    body.insert("model".into(), json!(req.model));
    body.insert("messages".into(), Json::Array(messages));
    body.insert("stream".into(), json!(stream));
    if stream {
        // Usage arrives in a last chunk only when asked for.
        body.insert("stream_options".into(), json!({"include_usage": true}));
    }
    if let Some(t) = req.temperature {
        body.insert("temperature".into(), json!(t));
    }
    if let Some(m) = req.max_tokens {
        body.insert("max_tokens".into(), json!(m));
    }
    if let Some(s) = req.seed {
        body.insert("seed".into(), json!(s));
    }
    if req.json_mode {
        body.insert("response_format".into(), json!({"type": "json_object"}));
    }
    for (k, v) in &req.extra {
        body.entry(k.clone()).or_insert_with(|| v.clone());
    }
    Json::Object(body)
}

fn usage(u: &Json) -> Usage {
    Usage {
        input_tokens: u.get("prompt_tokens").and_then(Json::as_u64),
        output_tokens: u.get("completion_tokens").and_then(Json::as_u64),
        total_tokens: u.get("total_tokens").and_then(Json::as_u64),
    }
}

pub(super) fn parse_response(j: &Json) -> Result<ChatResponse, String> {
    if let Some(e) = super::provider_error(j) {
        return Err(e);
    }
    let choice = j
        .get("choices")
        .and_then(Json::as_array)
        .and_then(|c| c.first())
        .ok_or_else(|| "malformed response: no choices".to_owned())?;
    let content = choice.get("message").and_then(|m| m.get("content"));
    let text = match content {
        Some(Json::String(s)) => s.clone(),
        None | Some(Json::Null) => String::new(),
        Some(_) => return Err("malformed response: message content is not text".to_owned()),
    };
    Ok(ChatResponse { text, usage: j.get("usage").map(usage).unwrap_or_default() })
}

/// A whole answer to a conversation turn: text and tool calls.
pub(super) fn parse_turn(j: &Json) -> Result<AssistantTurn, String> {
    let ChatResponse { text, usage } = parse_response(j)?;
    let choice = j.get("choices").and_then(Json::as_array).and_then(|c| c.first());
    let tool_calls = choice.and_then(|c| c.get("message")).map(openai_tool_calls).unwrap_or_default();
    let finish_reason = choice.and_then(|c| c.get("finish_reason")).and_then(Json::as_str).map(str::to_owned);
    Ok(AssistantTurn { text, tool_calls, usage, finish_reason })
}

/// Accumulates `delta.tool_calls` by index: the first delta of a call carries its id and
/// name, later ones append to `arguments`.
fn tool_call_deltas(calls: &[Json], state: &mut StreamState) -> Result<(), String> {
    for (pos, c) in calls.iter().enumerate() {
        let index = c.get("index").and_then(Json::as_u64).unwrap_or(pos as u64);
        let f = c.get("function");
        {
            let call = state.calls.at(index)?;
            if let Some(id) = c.get("id").and_then(Json::as_str).filter(|s| !s.is_empty()) {
                id.clone_into(&mut call.id);
            }
            if let Some(name) = f.and_then(|f| f.get("name")).and_then(Json::as_str).filter(|s| !s.is_empty()) {
                if call.name.is_empty() {
                    name.clone_into(&mut call.name);
                }
            }
        }
        match f.and_then(|f| f.get("arguments")) {
            Some(Json::String(part)) => state.calls.append_arguments(index, part)?,
            Some(Json::Null) | None => {}
            Some(other) => state.calls.append_arguments(index, &other.to_string())?,
        }
    }
    Ok(())
}

pub(super) fn decode_event(event: &SseEvent, state: &mut StreamState) -> Result<(), String> {
    let data = event.data.trim();
    if data.is_empty() {
        return Ok(());
    }
    if data == "[DONE]" {
        state.finished = true;
        state.done = true;
        return Ok(());
    }
    let j: Json = serde_json::from_str(data).map_err(|e| format!("malformed stream event (not JSON): {e}"))?;
    if let Some(e) = super::provider_error(&j) {
        return Err(e);
    }
    if let Some(u) = j.get("usage").filter(|u| u.is_object()) {
        state.usage = usage(u);
    }
    let Some(choices) = j.get("choices").and_then(Json::as_array) else {
        return if j.get("usage").is_some() { Ok(()) } else { Err("malformed stream event: no choices".to_owned()) };
    };
    for choice in choices {
        let delta = choice.get("delta");
        if let Some(text) = delta.and_then(|d| d.get("content")).and_then(Json::as_str) {
            if !text.is_empty() {
                state.pending.push_back(text.to_owned());
            }
        }
        if let Some(calls) = delta.and_then(|d| d.get("tool_calls")).and_then(Json::as_array) {
            tool_call_deltas(calls, state)?;
        }
        if let Some(f) = choice.get("finish_reason").filter(|f| !f.is_null()) {
            state.finished = true;
            state.finish_reason = f.as_str().map(str::to_owned);
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::llm::Protocol;

    fn req() -> ChatRequest {
        ChatRequest {
            provider: "OpenAI".into(),
            protocol: Protocol::OpenAi,
            base_url: "http://x/v1/".into(),
            api_key: ApiKey::new("k"),
            model: "m".into(),
            system: Some("be brief".into()),
            user: "hi".into(),
            temperature: Some(0.1),
            max_tokens: None,
            seed: Some(1),
            json_mode: false,
            extra: Map::from_iter([("model".to_owned(), json!("other")), ("top_p".to_owned(), json!(0.5))]),
            timeout: None,
            max_retries: None,
        }
    }

    #[test]
    fn builds_the_chat_completions_body() {
        assert_eq!(url("http://x/v1/"), "http://x/v1/chat/completions");
        let b = body(&req(), true);
        assert_eq!(
            b["messages"],
            json!([{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}])
        );
        assert_eq!(b["model"], "m", "model_kwargs never replace the model");
        assert_eq!(b["top_p"], 0.5);
        assert_eq!(b["stream_options"], json!({"include_usage": true}));
        assert!(b.get("max_tokens").is_none());
    }

    #[test]
    fn accumulates_tool_call_deltas_by_index() {
        let mut s = StreamState::default();
        let ev = |d: &str| SseEvent { event: None, data: d.into() };
        for d in [
            r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":"Let me."},"finish_reason":null}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c0","type":"function","function":{"name":"calc","arguments":""}}]},"finish_reason":null}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"expressi"}}]},"finish_reason":null}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"c1","type":"function","function":{"name":"calc","arguments":"{\"expressi"}}]},"finish_reason":null}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"on\": \"1+1\"}"}}]},"finish_reason":null}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"on\": \"2*3\"}"}}]},"finish_reason":null}]}"#,
            r#"{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
        ] {
            decode_event(&ev(d), &mut s).unwrap();
        }
        assert_eq!(s.pending, ["Let me."]);
        assert_eq!(s.finish_reason.as_deref(), Some("tool_calls"));
        let calls = s.calls.take();
        assert_eq!(calls.len(), 2);
        assert_eq!((calls[0].id.as_str(), calls[0].name.as_str()), ("c0", "calc"));
        assert_eq!(calls[0].arguments, r#"{"expression": "1+1"}"#);
        assert_eq!(calls[1].arguments, r#"{"expression": "2*3"}"#);
        let whole = serde_json::json!({"choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": null,
            "tool_calls": [{"id": "c9", "type": "function", "function": {"name": "calc", "arguments": {"a": 1}}}]}}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}});
        let turn = parse_turn(&whole).unwrap();
        assert_eq!(turn.text, "");
        assert_eq!(turn.tool_calls[0].arguments, r#"{"a":1}"#);
        assert_eq!(turn.finish_reason.as_deref(), Some("tool_calls"));
        assert_eq!(turn.usage.total_tokens, Some(3));
    }

    #[test]
    fn decodes_chunks_usage_and_errors() {
        let mut s = StreamState::default();
        let ev = |d: &str| SseEvent { event: None, data: d.into() };
        decode_event(&ev(r#"{"choices":[{"delta":{"role":"assistant"},"finish_reason":null}]}"#), &mut s).unwrap();
        decode_event(&ev(r#"{"choices":[{"delta":{"content":"Hi"},"finish_reason":null}]}"#), &mut s).unwrap();
        decode_event(&ev(r#"{"choices":[{"delta":{},"finish_reason":"stop"}]}"#), &mut s).unwrap();
        decode_event(
            &ev(r#"{"choices":[],"usage":{"prompt_tokens":2,"completion_tokens":1,"total_tokens":3}}"#),
            &mut s,
        )
        .unwrap();
        decode_event(&ev("[DONE]"), &mut s).unwrap();
        assert_eq!(s.pending, ["Hi"]);
        assert!(s.finished && s.done);
        assert_eq!(s.usage.total_tokens, Some(3));
        assert!(decode_event(&ev("{nope"), &mut s).unwrap_err().contains("malformed"));
        assert_eq!(
            decode_event(&ev(r#"{"error":{"message":"boom"}}"#), &mut s).unwrap_err(),
            "the provider reported an error"
        );
    }
}
