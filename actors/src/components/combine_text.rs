//! Combine Text: `text1 + delimiter + text2`.

use super::{ready, BoxFuture, Component, ComponentContext, ComponentError, Inputs, Outputs, Value};
use crate::catalog::processing::combine_text::{COMBINED_TEXT, DELIMITER, TEXT1, TEXT2};

pub struct CombineText;

impl Component for CombineText {
    fn run<'a>(
        &'a self,
        ctx: &'a ComponentContext,
        inputs: &'a Inputs,
    ) -> BoxFuture<'a, Result<Outputs, ComponentError>> {
        let a = ctx.args(inputs);
        let (t1, t2, d) = (a.text(&TEXT1), a.text(&TEXT2), a.text(&DELIMITER));
        let mut text = String::with_capacity(t1.len() + t2.len() + d.len());
        text.push_str(&t1);
        text.push_str(&d);
        text.push_str(&t2);
        ready(Ok(Outputs::one(&COMBINED_TEXT, Value::message(ctx.new_message(text)))))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::components::testing::Harness;
    use crate::components::{Message, Value};
    use serde_json::json;

    #[actix_rt::test]
    async fn joins_with_the_delimiter() {
        let mut h = Harness::single("CombineText", json!({"text1": "", "text2": "b", "delimiter": " - "}));
        let a = Value::message(Message::text("a", 0));
        let out = h.run("CombineText-1", vec![("text1", a)]).await.unwrap();
        assert_eq!(out.get("combined_text").unwrap().text(), "a - b");
    }
}
