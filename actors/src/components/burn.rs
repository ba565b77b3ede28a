//! Burn (flowactor extension): keeps a core busy for `microseconds` hashing data, then passes
//! `input_value` through. Benchmarks use it to show that independent vertices run on different
//! cores. It occupies its thread in slices of at most a millisecond and yields between them, so
//! other actors on the same arbiter (a supervisor's deadline timer, say) still get to run, and
//! it checks for cancellation as it goes.

use std::time::{Duration, Instant};

use super::delay::passthrough;
use super::{BoxFuture, Component, ComponentContext, ComponentError, Inputs, Outputs};
use crate::catalog::flowactor::{burn::MICROSECONDS, OUTPUT};

/// Longest stretch of work between two yields.
const SLICE: Duration = Duration::from_millis(1);

pub struct Burn;

impl Component for Burn {
    fn run<'a>(
        &'a self,
        ctx: &'a ComponentContext,
        inputs: &'a Inputs,
    ) -> BoxFuture<'a, Result<Outputs, ComponentError>> {
        Box::pin(async move {
            let us = u64::try_from(ctx.args(inputs).int(&MICROSECONDS)).unwrap_or(0);
            let until = Instant::now() + Duration::from_micros(us);
            let mut state = [0u8; 32];
            loop {
                let slice_end = until.min(Instant::now() + SLICE);
                while Instant::now() < slice_end {
                    for _ in 0..16 {
                        state = *blake3::hash(&state).as_bytes();
                    }
                }
                if ctx.cancel_token().is_cancelled() {
                    return Err(ComponentError::Cancelled);
                }
                if Instant::now() >= until {
                    break;
                }
                tokio::task::yield_now().await;
            }
            std::hint::black_box(state);
            Ok(Outputs::one(&OUTPUT, passthrough(ctx, inputs)))
        })
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
