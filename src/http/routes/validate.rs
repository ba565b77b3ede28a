//! `POST /api/v1/validate/prompt`: what Langflow's prompt editor calls when a template changes.
//! It names the template's variables and updates the node it was given: one prompt field per
//! variable (an existing field keeps its value), fields of variables that disappeared removed,
//! the node's `custom_fields` updated, the same node returned.
//!
//! Variables follow Langflow 1.13: Python `str.format` fields (`{name}`; `{{`/`}}` are literal
//! braces) or, with `mustache`, simple `{{name}}` tags only. Invalid names are refused with
//! Langflow's texts, as 400 (Langflow answers 500).

use actix_web::{web, HttpResponse};
use serde_json::{json, Map, Value};

use crate::error::{ApiError, ApiResult};
use crate::http::auth::Identity;
use crate::http::routes::{route, RouteSpec};

pub fn routes() -> Vec<RouteSpec> {
    vec![route!(Post "/api/v1/validate/prompt", User, validate_prompt)]
}

const INVALID_CHARACTERS: &[char] = &[' ', ',', '.', ':', ';', '!', '?', '/', '\\', '(', ')', '[', ']'];
const INVALID_NAMES: &[&str] = &[
    "code",
    "input_variables",
    "output_parser",
    "partial_variables",
    "template",
    "template_format",
    "validate_template",
];
/// Largest template accepted (the request body limit bounds it too).
const MAX_TEMPLATE_BYTES: usize = 1 << 20;

/// The field names of a Python format string, in order, each once (`string.Formatter.parse`).
fn format_fields(template: &str) -> Result<Vec<String>, String> {
    let mut names: Vec<String> = Vec::new();
    let mut chars = template.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '}' if chars.next_if(|&(_, n)| n == '}').is_none() => {
                return Err("Single '}' encountered in format string".into());
            }
            '{' => {
                if chars.next_if(|&(_, n)| n == '{').is_some() {
                    continue;
                }
                if chars.peek().is_none() {
                    return Err("Single '{' encountered in format string".into());
                }
                // Up to the matching brace; a format spec may nest one level of fields.
                let (mut depth, mut end) = (1usize, None);
                for (j, n) in chars.by_ref() {
                    match n {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                end = Some(j);
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                let end = end.ok_or_else(|| "expected '}' before end of string".to_owned())?;
                let field = &template[i + 1..end];
                let name = field.split(['!', ':']).next().unwrap_or_default();
                if !name.is_empty() && !names.iter().any(|n| n == name) {
                    names.push(name.to_owned());
                }
            }
            _ => {}
        }
    }
    Ok(names)
}

/// Names of the `{{ name }}` tags (langchain's `mustache_template_vars`, sections excluded).
fn mustache_tags(template: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        let tag = after[..end].trim();
        let special = tag.starts_with(['#', '/', '^', '&', '>', '!', '{', '.', '=']);
        if !tag.is_empty() && !special && !names.iter().any(|n| n == tag) {
            names.push(tag.to_owned());
        }
        rest = &after[end + 2..];
    }
    names
}

/// Langflow's mustache safety rule: only `{{name}}` with a plain identifier.
fn check_mustache(template: &str) -> Result<(), String> {
    const DANGEROUS: &[&str] = &["{{{", "{{#", "{{/", "{{^", "{{&", "{{>", "{{!", "{{."];
    if DANGEROUS.iter().any(|p| template.contains(p)) {
        return Err(
            "Complex mustache syntax is not allowed. Only simple variable substitution like {{variable}} is permitted."
                .into(),
        );
    }
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        let name = &after[..end];
        let simple = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !simple {
            return Err(format!(
                "Invalid mustache variable: {{{{{name}}}}}. Only simple variable names like {{{{variable}}}} are allowed."
            ));
        }
        rest = &after[end + 2..];
    }
    Ok(())
}

/// Langflow's `_is_json_like`: a `{{ … }}` block is not a variable.
fn is_json_like(var: &str) -> bool {
    let squashed: String = var.trim().chars().filter(|c| *c != '\n' && *c != ' ').collect();
    squashed.starts_with("{{") && squashed.ends_with("}}")
}

/// Langflow's `validate_prompt`: the variables, or its error text.
fn prompt_variables(template: &str, mustache: bool) -> Result<Vec<String>, String> {
    let found = if mustache {
        check_mustache(template)?;
        let fields = format_fields(template).unwrap_or_default();
        mustache_tags(template)
            .into_iter()
            .filter(|v| !fields.contains(v) || template.contains(&format!("{{{{{v}}}}}")))
            .collect::<Vec<_>>()
    } else {
        let tags = mustache_tags(template);
        format_fields(template)?.into_iter().filter(|v| !tags.contains(v)).collect()
    };
    let mut fixed = Vec::new();
    let (mut wrong, mut empty) = (Vec::new(), Vec::new());
    let mut checked = Vec::new();
    for var in found {
        if is_json_like(&var) {
            continue;
        }
        let stripped = var.trim_start_matches(|c: char| c.is_ascii_digit());
        let clean: String = stripped.chars().filter(|c| !INVALID_CHARACTERS.contains(c)).collect();
        if var.contains(INVALID_CHARACTERS) {
            wrong.push(var.clone());
        } else if var.is_empty() {
            empty.push(var.clone());
        }
        fixed.push(clean);
        checked.push(var);
    }
    if checked.iter().any(|v| !fixed.contains(v)) {
        return Err(format!(
            "Input variables contain invalid characters or formats. \nInvalid variables: {}.\nEmpty variables: {}. \nFixed variables: {}.",
            wrong.join(", "),
            empty.join(", "),
            fixed.join(", ")
        ));
    }
    let reserved: Vec<String> = fixed.iter().filter(|v| v.starts_with('_')).map(|v| format!("`{v}`")).collect();
    if !reserved.is_empty() {
        return Err(format!(
            "Invalid input variables: {}. Variable names cannot start with `_` because that prefix is reserved for internal template fields.",
            reserved.join(", ")
        ));
    }
    if fixed.iter().any(|v| INVALID_NAMES.contains(&v.as_str())) {
        return Err(format!("Invalid input variables. None of the variables can be named {}. ", fixed.join(", ")));
    }
    Ok(fixed)
}

/// A prompt variable's template field, as Langflow 1.13 writes it.
fn prompt_field(name: &str, value: Value) -> Value {
    json!({
        "advanced": false, "display_name": name, "dynamic": false, "field_type": "str", "fileTypes": [],
        "file_path": "", "info": "", "input_types": ["Message"], "list": false, "load_from_db": false,
        "multiline": true, "name": name, "placeholder": "", "required": false, "show": true,
        "title_case": false, "type": "str", "value": value,
    })
}

fn field<'a>(body: &'a Map<String, Value>, name: &str) -> ApiResult<&'a str> {
    match body.get(name) {
        None => Err(ApiError::validation("missing", &["body", name], "Field required")),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(ApiError::validation("string_type", &["body", name], "Input should be a valid string")),
    }
}

/// Langflow's `process_prompt_template` on the node's `template` and `custom_fields`.
fn update_node(node: &mut Map<String, Value>, name: &str, variables: &[String]) -> ApiResult<()> {
    let mut custom: Map<String, Value> = match node.remove("custom_fields") {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    let key = if custom.len() == 1 && name.is_empty() {
        custom.keys().next().cloned().unwrap_or_default()
    } else {
        name.to_owned()
    };
    let old: Vec<String> = match custom.get(&key) {
        Some(Value::Array(a)) => a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
        _ => Vec::new(),
    };
    let template = match node.get_mut("template") {
        Some(Value::Object(t)) => t,
        _ => {
            return Err(ApiError::validation(
                "dict_type",
                &["body", "frontend_node", "template"],
                "Input should be a valid dictionary",
            ))
        }
    };
    let mut fields: Vec<String> = Vec::new();
    for var in variables {
        let value = template.get(var).and_then(|f| f.get("value")).cloned().unwrap_or_else(|| json!(""));
        template.insert(var.clone(), prompt_field(var, value));
        if !fields.contains(var) {
            fields.push(var.clone());
        }
    }
    for var in old.iter().filter(|v| !variables.contains(v)) {
        template.remove(var);
    }
    if let Some(Value::Object(iv)) = template.get_mut("input_variables") {
        iv.insert("value".into(), json!(variables));
    }
    custom.insert(key, json!(fields));
    node.insert("custom_fields".into(), Value::Object(custom));
    Ok(())
}

async fn validate_prompt(_caller: Identity, body: web::Json<Value>) -> ApiResult<HttpResponse> {
    let Value::Object(mut body) = body.into_inner() else {
        return Err(ApiError::validation(
            "model_attributes_type",
            &["body"],
            "Input should be a valid dictionary or object to extract fields from",
        ));
    };
    let name = field(&body, "name")?.to_owned();
    let template = field(&body, "template")?.to_owned();
    if template.len() > MAX_TEMPLATE_BYTES {
        return Err(ApiError::bad_request(format!("The template is larger than {MAX_TEMPLATE_BYTES} bytes")));
    }
    let mustache = match body.get("mustache") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(ApiError::validation("bool_type", &["body", "mustache"], "Input should be a valid boolean"))
        }
    };
    let mut node = match body.remove("frontend_node") {
        None | Some(Value::Null) => {
            return Ok(HttpResponse::Ok().json(json!({"input_variables": [], "frontend_node": null})))
        }
        Some(Value::Object(node)) => node,
        Some(_) => {
            return Err(ApiError::validation(
                "model_attributes_type",
                &["body", "frontend_node"],
                "Input should be a valid dictionary or object to extract fields from",
            ))
        }
    };
    let variables = prompt_variables(&template, mustache).map_err(ApiError::bad_request)?;
    update_node(&mut node, &name, &variables)?;
    Ok(HttpResponse::Ok().json(json!({"input_variables": variables, "frontend_node": node})))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn format_fields_follow_python() {
        assert_eq!(format_fields("Hi {name}, {{literal}} {x!r} {y:>{w}} {name}").unwrap(), ["name", "x", "y"]);
        assert_eq!(format_fields("a } b").unwrap_err(), "Single '}' encountered in format string");
        assert_eq!(format_fields("a {").unwrap_err(), "Single '{' encountered in format string");
        assert_eq!(format_fields("a {b").unwrap_err(), "expected '}' before end of string");
        assert!(format_fields("{}").unwrap().is_empty());
    }

    #[test]
    fn variables_and_langflows_refusals() {
        assert_eq!(prompt_variables("{a} and {b}", false).unwrap(), ["a", "b"]);
        assert_eq!(prompt_variables("{{a}} and {b}", true).unwrap(), ["a"]);
        assert!(prompt_variables("{my var}", false)
            .unwrap_err()
            .starts_with("Input variables contain invalid characters"));
        assert!(prompt_variables("{_x}", false).unwrap_err().contains("cannot start with `_`"));
        assert!(prompt_variables("{template}", false).unwrap_err().starts_with("Invalid input variables. None"));
        assert!(prompt_variables("{{#s}}x{{/s}}", true).unwrap_err().starts_with("Complex mustache syntax"));
        assert!(prompt_variables("{{a b}}", true).unwrap_err().starts_with("Invalid mustache variable: {{a b}}"));
    }
}
