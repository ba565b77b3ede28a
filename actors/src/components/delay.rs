//! Delay (flowactor extension): waits `milliseconds` without blocking its thread, then passes
//! `input_value` through. Used to prove dataflow scheduling and cancellation.

use std::time::Duration;

use super::{BoxFuture, Component, ComponentContext, ComponentError, Inputs, Outputs, Value};
use crate::catalog::flowactor::{delay::MILLISECONDS, INPUT_VALUE, OUTPUT};

pub struct Delay;

pub(crate) fn passthrough(ctx: &ComponentContext, inputs: &Inputs) -> Value {
    let a = ctx.args(inputs);
    match a.value(&INPUT_VALUE) {
        Some(v) => v.clone(),
        None => Value::message(ctx.new_message(a.text(&INPUT_VALUE).into_owned())),
    }
}

impl Component for Delay {
    fn run<'a>(
        &'a self,
        ctx: &'a ComponentContext,
        inputs: &'a Inputs,
    ) -> BoxFuture<'a, Result<Outputs, ComponentError>> {
        Box::pin(async move {
            let ms = u64::try_from(ctx.args(inputs).int(&MILLISECONDS)).unwrap_or(0);
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(ms)) => {}
                () = ctx.cancel_token().cancelled() => return Err(ComponentError::Cancelled),
            }
            Ok(Outputs::one(&OUTPUT, passthrough(ctx, inputs)))
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::components::testing::Harness;
    use crate::components::ComponentError;
    use serde_json::json;

    #[actix_rt::test]
    async fn waits_then_passes_through_and_honours_cancel() {
        let mut h = Harness::single("Delay", json!({"milliseconds": 5, "input_value": "v"}));
        let out = h.run("Delay-1", vec![]).await.unwrap();
        assert_eq!(out.get("output").unwrap().text(), "v");

        let mut h = Harness::single("Delay", json!({"milliseconds": 60_000, "input_value": "v"}));
        h.cancel();
        assert_eq!(h.run("Delay-1", vec![]).await.unwrap_err(), ComponentError::Cancelled);
    }
}
