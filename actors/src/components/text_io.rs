//! Text Input / Text Output (legacy): wrap text in a Message without touching the chat
//! history.

use super::{ready, BoxFuture, Component, ComponentContext, ComponentError, Inputs, Outputs, Value};
use crate::catalog::io::{text_input, text_output};
use crate::catalog::{Input, Output};

pub struct TextInput;
pub struct TextOutput;

fn wrap(ctx: &ComponentContext, inputs: &Inputs, input: &Input, output: &Output) -> Result<Outputs, ComponentError> {
    let text = ctx.args(inputs).text(input).into_owned();
    Ok(Outputs::one(output, Value::message(ctx.new_message(text))))
}

impl Component for TextInput {
    fn run<'a>(
        &'a self,
        ctx: &'a ComponentContext,
        inputs: &'a Inputs,
    ) -> BoxFuture<'a, Result<Outputs, ComponentError>> {
        ready(wrap(ctx, inputs, &text_input::INPUT_VALUE, &text_input::TEXT))
    }
}

impl Component for TextOutput {
    fn run<'a>(
        &'a self,
        ctx: &'a ComponentContext,
        inputs: &'a Inputs,
    ) -> BoxFuture<'a, Result<Outputs, ComponentError>> {
        ready(wrap(ctx, inputs, &text_output::INPUT_VALUE, &text_output::TEXT))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::components::testing::Harness;
    use serde_json::json;

    #[actix_rt::test]
    async fn wraps_text_without_events() {
        let mut h = Harness::single("TextInput", json!({"input_value": "abc"}));
        let out = h.run("TextInput-1", vec![]).await.unwrap();
        assert_eq!(out.get("text").unwrap().text(), "abc");
        assert!(h.next_event().is_none());
    }
}
