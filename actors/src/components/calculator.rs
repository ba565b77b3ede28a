//! Calculator: Langflow's `CalculatorComponent`, the same evaluator as the Agent's built-in
//! `evaluate_expression` tool. Errors are data (`{"error", "input"}`), never a failed build.
//! A result is logged as Langflow's component does (`log` event `Calculation result: <value>`,
//! under the output being built: `component_as_tool` when an agent calls it).

use std::sync::Arc;

use serde_json::json;

use super::{BoxFuture, Component, ComponentContext, ComponentError, Data, Inputs, Outputs, Value};
use crate::agent::calculator::evaluate;
use crate::catalog::tools::calculator::{EXPRESSION, RESULT};

pub struct Calculator;

impl Component for Calculator {
    fn run<'a>(
        &'a self,
        ctx: &'a ComponentContext,
        inputs: &'a Inputs,
    ) -> BoxFuture<'a, Result<Outputs, ComponentError>> {
        Box::pin(async move {
            let a = ctx.args(inputs);
            let result = evaluate(&a.text(&EXPRESSION));
            if let Some(value) = result.get("result").and_then(|v| v.as_str()) {
                let output = if ctx.tool.is_some() { super::tool_mode::TOOLSET.name } else { RESULT.name };
                let log = json!({"name": "Log 1", "message": format!("Calculation result: {value}"), "type": "text",
                                 "output": output, "component_id": ctx.id()});
                ctx.emit("log", log).await?;
            }
            Ok(Outputs::one(&RESULT, Value::Data(Arc::new(Data::new(result)))))
        })
    }
}
