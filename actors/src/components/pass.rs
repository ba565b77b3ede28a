//! Pass: forwards `input_message`; `ignored_message` only adds an ordering dependency.

use super::{ready, BoxFuture, Component, ComponentContext, ComponentError, Inputs, Outputs, Value};

pub struct Pass;

impl Component for Pass {
    fn run<'a>(
        &'a self,
        ctx: &'a ComponentContext,
        inputs: &'a Inputs,
    ) -> BoxFuture<'a, Result<Outputs, ComponentError>> {
        let value = match inputs.get("input_message") {
            Some(v) => v.clone(),
            None => Value::message(ctx.new_message(ctx.args(inputs).text("input_message").into_owned())),
        };
        ready(Ok(Outputs::one("output_message", value)))
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
