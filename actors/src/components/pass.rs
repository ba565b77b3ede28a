//! Pass: forwards `input_message`; `ignored_message` only adds an ordering dependency.

use super::{ready, BoxFuture, Component, ComponentContext, ComponentError, Inputs, Outputs, Value};
use crate::catalog::flow_controls::pass::{INPUT_MESSAGE, OUTPUT_MESSAGE};

pub struct Pass;

impl Component for Pass {
    fn run<'a>(
        &'a self,
        ctx: &'a ComponentContext,
        inputs: &'a Inputs,
    ) -> BoxFuture<'a, Result<Outputs, ComponentError>> {
        let a = ctx.args(inputs);
        let value = match a.value(&INPUT_MESSAGE) {
            Some(v) => v.clone(),
            None => Value::message(ctx.new_message(a.text(&INPUT_MESSAGE).into_owned())),
        };
        ready(Ok(Outputs::one(&OUTPUT_MESSAGE, value)))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::components::testing::Harness;
    use crate::components::{Message, Value};
    use serde_json::json;

    #[actix_rt::test]
    async fn forwards_the_same_value() {
        let mut h = Harness::single("Pass", json!({"input_message": "", "ignored_message": ""}));
        let v = Value::message(Message::text("x", 0));
        let out = h.run("Pass-1", vec![("input_message", v.clone()), ("ignored_message", v)]).await.unwrap();
        assert_eq!(out.get("output_message").unwrap().text(), "x");
    }
}
