//! Batch Run: Langflow 1.13's `BatchRunComponent` (spec §7.3). Every row of the `df` table is
//! one conversation — the optional `system_message`, then the row's text as the user turn —
//! asked of the selected model without streaming. The row's text is its `column_name` cell, or,
//! when no column is named, the whole row rendered as TOML (`[col]\nvalue = "<str>"`).
//!
//! The rows are asked concurrently (LangChain's `abatch`), bounded by the LLM runtime's
//! per-provider concurrency limit, and the answers come back in row order. `batch_results` is
//! the original rows plus the answer column (`output_column_name`) and `batch_index`, and with
//! `enable_metadata` a `metadata` object per row. One failed row fails the component, as
//! `abatch` raises.

use std::sync::Arc;

use futures_util::stream::{FuturesOrdered, StreamExt};
use serde_json::{json, Map, Value as Json};

use super::model_call::{base_url, cancellable, checked_key, protocol};
use super::{BoxFuture, Component, ComponentContext, ComponentError, Inputs, Outputs, Value};
use crate::agent::pyfmt::py_repr;
use crate::catalog::agent::choice;
use crate::catalog::llm_operations::batch_run::{
    BATCH_RESULTS, COLUMN_NAME, DF, ENABLE_METADATA, OUTPUT_COLUMN_NAME, SYSTEM_MESSAGE,
};
use crate::llm::{ChatMessage, ConversationRequest};

pub struct BatchRun;

impl Component for BatchRun {
    fn run<'a>(
        &'a self,
        ctx: &'a ComponentContext,
        inputs: &'a Inputs,
    ) -> BoxFuture<'a, Result<Outputs, ComponentError>> {
        Box::pin(run(ctx, inputs))
    }
}

/// The table's columns, in order of first appearance (pandas' `DataFrame(records).columns`).
fn columns(rows: &[Map<String, Json>]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for row in rows {
        for key in row.keys() {
            if !out.iter().any(|c| c == key) {
                out.push(key.clone());
            }
        }
    }
    out
}

/// Python's `str()` of a cell; a cell the row lacks is pandas' `NaN`.
fn py_str(v: Option<&Json>) -> String {
    match v {
        None => "nan".to_owned(),
        Some(Json::String(s)) => s.clone(),
        Some(other) => py_repr(other),
    }
}

/// Characters Python's `repr` writes as `\xNN` (the non-printable ones below U+0100).
fn hex_escaped(c: char) -> bool {
    let n = c as u32;
    n < 0x20 || (0x7f..=0xa0).contains(&n) || n == 0xad
}

/// A TOML basic string as the Python `toml` package writes one: Python's `repr` of the text,
/// requoted with `"`, and each `\xNN` escape rewritten by the package's own rule (which drops
/// the backslash of an unescaped `\xNN` and collapses doubled backslashes before one).
fn toml_str(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') { '"' } else { '\'' };
    let mut body = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => body.push_str("\\\\"),
            '\n' => body.push_str("\\n"),
            '\r' => body.push_str("\\r"),
            '\t' => body.push_str("\\t"),
            // Single-quoted reprs escape `'`; the package turns that back and escapes `"`.
            '"' if quote == '\'' => body.push_str("\\\""),
            c if hex_escaped(c) => body.push_str(&format!("\\x{:02x}", c as u32)),
            c => body.push(c),
        }
    }
    let mut parts: Vec<String> = body.split("\\x").map(str::to_owned).collect();
    while parts.len() > 1 {
        if parts[0].is_empty() {
            parts.remove(0);
            if parts.len() < 2 {
                break;
            }
        }
        parts[0] = parts[0].replace("\\\\", "\\");
        let head = parts[0].as_bytes();
        let mut i = head.len();
        let mut join_x = head.last() != Some(&b'\\');
        while i > 1 && head[i - 1] == b'\\' {
            join_x = !join_x;
            i -= 1;
        }
        let joiner = if join_x { "x" } else { "u00" };
        let rest = parts.remove(1);
        parts[0] = format!("{}{joiner}{rest}", parts[0]);
    }
    format!("\"{}\"", parts.concat())
}

/// A table name: bare when it is `[A-Za-z0-9_-]+`, quoted otherwise.
fn toml_key(key: &str) -> String {
    let bare = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        key.to_owned()
    } else {
        toml_str(key)
    }
}

/// One row as `toml.dumps({col: {"value": str(val)} for col, val in row.items()})`: a table
/// per column, separated by blank lines.
pub(crate) fn row_as_toml(columns: &[String], row: &Map<String, Json>) -> String {
    let mut out = String::new();
    for col in columns {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&format!("[{}]\nvalue = {}\n", toml_key(col), toml_str(&py_str(row.get(col)))));
    }
    out
}

/// Python's `len()` of a cell: characters of a string, items of a list or dict.
fn py_len(v: &Json) -> usize {
    match v {
        Json::String(s) => s.chars().count(),
        Json::Array(a) => a.len(),
        Json::Object(m) => m.len(),
        _ => 0,
    }
}

/// One row's conversation: the answer's text.
async fn ask(ctx: &ComponentContext, req: &ConversationRequest) -> Result<String, ComponentError> {
    let mut ignore = |_: &str| {};
    cancellable(ctx, ctx.llm().converse(req, &mut ignore)).await.map(|turn| turn.text)
}

async fn run(ctx: &ComponentContext, inputs: &Inputs) -> Result<Outputs, ComponentError> {
    if !ctx.wants(&BATCH_RESULTS) {
        return Ok(Outputs::new());
    }
    let a = ctx.args(inputs);
    let choice = choice(ctx.params()).map_err(ComponentError::Failed)?;
    let provider = choice.provider;
    let (base, base_from_environment) = base_url(ctx, &choice);
    let key = checked_key(ctx, provider, &base, base_from_environment)?;
    let system = a.text(&SYSTEM_MESSAGE).into_owned();
    let rows = match a.value(&DF) {
        Some(v @ (Value::DataFrame(_) | Value::Data(_))) => v.rows(),
        Some(Value::Message(_)) => {
            return Err(ComponentError::failed("Expected DataFrame input, got <class 'lfx.schema.message.Message'>"))
        }
        Some(Value::Tools(_)) => return Err(ComponentError::failed("Expected DataFrame input, got <class 'list'>")),
        None => return Err(ComponentError::failed("Expected DataFrame input, got <class 'str'>")),
    };
    let cols = columns(&rows);
    let column = a.text(&COLUMN_NAME).into_owned();
    if !column.is_empty() && !cols.contains(&column) {
        return Err(ComponentError::Failed(format!(
            "Column '{column}' not found in the DataFrame. Available columns: {}",
            cols.join(", ")
        )));
    }
    let output_column = match a.value(&OUTPUT_COLUMN_NAME) {
        Some(v) => v.text().into_owned(),
        None => a.param_or_default(&OUTPUT_COLUMN_NAME).into_owned(),
    };
    let texts: Vec<String> = rows
        .iter()
        .map(|row| if column.is_empty() { row_as_toml(&cols, row) } else { py_str(row.get(&column)) })
        .collect();

    let mut base_req = ConversationRequest::new(provider.name(), protocol(provider), &base, key.key, &choice.model);
    base_req.stream = false;
    let requests: Vec<ConversationRequest> = texts
        .into_iter()
        .map(|text| {
            let mut req = base_req.clone();
            if !system.is_empty() {
                req.messages.push(ChatMessage::System(system.clone()));
            }
            req.messages.push(ChatMessage::User(text));
            req
        })
        .collect();
    // At most the runtime's per-provider limit in flight, answers in row order.
    let bound = ctx.llm().settings().concurrency_per_provider.max(1);
    let mut answers: Vec<String> = Vec::with_capacity(requests.len());
    let mut pending = FuturesOrdered::new();
    let mut next = 0;
    loop {
        while pending.len() < bound && next < requests.len() {
            pending.push_back(ask(ctx, &requests[next]));
            next += 1;
        }
        match pending.next().await {
            Some(answer) => answers.push(answer?),
            None => break,
        }
    }

    let metadata = a.bool(&ENABLE_METADATA);
    let out_rows: Vec<Map<String, Json>> = rows
        .into_iter()
        .zip(answers)
        .enumerate()
        .map(|(index, (mut row, answer))| {
            let input_length = row.get("text_input").map_or(0, py_len);
            let response_length = answer.chars().count();
            row.insert(output_column.clone(), Json::String(answer));
            row.insert("batch_index".into(), json!(index));
            if metadata {
                row.insert(
                    "metadata".into(),
                    json!({
                        "has_system_message": !system.is_empty(),
                        "input_length": input_length,
                        "response_length": response_length,
                        "processing_status": "success",
                    }),
                );
            }
            row
        })
        .collect();
    let mut out = Outputs::new();
    out.set(&BATCH_RESULTS, Value::DataFrame(Arc::new(out_rows)));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(v: Json) -> Map<String, Json> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn a_row_renders_as_the_toml_package_writes_it() {
        let r = row(json!({"title": "A \"quoted\" title", "n": 3, "ok": true, "x y": "line\nbreak", "none": null}));
        let cols = columns(std::slice::from_ref(&r));
        assert_eq!(
            row_as_toml(&cols, &r),
            "[title]\nvalue = \"A \\\"quoted\\\" title\"\n\n[n]\nvalue = \"3\"\n\n[ok]\nvalue = \"True\"\n\n\
             [\"x y\"]\nvalue = \"line\\nbreak\"\n\n[none]\nvalue = \"None\"\n"
        );
    }

    #[test]
    fn a_cell_the_row_lacks_is_nan_and_columns_keep_first_appearance() {
        let rows = [row(json!({"b": 1.5})), row(json!({"a": "x", "b": 2}))];
        let cols = columns(&rows);
        assert_eq!(cols, ["b", "a"]);
        // As the package writes them (its `\\xNN` rule included).
        let texts = ["a\\b", "tab\there", "cr\r", "é ü", "del\u{7f}", "ctl\u{1}", "it's", "a\\b\u{1}"];
        let want = [
            "\"a\\\\b\"",
            "\"tab\\there\"",
            "\"cr\\r\"",
            "\"é ü\"",
            "\"delx7f\"",
            "\"ctlx01\"",
            "\"it's\"",
            "\"a\\bx01\"",
        ];
        for (t, w) in texts.iter().zip(want) {
            assert_eq!(toml_str(t), w, "{t:?}");
        }
        assert_eq!(row_as_toml(&cols, &rows[0]), "[b]\nvalue = \"1.5\"\n\n[a]\nvalue = \"nan\"\n");
    }
}
