//! Loop: runs its body once per item of `data`, in order, and emits the collected results on
//! `done`. The body (everything between the `item` output and the edge that feeds back into the
//! Loop) is not part of the outer run; each iteration runs it as a sequential subgraph.

use std::sync::Arc;

use serde_json::{Map, Value as Json};

use super::{BoxFuture, Component, ComponentContext, ComponentError, Data, Inputs, Outputs, Value};
use crate::catalog::flow_controls::loop_component::{DATA, DONE};

pub struct LoopComponent;

fn items(v: &Value) -> Vec<Value> {
    match v {
        Value::DataFrame(rows) => rows.iter().map(|r| Value::Data(Arc::new(Data::new(r.clone())))).collect(),
        other => vec![other.clone()],
    }
}

fn result_rows(v: &Value) -> Vec<Map<String, Json>> {
    match v {
        Value::Message(m) => {
            let mut row = Map::new();
            row.insert("text".into(), Json::String(m.text.clone()));
            vec![row]
        }
        other => other.rows(),
    }
}

impl Component for LoopComponent {
    fn run<'a>(
        &'a self,
        ctx: &'a ComponentContext,
        inputs: &'a Inputs,
    ) -> BoxFuture<'a, Result<Outputs, ComponentError>> {
        Box::pin(async move {
            let all: Vec<Value> = ctx.args(inputs).values(&DATA).flat_map(items).collect();
            let mut done = Vec::with_capacity(all.len());
            for item in all {
                if ctx.cancel_token().is_cancelled() {
                    return Err(ComponentError::Cancelled);
                }
                if let Some(result) = ctx.run_loop_body(inputs, item).await? {
                    done.extend(result_rows(&result));
                }
            }
            Ok(Outputs::one(&DONE, Value::DataFrame(Arc::new(done))))
        })
    }
}
