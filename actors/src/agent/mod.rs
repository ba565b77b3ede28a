//! Langflow 1.13's Agent tool loop, independent of the engine: ask the model, run the tool
//! calls it makes (those of one turn concurrently), feed the results back formatted as
//! Langflow formats them, and repeat until the model answers with text or the model-call cap
//! is reached.
//!
//! What the loop reproduces:
//! * the request each round: the whole conversation so far plus the assistant turn (its
//!   narration or `content: null`, its `tool_calls` with the arguments re-serialised
//!   Python-style) and one `role: "tool"` message per call, in call order;
//! * tool results as the model reads them: a Message or string as is, Data as Python
//!   `json.dumps`, a table as pandas' repr ([`pyfmt::dataframe_repr`]);
//! * the error matrix: an unknown tool, arguments that fail the tool's schema (pydantic's
//!   texts) and a failing tool all become tool messages and the run goes on; arguments that
//!   are not JSON even after repair make the call invalid (not run, nothing sent back);
//! * `max_iterations` caps model calls; reaching it ends the run with
//!   `Model call limits exceeded: run limit (N/N)` as a normal answer;
//! * the "Agent Steps" blocks clients see ([`AgentSteps`]), reported to an observer as they
//!   change, and every text delta of every model call.
//!
//! Bounds: each tool result is cut at [`AgentConfig::max_tool_output_bytes`], each tool call
//! at [`AgentConfig::tool_timeout`], and the whole run stops when the cancel future resolves
//! (the in-flight model request and running tools are dropped, which closes their
//! connections).

pub mod args;
pub mod builtin;
pub mod calculator;
pub mod prompt;
pub mod pyfmt;
mod steps;
pub mod structured;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::stream::{FuturesUnordered, StreamExt};
use serde_json::{json, Map, Value as Json};

use crate::llm::{ChatMessage, ConversationRequest, LlmError, LlmRuntime, ToolCall, ToolSpec, Usage};

pub use builtin::{Calculator, CurrentDate};
use steps::millis;
pub use steps::{AgentSteps, Step, ToolState, ToolUse};

/// What a tool call's future resolves to.
pub type ToolFuture<'a> = Pin<Box<dyn Future<Output = Result<ToolOutput, ToolError>> + Send + 'a>>;

/// A tool the model may call.
pub trait Tool: Send + Sync {
    /// The name the model calls it by (`^[a-zA-Z0-9_-]+$`).
    fn name(&self) -> &str;
    fn description(&self) -> &str;
    /// JSON schema of the arguments: `{"properties": {…}, "required": […], "type": "object"}`.
    fn parameters(&self) -> &Json;
    /// Runs the tool with the model's arguments, already validated against
    /// [`Self::parameters`] with defaults filled in (always a JSON object). Dropping the
    /// future cancels the call.
    fn call(&self, args: Json) -> ToolFuture<'_>;
}

/// A table result (a DataFrame in Langflow): column names and rows of cells in column order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Json>>,
}

impl Table {
    /// The rows as `{column: cell}` objects.
    #[must_use]
    pub fn records(&self) -> Json {
        Json::Array(
            self.rows
                .iter()
                .map(|r| Json::Object(self.columns.iter().cloned().zip(r.iter().cloned()).collect()))
                .collect(),
        )
    }
}

/// A tool's successful result, by the type Langflow's tools return.
#[derive(Debug, Clone, PartialEq)]
pub enum ToolOutput {
    /// A Message or a plain string: sent as is; no artifact.
    Text(String),
    /// A Data: sent as Python `json.dumps` of the dict; the dict is the artifact.
    Data(Map<String, Json>),
    /// A DataFrame: sent as pandas' repr; the artifact is the list of row objects.
    Table(Table),
    /// Anything else: sent as its JSON; the value is the artifact.
    Json(Json),
}

impl ToolOutput {
    /// The `role: "tool"` content and the artifact.
    #[must_use]
    pub fn render(&self) -> (String, Json) {
        match self {
            Self::Text(t) => (t.clone(), Json::Null),
            Self::Data(d) => {
                let v = Json::Object(d.clone());
                (pyfmt::dumps(&v), v)
            }
            Self::Table(t) => (pyfmt::dataframe_repr(&t.columns, &t.rows), t.records()),
            Self::Json(v) => (pyfmt::dumps(v), v.clone()),
        }
    }
}

/// Why a tool call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ToolError {
    /// The tool raised: the text goes to the model as the result (status `error`).
    #[error("{0}")]
    Failed(String),
    /// The arguments did not fit (a tool's own check): reported like a schema violation.
    #[error("invalid arguments")]
    InvalidArguments(Vec<args::FieldError>),
}

/// Limits of one agent run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentConfig {
    /// Most model calls (`max(1, n)`); Langflow's default is 15.
    pub max_iterations: u32,
    /// A tool result whose content is longer than this (bytes) is cut; an artifact (the
    /// structured result clients see) larger than this is dropped.
    pub max_tool_output_bytes: usize,
    /// A tool call running longer than this fails with a timeout text (fed back to the model).
    pub tool_timeout: Option<Duration>,
}

impl Default for AgentConfig {
    fn default() -> Self {
        Self { max_iterations: 15, max_tool_output_bytes: 1 << 20, tool_timeout: Some(Duration::from_secs(300)) }
    }
}

/// What the engine hears while a run goes on. Every method has an empty default.
pub trait AgentObserver: Send {
    /// A text delta of a model call, as it arrives (tool-call rounds have none).
    fn on_token(&mut self, _chunk: &str) {}
    /// The steps changed: text added, a tool started or finished.
    fn on_steps(&mut self, _steps: &AgentSteps) {}
    /// A tool is about to run (`call_id` is the model's id).
    fn on_tool_start(&mut self, _tool: &str, _call_id: &str) {}
    /// A tool finished, successfully or not.
    fn on_tool_end(&mut self, _tool: &str, _call_id: &str) {}
    /// A model call finished, with its usage.
    fn on_model_call(&mut self, _usage: &Usage) {}
}

/// An observer that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoObserver;

impl AgentObserver for NoObserver {}

/// A finished run.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentOutcome {
    /// The answer: every text step concatenated.
    pub text: String,
    pub steps: AgentSteps,
    /// Summed over every model call.
    pub usage: Usage,
    pub model_calls: u32,
    /// The run ended on `max_iterations`.
    pub hit_limit: bool,
    /// The conversation as last sent, plus the last answer's turn when it was text.
    pub messages: Vec<ChatMessage>,
}

/// Why a run failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgentError {
    /// A model call failed (after the client's bounded retries).
    #[error("{0}")]
    Llm(#[from] LlmError),
    #[error("the agent run was cancelled")]
    Cancelled,
}

/// The sum of two usages (a count reported by neither stays `None`).
#[must_use]
pub fn add_usage(a: Usage, b: Usage) -> Usage {
    let sum = |x: Option<u64>, y: Option<u64>| match (x, y) {
        (None, None) => None,
        (x, y) => Some(x.unwrap_or(0) + y.unwrap_or(0)),
    };
    Usage {
        input_tokens: sum(a.input_tokens, b.input_tokens),
        output_tokens: sum(a.output_tokens, b.output_tokens),
        total_tokens: sum(a.total_tokens, b.total_tokens),
    }
}

/// The spec a tool is offered to the model with.
#[must_use]
pub fn tool_spec(tool: &dyn Tool) -> ToolSpec {
    ToolSpec {
        name: tool.name().to_owned(),
        description: tool.description().to_owned(),
        parameters: tool.parameters().clone(),
    }
}

/// Whether `v` serialises to at most `max` bytes (counted, not buffered).
fn fits(v: &Json, max: usize) -> bool {
    struct Counter(usize, usize);
    impl std::io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            if self.0 > self.1 {
                return Err(std::io::Error::other("too large"));
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    serde_json::to_writer(Counter(0, max), v).is_ok()
}

/// Cuts `text` to at most `max` bytes at a character boundary.
fn bound(text: &mut String, max: usize) -> bool {
    if text.len() <= max {
        return false;
    }
    let mut cut = max;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    text.truncate(cut);
    text.push_str("... [truncated]");
    true
}

/// Runs the loop. `request` carries the conversation so far (system prompt, history, the
/// current user turn) and the model settings; its `tools` are replaced by `tools`' specs.
/// Resolving `cancel` stops the run at once.
///
/// # Errors
/// [`AgentError::Llm`] when a model call fails, [`AgentError::Cancelled`].
pub async fn run(
    llm: &LlmRuntime,
    request: ConversationRequest,
    tools: &[Arc<dyn Tool>],
    config: &AgentConfig,
    observer: &mut dyn AgentObserver,
    cancel: impl Future<Output = ()>,
) -> Result<AgentOutcome, AgentError> {
    tokio::pin!(cancel);
    tokio::select! {
        biased;
        () = &mut cancel => Err(AgentError::Cancelled),
        r = run_loop(llm, request, tools, config, observer) => r,
    }
}

/// A tool call of one turn, ready to run or already answered.
enum Planned {
    /// Answered without running (unknown tool, invalid arguments).
    Answered(String),
    /// Running; its step index.
    Running(usize),
}

async fn run_loop(
    llm: &LlmRuntime,
    mut request: ConversationRequest,
    tools: &[Arc<dyn Tool>],
    config: &AgentConfig,
    observer: &mut dyn AgentObserver,
) -> Result<AgentOutcome, AgentError> {
    request.tools = tools.iter().map(|t| tool_spec(t.as_ref())).collect();
    let limit = config.max_iterations.max(1);
    let mut steps = AgentSteps::default();
    let mut usage = Usage::default();
    let mut last_step = Instant::now();
    let mut model_calls = 0u32;
    let mut hit_limit = false;
    loop {
        model_calls += 1;
        let turn = {
            let mut on_text = |chunk: &str| observer.on_token(chunk);
            llm.converse(&request, &mut on_text).await?
        };
        usage = add_usage(usage, turn.usage);
        observer.on_model_call(&turn.usage);
        if !turn.text.is_empty() {
            steps.steps.push(Step::Text { text: turn.text.clone(), duration_ms: millis(last_step.elapsed()) });
            observer.on_steps(&steps);
        }
        // Calls whose arguments cannot be read even leniently are invalid: not run, not sent.
        let mut calls: Vec<(ToolCall, Map<String, Json>)> = Vec::with_capacity(turn.tool_calls.len());
        for c in turn.tool_calls {
            let repaired =
                if c.arguments.trim().is_empty() { Some("{}".to_owned()) } else { args::repair_json(&c.arguments) };
            let parsed = repaired.as_deref().and_then(|t| serde_json::from_str::<Json>(t).ok());
            if let (Some(text), Some(Json::Object(map))) = (repaired, parsed) {
                let id = if c.id.is_empty() {
                    format!("call_{}", &uuid::Uuid::new_v4().simple().to_string()[..24])
                } else {
                    c.id
                };
                // Python re-serialises the parsed dict, keeping the model's key order.
                let arguments = pyfmt::redump(&text).unwrap_or_else(|| pyfmt::dumps(&Json::Object(map.clone())));
                calls.push((ToolCall { id, name: c.name, arguments }, map));
            }
        }
        if calls.is_empty() {
            let content = (!turn.text.is_empty()).then_some(turn.text);
            request.messages.push(ChatMessage::Assistant { content, tool_calls: Vec::new() });
            break;
        }
        let tool_calls: Vec<ToolCall> = calls.iter().map(|(c, _)| c.clone()).collect();
        let content = (!turn.text.is_empty()).then_some(turn.text);
        request.messages.push(ChatMessage::Assistant { content, tool_calls });
        let results = run_calls(tools, calls, config, &mut steps, observer).await;
        for (id, content) in results {
            request.messages.push(ChatMessage::Tool { tool_call_id: id, content });
        }
        last_step = Instant::now();
        if model_calls >= limit {
            let text = format!("Model call limits exceeded: run limit ({limit}/{limit})");
            steps.steps.push(Step::Text { text, duration_ms: millis(last_step.elapsed()) });
            observer.on_steps(&steps);
            hit_limit = true;
            break;
        }
    }
    Ok(AgentOutcome { text: steps.text(), steps, usage, model_calls, hit_limit, messages: request.messages })
}

/// `repr` of the call's arguments, keys in the model's order.
fn kwargs_repr(call: &ToolCall, input: &Map<String, Json>) -> String {
    pyfmt::repr_of_text(&call.arguments).unwrap_or_else(|| pyfmt::py_repr(&Json::Object(input.clone())))
}

fn invalid_arguments_text(call: &ToolCall, input: &Map<String, Json>, errors: &[args::FieldError]) -> String {
    let lines: Vec<String> = errors.iter().map(|e| format!(" {}: {}", e.loc, e.msg)).collect();
    format!(
        "Error invoking tool '{}' with kwargs {} with error:\n{}\n Please fix the error and try again.",
        call.name,
        kwargs_repr(call, input),
        lines.join("\n")
    )
}

/// Pydantic shows the whole input for a missing field.
fn with_input_repr(
    mut errors: Vec<args::FieldError>,
    call: &ToolCall,
    input: &Map<String, Json>,
) -> Vec<args::FieldError> {
    let whole = kwargs_repr(call, input);
    for e in &mut errors {
        if e.kind == "missing" {
            e.input_repr.clone_from(&whole);
        }
    }
    errors
}

/// Runs the calls of one turn concurrently; returns `(call id, content)` in call order.
async fn run_calls(
    tools: &[Arc<dyn Tool>],
    calls: Vec<(ToolCall, Map<String, Json>)>,
    config: &AgentConfig,
    steps: &mut AgentSteps,
    observer: &mut dyn AgentObserver,
) -> Vec<(String, String)> {
    let mut planned = Vec::with_capacity(calls.len());
    let mut running = FuturesUnordered::new();
    for (k, (call, input)) in calls.iter().enumerate() {
        let Some(tool) = tools.iter().find(|t| t.name() == call.name) else {
            let names: Vec<&str> = tools.iter().map(|t| t.name()).collect();
            planned.push(Planned::Answered(format!(
                "Error: {} is not a valid tool, try one of [{}].",
                call.name,
                names.join(", ")
            )));
            continue;
        };
        match args::validate(tool.parameters(), input) {
            Err(errors) => {
                let errors = with_input_repr(errors, call, input);
                steps.steps.push(Step::ToolUse(ToolUse {
                    name: call.name.clone(),
                    call_id: call.id.clone(),
                    input: Json::Object(input.clone()),
                    state: ToolState::Invalid,
                    output: None,
                    error: Some(args::pydantic_text(&errors)),
                    duration_ms: 0,
                }));
                planned.push(Planned::Answered(invalid_arguments_text(call, input, &errors)));
            }
            Ok(filled) => {
                steps.steps.push(Step::ToolUse(ToolUse {
                    name: call.name.clone(),
                    call_id: call.id.clone(),
                    input: Json::Object(input.clone()),
                    state: ToolState::Running,
                    output: None,
                    error: None,
                    duration_ms: 0,
                }));
                planned.push(Planned::Running(steps.steps.len() - 1));
                observer.on_tool_start(&call.name, &call.id);
                let tool = tool.clone();
                let timeout = config.tool_timeout;
                running.push(async move {
                    let started = Instant::now();
                    let fut = tool.call(Json::Object(filled));
                    let result = match timeout {
                        Some(t) => tokio::time::timeout(t, fut).await.unwrap_or_else(|_| {
                            Err(ToolError::Failed(format!(
                                "Error: the tool '{}' did not finish within {} s",
                                tool.name(),
                                t.as_secs_f64()
                            )))
                        }),
                        None => fut.await,
                    };
                    (k, result, started.elapsed())
                });
            }
        }
    }
    if !running.is_empty() || steps.has_tool_use() {
        observer.on_steps(steps);
    }
    let mut contents: Vec<Option<String>> = planned
        .iter()
        .map(|p| match p {
            Planned::Answered(text) => Some(text.clone()),
            Planned::Running(_) => None,
        })
        .collect();
    while let Some((k, result, elapsed)) = running.next().await {
        let call = &calls[k].0;
        let (mut content, mut artifact, status, invalid) = match result {
            Ok(out) => {
                let (c, a) = out.render();
                (c, a, "success", None)
            }
            Err(ToolError::Failed(text)) => (text, Json::Null, "error", None),
            Err(ToolError::InvalidArguments(errors)) => {
                let errors = with_input_repr(errors, call, &calls[k].1);
                (invalid_arguments_text(call, &calls[k].1, &errors), Json::Null, "error", Some(errors))
            }
        };
        if bound(&mut content, config.max_tool_output_bytes) || !fits(&artifact, config.max_tool_output_bytes) {
            artifact = Json::Null;
        }
        if let Planned::Running(ix) = planned[k] {
            if let Some(Step::ToolUse(t)) = steps.steps.get_mut(ix) {
                t.duration_ms = millis(elapsed);
                if let Some(errors) = invalid {
                    t.state = ToolState::Invalid;
                    t.error = Some(args::pydantic_text(&errors));
                } else {
                    t.state = ToolState::Executed;
                    t.output = Some(json!({
                        "content": content, "additional_kwargs": {}, "response_metadata": {}, "type": "tool",
                        "name": call.name, "id": uuid::Uuid::new_v4().to_string(), "tool_call_id": call.id,
                        "artifact": artifact, "status": status}));
                }
            }
        }
        observer.on_tool_end(&call.name, &call.id);
        observer.on_steps(steps);
        contents[k] = Some(content);
    }
    calls.into_iter().zip(contents).map(|((call, _), content)| (call.id, content.unwrap_or_default())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_are_bounded_at_character_boundaries() {
        let mut t = "aé".repeat(3);
        assert!(bound(&mut t, 2), "a cut inside 'é' moves back to its start");
        assert_eq!(t, "a... [truncated]");
        let mut short = "abc".to_owned();
        assert!(!bound(&mut short, 3));
        assert!(fits(&json!([1, 2, 3]), 7));
        assert!(!fits(&json!([1, 2, 3]), 6));
    }

    #[test]
    fn content_blocks_need_a_tool_use_and_repeat_the_answer() {
        let mut steps = AgentSteps::default();
        steps.steps.push(Step::Text { text: "plain".into(), duration_ms: 3 });
        assert_eq!(steps.content_blocks(1), json!([]));
        steps.steps.insert(
            0,
            Step::ToolUse(ToolUse {
                name: "t".into(),
                call_id: "c".into(),
                input: json!({}),
                state: ToolState::Running,
                output: None,
                error: None,
                duration_ms: 0,
            }),
        );
        let blocks = steps.content_blocks(2);
        let contents = blocks[0]["contents"].as_array().unwrap_or(&Vec::new()).clone();
        assert_eq!(contents.len(), 4);
        assert_eq!(contents[0]["header"], json!({"title": "Accessing **t**", "icon": "Hammer"}));
        assert_eq!(
            contents[3],
            json!({"type": "text", "duration": null,
            "header": {"title": "Output", "icon": "MessageSquare"}, "text": "plain"})
        );
        assert_eq!(
            (blocks[0]["title"].as_str(), blocks[0]["allow_markdown"].as_bool()),
            (Some("Agent Steps"), Some(true))
        );
    }
}
