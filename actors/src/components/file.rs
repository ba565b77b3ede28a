//! Read File (`File`): the text of uploaded files, by the storage paths the upload routes hand
//! out (`<flow_id>/<stamped name>` from v1, `<user_id>/<name>` from v2). A v1 path is usable
//! only in its own flow, a v2 path in any flow of its owner; anything else is refused as
//! Langflow does with restricted local file access.
//!
//! Text formats are read natively: plain text as is, JSON re-serialised compactly. Formats that
//! need a document parser (PDF, DOCX) and Docling-only formats are refused with an error.

use std::path::PathBuf;

use serde_json::Value as Json;
use uuid::Uuid;

use super::{ready, BoxFuture, Component, ComponentContext, ComponentError, Inputs, Outputs, Value};
use crate::catalog::files::file::{
    ADVANCED_MODE, ADVANCED_TYPES, FILE_PATH, IGNORE_UNSUPPORTED, MESSAGE, PATH, SEPARATOR, SILENT_ERRORS, TEXT_TYPES,
};
use crate::store::files::{is_bare_name, split_extension};

pub struct File;

const SCOPE_REFUSED: &str = "Access to local file paths outside the authenticated user's storage scope is disabled \
                             (LANGFLOW_RESTRICT_LOCAL_FILE_ACCESS=true). Use an uploaded file instead.";

/// The storage paths named by `path` (a list or a single text) and a connected `file_path`.
fn requested_paths(ctx: &ComponentContext, inputs: &Inputs) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(v) = inputs.get(FILE_PATH.name) {
        match v {
            Value::Message(m) => out.push(m.text.clone()),
            other => {
                for row in other.rows() {
                    if let Some(Json::String(p)) = row.get("file_path") {
                        out.push(p.clone());
                    }
                }
            }
        }
    }
    if out.is_empty() {
        match ctx.args(inputs).param(&PATH) {
            Some(Json::String(s)) if !s.is_empty() => out.push(s.clone()),
            Some(Json::Array(items)) => out.extend(items.iter().filter_map(Json::as_str).map(str::to_owned)),
            _ => {}
        }
    }
    out
}

/// Resolves a storage path within the caller's scope: `<this flow>/<name>` or `<user>/<name>`.
fn resolve(ctx: &ComponentContext, root: &std::path::Path, path: &str) -> Result<PathBuf, ComponentError> {
    let refused = || ComponentError::failed(SCOPE_REFUSED);
    let (scope, name) = path.split_once('/').ok_or_else(refused)?;
    let scope = Uuid::parse_str(scope).map_err(|_| refused())?;
    if !is_bare_name(name) || (scope != ctx.flow_id() && Some(scope) != ctx.user_id()) {
        return Err(refused());
    }
    Ok(root.join(scope.to_string()).join(name))
}

/// The text of one file, as Langflow's text loader produces it.
fn read_text(path: &std::path::Path, ext: &str) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    match ext {
        "json" => {
            let value: Json = serde_json::from_str(&text).map_err(|e| format!("Invalid JSON: {e}"))?;
            Ok(value.to_string())
        }
        "pdf" | "docx" => Err(format!("Reading .{ext} files is not supported by this server")),
        _ => Ok(text),
    }
}

fn load(ctx: &ComponentContext, inputs: &Inputs) -> Result<String, ComponentError> {
    let a = ctx.args(inputs);
    let files = ctx.files().ok_or_else(|| ComponentError::failed("File storage is not available"))?;
    let separator = match a.param(&SEPARATOR) {
        None => SEPARATOR.default_text().to_owned(),
        Some(_) => a.param_text(&SEPARATOR).into_owned(),
    };
    let ignore_unsupported = a.bool(&IGNORE_UNSUPPORTED);
    let advanced = a.bool(&ADVANCED_MODE);
    let silent = a.bool(&SILENT_ERRORS);
    let mut texts = Vec::new();
    for requested in requested_paths(ctx, inputs) {
        let path = resolve(ctx, files.root(), &requested)?;
        let stored = requested.rsplit('/').next().unwrap_or_default();
        let ext = split_extension(stored).1.trim_start_matches('.').to_ascii_lowercase();
        if ADVANCED_TYPES.contains(&ext.as_str()) && !advanced {
            return Err(ComponentError::failed(format!(
                "File '{stored}' has extension '.{ext}' which requires Advanced Parser mode. Please enable \
                 'Advanced Parser' to process this file."
            )));
        }
        if !TEXT_TYPES.contains(&ext.as_str()) && !ADVANCED_TYPES.contains(&ext.as_str()) {
            if ignore_unsupported {
                continue;
            }
            return Err(ComponentError::failed(format!("Unsupported file extension: .{ext}")));
        }
        if !path.is_file() {
            let shown = path.display();
            return Err(ComponentError::failed(format!(
                "\n\nFile not found: '{shown}' (resolved to: '{shown}'). Please upload the file again."
            )));
        }
        match read_text(&path, &ext) {
            Ok(text) => texts.push(text),
            Err(e) if silent => tracing::debug!(file = %stored, error = %e, "File: skipped"),
            Err(e) => return Err(ComponentError::failed(format!("Error loading file {stored}: {e}"))),
        }
    }
    if texts.is_empty() {
        return Err(ComponentError::failed("No files to process."));
    }
    Ok(texts.join(&separator))
}

impl Component for File {
    fn run<'a>(
        &'a self,
        ctx: &'a ComponentContext,
        inputs: &'a Inputs,
    ) -> BoxFuture<'a, Result<Outputs, ComponentError>> {
        let text = match load(ctx, inputs) {
            Ok(t) => t,
            Err(e) => return ready(Err(e)),
        };
        if let Err(e) = ctx.check_message_size(text.len()) {
            return ready(Err(e));
        }
        ready(Ok(Outputs::one(&MESSAGE, Value::message(ctx.new_message(text)))))
    }
}
