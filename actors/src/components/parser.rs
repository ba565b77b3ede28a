//! Parser (and the legacy `parser` / Parse Data components): formats each row of a table, or a
//! single Data, with a `{key}` pattern and joins the results; "Stringify" mode prints the input.

use std::borrow::Cow;

use serde_json::Value as Json;

use super::prompt::substitute;
use super::{ready, BoxFuture, Component, ComponentContext, ComponentError, Inputs, Outputs, Value};
use crate::catalog::processing::parser::{DATA, INPUT_DATA, MODE, PARSED_TEXT, PATTERN, SEP, TEMPLATE, TEXT};

pub struct Parser;

fn unescape(sep: &str) -> String {
    sep.replace("\\n", "\n").replace("\\t", "\t")
}

pub(crate) fn json_cell(v: Option<&Json>) -> Option<Cow<'_, str>> {
    match v? {
        Json::String(s) => Some(Cow::Borrowed(s.as_str())),
        Json::Null => Some(Cow::Borrowed("")),
        other => Some(Cow::Owned(other.to_string())),
    }
}

impl Component for Parser {
    fn run<'a>(
        &'a self,
        ctx: &'a ComponentContext,
        inputs: &'a Inputs,
    ) -> BoxFuture<'a, Result<Outputs, ComponentError>> {
        let a = ctx.args(inputs);
        let input = a.value(&INPUT_DATA).or_else(|| a.value(&DATA));
        let sep = match a.param(&SEP) {
            None => SEP.default_text().to_owned(),
            Some(_) => unescape(&a.param_text(&SEP)),
        };
        let pattern = match a.param(&PATTERN) {
            Some(_) => a.text(&PATTERN),
            None => a.text(&TEMPLATE),
        };
        let stringify = a.param_text(&MODE) == "Stringify";
        let text = match input {
            None => String::new(),
            Some(v) if stringify => match v {
                Value::Message(m) => m.text.clone(),
                Value::Data(d) => serde_json::to_string_pretty(&Json::Object(d.data.clone())).unwrap_or_default(),
                Value::DataFrame(_) | Value::Tools(_) => super::chat_output::chat_text(v),
            },
            Some(v) => {
                let rows = v.rows();
                rows.iter()
                    .map(|row| substitute(&pattern, |k| json_cell(row.get(k)).map(|c| Cow::Owned(c.into_owned()))))
                    .collect::<Vec<_>>()
                    .join(&sep)
            }
        };
        let msg = Value::message(ctx.new_message(text));
        let mut out = Outputs::one(&PARSED_TEXT, msg.clone());
        if ctx.wants(&TEXT) {
            out.set(&TEXT, msg);
        }
        ready(Ok(out))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::components::testing::Harness;
    use crate::components::Value;
    use serde_json::json;
    use std::sync::Arc;

    #[actix_rt::test]
    async fn formats_rows_with_the_pattern() {
        let mut h = Harness::single(
            "ParserComponent",
            json!({"mode": "Parser", "pattern": "T: {title} {missing}", "sep": "\\n"}),
        );
        let rows = vec![
            json!({"title": "a"}).as_object().unwrap().clone(),
            json!({"title": "b"}).as_object().unwrap().clone(),
        ];
        let out = h.run("ParserComponent-1", vec![("input_data", Value::DataFrame(Arc::new(rows)))]).await.unwrap();
        assert_eq!(out.get("parsed_text").unwrap().text(), "T: a \nT: b ");
    }

    #[actix_rt::test]
    async fn accepts_the_legacy_names() {
        let mut h = Harness::single("parser", json!({"template": "<{text}>"}));
        let d = Value::Data(Arc::new(crate::components::Data::new(json!({"text": "x"}).as_object().unwrap().clone())));
        let out = h.run("parser-1", vec![("data", d)]).await.unwrap();
        assert_eq!(out.get("parsed_text").unwrap().text(), "<x>");
    }
}
