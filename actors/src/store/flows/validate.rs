//! Field rules of flows and projects, checked before anything is written.
//!
//! The store says which rule a field breaks ([`Violation`]); how that is worded for a client
//! (FastAPI/pydantic's texts) is the HTTP layer's business.

use serde_json::Value;

use super::{FlowError, FlowInput};

/// Longest flow or project name, in characters.
pub const MAX_NAME_LEN: usize = 255;
/// Largest description (and action description), in bytes.
pub const MAX_DESCRIPTION_LEN: usize = 64 * 1024;
/// Longest short text field (icon, gradient, action name, one tag), in characters.
pub const MAX_SHORT_TEXT_LEN: usize = 1024;
/// Most tags on one flow.
pub const MAX_TAGS: usize = 100;
/// Largest `auth_settings` JSON text of a project, in bytes.
pub const MAX_AUTH_SETTINGS_LEN: usize = 64 * 1024;

/// The rule a field breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    /// A required field is missing.
    Required,
    /// A text longer than this many characters.
    TooManyChars(usize),
    /// A text longer than this many bytes.
    TooManyBytes(usize),
    /// A text containing NUL.
    Nul,
    /// A list longer than this.
    TooManyItems(usize),
    /// A flow document without `nodes`.
    NoNodes,
    /// A flow document without `edges`.
    NoEdges,
    /// A flow document that is not an object.
    NotAnObject,
    /// An icon colour that does not start with `#`.
    ColorPrefix,
    /// An icon colour that is not 7 characters long.
    ColorLength,
    /// An endpoint name with characters outside `[a-zA-Z0-9_-]`.
    EndpointFormat,
}

pub(crate) fn invalid(field: &'static str, violation: Violation) -> FlowError {
    FlowError::Validation { field, violation }
}

/// Langflow's `^[a-zA-Z0-9_-]+$`.
#[must_use]
pub fn valid_endpoint_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn check_name(field: &'static str, name: &str) -> Result<(), FlowError> {
    if name.chars().count() > MAX_NAME_LEN {
        return Err(invalid(field, Violation::TooManyChars(MAX_NAME_LEN)));
    }
    if name.contains('\0') {
        return Err(invalid(field, Violation::Nul));
    }
    Ok(())
}

fn check_text(field: &'static str, text: Option<&str>, max_bytes: usize) -> Result<(), FlowError> {
    match text {
        Some(t) if t.len() > max_bytes => Err(invalid(field, Violation::TooManyBytes(max_bytes))),
        Some(t) if t.contains('\0') => Err(invalid(field, Violation::Nul)),
        _ => Ok(()),
    }
}

fn validate_data(data: &Value) -> Result<(), FlowError> {
    match data {
        Value::Null => Ok(()),
        Value::Object(map) if map.is_empty() => Ok(()),
        Value::Object(map) if !map.contains_key("nodes") => Err(invalid("data", Violation::NoNodes)),
        Value::Object(map) if !map.contains_key("edges") => Err(invalid("data", Violation::NoEdges)),
        Value::Object(_) => Ok(()),
        _ => Err(invalid("data", Violation::NotAnObject)),
    }
}

/// Checks every given field of a flow input.
///
/// # Errors
/// [`FlowError::Validation`] naming the first field that breaks a rule.
pub fn validate_input(input: &FlowInput) -> Result<(), FlowError> {
    if let Some(name) = &input.name {
        check_name("name", name)?;
    }
    check_text("description", input.description.as_deref(), MAX_DESCRIPTION_LEN)?;
    check_text("action_description", input.action_description.as_deref(), MAX_DESCRIPTION_LEN)?;
    check_text("icon", input.icon.as_deref(), MAX_SHORT_TEXT_LEN)?;
    check_text("gradient", input.gradient.as_deref(), MAX_SHORT_TEXT_LEN)?;
    check_text("action_name", input.action_name.as_deref(), MAX_SHORT_TEXT_LEN)?;
    if let Some(color) = &input.icon_bg_color {
        if !color.starts_with('#') {
            return Err(invalid("icon_bg_color", Violation::ColorPrefix));
        }
        if color.chars().count() != 7 {
            return Err(invalid("icon_bg_color", Violation::ColorLength));
        }
    }
    if let Some(Some(ep)) = &input.endpoint_name {
        if !valid_endpoint_name(ep) {
            return Err(invalid("endpoint_name", Violation::EndpointFormat));
        }
        check_name("endpoint_name", ep)?;
    }
    if let Some(tags) = &input.tags {
        if tags.len() > MAX_TAGS {
            return Err(invalid("tags", Violation::TooManyItems(MAX_TAGS)));
        }
        for tag in tags {
            check_text("tags", Some(tag), MAX_SHORT_TEXT_LEN)?;
        }
    }
    if let Some(data) = &input.data {
        validate_data(data)?;
    }
    Ok(())
}

/// Checks the given fields of a project.
///
/// # Errors
/// [`FlowError::Validation`] naming the first field that breaks a rule.
pub fn validate_project_fields(
    name: Option<&str>,
    description: Option<&str>,
    auth_settings: Option<&str>,
) -> Result<(), FlowError> {
    if let Some(name) = name {
        check_name("name", name)?;
    }
    check_text("description", description, MAX_DESCRIPTION_LEN)?;
    check_text("auth_settings", auth_settings, MAX_AUTH_SETTINGS_LEN)
}
