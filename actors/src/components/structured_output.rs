//! Structured Output: Langflow 1.13's `StructuredOutputComponent` (spec §6.1). One
//! non-streamed request forces a call of the function `<schema name>` whose parameters are the
//! `objects` envelope of the `output_schema` records (trustcall's extractor); the call's
//! arguments are read back and validated. If that attempt fails, a second one asks for the
//! same schema as a structured answer (`response_format` json_schema, LangChain's
//! `with_structured_output`; Anthropic has no such format, so its second attempt forces the
//! tool again). `structured_output` is the single record, or `{"results": […]}`;
//! `dataframe_output` one row per record.
//!
//! Both outputs come from one model answer (Langflow asks the model once per connected
//! output).

use std::sync::Arc;

use serde_json::{json, Map, Value as Json};

use super::model_call::{endpoint, protocol};
use super::{BoxFuture, Component, ComponentContext, ComponentError, Data, Inputs, Outputs, Value};
use crate::agent::structured::{
    envelope_schema, fields_from_table, record_schema, validate_record, Envelope, SchemaField,
};
use crate::catalog::agent::choice;
use crate::catalog::llm_operations::structured_output::{
    DATAFRAME_OUTPUT, INPUT_VALUE, OUTPUT_SCHEMA, SCHEMA_NAME, STRUCTURED_OUTPUT, SYSTEM_PROMPT,
};
use crate::catalog::models::Provider;
use crate::llm::{AssistantTurn, ChatMessage, ConversationRequest, LlmError, ToolChoice, ToolSpec};

pub struct StructuredOutput;

impl Component for StructuredOutput {
    fn run<'a>(
        &'a self,
        ctx: &'a ComponentContext,
        inputs: &'a Inputs,
    ) -> BoxFuture<'a, Result<Outputs, ComponentError>> {
        Box::pin(run(ctx, inputs))
    }
}

/// The default schema name (also when the field is empty).
const DEFAULT_SCHEMA_NAME: &str = "OutputModel";

/// Why one attempt did not give records.
enum Attempt {
    /// The model answered without calling the function: nothing to read.
    Nothing,
    Failed(String),
    Cancelled,
}

/// One model call, abandoned when the build is cancelled.
async fn converse(ctx: &ComponentContext, req: &ConversationRequest) -> Result<AssistantTurn, Attempt> {
    let mut ignore = |_: &str| {};
    tokio::select! {
        biased;
        () = ctx.cancel_token().cancelled() => Err(Attempt::Cancelled),
        r = ctx.llm().converse(req, &mut ignore) => r.map_err(|LlmError(e)| Attempt::Failed(e)),
    }
}

/// The envelope's records, each validated against the record schema.
fn records_of(value: &Json, record: &Json) -> Result<Vec<Json>, String> {
    let list = match value.get("objects") {
        Some(Json::Array(items)) => items,
        Some(other) => {
            return Err(format!(
            "1 validation error for {DEFAULT_SCHEMA_NAME}\nobjects\n  Input should be a valid list [type=list_type, \
                 input_value={}, input_type={}]",
            crate::agent::pyfmt::py_repr(other),
            crate::agent::pyfmt::py_type(other)
        ))
        }
        None => {
            return Err(format!(
            "1 validation error for {DEFAULT_SCHEMA_NAME}\nobjects\n  Field required [type=missing, input_value={}, \
                 input_type={}]",
            crate::agent::pyfmt::py_repr(value),
            crate::agent::pyfmt::py_type(value)
        ))
        }
    };
    list.iter().map(|r| validate_record(record, r)).collect()
}

/// Reads the forced call's arguments.
fn from_tool_call(turn: &AssistantTurn, name: &str, record: &Json) -> Result<Vec<Json>, Attempt> {
    let call = turn.tool_calls.iter().find(|c| c.name == name).or_else(|| turn.tool_calls.first());
    let Some(call) = call else { return Err(Attempt::Nothing) };
    let value: Json = serde_json::from_str(&call.arguments)
        .map_err(|e| Attempt::Failed(format!("the function call's arguments are not JSON: {e}")))?;
    records_of(&value, record).map_err(Attempt::Failed)
}

/// Reads a structured (JSON text) answer.
fn from_text(turn: &AssistantTurn, record: &Json) -> Result<Vec<Json>, String> {
    let value: Json =
        serde_json::from_str(turn.text.trim()).map_err(|e| format!("the answer is not the requested JSON: {e}"))?;
    records_of(&value, record)
}

async fn extract(
    ctx: &ComponentContext,
    mut req: ConversationRequest,
    name: &str,
    description: &str,
    fields: &[SchemaField],
) -> Result<Vec<Json>, ComponentError> {
    let envelope = envelope_schema(fields, &Envelope::component(name, description), false);
    let record = record_schema(fields, false);
    req.tools =
        vec![ToolSpec { name: name.to_owned(), description: description.to_owned(), parameters: envelope.clone() }];
    req.tool_choice = Some(ToolChoice::Function(name.to_owned()));
    let first = match converse(ctx, &req).await {
        Ok(turn) => from_tool_call(&turn, name, &record),
        Err(e) => Err(e),
    };
    match first {
        Ok(records) => return Ok(records),
        Err(Attempt::Nothing) => return Err(ComponentError::failed("No structured output returned")),
        Err(Attempt::Cancelled) => return Err(ComponentError::Cancelled),
        Err(Attempt::Failed(_)) => {}
    }
    // The fallback: the schema as a structured answer.
    let second = if req.protocol == crate::llm::Protocol::Anthropic {
        converse(ctx, &req).await.and_then(|turn| from_tool_call(&turn, name, &record))
    } else {
        req.tools.clear();
        req.tool_choice = None;
        req.response_format = Some(json!({"type": "json_schema", "json_schema": {
            "name": name, "description": description, "schema": envelope, "strict": false}}));
        converse(ctx, &req).await.and_then(|turn| from_text(&turn, &record).map_err(Attempt::Failed))
    };
    match second {
        Ok(records) => Ok(records),
        Err(Attempt::Cancelled) => Err(ComponentError::Cancelled),
        Err(Attempt::Nothing) => Err(ComponentError::failed("No structured output returned")),
        Err(Attempt::Failed(e)) => Err(ComponentError::Failed(format!(
            "Model does not support tool calling (trustcall failed) and fallback with_structured_output also failed: \
             {e}"
        ))),
    }
}

async fn run(ctx: &ComponentContext, inputs: &Inputs) -> Result<Outputs, ComponentError> {
    let wants_data = ctx.wants(&STRUCTURED_OUTPUT);
    let wants_table = ctx.wants(&DATAFRAME_OUTPUT);
    if !wants_data && !wants_table {
        return Ok(Outputs::new());
    }
    let a = ctx.args(inputs);
    let fields = fields_from_table(a.param(&OUTPUT_SCHEMA));
    if fields.is_empty() {
        return Err(ComponentError::failed("Output schema cannot be empty"));
    }
    let choice = choice(ctx.params()).map_err(ComponentError::Failed)?;
    let provider: Provider = choice.provider;
    let (base, key) = endpoint(ctx, &choice)?;
    let name = a.text(&SCHEMA_NAME).trim().to_owned();
    let name = if name.is_empty() { DEFAULT_SCHEMA_NAME.to_owned() } else { name };
    let description = format!("A list of {name}.");

    let mut req = ConversationRequest::new(provider.name(), protocol(provider), &base, key.key, &choice.model);
    req.stream = false;
    let system =
        if a.value(&SYSTEM_PROMPT).is_some() { a.text(&SYSTEM_PROMPT) } else { a.param_or_default(&SYSTEM_PROMPT) };
    if !system.is_empty() {
        req.messages.push(ChatMessage::System(system.into_owned()));
    }
    req.messages.push(ChatMessage::User(a.text(&INPUT_VALUE).into_owned()));

    let records = extract(ctx, req, &name, &description, &fields).await?;
    if records.is_empty() {
        return Err(ComponentError::failed("No structured output returned"));
    }
    let rows: Vec<Map<String, Json>> = records.iter().map(|r| r.as_object().cloned().unwrap_or_default()).collect();
    let mut out = Outputs::new();
    if wants_data {
        let data = crate::agent::structured::as_data(records).unwrap_or_default();
        out.set(&STRUCTURED_OUTPUT, Value::Data(Arc::new(Data::new(data))));
    }
    if wants_table {
        out.set(&DATAFRAME_OUTPUT, Value::DataFrame(Arc::new(rows)));
    }
    Ok(out)
}
