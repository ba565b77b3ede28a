//! Calculator: Langflow's `CalculatorComponent`, the same evaluator as the Agent's built-in
//! `evaluate_expression` tool. Errors are data (`{"error", "input"}`), never a failed build.

use std::sync::Arc;

use super::{ready, BoxFuture, Component, ComponentContext, ComponentError, Data, Inputs, Outputs, Value};
use crate::agent::calculator::evaluate;
use crate::catalog::tools::calculator::{EXPRESSION, RESULT};

pub struct Calculator;

impl Component for Calculator {
    fn run<'a>(
        &'a self,
        ctx: &'a ComponentContext,
        inputs: &'a Inputs,
    ) -> BoxFuture<'a, Result<Outputs, ComponentError>> {
        let a = ctx.args(inputs);
        let result = evaluate(&a.text(&EXPRESSION));
        ready(Ok(Outputs::one(&RESULT, Value::Data(Arc::new(Data::new(result))))))
    }
}
