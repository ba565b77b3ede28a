//! Agent: one vertex that runs Langflow 1.13's tool loop ([`crate::agent::run`]) with the
//! selected model, the instructions, the session's chat history, the current input and its
//! tools (the connected ones, then the built-ins).
//!
//! What clients see follows spec §4: an Agent feeding a Chat Output announces a placeholder
//! message, streams every text delta as `token` events under its id, re-announces the message
//! as its "Agent Steps" change, and finally stores it complete with its usage; an intermediate
//! Agent emits nothing. A failed model call retracts the placeholder (`remove_message`, on
//! `/build`) and fails the vertex. The build's cancel token aborts the model call and the tools.

use std::sync::Arc;

use serde_json::json;
use tokio::sync::mpsc;

use super::model_call::{endpoint, positive, protocol};
use super::{
    BoxFuture, Component, ComponentContext, ComponentError, Data, Inputs, Message, Mode, Outputs, Source, Value,
};
use crate::agent::{self, prompt, structured, AgentConfig, AgentError, AgentObserver, AgentSteps, Tool};
use crate::catalog::agent::{
    choice, ADD_CALCULATOR_TOOL, ADD_CURRENT_DATE_TOOL, CONTEXT_ID, FORMAT_INSTRUCTIONS, INPUT_VALUE, MAX_ITERATIONS,
    MAX_TOKENS, N_MESSAGES, OUTPUT_SCHEMA, RESPONSE, STRUCTURED_RESPONSE, SYSTEM_PROMPT, TOOLS,
};
use crate::llm::{ChatMessage, ConversationRequest, Usage};

pub struct Agent;

impl Component for Agent {
    fn run<'a>(
        &'a self,
        ctx: &'a ComponentContext,
        inputs: &'a Inputs,
    ) -> BoxFuture<'a, Result<Outputs, ComponentError>> {
        Box::pin(async move {
            let connected = super::tool_mode::VertexTool::from_sets(ctx, ctx.args(inputs).values(&TOOLS));
            run(ctx, inputs, connected).await
        })
    }
}

/// What the loop reports, forwarded to the build's events by the vertex.
enum Progress {
    Token(String),
    Steps(AgentSteps),
}

struct Forward(mpsc::UnboundedSender<Progress>);

impl AgentObserver for Forward {
    fn on_token(&mut self, chunk: &str) {
        let _ = self.0.send(Progress::Token(chunk.to_owned()));
    }

    fn on_steps(&mut self, steps: &AgentSteps) {
        let _ = self.0.send(Progress::Steps(steps.clone()));
    }
}

/// The most history rows an Agent reads (Langflow's cap when no limit is given).
const MAX_HISTORY: usize = 10_000;

/// The stored messages of this session (and flow, and `context_id` when set), oldest first,
/// without the current turn's own message; `n_messages` counts that message too.
fn history(ctx: &ComponentContext, n: i64, context_id: &str, current: Option<uuid::Uuid>) -> Vec<ChatMessage> {
    let Some(store) = ctx.messages() else { return Vec::new() };
    if n <= 0 {
        return Vec::new();
    }
    let n = usize::try_from(n).unwrap_or(MAX_HISTORY).min(MAX_HISTORY);
    let limit = ctx.limits().max_output_bytes;
    let mut bytes = 0usize;
    let rows = store
        .last_n_matching(ctx.flow_id(), ctx.run_session(), n, |r| {
            let keep = context_id.is_empty() || r.context_id == context_id;
            if keep {
                bytes = bytes.saturating_add(r.text.len());
            }
            keep && bytes <= limit
        })
        .unwrap_or_default();
    rows.iter().filter(|r| Some(r.id) != current).filter_map(|r| prompt::history_turn(&r.sender, &r.text)).collect()
}

/// The Agent's message (text and blocks filled in as the run goes).
fn answer(ctx: &ComponentContext, model: &str) -> Message {
    let v = ctx.vertex();
    let mut m = ctx.new_message(String::new());
    m.sender = Some("Machine".into());
    m.sender_name = Some("AI".into());
    m.session_id = Some(ctx.run_session().to_owned());
    m.properties.source =
        Source { id: Some(v.id.to_string()), display_name: Some(v.display_name.clone()), source: Some(model.into()) };
    m.properties.icon = Some("Bot".into());
    m
}

/// Runs the Agent with `connected` tools (those built from its `tools` edges): each wanted
/// output is its own run, as in Langflow (`response` first, then `structured_response`).
pub(crate) async fn run(
    ctx: &ComponentContext,
    inputs: &Inputs,
    connected: Vec<Arc<dyn Tool>>,
) -> Result<Outputs, ComponentError> {
    let mut out = Outputs::new();
    let structured = ctx.wants(&STRUCTURED_RESPONSE);
    if ctx.wants(&RESPONSE) || !structured {
        out.set(&RESPONSE, message_response(ctx, inputs, connected.clone()).await?);
    }
    if structured {
        out.set(&STRUCTURED_RESPONSE, json_response(ctx, inputs, connected).await?);
    }
    Ok(out)
}

/// `response`: the tool loop, its answer streamed to a Chat Output it feeds.
async fn message_response(
    ctx: &ComponentContext,
    inputs: &Inputs,
    connected: Vec<Arc<dyn Tool>>,
) -> Result<Value, ComponentError> {
    let params = ctx.params();
    let choice = choice(params).map_err(ComponentError::Failed)?;
    let provider = choice.provider;
    let (base, key) = endpoint(ctx, &choice)?;
    let a = ctx.args(inputs);
    let input = a.value(&INPUT_VALUE);
    let input_text = a.text(&INPUT_VALUE).into_owned();
    let input_id = match input {
        Some(Value::Message(m)) => m.id,
        _ => None,
    };
    let upstream_usage = match input {
        Some(Value::Message(m)) => m.usage_total,
        _ => None,
    };
    let template =
        if a.value(&SYSTEM_PROMPT).is_some() { a.text(&SYSTEM_PROMPT) } else { a.param_or_default(&SYSTEM_PROMPT) };
    let system = prompt::system_prompt(&template, &choice.model, chrono::Utc::now().date_naive());

    let mut req = ConversationRequest::new(provider.name(), protocol(provider), &base, key.key, &choice.model);
    if !system.is_empty() {
        req.messages.push(ChatMessage::System(system));
    }
    let context_id = a.text(&CONTEXT_ID).into_owned();
    req.messages.extend(history(ctx, a.int(&N_MESSAGES), &context_id, input_id));
    req.messages.push(prompt::user_turn(&input_text));
    req.max_tokens = positive(params, &MAX_TOKENS);

    let tools = prompt::assemble_tools(connected, a.bool(&ADD_CURRENT_DATE_TOOL), a.bool(&ADD_CALCULATOR_TOOL));
    let max_iterations = u32::try_from(a.int(&MAX_ITERATIONS).max(1)).unwrap_or(u32::MAX);
    let config = AgentConfig { max_iterations, ..AgentConfig::default() };

    let visible = ctx.feeds_chat_output();
    let mut msg = answer(ctx, &choice.model);
    if visible {
        msg = ctx.begin_stream(msg).await?;
    }
    let (tx, mut rx) = mpsc::unbounded_channel();
    let llm = ctx.llm();
    let looped = async move {
        let mut observer = Forward(tx);
        agent::run(llm, req, &tools, &config, &mut observer, ctx.cancel_token().cancelled()).await
    };
    let forwarded = async {
        let mut shown = msg.clone();
        let mut failure = None;
        while let Some(p) = rx.recv().await {
            if !visible || failure.is_some() {
                continue;
            }
            let sent = match (p, shown.id) {
                (Progress::Token(chunk), Some(id)) => ctx.send_token(id, &chunk).await,
                (Progress::Steps(steps), _) => {
                    shown.text = steps.text();
                    shown.content_blocks = steps.content_blocks(0);
                    ctx.send_message(shown.clone(), false).await.map(|_| ())
                }
                (Progress::Token(_), None) => Ok(()),
            };
            if let Err(e) = sent {
                failure = Some(e);
            }
        }
        failure
    };
    let (outcome, failure) = tokio::join!(looped, forwarded);
    let outcome = match outcome {
        Ok(o) => o,
        Err(AgentError::Cancelled) => return Err(ComponentError::Cancelled),
        Err(AgentError::Llm(e)) => {
            if let (true, Some(id)) = (visible && ctx.mode() == Mode::Build, msg.id) {
                if let Some(store) = ctx.messages() {
                    let _ = store.delete_ids(&[id]);
                }
                ctx.emit("remove_message", json!({"id": id.to_string()})).await?;
            }
            return Err(ComponentError::Failed(e.0));
        }
    };
    if let Some(e) = failure {
        return Err(e);
    }
    ctx.check_message_size(outcome.text.len())?;
    msg.text = outcome.text;
    msg.content_blocks = outcome.steps.content_blocks(0);
    msg.properties.state = "complete";
    msg.properties.usage = outcome.usage.to_json();
    msg.usage_total = Some(agent::add_usage(upstream_usage.unwrap_or_default(), outcome.usage));
    if visible {
        msg = ctx.send_message(msg, true).await?;
    }
    Ok(Value::message(msg))
}

/// `structured_response` (spec §6.2): the `output_schema` records the model fills in, as a
/// Data. An empty schema gives the input as `content` without asking the model; an Agent with
/// no tools asks once for a native structured answer (`response_format` json_schema, strict);
/// one with tools runs its loop silently with the schema appended to its instructions and
/// reads the first JSON value of the answer. Failures are data
/// (`{"content": "", "error": …}`), never a failed vertex.
async fn json_response(
    ctx: &ComponentContext,
    inputs: &Inputs,
    connected: Vec<Arc<dyn Tool>>,
) -> Result<Value, ComponentError> {
    let a = ctx.args(inputs);
    let fields = structured::fields_from_table(a.param(&OUTPUT_SCHEMA));
    let data = |m: serde_json::Map<String, serde_json::Value>| Value::Data(Arc::new(Data::new(m)));
    let object = |v: serde_json::Value| v.as_object().cloned().unwrap_or_default();
    if fields.is_empty() {
        return Ok(data(object(json!({"content": a.text(&INPUT_VALUE)}))));
    }
    match structured_records(ctx, inputs, connected, &fields).await {
        Ok(m) => Ok(data(m)),
        Err(ComponentError::Cancelled) => Err(ComponentError::Cancelled),
        Err(ComponentError::Failed(e)) => Ok(data(object(json!({"content": "", "error": e})))),
    }
}

/// The structured records of one run, shaped as the Data `structured_response` carries.
async fn structured_records(
    ctx: &ComponentContext,
    inputs: &Inputs,
    connected: Vec<Arc<dyn Tool>>,
    fields: &[structured::SchemaField],
) -> Result<serde_json::Map<String, serde_json::Value>, ComponentError> {
    let params = ctx.params();
    let choice = choice(params).map_err(ComponentError::Failed)?;
    let provider = choice.provider;
    let (base, key) = endpoint(ctx, &choice)?;
    let a = ctx.args(inputs);
    let input_text = a.text(&INPUT_VALUE).into_owned();
    let input_id = match a.value(&INPUT_VALUE) {
        Some(Value::Message(m)) => m.id,
        _ => None,
    };
    let template =
        if a.value(&SYSTEM_PROMPT).is_some() { a.text(&SYSTEM_PROMPT) } else { a.param_or_default(&SYSTEM_PROMPT) };
    let system = prompt::system_prompt(&template, &choice.model, chrono::Utc::now().date_naive());
    let envelope_key = structured::envelope_key(fields);
    let envelope = structured::Envelope::agent(&envelope_key);

    let mut req = ConversationRequest::new(provider.name(), protocol(provider), &base, key.key, &choice.model);
    req.max_tokens = positive(params, &MAX_TOKENS);
    let tools = prompt::assemble_tools(connected, a.bool(&ADD_CURRENT_DATE_TOOL), a.bool(&ADD_CALCULATOR_TOOL));
    let text = if tools.is_empty() {
        // Native structured output: one (streamed) call, the system prompt as is.
        if !system.is_empty() {
            req.messages.push(ChatMessage::System(system));
        }
        req.messages.push(prompt::user_turn(&input_text));
        req.response_format = Some(json!({"type": "json_schema", "json_schema": {
            "schema": structured::envelope_schema(fields, &envelope, true),
            "name": structured::RECORD_MODEL, "strict": true}}));
        let mut ignore = |_: &str| {};
        let turn = tokio::select! {
            biased;
            () = ctx.cancel_token().cancelled() => return Err(ComponentError::Cancelled),
            r = ctx.llm().converse(&req, &mut ignore) => r.map_err(|e| ComponentError::Failed(e.0))?,
        };
        turn.text
    } else {
        // The prompt fallback: the loop with the schema in the instructions, nothing shown.
        let instructions = if a.value(&FORMAT_INSTRUCTIONS).is_some() {
            a.text(&FORMAT_INSTRUCTIONS)
        } else {
            a.param_or_default(&FORMAT_INSTRUCTIONS)
        };
        let schema = structured::dumps_indent2(&structured::envelope_schema(fields, &envelope, false));
        let mut parts = Vec::with_capacity(3);
        if !system.is_empty() {
            parts.push(system);
        }
        if !instructions.is_empty() {
            parts.push(format!("Format instructions: {instructions}"));
        }
        parts.push(format!("{STRUCTURED_PROMPT}\nSchema:\n{schema}"));
        req.messages.push(ChatMessage::System(parts.join("\n\n")));
        let context_id = a.text(&CONTEXT_ID).into_owned();
        req.messages.extend(history(ctx, a.int(&N_MESSAGES), &context_id, input_id));
        req.messages.push(prompt::user_turn(&input_text));
        let max_iterations = u32::try_from(a.int(&MAX_ITERATIONS).max(1)).unwrap_or(u32::MAX);
        let config = AgentConfig { max_iterations, ..AgentConfig::default() };
        let outcome =
            agent::run(ctx.llm(), req, &tools, &config, &mut agent::NoObserver, ctx.cancel_token().cancelled()).await;
        match outcome {
            Ok(o) => o.text,
            Err(AgentError::Cancelled) => return Err(ComponentError::Cancelled),
            Err(AgentError::Llm(e)) => return Err(ComponentError::Failed(e.0)),
        }
    };
    ctx.check_message_size(text.len())?;
    let Some(found) = structured::first_json(&text) else {
        return Ok(json!({"content": text, "error": "Try setting an output schema"})
            .as_object()
            .cloned()
            .unwrap_or_default());
    };
    let records = structured::unwrap_records(found, &envelope_key);
    let checked = structured::checked_records(&structured::record_schema(fields, false), records);
    structured::as_data(checked).ok_or_else(|| ComponentError::failed("No structured output returned"))
}

/// What the prompt fallback tells the model after the format instructions.
const STRUCTURED_PROMPT: &str = "You must respond ONLY with a JSON object matching this schema. Do not include \
                                 explanations, markdown, or any text outside the JSON.";

/// The usage a message reports to a Chat Output: every upstream model call's.
#[must_use]
pub(crate) fn total_usage(m: &Message) -> Option<serde_json::Value> {
    m.usage_total.map_or_else(|| m.properties.usage.clone(), |u: Usage| u.to_json())
}
