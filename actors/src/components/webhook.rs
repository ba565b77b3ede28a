//! Webhook: the input vertex of `POST /api/v1/webhook/{flow}`. The HTTP layer injects the raw
//! request body into the `data` field; a JSON object becomes the Data's fields, anything else
//! is kept under `payload` (Langflow's behaviour).

use std::sync::Arc;

use serde_json::{Map, Value as Json};

use super::{ready, BoxFuture, Component, ComponentContext, ComponentError, Data, Inputs, Outputs, Value};
use crate::catalog::io::webhook::{DATA, OUTPUT_DATA};

pub struct Webhook;

/// Turns a webhook body into the component's Data.
#[must_use]
pub fn payload_data(body: &str) -> Data {
    let fields = match serde_json::from_str::<Json>(body) {
        Ok(Json::Object(map)) => map,
        _ if body.trim().is_empty() => Map::new(),
        _ => {
            let mut m = Map::new();
            m.insert("payload".into(), Json::String(body.to_owned()));
            m
        }
    };
    Data::new(fields)
}

impl Component for Webhook {
    fn run<'a>(
        &'a self,
        ctx: &'a ComponentContext,
        inputs: &'a Inputs,
    ) -> BoxFuture<'a, Result<Outputs, ComponentError>> {
        let body = ctx.args(inputs).text(&DATA).into_owned();
        ready(Ok(Outputs::one(&OUTPUT_DATA, Value::Data(Arc::new(payload_data(&body))))))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::payload_data;
    use crate::components::testing::Harness;
    use serde_json::json;

    #[test]
    fn objects_become_fields_and_other_bodies_a_payload() {
        assert_eq!(payload_data(r#"{"a": 1}"#).data["a"], json!(1));
        assert_eq!(payload_data("plain text").data["payload"], json!("plain text"));
        assert_eq!(payload_data("[1,2]").data["payload"], json!("[1,2]"));
        assert!(payload_data("").data.is_empty());
    }

    #[actix_rt::test]
    async fn runs_as_a_vertex() {
        let mut h = Harness::single("Webhook", json!({"data": "{\"event\": \"push\"}"}));
        let out = h.run("Webhook-1", vec![]).await.unwrap();
        let crate::components::Value::Data(d) = out.get("output_data").unwrap() else { panic!("not data") };
        assert_eq!(d.data["event"], json!("push"));
    }
}
