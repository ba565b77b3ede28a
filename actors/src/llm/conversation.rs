//! Multi-turn chat with tool calling: a whole message list (system, user, assistant turns that
//! carry tool calls, tool results), a `tools` array and a `tool_choice`, answered with text
//! and/or tool calls, streamed or whole.
//!
//! The request is typed and serialised straight into the HTTP body (no intermediate JSON tree),
//! so a tool loop that appends two messages per round does not copy or re-parse its history.
//! The OpenAI body is the one Langflow's Agent sends (`messages, model,
//! [max_completion_tokens,] stream, stream_options, tools`); Anthropic's Messages API gets the
//! same conversation mapped onto `tool_use` / `tool_result` blocks.

use std::time::Duration;

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use serde_json::{Map, Value as Json};

use super::{ApiKey, Protocol, Usage};

/// One tool call of an assistant turn: the provider's id, the tool name and the arguments
/// exactly as the model sent them (a JSON text, possibly malformed or truncated).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    pub arguments: String,
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq)]
pub enum ChatMessage {
    System(String),
    User(String),
    /// A model turn: its text (`None` is sent as `content: null`) and its tool calls.
    Assistant {
        content: Option<String>,
        tool_calls: Vec<ToolCall>,
    },
    /// The result of one tool call, sent back to the model.
    Tool {
        tool_call_id: String,
        content: String,
    },
}

/// A tool offered to the model: `{"type":"function","function":{name, description, parameters}}`.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolSpec {
    pub name: String,
    pub description: String,
    /// A JSON schema object (`{"properties": …, "required": […], "type": "object"}`).
    pub parameters: Json,
}

/// `tool_choice` as Langflow sends it (its Agent never does; Structured Output forces a
/// function).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolChoice {
    Auto,
    None,
    Required,
    /// `{"type":"function","function":{"name": …}}` (Anthropic: `{"type":"tool","name": …}`).
    Function(String),
}

/// A conversation turn to ask a provider for.
#[derive(Debug, Clone)]
pub struct ConversationRequest {
    /// Provider name used in errors and as the concurrency-limit key ("OpenAI", "Ollama", …).
    pub provider: String,
    pub protocol: Protocol,
    pub base_url: String,
    pub api_key: ApiKey,
    pub model: String,
    pub messages: Vec<ChatMessage>,
    /// Omitted from the body when empty.
    pub tools: Vec<ToolSpec>,
    pub tool_choice: Option<ToolChoice>,
    /// Sent as `max_completion_tokens` to OpenAI itself (provider "OpenAI", as Langflow's Agent
    /// sends it) and as `max_tokens` to every other server (OpenAI-compatible ones such as
    /// Ollama, vLLM and llama.cpp, and Anthropic).
    pub max_tokens: Option<u64>,
    pub temperature: Option<f64>,
    /// OpenAI's `response_format` object, sent as given.
    pub response_format: Option<Json>,
    /// Stream the answer (`stream: true`, and for OpenAI `stream_options.include_usage`).
    pub stream: bool,
    /// Extra body fields; they never replace the fields set above.
    pub extra: Map<String, Json>,
    pub timeout: Option<Duration>,
    pub max_retries: Option<u32>,
}

impl ConversationRequest {
    /// A request with no messages, no tools and defaults for everything else (streamed, as
    /// Langflow's Agent always asks).
    #[must_use]
    pub fn new(provider: &str, protocol: Protocol, base_url: &str, api_key: ApiKey, model: &str) -> Self {
        Self {
            provider: provider.to_owned(),
            protocol,
            base_url: base_url.to_owned(),
            api_key,
            model: model.to_owned(),
            messages: Vec::new(),
            tools: Vec::new(),
            tool_choice: None,
            max_tokens: None,
            temperature: None,
            response_format: None,
            stream: true,
            extra: Map::new(),
            timeout: None,
            max_retries: None,
        }
    }
}

/// A model's answer to one conversation turn.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AssistantTurn {
    /// The text (narration when tool calls follow); empty when there is none.
    pub text: String,
    /// The tool calls, in the provider's order.
    pub tool_calls: Vec<ToolCall>,
    pub usage: Usage,
    /// `stop`, `tool_calls`, `length` (Anthropic: `end_turn`, `tool_use`, …), when reported.
    pub finish_reason: Option<String>,
}

/// Largest accumulated `arguments` text of one streamed answer (all its calls together).
pub(crate) const MAX_TOOL_ARGUMENT_BYTES: usize = 4 << 20;
/// Most tool calls one answer may carry.
pub(crate) const MAX_TOOL_CALLS: usize = 128;

/// Tool calls being assembled from stream deltas, keyed by the provider's index.
#[derive(Debug, Default)]
pub(crate) struct PartialCalls {
    calls: Vec<(u64, ToolCall)>,
    bytes: usize,
}

impl PartialCalls {
    pub(crate) fn at(&mut self, index: u64) -> Result<&mut ToolCall, String> {
        if let Some(pos) = self.calls.iter().position(|(i, _)| *i == index) {
            return Ok(&mut self.calls[pos].1);
        }
        if self.calls.len() >= MAX_TOOL_CALLS {
            return Err(format!("the answer has more than {MAX_TOOL_CALLS} tool calls"));
        }
        self.calls.push((index, ToolCall::default()));
        let last = self.calls.len() - 1;
        Ok(&mut self.calls[last].1)
    }

    pub(crate) fn append_arguments(&mut self, index: u64, part: &str) -> Result<(), String> {
        self.bytes += part.len();
        if self.bytes > MAX_TOOL_ARGUMENT_BYTES {
            return Err(format!("tool call arguments are larger than {MAX_TOOL_ARGUMENT_BYTES} bytes"));
        }
        self.at(index)?.arguments.push_str(part);
        Ok(())
    }

    /// The calls in index order.
    pub(crate) fn take(&mut self) -> Vec<ToolCall> {
        let mut calls = std::mem::take(&mut self.calls);
        calls.sort_by_key(|(i, _)| *i);
        self.bytes = 0;
        calls.into_iter().map(|(_, c)| c).collect()
    }
}

// ---- OpenAI serialisation -------------------------------------------------------------------

struct OaToolCall<'a>(&'a ToolCall);

impl Serialize for OaToolCall<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Function<'a> {
            name: &'a str,
            arguments: &'a str,
        }
        let mut m = s.serialize_map(Some(3))?;
        m.serialize_entry("type", "function")?;
        m.serialize_entry("id", &self.0.id)?;
        m.serialize_entry("function", &Function { name: &self.0.name, arguments: &self.0.arguments })?;
        m.end()
    }
}

struct OaMessage<'a>(&'a ChatMessage);

impl Serialize for OaMessage<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        match self.0 {
            ChatMessage::System(text) => {
                m.serialize_entry("content", text)?;
                m.serialize_entry("role", "system")?;
            }
            ChatMessage::User(text) => {
                m.serialize_entry("content", text)?;
                m.serialize_entry("role", "user")?;
            }
            ChatMessage::Assistant { content, tool_calls } => {
                m.serialize_entry("content", content)?;
                m.serialize_entry("role", "assistant")?;
                if !tool_calls.is_empty() {
                    let calls: Vec<OaToolCall<'_>> = tool_calls.iter().map(OaToolCall).collect();
                    m.serialize_entry("tool_calls", &calls)?;
                }
            }
            ChatMessage::Tool { tool_call_id, content } => {
                m.serialize_entry("content", content)?;
                m.serialize_entry("role", "tool")?;
                m.serialize_entry("tool_call_id", tool_call_id)?;
            }
        }
        m.end()
    }
}

struct OaTool<'a>(&'a ToolSpec);

impl Serialize for OaTool<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Function<'a> {
            name: &'a str,
            description: &'a str,
            parameters: &'a Json,
        }
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("type", "function")?;
        m.serialize_entry(
            "function",
            &Function { name: &self.0.name, description: &self.0.description, parameters: &self.0.parameters },
        )?;
        m.end()
    }
}

fn oa_tool_choice(choice: &ToolChoice) -> Json {
    match choice {
        ToolChoice::Auto => Json::from("auto"),
        ToolChoice::None => Json::from("none"),
        ToolChoice::Required => Json::from("required"),
        ToolChoice::Function(name) => serde_json::json!({"type": "function", "function": {"name": name}}),
    }
}

const OA_FIELDS: [&str; 10] = [
    "messages",
    "model",
    "max_completion_tokens",
    "stream",
    "stream_options",
    "tools",
    "tool_choice",
    "temperature",
    "response_format",
    "max_tokens",
];

/// The Chat Completions body for a conversation, serialised.
pub(super) fn openai_body(req: &ConversationRequest, stream: bool) -> Result<Vec<u8>, String> {
    struct Body<'a>(&'a ConversationRequest, bool);
    impl Serialize for Body<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let (r, stream) = (self.0, self.1);
            let mut m = s.serialize_map(None)?;
            let messages: Vec<OaMessage<'_>> = r.messages.iter().map(OaMessage).collect();
            m.serialize_entry("messages", &messages)?;
            m.serialize_entry("model", &r.model)?;
            if let Some(n) = r.max_tokens {
                let field =
                    if r.provider.eq_ignore_ascii_case("openai") { "max_completion_tokens" } else { "max_tokens" };
                m.serialize_entry(field, &n)?;
            }
            m.serialize_entry("stream", &stream)?;
            if stream {
                m.serialize_entry("stream_options", &serde_json::json!({"include_usage": true}))?;
            }
            if !r.tools.is_empty() {
                let tools: Vec<OaTool<'_>> = r.tools.iter().map(OaTool).collect();
                m.serialize_entry("tools", &tools)?;
            }
            if let Some(choice) = &r.tool_choice {
                m.serialize_entry("tool_choice", &oa_tool_choice(choice))?;
            }
            if let Some(t) = r.temperature {
                m.serialize_entry("temperature", &t)?;
            }
            if let Some(f) = &r.response_format {
                m.serialize_entry("response_format", f)?;
            }
            for (k, v) in &r.extra {
                if !OA_FIELDS.contains(&k.as_str()) {
                    m.serialize_entry(k, v)?;
                }
            }
            m.end()
        }
    }
    serde_json::to_vec(&Body(req, stream)).map_err(|e| format!("could not encode the request: {e}"))
}

/// `message.tool_calls` of a whole Chat Completions answer (`arguments` may be a string or,
/// from some OpenAI-compatible servers, an object).
pub(super) fn openai_tool_calls(message: &Json) -> Vec<ToolCall> {
    let Some(calls) = message.get("tool_calls").and_then(Json::as_array) else { return Vec::new() };
    calls
        .iter()
        .take(MAX_TOOL_CALLS)
        .map(|c| {
            let f = c.get("function");
            let arguments = match f.and_then(|f| f.get("arguments")) {
                Some(Json::String(s)) => s.clone(),
                None | Some(Json::Null) => String::new(),
                Some(other) => other.to_string(),
            };
            ToolCall {
                id: c.get("id").and_then(Json::as_str).unwrap_or_default().to_owned(),
                name: f.and_then(|f| f.get("name")).and_then(Json::as_str).unwrap_or_default().to_owned(),
                arguments,
            }
        })
        .collect()
}

// ---- Anthropic serialisation ----------------------------------------------------------------

/// The Messages API body: system messages joined into `system`, tool calls as `tool_use`
/// blocks, consecutive tool results as `tool_result` blocks of one user turn.
pub(super) fn anthropic_body(
    req: &ConversationRequest,
    stream: bool,
    default_max_tokens: u64,
) -> Result<Vec<u8>, String> {
    use serde_json::json;
    let mut system = String::new();
    let mut messages: Vec<Json> = Vec::with_capacity(req.messages.len());
    let mut tool_results_open = false;
    for msg in &req.messages {
        match msg {
            ChatMessage::System(text) => {
                if !system.is_empty() {
                    system.push_str("\n\n");
                }
                system.push_str(text);
                continue;
            }
            ChatMessage::User(text) => messages.push(json!({"role": "user", "content": text})),
            ChatMessage::Assistant { content, tool_calls } => {
                if tool_calls.is_empty() {
                    messages.push(json!({"role": "assistant", "content": content.clone().unwrap_or_default()}));
                } else {
                    let mut blocks = Vec::with_capacity(tool_calls.len() + 1);
                    if let Some(text) = content.as_deref().filter(|t| !t.is_empty()) {
                        blocks.push(json!({"type": "text", "text": text}));
                    }
                    for c in tool_calls {
                        let input = serde_json::from_str::<Json>(&c.arguments)
                            .ok()
                            .filter(Json::is_object)
                            .unwrap_or_else(|| json!({}));
                        blocks.push(json!({"type": "tool_use", "id": c.id, "name": c.name, "input": input}));
                    }
                    messages.push(json!({"role": "assistant", "content": blocks}));
                }
            }
            ChatMessage::Tool { tool_call_id, content } => {
                let block = json!({"type": "tool_result", "tool_use_id": tool_call_id, "content": content});
                if tool_results_open {
                    if let Some(Json::Array(blocks)) = messages.last_mut().and_then(|m| m.get_mut("content")) {
                        blocks.push(block);
                        continue;
                    }
                }
                messages.push(json!({"role": "user", "content": [block]}));
                tool_results_open = true;
                continue;
            }
        }
        tool_results_open = false;
    }
    let mut body = Map::new();
    body.insert("model".into(), json!(req.model));
    body.insert("max_tokens".into(), json!(req.max_tokens.unwrap_or(default_max_tokens)));
    body.insert("messages".into(), Json::Array(messages));
    if !system.is_empty() {
        body.insert("system".into(), json!(system));
    }
    if !req.tools.is_empty() {
        let tools: Vec<Json> = req
            .tools
            .iter()
            .map(|t| json!({"name": t.name, "description": t.description, "input_schema": t.parameters}))
            .collect();
        body.insert("tools".into(), Json::Array(tools));
    }
    if let Some(choice) = &req.tool_choice {
        let c = match choice {
            ToolChoice::Auto => json!({"type": "auto"}),
            ToolChoice::None => json!({"type": "none"}),
            ToolChoice::Required => json!({"type": "any"}),
            ToolChoice::Function(name) => json!({"type": "tool", "name": name}),
        };
        body.insert("tool_choice".into(), c);
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
    serde_json::to_vec(&Json::Object(body)).map_err(|e| format!("could not encode the request: {e}"))
}

/// Text and `tool_use` blocks of a whole Messages API answer.
pub(super) fn anthropic_turn(j: &Json) -> Result<(String, Vec<ToolCall>), String> {
    let blocks =
        j.get("content").and_then(Json::as_array).ok_or_else(|| "malformed response: no content".to_owned())?;
    let mut text = String::new();
    let mut calls = Vec::new();
    for b in blocks {
        match b.get("type").and_then(Json::as_str) {
            Some("text") => text.push_str(b.get("text").and_then(Json::as_str).unwrap_or_default()),
            Some("tool_use") if calls.len() < MAX_TOOL_CALLS => calls.push(ToolCall {
                id: b.get("id").and_then(Json::as_str).unwrap_or_default().to_owned(),
                name: b.get("name").and_then(Json::as_str).unwrap_or_default().to_owned(),
                arguments: b.get("input").map_or_else(|| "{}".to_owned(), Json::to_string),
            }),
            _ => {}
        }
    }
    Ok((text, calls))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn req() -> ConversationRequest {
        let mut r = ConversationRequest::new("OpenAI", Protocol::OpenAi, "http://x/v1", ApiKey::new("k"), "m");
        r.messages = vec![
            ChatMessage::System("sys".into()),
            ChatMessage::User("hi".into()),
            ChatMessage::Assistant {
                content: None,
                tool_calls: vec![ToolCall { id: "c1".into(), name: "t".into(), arguments: "{\"a\": 1}".into() }],
            },
            ChatMessage::Tool { tool_call_id: "c1".into(), content: "r1".into() },
            ChatMessage::Assistant {
                content: Some("narr".into()),
                tool_calls: vec![
                    ToolCall { id: "c2".into(), name: "t".into(), arguments: "{}".into() },
                    ToolCall { id: "c3".into(), name: "t".into(), arguments: "garbage".into() },
                ],
            },
            ChatMessage::Tool { tool_call_id: "c2".into(), content: "r2".into() },
            ChatMessage::Tool { tool_call_id: "c3".into(), content: "r3".into() },
        ];
        r.tools = vec![ToolSpec { name: "t".into(), description: "d".into(), parameters: json!({"type": "object"}) }];
        r
    }

    #[test]
    fn openai_body_has_langflows_fields_and_key_order() {
        let mut r = req();
        r.max_tokens = Some(50);
        r.extra.insert("model".into(), json!("other"));
        r.extra.insert("top_p".into(), json!(0.5));
        let bytes = openai_body(&r, true).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.starts_with(r#"{"messages":[{"content":"sys","role":"system"},{"content":"hi","role":"user"},{"content":null,"role":"assistant","tool_calls":[{"type":"function","id":"c1","function":{"name":"t","arguments":"{\"a\": 1}"}}]},{"content":"r1","role":"tool","tool_call_id":"c1"}"#), "{text}");
        let b: Json = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(b["model"], "m");
        assert_eq!(b["max_completion_tokens"], 50);
        assert!(b.get("max_tokens").is_none() && b.get("tool_choice").is_none() && b.get("temperature").is_none());
        assert_eq!(b["stream_options"], json!({"include_usage": true}));
        assert_eq!(
            b["tools"],
            json!([{"type": "function", "function": {"name": "t", "description": "d", "parameters": {"type": "object"}}}])
        );
        assert_eq!(b["top_p"], 0.5);
        r.tools.clear();
        r.tool_choice = Some(ToolChoice::Function("OutputModel".into()));
        let b: Json = serde_json::from_slice(&openai_body(&r, false).unwrap()).unwrap();
        assert!(b.get("tools").is_none() && b.get("stream_options").is_none());
        assert_eq!(b["stream"], false);
        assert_eq!(b["tool_choice"], json!({"type": "function", "function": {"name": "OutputModel"}}));
        r.provider = "Ollama".into();
        let b: Json = serde_json::from_slice(&openai_body(&r, false).unwrap()).unwrap();
        assert_eq!((b["max_tokens"].as_u64(), b.get("max_completion_tokens")), (Some(50), None));
    }

    #[test]
    fn anthropic_body_maps_tool_use_and_groups_tool_results() {
        let mut r = req();
        r.tool_choice = Some(ToolChoice::Required);
        let b: Json = serde_json::from_slice(&anthropic_body(&r, true, 4096).unwrap()).unwrap();
        assert_eq!(b["system"], "sys");
        assert_eq!(b["max_tokens"], 4096);
        assert_eq!(b["tool_choice"], json!({"type": "any"}));
        assert_eq!(b["tools"], json!([{"name": "t", "description": "d", "input_schema": {"type": "object"}}]));
        assert_eq!(
            b["messages"],
            json!([
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": [{"type": "tool_use", "id": "c1", "name": "t", "input": {"a": 1}}]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "c1", "content": "r1"}]},
                {"role": "assistant", "content": [
                    {"type": "text", "text": "narr"},
                    {"type": "tool_use", "id": "c2", "name": "t", "input": {}},
                    {"type": "tool_use", "id": "c3", "name": "t", "input": {}}]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "c2", "content": "r2"},
                    {"type": "tool_result", "tool_use_id": "c3", "content": "r3"}]}
            ])
        );
        let (text, calls) = anthropic_turn(&json!({"content": [
            {"type": "text", "text": "Let me"}, {"type": "tool_use", "id": "tu1", "name": "t", "input": {"x": [1]}}]}))
        .unwrap();
        assert_eq!(text, "Let me");
        assert_eq!(calls, vec![ToolCall { id: "tu1".into(), name: "t".into(), arguments: "{\"x\":[1]}".into() }]);
    }

    #[test]
    fn partial_calls_accumulate_by_index_and_are_bounded() {
        let mut p = PartialCalls::default();
        p.at(1).unwrap().id = "b".into();
        p.at(0).unwrap().id = "a".into();
        p.append_arguments(0, "{\"x\"").unwrap();
        p.append_arguments(1, "{}").unwrap();
        p.append_arguments(0, ": 1}").unwrap();
        let calls = p.take();
        assert_eq!((calls[0].id.as_str(), calls[0].arguments.as_str()), ("a", "{\"x\": 1}"));
        assert_eq!((calls[1].id.as_str(), calls[1].arguments.as_str()), ("b", "{}"));
        assert!(p.append_arguments(0, &"x".repeat(MAX_TOOL_ARGUMENT_BYTES + 1)).is_err());
        let mut p = PartialCalls::default();
        for i in 0..MAX_TOOL_CALLS as u64 {
            p.at(i).unwrap();
        }
        assert!(p.at(MAX_TOOL_CALLS as u64).is_err());
    }
}
