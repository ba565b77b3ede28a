//! If-Else: compares `input_text` with `match_text` and routes the message to `true_result` or
//! `false_result`. The losing output is stopped, so the vertices behind it never run and are
//! reported as inactivated.

use super::{ready, BoxFuture, Component, ComponentContext, ComponentError, Inputs, Outputs, Value};
use crate::catalog::flow_controls::conditional_router::{
    CASE_SENSITIVE, FALSE_CASE_MESSAGE, FALSE_RESULT, INPUT_TEXT, MATCH_TEXT, OPERATOR, TRUE_CASE_MESSAGE, TRUE_RESULT,
};

pub struct ConditionalRouter;

/// Evaluates one of Langflow's operators. Comparisons other than `regex` ignore case unless
/// `case_sensitive`.
pub(crate) fn evaluate(
    operator: &str,
    input: &str,
    pattern: &str,
    case_sensitive: bool,
) -> Result<bool, ComponentError> {
    if operator == "regex" {
        let re = regex::Regex::new(&format!("^(?:{pattern})"))
            .map_err(|e| ComponentError::failed(format!("Invalid regex pattern: {e}")))?;
        return Ok(re.is_match(input));
    }
    let (input, pattern) = if case_sensitive {
        (input.to_owned(), pattern.to_owned())
    } else {
        (input.to_lowercase(), pattern.to_lowercase())
    };
    let numbers = || Some((input.trim().parse::<f64>().ok()?, pattern.trim().parse::<f64>().ok()?));
    Ok(match operator {
        "equals" => input == pattern,
        "not equals" => input != pattern,
        "contains" => input.contains(&pattern),
        "starts with" => input.starts_with(&pattern),
        "ends with" => input.ends_with(&pattern),
        "less than" | "<" => numbers().is_some_and(|(a, b)| a < b),
        "less than or equal" | "<=" => numbers().is_some_and(|(a, b)| a <= b),
        "greater than" | ">" => numbers().is_some_and(|(a, b)| a > b),
        "greater than or equal" | ">=" => numbers().is_some_and(|(a, b)| a >= b),
        other => return Err(ComponentError::failed(format!("Unknown operator: {other}"))),
    })
}

impl Component for ConditionalRouter {
    fn run<'a>(
        &'a self,
        ctx: &'a ComponentContext,
        inputs: &'a Inputs,
    ) -> BoxFuture<'a, Result<Outputs, ComponentError>> {
        let a = ctx.args(inputs);
        let input = a.text(&INPUT_TEXT);
        let operator = a.param_text(&OPERATOR);
        let operator = if operator.is_empty() { OPERATOR.default_text().into() } else { operator };
        let result = evaluate(&operator, &input, &a.text(&MATCH_TEXT), a.bool(&CASE_SENSITIVE));
        ready(result.map(|matched| {
            let (win, lose, override_field) = if matched {
                (&TRUE_RESULT, &FALSE_RESULT, &TRUE_CASE_MESSAGE)
            } else {
                (&FALSE_RESULT, &TRUE_RESULT, &FALSE_CASE_MESSAGE)
            };
            let custom = a.text(override_field);
            let value = match a.value(&INPUT_TEXT) {
                Some(v) if custom.is_empty() => v.clone(),
                _ => {
                    let text = if custom.is_empty() { input.into_owned() } else { custom.into_owned() };
                    Value::message(ctx.new_message(text))
                }
            };
            let mut out = Outputs::one(win, value);
            out.stop(lose);
            out
        }))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::components::testing::Harness;
    use serde_json::json;

    #[test]
    fn operators() {
        assert!(evaluate("equals", "Hello", "hello", false).unwrap());
        assert!(!evaluate("equals", "Hello", "hello", true).unwrap());
        assert!(evaluate("not equals", "a", "b", true).unwrap());
        assert!(evaluate("contains", "abc", "B", false).unwrap());
        assert!(evaluate("starts with", "abc", "ab", true).unwrap());
        assert!(evaluate("ends with", "abc", "bc", true).unwrap());
        assert!(evaluate("regex", "abc123", "[a-c]+\\d", true).unwrap());
        assert!(!evaluate("regex", "xabc", "abc", true).unwrap());
        assert!(evaluate("regex", "x", "(", true).is_err());
        assert!(evaluate("<", "2", "10", true).unwrap());
        assert!(evaluate("<=", "2", "2", true).unwrap());
        assert!(evaluate(">", "3.5", "3", true).unwrap());
        assert!(evaluate(">=", "3", "3", true).unwrap());
        assert!(!evaluate(">", "x", "3", true).unwrap());
    }

    #[actix_rt::test]
    async fn routes_and_stops_the_losing_side() {
        let mut h = Harness::single(
            "ConditionalRouter",
            json!({"input_text": "yes", "operator": "equals", "match_text": "YES", "case_sensitive": false,
                   "true_case_message": "", "false_case_message": "nope"}),
        );
        let out = h.run("ConditionalRouter-1", vec![]).await.unwrap();
        assert_eq!(out.get("true_result").unwrap().text(), "yes");
        assert_eq!(out.stopped, vec!["false_result"]);

        let mut h = Harness::single(
            "ConditionalRouter",
            json!({"input_text": "no", "operator": "equals", "match_text": "yes", "false_case_message": "nope"}),
        );
        let out = h.run("ConditionalRouter-1", vec![]).await.unwrap();
        assert_eq!(out.get("false_result").unwrap().text(), "nope");
        assert_eq!(out.stopped, vec!["true_result"]);
    }
}
