//! Chat Input: turns the run's input text into the user's chat message, stores it in the
//! session history and announces it with `add_message`.

use super::{BoxFuture, Component, ComponentContext, ComponentError, Inputs, Outputs, Value};
use crate::catalog::io::chat_input::{
    CONTEXT_ID, FILES, INPUT_VALUE, MESSAGE, SENDER, SENDER_NAME, SESSION_ID, SHOULD_STORE_MESSAGE,
};

pub struct ChatInput;

impl Component for ChatInput {
    fn run<'a>(
        &'a self,
        ctx: &'a ComponentContext,
        inputs: &'a Inputs,
    ) -> BoxFuture<'a, Result<Outputs, ComponentError>> {
        Box::pin(async move {
            let a = ctx.args(inputs);
            let mut m = ctx.new_message(a.text(&INPUT_VALUE).into_owned());
            m.sender = Some(a.text_or_default(&SENDER).into_owned());
            m.sender_name = Some(a.text_or_default(&SENDER_NAME).into_owned());
            let own_session = a.text(&SESSION_ID);
            m.session_id = Some(ctx.session_for(&own_session).to_owned());
            m.context_id = a.text(&CONTEXT_ID).into_owned();
            m.files = match a.param(&FILES) {
                Some(serde_json::Value::Array(items)) => {
                    items.iter().filter_map(|f| f.as_str().map(str::to_owned)).collect()
                }
                Some(serde_json::Value::String(s)) if !s.is_empty() => vec![s.clone()],
                _ => Vec::new(),
            };
            let store = a.bool(&SHOULD_STORE_MESSAGE);
            // Langflow only announces the user message when it is stored.
            let has_session = m.session_id.as_deref().is_some_and(|s| !s.is_empty());
            let m = if store && has_session { ctx.send_message(m, true).await? } else { m };
            Ok(Outputs::one(&MESSAGE, Value::message(m)))
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::components::testing::Harness;
    use serde_json::json;

    #[actix_rt::test]
    async fn stores_and_announces_the_user_message() {
        let mut h =
            Harness::single("ChatInput", json!({"input_value": "hi", "session_id": "", "should_store_message": true}));
        let out = h.run("ChatInput-1", vec![]).await.unwrap();
        let m = out.get("message").unwrap();
        assert_eq!(m.text(), "hi");
        let ev = h.next_event().unwrap();
        assert_eq!(ev.name, "add_message");
        assert_eq!(ev.data["sender"], "User");
        assert_eq!(ev.data["session_id"], h.session());
        let stored = h.store().last_n(h.flow_id(), h.session(), 10).unwrap();
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].text, "hi");
    }

    #[actix_rt::test]
    async fn does_not_store_when_told_not_to() {
        let mut h = Harness::single("ChatInput", json!({"input_value": "hi", "should_store_message": false}));
        h.run("ChatInput-1", vec![]).await.unwrap();
        assert!(h.next_event().is_none());
        assert!(h.store().last_n(h.flow_id(), h.session(), 10).unwrap().is_empty());
    }
}
