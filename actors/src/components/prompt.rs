//! Prompt Template: substitutes `{variable}` fields into the template (`{{` and `}}` stand for
//! literal braces, as in Python format strings), or `{{variable}}` in mustache mode.
//!
//! The variables are the node's own template fields (Langflow creates one per `{variable}` when
//! the template is edited), filled from edges or their typed values.

use std::borrow::Cow;

use super::{ready, BoxFuture, Component, ComponentContext, ComponentError, Inputs, Outputs, Value};
use crate::catalog::processing::prompt::{PROMPT, TEMPLATE, USE_DOUBLE_BRACKETS};

pub struct Prompt;

/// Python `str.format`-style substitution: `{name}` is looked up (missing → ""), `{{`/`}}` are
/// literal braces, an unclosed `{` is kept as text.
pub(crate) fn substitute<'t>(template: &str, lookup: impl FnMut(&str) -> Option<Cow<'t, str>>) -> String {
    substitute_within(template, usize::MAX, lookup).unwrap_or_default()
}

/// [`substitute`] that gives up (`None`) as soon as the text would exceed `limit` bytes, so a
/// template repeating a large value is refused before it is built.
pub(crate) fn substitute_within<'t>(
    template: &str,
    limit: usize,
    mut lookup: impl FnMut(&str) -> Option<Cow<'t, str>>,
) -> Option<String> {
    let mut out = String::with_capacity(template.len().min(limit) + 32);
    let mut rest = template;
    while let Some(pos) = rest.find(['{', '}']) {
        if out.len() > limit {
            return None;
        }
        out.push_str(&rest[..pos]);
        let tail = &rest[pos..];
        if let Some(after) = tail.strip_prefix("{{") {
            out.push('{');
            rest = after;
        } else if let Some(after) = tail.strip_prefix("}}").or_else(|| tail.strip_prefix('}')) {
            out.push('}');
            rest = after;
        } else if let Some(end) = tail.find('}') {
            let name = tail[1..end].trim();
            if let Some(v) = lookup(name) {
                if out.len().saturating_add(v.len()) > limit {
                    return None;
                }
                out.push_str(&v);
            }
            rest = &tail[end + 1..];
        } else {
            out.push_str(tail);
            rest = "";
        }
    }
    out.push_str(rest);
    (out.len() <= limit).then_some(out)
}

/// Mustache-style substitution of `{{name}}`.
fn substitute_mustache<'t>(template: &str, mut lookup: impl FnMut(&str) -> Option<Cow<'t, str>>) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(pos) = rest.find("{{") {
        out.push_str(&rest[..pos]);
        let tail = &rest[pos + 2..];
        match tail.find("}}") {
            Some(end) => {
                if let Some(v) = lookup(tail[..end].trim()) {
                    out.push_str(&v);
                }
                rest = &tail[end + 2..];
            }
            None => {
                out.push_str(&rest[pos..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

impl Component for Prompt {
    fn run<'a>(
        &'a self,
        ctx: &'a ComponentContext,
        inputs: &'a Inputs,
    ) -> BoxFuture<'a, Result<Outputs, ComponentError>> {
        let a = ctx.args(inputs);
        let template = a.param_text(&TEMPLATE);
        let lookup = |name: &str| -> Option<Cow<'a, str>> {
            if name == TEMPLATE.name || name.is_empty() {
                return None;
            }
            Some(a.field_text(name))
        };
        let limit = ctx.limits().max_output_bytes;
        let text = if a.bool(&USE_DOUBLE_BRACKETS) {
            substitute_mustache(&template, lookup)
        } else {
            match substitute_within(&template, limit, lookup) {
                Some(text) => text,
                None => return ready(Err(super::output_too_large(PROMPT.name, limit))),
            }
        };
        ready(Ok(Outputs::one(&PROMPT, Value::message(ctx.new_message(text)))))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::components::testing::Harness;
    use crate::components::Message;
    use serde_json::json;

    #[test]
    fn formats_like_python() {
        let look = |n: &str| (n == "x").then_some(Cow::Borrowed("1"));
        assert_eq!(substitute("a {x} {{lit}} {y}!", look), "a 1 {lit} !");
        assert_eq!(substitute("open { brace", look), "open { brace");
        assert_eq!(substitute_mustache("m {{x}} {y}", look), "m 1 {y}");
    }

    #[actix_rt::test]
    async fn fills_variables_from_edges_and_fields() {
        let mut h = Harness::single(
            "Prompt Template",
            json!({"template": "Answer briefly: {question} ({lang})", "question": "", "lang": "en"}),
        );
        let q = Value::message(Message::text("hello acceptance", 0));
        let out = h.run("Prompt Template-1", vec![("question", q)]).await.unwrap();
        assert_eq!(out.get("prompt").unwrap().text(), "Answer briefly: hello acceptance (en)");
    }
}
