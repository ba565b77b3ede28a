//! Parser (and the legacy `parser` / Parse Data components): formats each row of a table, or a
//! single Data, with a `{key}` pattern and joins the results; "Stringify" mode prints the input.

use std::borrow::Cow;

use serde_json::Value as Json;

use serde_json::Map;

use super::prompt::substitute;
use super::{ready, BoxFuture, Component, ComponentContext, ComponentError, Inputs, Outputs, Value};
use crate::agent::pyfmt::py_repr;
use crate::catalog::processing::parser::{DATA, INPUT_DATA, MODE, PARSED_TEXT, PATTERN, SEP, TEMPLATE, TEXT};
use crate::catalog::Input;

/// Stringify mode's `clean_data` (shown only in that mode).
const CLEAN_DATA: Input = Input::bool("clean_data", "Clean Data", false);

/// Python's `str()` of a decoded JSON value (what `str.format` and pandas print).
fn py_str(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        other => py_repr(other),
    }
}

/// pandas' `DataFrame.to_markdown(index=False)` (tabulate's `pipe` format): numeric columns
/// right-aligned, others left; each column at least its header plus two wide.
fn markdown_table(rows: &[Map<String, Json>], clean: bool) -> String {
    let mut cols: Vec<&String> = Vec::new();
    for r in rows {
        for k in r.keys() {
            if !cols.contains(&k) {
                cols.push(k);
            }
        }
    }
    let rows: Vec<&Map<String, Json>> = if clean {
        rows.iter().filter(|r| r.values().any(|v| !matches!(v, Json::Null) && v.as_str() != Some(""))).collect()
    } else {
        rows.iter().collect()
    };
    let cell = |v: Option<&Json>| -> String {
        let text = match v {
            None | Some(Json::Null) => {
                if clean {
                    String::new()
                } else {
                    "nan".to_owned()
                }
            }
            Some(v) => py_str(v),
        };
        let text = if clean {
            let mut t = text.trim().to_owned();
            while t.contains("\n\n") {
                t = t.replace("\n\n", "\n");
            }
            t
        } else {
            text
        };
        text.replace('|', "\\|").replace("\r\n", "<br/>").replace('\n', "<br/>")
    };
    let numeric: Vec<bool> = cols
        .iter()
        .map(|c| {
            let vals: Vec<&Json> = rows.iter().filter_map(|r| r.get(c.as_str())).collect();
            !vals.is_empty() && vals.iter().all(|v| v.is_number())
        })
        .collect();
    let cells: Vec<Vec<String>> = rows.iter().map(|r| cols.iter().map(|c| cell(r.get(c.as_str()))).collect()).collect();
    let widths: Vec<usize> = cols
        .iter()
        .enumerate()
        .map(|(i, c)| cells.iter().map(|r| r[i].chars().count()).max().unwrap_or(0).max(c.chars().count() + 2))
        .collect();
    let pad = |text: &str, i: usize| {
        let fill = " ".repeat(widths[i].saturating_sub(text.chars().count()));
        if numeric[i] {
            format!("{fill}{text}")
        } else {
            format!("{text}{fill}")
        }
    };
    let line = |items: Vec<String>| format!("| {} |", items.join(" | "));
    let mut out = vec![line(cols.iter().enumerate().map(|(i, c)| pad(c, i)).collect())];
    out.push(format!(
        "|{}|",
        widths
            .iter()
            .enumerate()
            .map(|(i, w)| if numeric[i] {
                format!("{}:", "-".repeat(w + 1))
            } else {
                format!(":{}", "-".repeat(w + 1))
            })
            .collect::<Vec<_>>()
            .join("|")
    ));
    for r in &cells {
        out.push(line(r.iter().enumerate().map(|(i, c)| pad(c, i)).collect()));
    }
    out.join("\n")
}

/// `str.format(**row)` with Python's `str()` of each value; a missing key is `KeyError` when
/// `strict`, else `""`.
fn format_row(pattern: &str, row: &Map<String, Json>, strict: bool) -> Result<String, ComponentError> {
    let mut missing = None;
    let text = substitute(pattern, |k| match row.get(k) {
        Some(v) => Some(Cow::Owned(py_str(v))),
        None => {
            if missing.is_none() {
                missing = Some(k.to_owned());
            }
            Some(Cow::Borrowed(""))
        }
    });
    match missing {
        Some(k) if strict => Err(ComponentError::failed(format!("'{k}'"))),
        _ => Ok(text),
    }
}

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
        let clean = a.bool(&CLEAN_DATA);
        let text = match input {
            None => String::new(),
            Some(v) if stringify => match v {
                Value::Message(m) => m.text.clone(),
                Value::Data(d) => {
                    let pretty = serde_json::to_string_pretty(&Json::Object(d.data.clone())).unwrap_or_default();
                    format!("```json\n{pretty}\n```")
                }
                Value::DataFrame(rows) => markdown_table(rows, clean),
                Value::Tools(_) => super::chat_output::chat_text(v),
            },
            Some(v) => v
                .rows()
                .iter()
                .map(|row| format_row(&pattern, row, false).unwrap_or_default())
                .collect::<Vec<_>>()
                .join(&sep),
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
    async fn stringify_renders_tables_as_pandas_markdown_and_data_as_json() {
        let mut h = Harness::single("ParserComponent", json!({"mode": "Stringify"}));
        let rows = vec![json!({"domain": "mock domain", "hasAPI": true, "tiers": ["mock value"], "n": 7})
            .as_object()
            .unwrap()
            .clone()];
        let out = h.run("ParserComponent-1", vec![("input_data", Value::DataFrame(Arc::new(rows)))]).await.unwrap();
        assert_eq!(
            out.get("parsed_text").unwrap().text(),
            "| domain      | hasAPI   | tiers          |   n |\n\
             |:------------|:---------|:---------------|----:|\n\
             | mock domain | True     | ['mock value'] |   7 |"
        );
        let mut h = Harness::single("ParserComponent", json!({"mode": "Stringify"}));
        let d =
            Value::Data(Arc::new(crate::components::Data::new(json!({"a": 1, "b": "x"}).as_object().unwrap().clone())));
        let out = h.run("ParserComponent-1", vec![("input_data", d)]).await.unwrap();
        assert_eq!(out.get("parsed_text").unwrap().text(), "```json\n{\n  \"a\": 1,\n  \"b\": \"x\"\n}\n```");
    }

    #[actix_rt::test]
    async fn parser_mode_renders_python_values() {
        let mut h = Harness::single("ParserComponent", json!({"mode": "Parser", "pattern": "{a} {b} {c}"}));
        let d = Value::Data(Arc::new(crate::components::Data::new(
            json!({"a": ["v"], "b": false}).as_object().unwrap().clone(),
        )));
        let out = h.run("ParserComponent-1", vec![("input_data", d)]).await.unwrap();
        assert_eq!(out.get("parsed_text").unwrap().text(), "['v'] False ");
        let mut h = Harness::single("ParserComponent", json!({"mode": "Parser", "pattern": "{a}|{b}"}));
        let rows = vec![json!({"a": 1.5, "b": null}).as_object().unwrap().clone()];
        let out = h.run("ParserComponent-1", vec![("input_data", Value::DataFrame(Arc::new(rows)))]).await.unwrap();
        assert_eq!(out.get("parsed_text").unwrap().text(), "1.5|None");
    }

    #[actix_rt::test]
    async fn accepts_the_legacy_names() {
        let mut h = Harness::single("parser", json!({"template": "<{text}>"}));
        let d = Value::Data(Arc::new(crate::components::Data::new(json!({"text": "x"}).as_object().unwrap().clone())));
        let out = h.run("parser-1", vec![("data", d)]).await.unwrap();
        assert_eq!(out.get("parsed_text").unwrap().text(), "<x>");
    }
}
