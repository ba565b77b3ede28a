//! Save File (`SaveToFile`): writes a Message, Data or DataFrame into the running user's v2
//! files (`<config_dir>/<user_id>/<name>.<ext>`, with a record, as an upload would be). The file
//! name must be a bare name; no other location is ever written.

use serde_json::{Map, Value as Json};

use super::{ready, BoxFuture, Component, ComponentContext, ComponentError, Inputs, Outputs, Value};
use crate::catalog::files::save_to_file::{APPEND_MODE, FILE_NAME, INPUT, LOCAL_FORMAT, MESSAGE, STORAGE_LOCATION};
use crate::store::files::{is_bare_name, split_extension};

pub struct SaveToFile;

const BARE_NAME_ONLY: &str = "Local file name must be a file name only, without paths or parent directory references.";

fn columns(rows: &[Map<String, Json>]) -> Vec<String> {
    let mut cols: Vec<String> = Vec::new();
    for r in rows {
        for k in r.keys() {
            if !cols.contains(k) {
                cols.push(k.clone());
            }
        }
    }
    cols
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

fn cell(v: Option<&Json>) -> String {
    match v {
        None | Some(Json::Null) => String::new(),
        Some(Json::String(s)) => s.clone(),
        Some(other) => crate::agent::pyfmt::py_repr(other),
    }
}

/// pandas' `to_csv(index=False)`.
fn to_csv(rows: &[Map<String, Json>]) -> String {
    let cols = columns(rows);
    let mut out = cols.iter().map(|c| csv_field(c)).collect::<Vec<_>>().join(",");
    out.push('\n');
    for r in rows {
        out.push_str(&cols.iter().map(|c| csv_field(&cell(r.get(c)))).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    out
}

/// The bytes and the extension of the saved file.
fn render(input: &Value, format: &str) -> Result<(Vec<u8>, &'static str), ComponentError> {
    let unsupported = || ComponentError::failed(format!("Unsupported {} format: {format}", kind(input)));
    match input {
        Value::Message(m) => match format {
            "" | "txt" => Ok((m.text.clone().into_bytes(), ".txt")),
            "markdown" => Ok((m.text.clone().into_bytes(), ".md")),
            "html" => Ok((m.text.clone().into_bytes(), ".html")),
            "json" => Ok((
                serde_json::to_string_pretty(&serde_json::json!({"message": m.text})).unwrap_or_default().into_bytes(),
                ".json",
            )),
            _ => Err(unsupported()),
        },
        Value::Data(d) => match format {
            "" | "json" => Ok((
                serde_json::to_string_pretty(&Json::Object(d.data.clone())).unwrap_or_default().into_bytes(),
                ".json",
            )),
            "csv" => Ok((to_csv(std::slice::from_ref(&d.data)).into_bytes(), ".csv")),
            "markdown" => Ok((
                super::chat_output::chat_text(&Value::DataFrame(std::sync::Arc::new(vec![d.data.clone()])))
                    .into_bytes(),
                ".md",
            )),
            _ => Err(unsupported()),
        },
        Value::DataFrame(rows) => match format {
            "" | "csv" => Ok((to_csv(rows).into_bytes(), ".csv")),
            "json" => Ok((
                serde_json::to_string_pretty(&Json::Array(rows.iter().cloned().map(Json::Object).collect()))
                    .unwrap_or_default()
                    .into_bytes(),
                ".json",
            )),
            "markdown" => Ok((super::chat_output::chat_text(input).into_bytes(), ".md")),
            _ => Err(unsupported()),
        },
        Value::Tools(_) => Err(unsupported()),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Message(_) => "Message",
        Value::Data(_) => "Data",
        Value::DataFrame(_) => "DataFrame",
        Value::Tools(_) => "Tool",
    }
}

/// The `name` of the chosen option when the field holds Langflow 1.13's sortable list (its
/// first entry) or one option object; `None` for a plain text value.
fn selected_location(value: Option<&Json>) -> Option<std::borrow::Cow<'_, str>> {
    let option = match value? {
        Json::Array(items) => items.first()?,
        o @ Json::Object(_) => o,
        _ => return None,
    };
    Some(std::borrow::Cow::Borrowed(option.get("name").and_then(Json::as_str).unwrap_or_default()))
}

fn save(ctx: &ComponentContext, inputs: &Inputs) -> Result<String, ComponentError> {
    let a = ctx.args(inputs);
    let name = a.text(&FILE_NAME).trim().to_owned();
    if name.is_empty() {
        return Err(ComponentError::failed("File name must be provided."));
    }
    if !is_bare_name(&name) || name.contains(':') {
        return Err(ComponentError::failed(BARE_NAME_ONLY));
    }
    let location =
        selected_location(a.param(&STORAGE_LOCATION)).unwrap_or_else(|| a.param_or_default(&STORAGE_LOCATION));
    if !location.is_empty() && location != "Local" {
        return Err(ComponentError::failed(format!("Unsupported storage location: {location}")));
    }
    let input = a.value(&INPUT).ok_or_else(|| ComponentError::failed("No input to save."))?;
    let (bytes, ext) = render(input, &a.param_text(&LOCAL_FORMAT))?;
    let file_name = if split_extension(&name).1.eq_ignore_ascii_case(ext) { name } else { format!("{name}{ext}") };
    let user = ctx.user_id().ok_or_else(|| ComponentError::failed("Saving files needs an authenticated user."))?;
    let files = ctx.files().ok_or_else(|| ComponentError::failed("File storage is not available"))?;
    let append = a.bool(&APPEND_MODE) && matches!(ext, ".txt" | ".md" | ".csv" | ".html" | ".json");
    let record = files
        .save_user_bytes(user, &file_name, &bytes, append)
        .map_err(|e| ComponentError::failed(format!("Error saving file: {e}")))?;
    let absolute = files.root().join(&record.path);
    Ok(format!("{} saved successfully as '{}' at {}", kind(input), record.path, absolute.display()))
}

impl Component for SaveToFile {
    fn run<'a>(
        &'a self,
        ctx: &'a ComponentContext,
        inputs: &'a Inputs,
    ) -> BoxFuture<'a, Result<Outputs, ComponentError>> {
        ready(save(ctx, inputs).map(|text| Outputs::one(&MESSAGE, Value::message(ctx.new_message(text)))))
    }
}
