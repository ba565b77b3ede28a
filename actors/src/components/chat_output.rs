//! Chat Output: turns whatever reaches it into the AI's chat message, stores it and announces
//! it. Its result is what `/run` returns for chat flows.

use serde_json::Value as Json;

use super::{BoxFuture, Component, ComponentContext, ComponentError, ComponentKind, Inputs, Outputs, Source, Value};
use crate::catalog::io::chat_output::{
    CONTEXT_ID, INPUT_VALUE, MESSAGE, SENDER, SENDER_NAME, SESSION_ID, SHOULD_STORE_MESSAGE,
};

pub struct ChatOutput;

/// Langflow's text conversion for chat: Data as a JSON code block, tables as markdown.
pub(crate) fn chat_text(v: &Value) -> String {
    match v {
        Value::Message(m) => m.text.clone(),
        Value::Data(d) => {
            let pretty = serde_json::to_string_pretty(&Json::Object(d.data.clone())).unwrap_or_default();
            format!("```json\n{pretty}\n```")
        }
        Value::DataFrame(rows) => markdown_table(rows),
        Value::Tools(_) => v.text().into_owned(),
    }
}

fn markdown_table(rows: &[serde_json::Map<String, Json>]) -> String {
    let mut cols: Vec<&String> = Vec::new();
    for r in rows {
        for k in r.keys() {
            if !cols.contains(&k) {
                cols.push(k);
            }
        }
    }
    let cell = |v: Option<&Json>| match v {
        None | Some(Json::Null) => String::new(),
        Some(Json::String(s)) => s.replace('|', "\\|").replace('\n', " "),
        Some(o) => o.to_string(),
    };
    let mut out = format!(
        "| {} |\n|{}|",
        cols.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(" | "),
        vec!["---"; cols.len()].join("|")
    );
    for r in rows {
        out.push_str(&format!("\n| {} |", cols.iter().map(|c| cell(r.get(*c))).collect::<Vec<_>>().join(" | ")));
    }
    out
}

/// An Agent's "Agent Steps" group with one more Output leaf repeating the answer text (how the
/// Chat Output re-emits an Agent's message); anything else unchanged.
pub(crate) fn with_output_leaf(blocks: &Json, text: &str) -> Json {
    let mut blocks = blocks.clone();
    if let Some(Json::Array(contents)) = blocks.get_mut(0).and_then(|g| g.get_mut("contents")) {
        contents.push(serde_json::json!({"type": "text", "duration": null,
                                         "header": {"title": "Output", "icon": "MessageSquare"}, "text": text}));
    }
    blocks
}

impl Component for ChatOutput {
    fn run<'a>(
        &'a self,
        ctx: &'a ComponentContext,
        inputs: &'a Inputs,
    ) -> BoxFuture<'a, Result<Outputs, ComponentError>> {
        Box::pin(async move {
            let a = ctx.args(inputs);
            let values: Vec<&Value> = a.values(&INPUT_VALUE).collect();
            let text = match values.as_slice() {
                [] => a.param_text(&INPUT_VALUE).into_owned(),
                [one] => chat_text(one),
                many => many.iter().map(|v| chat_text(v)).collect::<Vec<_>>().join("\n"),
            };
            let mut m = ctx.new_message(text);
            let source = ctx.source_of(&INPUT_VALUE);
            // A message streamed by the component directly upstream keeps its id, so the stored
            // row is finalised rather than duplicated. Any other message (a user message passed
            // through Pass, If-Else or Delay, say) is someone else's stored row: the answer is a
            // new message with a new id.
            if let (Some(Value::Message(incoming)), Some(src)) = (values.first(), source) {
                if src.kind != ComponentKind::ChatInput {
                    if incoming.properties.source.id.as_deref() == Some(&*src.id) {
                        m.id = incoming.id;
                    }
                    m.properties.usage = super::agent::total_usage(incoming);
                    m.usage_total = incoming.usage_total;
                    m.content_blocks = with_output_leaf(&incoming.content_blocks, &m.text);
                    m.files = incoming.files.clone();
                }
            }
            m.sender = Some(a.text_or_default(&SENDER).into_owned());
            m.sender_name = Some(a.text_or_default(&SENDER_NAME).into_owned());
            let own_session = a.text(&SESSION_ID);
            m.session_id = Some(ctx.session_for(&own_session).to_owned());
            m.context_id = a.text(&CONTEXT_ID).into_owned();
            if let Some(src) = source {
                m.properties.source = Source {
                    id: Some(src.id.to_string()),
                    display_name: Some(src.display_name.clone()),
                    source: Some(src.display_name.clone()),
                };
                m.properties.icon.clone_from(&src.icon);
                // An Agent's answer keeps its model as the source and its icon.
                if let (ComponentKind::Agent, Some(Value::Message(incoming))) = (src.kind, values.first()) {
                    m.properties.source.source.clone_from(&incoming.properties.source.source);
                    m.properties.icon.clone_from(&incoming.properties.icon);
                }
            }
            let store = a.bool(&SHOULD_STORE_MESSAGE);
            let has_session = m.session_id.as_deref().is_some_and(|s| !s.is_empty());
            let m = if store && has_session { ctx.send_message(m, true).await? } else { m };
            Ok(Outputs::one(&MESSAGE, Value::message(m)))
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::components::testing::Harness;
    use crate::components::Data;
    use serde_json::json;
    use std::sync::Arc;

    #[actix_rt::test]
    async fn answers_as_the_machine_with_its_source() {
        let mut h = Harness::pair("TextInput", json!({}), "text", "ChatOutput", json!({}), "input_value");
        let input = Value::message(crate::components::Message::text("hello", 0));
        let out = h.run("ChatOutput-1", vec![("input_value", input)]).await.unwrap();
        let Some(Value::Message(m)) = out.get("message") else { panic!("no message") };
        assert_eq!(m.text, "hello");
        assert_eq!(m.sender.as_deref(), Some("Machine"));
        assert_eq!(m.sender_name.as_deref(), Some("AI"));
        assert_eq!(m.properties.source.id.as_deref(), Some("TextInput-1"));
        assert_eq!(h.next_event().unwrap().name, "add_message");
        assert_eq!(h.store().last_n(h.flow_id(), h.session(), 5).unwrap().len(), 1);
    }

    #[test]
    fn converts_data_and_tables() {
        let mut row = serde_json::Map::new();
        row.insert("a".into(), json!(1));
        assert_eq!(chat_text(&Value::Data(Arc::new(Data::new(row.clone())))), "```json\n{\n  \"a\": 1\n}\n```");
        assert_eq!(chat_text(&Value::DataFrame(Arc::new(vec![row]))), "| a |\n|---|\n| 1 |");
    }
}
