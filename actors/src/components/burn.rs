//! Burn (flowactor extension): keeps a core busy for `microseconds` hashing data, then passes
//! `input_value` through. Benchmarks use it to show that independent vertices run on different
//! cores; it deliberately occupies its thread, checking for cancellation as it goes.

use std::time::{Duration, Instant};

use super::delay::passthrough;
use super::{ready, BoxFuture, Component, ComponentContext, ComponentError, Inputs, Outputs};

pub struct Burn;

impl Component for Burn {
    fn run<'a>(
        &'a self,
        ctx: &'a ComponentContext,
        inputs: &'a Inputs,
    ) -> BoxFuture<'a, Result<Outputs, ComponentError>> {
        let us = u64::try_from(ctx.args(inputs).int("microseconds", 0)).unwrap_or(0);
        let until = Instant::now() + Duration::from_micros(us);
        let mut state = [0u8; 32];
        while Instant::now() < until {
            if ctx.cancel_token().is_cancelled() {
                return ready(Err(ComponentError::Cancelled));
            }
            for _ in 0..16 {
                state = *blake3::hash(&state).as_bytes();
            }
        }
        std::hint::black_box(state);
        ready(Ok(Outputs::one("output", passthrough(ctx, inputs))))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::components::testing::Harness;
    use serde_json::json;

    #[actix_rt::test]
    async fn burns_for_at_least_the_given_time() {
        let mut h = Harness::single("Burn", json!({"microseconds": 2000, "input_value": "v"}));
        let t = std::time::Instant::now();
        let out = h.run("Burn-1", vec![]).await.unwrap();
        assert!(t.elapsed() >= std::time::Duration::from_micros(2000));
        assert_eq!(out.get("output").unwrap().text(), "v");
    }
}
