//! A tool call's arguments: lenient parsing of the model's (possibly truncated) JSON text, and
//! validation against the tool's JSON schema with pydantic's lax rules and error texts, which
//! Langflow feeds back to the model.

use serde_json::{Map, Value as Json};

use super::pyfmt::{py_repr, py_type};

/// Most characters dropped from the end of unparseable arguments while looking for a
/// parseable prefix (LangChain's partial-JSON repair drops them one by one).
const MAX_REPAIR_STEPS: usize = 256;

/// LangChain's `parse_partial_json`: the text as JSON, or, when it was cut short, with its
/// open string, arrays and objects closed (`{"expression": "1+` gives `{"expression":"1+"}`).
#[must_use]
pub fn parse_partial_json(text: &str) -> Option<Json> {
    repair_json(text).and_then(|t| serde_json::from_str(&t).ok())
}

/// The text [`parse_partial_json`] parses: `text` itself when it is JSON, else its repair.
#[must_use]
pub fn repair_json(text: &str) -> Option<String> {
    if serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok() {
        return Some(text.to_owned());
    }
    let mut fixed = String::with_capacity(text.len() + 8);
    let mut stack: Vec<char> = Vec::new();
    let mut in_string = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_string {
            if c == '"' && !escaped {
                in_string = false;
            } else if c == '\n' && !escaped {
                fixed.push_str("\\n");
                continue;
            }
            escaped = c == '\\' && !escaped;
        } else {
            match c {
                '"' => {
                    in_string = true;
                    escaped = false;
                }
                '{' => stack.push('}'),
                '[' => stack.push(']'),
                '}' | ']' => {
                    if stack.last() == Some(&c) {
                        stack.pop();
                    } else {
                        return None;
                    }
                }
                _ => {}
            }
        }
        fixed.push(c);
    }
    if in_string {
        if escaped {
            fixed.pop();
        }
        fixed.push('"');
    }
    let closers: String = stack.iter().rev().collect();
    for _ in 0..MAX_REPAIR_STEPS {
        let candidate = format!("{fixed}{closers}");
        if serde_json::from_str::<serde::de::IgnoredAny>(&candidate).is_ok() {
            return Some(candidate);
        }
        fixed.pop()?;
    }
    None
}

/// One field that did not validate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Dotted location (`query`, `urls.0`).
    pub loc: String,
    /// Pydantic's error type (`missing`, `string_type`, …).
    pub kind: &'static str,
    pub msg: String,
    /// `repr` of the offending input and its Python type.
    pub input_repr: String,
    pub input_type: &'static str,
}

/// Pydantic's `ValidationError` text for an `InputSchema`.
#[must_use]
pub fn pydantic_text(errors: &[FieldError]) -> String {
    let n = errors.len();
    let mut out = format!("{n} validation error{} for InputSchema", if n == 1 { "" } else { "s" });
    for e in errors {
        out.push_str(&format!(
            "\n{}\n  {} [type={}, input_value={}, input_type={}]\n    For further information visit https://errors.pydantic.dev/2.13/v/{}",
            e.loc, e.msg, e.kind, e.input_repr, e.input_type, e.kind
        ));
    }
    out
}

fn err(loc: &str, kind: &'static str, msg: impl Into<String>, input: &Json) -> FieldError {
    FieldError { loc: loc.to_owned(), kind, msg: msg.into(), input_repr: py_repr(input), input_type: py_type(input) }
}

const TRUE_WORDS: [&str; 6] = ["1", "on", "t", "true", "y", "yes"];
const FALSE_WORDS: [&str; 6] = ["0", "off", "f", "false", "n", "no"];

/// Validates (and coerces, in pydantic's lax mode) one value against a property schema.
fn check(loc: &str, schema: &Json, v: &Json, errors: &mut Vec<FieldError>) -> Json {
    let ty = schema.get("type").and_then(Json::as_str).unwrap_or("");
    let value = match ty {
        "string" => {
            if !v.is_string() {
                errors.push(err(loc, "string_type", "Input should be a valid string", v));
                return v.clone();
            }
            v.clone()
        }
        "integer" => match v {
            Json::Number(n) if n.is_i64() || n.is_u64() => v.clone(),
            Json::Number(n) => {
                let f = n.as_f64().unwrap_or(f64::NAN);
                if f.fract() == 0.0 && f.is_finite() && f.abs() < 9.2e18 {
                    #[allow(clippy::cast_possible_truncation)]
                    Json::from(f as i64)
                } else {
                    errors.push(err(
                        loc,
                        "int_from_float",
                        "Input should be a valid integer, got a number with a fractional part",
                        v,
                    ));
                    return v.clone();
                }
            }
            Json::Bool(b) => Json::from(i64::from(*b)),
            Json::String(s) => match s.trim().parse::<i64>() {
                Ok(i) => Json::from(i),
                Err(_) => {
                    errors.push(err(
                        loc,
                        "int_parsing",
                        "Input should be a valid integer, unable to parse string as an integer",
                        v,
                    ));
                    return v.clone();
                }
            },
            _ => {
                errors.push(err(loc, "int_type", "Input should be a valid integer", v));
                return v.clone();
            }
        },
        "number" => match v {
            Json::Number(_) => v.clone(),
            Json::Bool(b) => Json::from(f64::from(u8::from(*b))),
            Json::String(s) => match s.trim().parse::<f64>() {
                Ok(f) => Json::from(f),
                Err(_) => {
                    errors.push(err(
                        loc,
                        "float_parsing",
                        "Input should be a valid number, unable to parse string as a number",
                        v,
                    ));
                    return v.clone();
                }
            },
            _ => {
                errors.push(err(loc, "float_type", "Input should be a valid number", v));
                return v.clone();
            }
        },
        "boolean" => {
            let parsed = match v {
                Json::Bool(b) => Some(*b),
                Json::Number(n) if n.as_f64() == Some(0.0) => Some(false),
                Json::Number(n) if n.as_f64() == Some(1.0) => Some(true),
                Json::String(s) => {
                    let s = s.trim().to_ascii_lowercase();
                    if TRUE_WORDS.contains(&s.as_str()) {
                        Some(true)
                    } else if FALSE_WORDS.contains(&s.as_str()) {
                        Some(false)
                    } else {
                        None
                    }
                }
                _ => None,
            };
            match parsed {
                Some(b) => Json::Bool(b),
                None => {
                    let (kind, msg) = if v.is_string() || v.is_number() {
                        ("bool_parsing", "Input should be a valid boolean, unable to interpret input")
                    } else {
                        ("bool_type", "Input should be a valid boolean")
                    };
                    errors.push(err(loc, kind, msg, v));
                    return v.clone();
                }
            }
        }
        "array" => match v {
            Json::Array(items) => {
                let item_schema = schema.get("items").cloned().unwrap_or(Json::Null);
                Json::Array(
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, item)| check(&format!("{loc}.{i}"), &item_schema, item, errors))
                        .collect(),
                )
            }
            _ => {
                errors.push(err(loc, "list_type", "Input should be a valid list", v));
                return v.clone();
            }
        },
        "object" => {
            if !v.is_object() {
                errors.push(err(loc, "dict_type", "Input should be a valid dictionary", v));
                return v.clone();
            }
            v.clone()
        }
        _ => v.clone(),
    };
    if let Some(options) = schema.get("enum").and_then(Json::as_array) {
        if !options.contains(&value) {
            let names: Vec<String> = options.iter().map(py_repr).collect();
            let msg = match names.split_last() {
                Some((last, rest)) if !rest.is_empty() => format!("Input should be {} or {last}", rest.join(", ")),
                Some((only, _)) => format!("Input should be {only}"),
                None => "Input should be one of no values".to_owned(),
            };
            errors.push(err(loc, "literal_error", msg, v));
        }
    }
    value
}

/// Validates the model's arguments against a tool's parameter schema: on success the
/// arguments with defaults filled in, otherwise every field error.
///
/// # Errors
/// The field errors, in schema order (missing fields first as pydantic reports them: in field
/// order).
pub fn validate(schema: &Json, args: &Map<String, Json>) -> Result<Map<String, Json>, Vec<FieldError>> {
    let empty = Map::new();
    let props = schema.get("properties").and_then(Json::as_object).unwrap_or(&empty);
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Json::as_array)
        .map(|r| r.iter().filter_map(Json::as_str).collect())
        .unwrap_or_default();
    let mut errors = Vec::new();
    let mut out = Map::new();
    let whole = Json::Object(args.clone());
    for (name, prop) in props {
        match args.get(name) {
            Some(v) => {
                let value = check(name, prop, v, &mut errors);
                out.insert(name.clone(), value);
            }
            None if required.contains(&name.as_str()) => {
                errors.push(err(name, "missing", "Field required", &whole));
            }
            None => {
                if let Some(d) = prop.get("default") {
                    out.insert(name.clone(), d.clone());
                }
            }
        }
    }
    // Fields the schema does not declare are ignored, as pydantic does by default.
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn truncated_json_is_repaired_and_garbage_is_not() {
        assert_eq!(parse_partial_json(r#"{"expression": "1+"#), Some(json!({"expression": "1+"})));
        assert_eq!(parse_partial_json(r#"{"a": [1, 2"#), Some(json!({"a": [1, 2]})));
        assert_eq!(parse_partial_json(r#"{"a": 1, "b"#), Some(json!({"a": 1})));
        assert_eq!(parse_partial_json(r#"{"a": "x\"#), Some(json!({"a": "x"})));
        assert_eq!(parse_partial_json("not json at all"), None);
        assert_eq!(parse_partial_json("{]"), None);
        assert_eq!(parse_partial_json(r#"{"x": 1}"#), Some(json!({"x": 1})));
    }

    #[test]
    fn validation_reports_pydantic_errors_and_fills_defaults() {
        let schema = json!({"properties": {
            "search_mode": {"default": "Web", "enum": ["Web", "News", "RSS"], "type": "string"},
            "query": {"type": "string"}, "n": {"type": "integer", "default": 5}}, "required": ["query"], "type": "object"});
        let args = json!({"search_mode": "Web"});
        let errors = validate(&schema, args.as_object().unwrap()).unwrap_err();
        assert_eq!(
            pydantic_text(&errors),
            "1 validation error for InputSchema\nquery\n  Field required [type=missing, input_value={'search_mode': 'Web'}, input_type=dict]\n    For further information visit https://errors.pydantic.dev/2.13/v/missing"
        );
        let ok = validate(&schema, json!({"query": "q", "n": "7"}).as_object().unwrap()).unwrap();
        assert_eq!(Json::Object(ok), json!({"query": "q", "n": 7, "search_mode": "Web"}));
        let errors = validate(&schema, json!({"query": 5, "search_mode": "Mail"}).as_object().unwrap()).unwrap_err();
        assert_eq!(errors.len(), 2);
        // Properties are visited in the schema's order (pydantic's field order).
        assert_eq!(errors[0].msg, "Input should be 'Web', 'News' or 'RSS'");
        assert_eq!(
            (errors[1].loc.as_str(), errors[1].msg.as_str(), errors[1].input_type),
            ("query", "Input should be a valid string", "int")
        );
    }
}
