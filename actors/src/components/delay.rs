//! Delay (flowactor extension): waits `milliseconds` without blocking its thread, then passes
//! `input_value` through. Used to prove dataflow scheduling and cancellation.

use std::time::Duration;

use super::{BoxFuture, Component, ComponentContext, ComponentError, Inputs, Outputs, Value};

pub struct Delay;

pub(crate) fn passthrough(ctx: &ComponentContext, inputs: &Inputs) -> Value {
    match inputs.get("input_value") {
        Some(v) => v.clone(),
        None => Value::message(ctx.new_message(ctx.args(inputs).text("input_value").into_owned())),
    }
}

impl Component for Delay {
    fn run<'a>(
        &'a self,
        ctx: &'a ComponentContext,
        inputs: &'a Inputs,
    ) -> BoxFuture<'a, Result<Outputs, ComponentError>> {
        Box::pin(async move {
            let ms = u64::try_from(ctx.args(inputs).int("milliseconds", 0)).unwrap_or(0);
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(ms)) => {}
                () = ctx.cancel_token().cancelled() => return Err(ComponentError::Cancelled),
            }
            Ok(Outputs::one("output", passthrough(ctx, inputs)))
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
