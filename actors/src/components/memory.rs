//! Message History ("Memory"): reads the last `n_messages` of the session from the message
//! store — a bounded reverse scan, so a long chat costs the same per turn as a short one — and
//! renders them with `template`.

use std::borrow::Cow;
use std::sync::Arc;

use serde_json::{json, Map, Value as Json};

use super::prompt::substitute_within;
use super::{BoxFuture, Component, ComponentContext, ComponentError, Inputs, Outputs, Value};
use crate::catalog::processing::memory::{
    DATAFRAME, MESSAGES, MESSAGES_TEXT, N_MESSAGES, ORDER, SENDER, SENDER_NAME, SESSION_ID, TEMPLATE,
};
use crate::clock::message_timestamp;
use crate::store::messages::MessageRecord;

pub struct Memory;

/// Langflow's cap when no limit is given.
const MAX_MESSAGES: usize = 10_000;

fn row(r: &MessageRecord) -> Map<String, Json> {
    let mut m = Map::new();
    m.insert("text".into(), json!(r.text));
    m.insert("sender".into(), json!(r.sender));
    m.insert("sender_name".into(), json!(r.sender_name));
    m.insert("session_id".into(), json!(r.session_id));
    m.insert("context_id".into(), json!(r.context_id));
    m.insert("timestamp".into(), json!(message_timestamp(r.timestamp)));
    m.insert("flow_id".into(), json!(r.flow_id.to_string()));
    m.insert("id".into(), json!(r.id.to_string()));
    m.insert("files".into(), json!(r.files));
    m
}

impl Component for Memory {
    fn run<'a>(
        &'a self,
        ctx: &'a ComponentContext,
        inputs: &'a Inputs,
    ) -> BoxFuture<'a, Result<Outputs, ComponentError>> {
        Box::pin(async move {
            let a = ctx.args(inputs);
            let store = ctx.messages().ok_or_else(|| ComponentError::failed("No message store is available"))?;
            let n = match a.int(&N_MESSAGES) {
                n if n < 0 => MAX_MESSAGES,
                n => usize::try_from(n).unwrap_or(MAX_MESSAGES).min(MAX_MESSAGES),
            };
            let sender = a.text(&SENDER);
            let sender = match sender.as_ref() {
                "Machine" | "User" => Some(sender.into_owned()),
                _ => None,
            };
            let sender_name = a.text(&SENDER_NAME).into_owned();
            let own_session = a.text(&SESSION_ID);
            let session = ctx.session_for(&own_session);
            // The history kept in memory is bounded too: once the texts read pass the output
            // bound, no further row is kept and the component fails below.
            let limit = ctx.limits().max_output_bytes;
            let mut read_bytes = 0usize;
            let mut recs = store
                .last_n_matching(ctx.flow_id(), session, n, |r| {
                    let wanted = sender.as_ref().is_none_or(|s| *s == r.sender)
                        && (sender_name.is_empty() || sender_name == r.sender_name);
                    if wanted {
                        read_bytes = read_bytes.saturating_add(r.text.len());
                    }
                    wanted && read_bytes <= limit
                })
                .map_err(|e| ComponentError::failed(format!("Could not read the message history: {e}")))?;
            if read_bytes > limit {
                return Err(ComponentError::failed(format!(
                    "The message history is larger than the limit of {limit} bytes (FLOWACTOR_MAX_OUTPUT_BYTES); \
                     read fewer messages (n_messages)"
                )));
            }
            if a.param_text(&ORDER) == "Descending" {
                recs.reverse();
            }
            let template = a.text_or_default(&TEMPLATE);
            let rows: Vec<Map<String, Json>> = recs.iter().map(row).collect();
            let mut out = Outputs::new();
            if ctx.wants(&MESSAGES_TEXT) {
                // Rendered row by row against the output bound, so a history that a template
                // repeats many times fails before it is built rather than after.
                let mut text = String::new();
                for (i, r) in rows.iter().enumerate() {
                    let room = limit.saturating_sub(text.len() + usize::from(i > 0));
                    let line = substitute_within(&template, room, |k| {
                        super::parser::json_cell(r.get(k)).map(|c| Cow::Owned(c.into_owned()))
                    });
                    let Some(line) = line else {
                        return Err(super::output_too_large(MESSAGES_TEXT.name, limit));
                    };
                    if i > 0 {
                        text.push('\n');
                    }
                    text.push_str(&line);
                }
                out.set(&MESSAGES_TEXT, Value::message(ctx.new_message(text)));
            }
            let table = Value::DataFrame(Arc::new(rows));
            if ctx.wants(&DATAFRAME) {
                out.set(&DATAFRAME, table.clone());
            }
            if ctx.wants(&MESSAGES) {
                out.set(&MESSAGES, table);
            }
            Ok(out)
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::components::testing::Harness;
    use crate::store::messages::MessageRecord;
    use serde_json::json;

    #[actix_rt::test]
    async fn renders_the_last_messages_of_the_session() {
        let mut h = Harness::single(
            "Memory",
            json!({"n_messages": 2, "order": "Ascending", "sender": "Machine and User", "sender_name": "",
                   "session_id": "", "template": "{sender_name}: {text}"}),
        );
        for (i, (sender, name, text)) in
            [("User", "User", "one"), ("Machine", "AI", "two"), ("User", "User", "three")].iter().enumerate()
        {
            h.store()
                .insert(&MessageRecord {
                    id: uuid::Uuid::new_v4(),
                    flow_id: h.flow_id(),
                    session_id: h.session().to_owned(),
                    context_id: String::new(),
                    timestamp: i64::try_from(i).unwrap() + 1,
                    sender: (*sender).into(),
                    sender_name: (*name).into(),
                    text: (*text).into(),
                    files: vec![],
                    error: false,
                    edit: false,
                    properties: "{}".into(),
                    category: "message".into(),
                    content_blocks: "[]".into(),
                    session_metadata: None,
                    duration: None,
                })
                .unwrap();
        }
        let out = h.run("Memory-1", vec![]).await.unwrap();
        assert_eq!(out.get("messages_text").unwrap().text(), "AI: two\nUser: three");
    }
}
