//! Langflow's JSON shapes for flows and projects, both ways: client objects (`FlowCreate`,
//! `FlowUpdate`, `FolderCreate`, ...) into store inputs with FastAPI's 422 items, and store records
//! into `FlowRead`, `FlowHeader`, `FolderRead` and `Page` bodies.
//!
//! A flow's document is stored as JSON text; responses embed that text as it is (`RawValue`)
//! instead of re-parsing megabytes of nodes for every listing.

use actix_web::http::header;
use actix_web::HttpRequest;
use flowactor_actors::clock::iso_seconds;
use flowactor_actors::ids::parse_python_uuid;
use flowactor_actors::store::flows::{AccessType, FlowInput, FlowRecord, IfMatch, ProjectRecord, Violation};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::http::auth::query_param;

/// Default and largest page size of paginated lists (fastapi-pagination's).
pub const DEFAULT_PAGE_SIZE: u64 = 50;
pub const MAX_PAGE_SIZE: u64 = 100;

// ----------------------------------------------------------------------------------------------
// Reading client JSON.

/// Which model a flow object is read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowModel {
    /// `FlowCreate`: `name` required, `endpoint_name: ""` refused.
    Create,
    /// `FlowUpdate`: everything optional, `endpoint_name` null or `""` clears it.
    Update,
}

fn type_error(field: &str, kind: &str, msg: &str) -> ApiError {
    ApiError::validation(kind, &["body", field], msg)
}

fn opt_string(map: &Map<String, Value>, field: &str) -> ApiResult<Option<String>> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(type_error(field, "string_type", "Input should be a valid string")),
    }
}

fn opt_bool(map: &Map<String, Value>, field: &str) -> ApiResult<Option<bool>> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(type_error(field, "bool_type", "Input should be a valid boolean")),
    }
}

/// A UUID field (any form Python's `UUID()` accepts).
pub fn opt_uuid(map: &Map<String, Value>, field: &str) -> ApiResult<Option<Uuid>> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => parse_python_uuid(s)
            .map(Some)
            .ok_or_else(|| type_error(field, "uuid_parsing", "Input should be a valid UUID")),
        Some(_) => Err(type_error(field, "uuid_type", "UUID input should be a string, bytes or UUID object")),
    }
}

/// A list of UUIDs (`null` or absent: empty).
pub fn uuid_list(value: Option<&Value>, field: &str) -> ApiResult<Vec<Uuid>> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .and_then(parse_python_uuid)
                    .ok_or_else(|| type_error(field, "uuid_parsing", "Input should be a valid UUID"))
            })
            .collect(),
        Some(_) => Err(type_error(field, "list_type", "Input should be a valid list")),
    }
}

/// A JSON body that must be a list of flow ids (`DELETE /flows/`, `POST /flows/download/`).
pub fn id_list_body(body: &Value) -> ApiResult<Vec<Uuid>> {
    match body {
        Value::Array(items) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .and_then(parse_python_uuid)
                    .ok_or_else(|| ApiError::validation("uuid_parsing", &["body"], "Input should be a valid UUID"))
            })
            .collect(),
        _ => Err(ApiError::validation("list_type", &["body"], "Input should be a valid list")),
    }
}

/// An object body, or FastAPI's 422 for anything else.
pub fn object(value: &Value) -> ApiResult<&Map<String, Value>> {
    value.as_object().ok_or_else(|| {
        ApiError::validation(
            "model_attributes_type",
            &["body"],
            "Input should be a valid dictionary or object to extract fields from",
        )
    })
}

/// pydantic's wording of a field rule the flow store refuses (the `msg` of the 422 item).
#[must_use]
pub fn violation_text(violation: &Violation) -> String {
    match violation {
        Violation::Required => "Field required".to_owned(),
        Violation::TooManyChars(max) => format!("String should have at most {max} characters"),
        Violation::TooManyBytes(max) => format!("String should have at most {max} bytes"),
        Violation::Nul => "String should not contain NUL characters".to_owned(),
        Violation::TooManyItems(max) => format!("List should have at most {max} items"),
        Violation::NoNodes => "Value error, Flow must have nodes".to_owned(),
        Violation::NoEdges => "Value error, Flow must have edges".to_owned(),
        Violation::NotAnObject => "Value error, Flow must be a valid JSON".to_owned(),
        Violation::ColorPrefix => "Value error, Icon background color must start with #".to_owned(),
        Violation::ColorLength => "Value error, Icon background color must be 7 characters long".to_owned(),
        Violation::EndpointFormat => {
            "Value error, Endpoint name must contain only letters, numbers, hyphens, and underscores".to_owned()
        }
    }
}

/// Reads a flow object into its optional id and the store's input. `user_id` and `fs_path` are
/// ignored: the owner is always the caller and flows are never written to files.
pub fn parse_flow(value: &Value, model: FlowModel) -> ApiResult<(Option<Uuid>, FlowInput)> {
    let map = object(value)?;
    let name = match (map.get("name"), model) {
        (None, FlowModel::Create) => return Err(type_error("name", "missing", "Field required")),
        (Some(Value::Null), FlowModel::Create) => {
            return Err(type_error("name", "string_type", "Input should be a valid string"))
        }
        _ => opt_string(map, "name")?,
    };
    let endpoint_name = match (map.get("endpoint_name"), model) {
        (None, _) | (Some(Value::Null), FlowModel::Create) => None,
        (Some(Value::Null), FlowModel::Update) => Some(None),
        (Some(Value::String(s)), FlowModel::Update) if s.is_empty() => Some(None),
        _ => Some(opt_string(map, "endpoint_name")?),
    };
    let data = match map.get("data") {
        None => None,
        Some(v @ (Value::Null | Value::Object(_))) => Some(v.clone()),
        Some(_) => return Err(type_error("data", "dict_type", "Input should be a valid dictionary")),
    };
    let tags = match map.get("tags") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .map(|t| {
                    t.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| type_error("tags", "string_type", "Input should be a valid string"))
                })
                .collect::<ApiResult<Vec<_>>>()?,
        ),
        Some(_) => return Err(type_error("tags", "list_type", "Input should be a valid list")),
    };
    let access_type = match opt_string(map, "access_type")? {
        None => None,
        Some(text) => Some(
            AccessType::parse(&text)
                .ok_or_else(|| type_error("access_type", "enum", "Input should be 'PRIVATE' or 'PUBLIC'"))?,
        ),
    };
    let input = FlowInput {
        name,
        description: opt_string(map, "description")?,
        icon: opt_string(map, "icon")?,
        icon_bg_color: opt_string(map, "icon_bg_color")?,
        gradient: opt_string(map, "gradient")?,
        data,
        is_component: opt_bool(map, "is_component")?,
        endpoint_name,
        tags,
        locked: opt_bool(map, "locked")?,
        mcp_enabled: opt_bool(map, "mcp_enabled")?,
        action_name: opt_string(map, "action_name")?,
        action_description: opt_string(map, "action_description")?,
        access_type,
        folder_id: opt_uuid(map, "folder_id")?,
    };
    Ok((opt_uuid(map, "id")?, input))
}

// ----------------------------------------------------------------------------------------------
// Query strings (Langflow splits comma lists and keeps the last piece).

/// The last value of a query parameter, after Langflow's comma splitting.
#[must_use]
pub fn query_value(req: &HttpRequest, name: &str) -> Option<String> {
    query_param(req, name).map(|v| v.rsplit(',').next().unwrap_or_default().to_owned())
}

/// A boolean query parameter as pydantic reads it.
pub fn query_bool(req: &HttpRequest, name: &str, default: bool) -> ApiResult<bool> {
    let Some(text) = query_value(req, name) else { return Ok(default) };
    match text.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" | "t" | "y" => Ok(true),
        "false" | "0" | "no" | "off" | "f" | "n" => Ok(false),
        _ => Err(ApiError::validation("bool_parsing", &["query", name], "Input should be a valid boolean")),
    }
}

/// A UUID query parameter.
pub fn query_uuid(req: &HttpRequest, name: &str) -> ApiResult<Option<Uuid>> {
    match query_value(req, name) {
        None => Ok(None),
        Some(text) if text.is_empty() => Ok(None),
        Some(text) => parse_python_uuid(&text)
            .map(Some)
            .ok_or_else(|| ApiError::validation("uuid_parsing", &["query", name], "Input should be a valid UUID")),
    }
}

/// `page` / `size` when either is given: `(page, size)` validated as fastapi-pagination does.
pub fn query_page(req: &HttpRequest) -> ApiResult<(Option<u64>, Option<u64>)> {
    let number = |name: &str| -> ApiResult<Option<i64>> {
        query_value(req, name)
            .map(|t| {
                t.parse::<i64>().map_err(|_| {
                    ApiError::validation(
                        "int_parsing",
                        &["query", name],
                        "Input should be a valid integer, unable to parse string as an integer",
                    )
                })
            })
            .transpose()
    };
    let page = number("page")?;
    let size = number("size")?;
    if page.is_some_and(|p| p < 1) {
        return Err(ApiError::validation(
            "greater_than_equal",
            &["query", "page"],
            "Input should be greater than or equal to 1",
        ));
    }
    if size.is_some_and(|s| s < 1) {
        return Err(ApiError::validation(
            "greater_than_equal",
            &["query", "size"],
            "Input should be greater than or equal to 1",
        ));
    }
    if size.is_some_and(|s| s.unsigned_abs() > MAX_PAGE_SIZE) {
        return Err(ApiError::validation(
            "less_than_equal",
            &["query", "size"],
            format!("Input should be less than or equal to {MAX_PAGE_SIZE}"),
        ));
    }
    Ok((page.map(i64::unsigned_abs), size.map(i64::unsigned_abs)))
}

/// `If-Match` header: `None` when absent.
#[must_use]
pub fn if_match(req: &HttpRequest) -> Option<IfMatch> {
    let values: Vec<&str> = req.headers().get_all(header::IF_MATCH).filter_map(|v| v.to_str().ok()).collect();
    if values.is_empty() {
        return None;
    }
    let mut tags = Vec::new();
    for part in values.iter().flat_map(|v| v.split(',')) {
        let part = part.trim();
        if part == "*" {
            return Some(IfMatch::Any);
        }
        let part = part.strip_prefix("W/").unwrap_or(part);
        tags.push(part.trim_matches('"').to_owned());
    }
    Some(IfMatch::Tags(tags))
}

/// The quoted `ETag` value of a flow.
pub fn etag(flow: &FlowRecord) -> ApiResult<String> {
    Ok(format!("\"{}\"", flow.etag()?))
}

// ----------------------------------------------------------------------------------------------
// Writing responses.

fn raw(text: Option<&str>) -> ApiResult<Option<&RawValue>> {
    text.map(|t| serde_json::from_str::<&RawValue>(t).map_err(ApiError::internal)).transpose()
}

/// `FlowRead`.
#[derive(Serialize)]
pub struct FlowRead<'a> {
    name: &'a str,
    description: Option<&'a str>,
    icon: Option<&'a str>,
    icon_bg_color: Option<&'a str>,
    gradient: Option<&'a str>,
    data: Option<&'a RawValue>,
    is_component: bool,
    updated_at: String,
    webhook: bool,
    endpoint_name: Option<&'a str>,
    tags: &'a [String],
    locked: bool,
    mcp_enabled: bool,
    action_name: Option<&'a str>,
    action_description: Option<&'a str>,
    access_type: &'static str,
    id: Uuid,
    user_id: Uuid,
    folder_id: Uuid,
}

/// The `FlowRead` view of a record.
pub fn flow_read(f: &FlowRecord) -> ApiResult<FlowRead<'_>> {
    Ok(FlowRead {
        name: &f.name,
        description: f.description.as_deref(),
        icon: f.icon.as_deref(),
        icon_bg_color: f.icon_bg_color.as_deref(),
        gradient: f.gradient.as_deref(),
        data: raw(f.data.as_deref())?,
        is_component: f.is_component,
        updated_at: iso_seconds(f.updated_at),
        webhook: f.webhook,
        endpoint_name: f.endpoint_name.as_deref(),
        tags: &f.tags,
        locked: f.locked,
        mcp_enabled: f.mcp_enabled,
        action_name: f.action_name.as_deref(),
        action_description: f.action_description.as_deref(),
        access_type: f.access_type.as_str(),
        id: f.id,
        user_id: f.user_id,
        folder_id: f.folder_id,
    })
}

/// `FlowRead` of several records.
pub fn flow_reads(flows: &[FlowRecord]) -> ApiResult<Vec<FlowRead<'_>>> {
    flows.iter().map(flow_read).collect()
}

/// `FlowHeader` (header mode of the flow list): the document only for components.
#[derive(Serialize)]
pub struct FlowHeader<'a> {
    id: Uuid,
    name: &'a str,
    folder_id: Uuid,
    is_component: bool,
    endpoint_name: Option<&'a str>,
    description: Option<&'a str>,
    data: Option<&'a RawValue>,
    access_type: &'static str,
    tags: &'a [String],
    mcp_enabled: bool,
    action_name: Option<&'a str>,
    action_description: Option<&'a str>,
}

pub fn flow_header(f: &FlowRecord) -> ApiResult<FlowHeader<'_>> {
    Ok(FlowHeader {
        id: f.id,
        name: &f.name,
        folder_id: f.folder_id,
        is_component: f.is_component,
        endpoint_name: f.endpoint_name.as_deref(),
        description: f.description.as_deref(),
        data: if f.is_component { raw(f.data.as_deref())? } else { None },
        access_type: f.access_type.as_str(),
        tags: &f.tags,
        mcp_enabled: f.mcp_enabled,
        action_name: f.action_name.as_deref(),
        action_description: f.action_description.as_deref(),
    })
}

/// fastapi-pagination's `Page`.
#[derive(Serialize)]
pub struct Page<T> {
    items: Vec<T>,
    total: u64,
    page: u64,
    size: u64,
    pages: u64,
}

/// One page of `all` (page numbers start at 1).
pub fn page<'a, T, U>(all: &'a [T], page: u64, size: u64, view: impl Fn(&'a T) -> ApiResult<U>) -> ApiResult<Page<U>> {
    let total = all.len() as u64;
    let size = size.max(1);
    let skip = usize::try_from(page.saturating_sub(1).saturating_mul(size)).unwrap_or(usize::MAX);
    let take = usize::try_from(size).unwrap_or(usize::MAX);
    let items = all.iter().skip(skip).take(take).map(view).collect::<ApiResult<Vec<U>>>()?;
    Ok(Page { items, total, page, size, pages: total.div_ceil(size) })
}

/// `FolderRead`.
#[must_use]
pub fn folder_read(p: &ProjectRecord) -> Value {
    let auth = p.auth_settings.as_deref().and_then(|t| serde_json::from_str::<Value>(t).ok()).unwrap_or(Value::Null);
    serde_json::json!({
        "name": p.name,
        "description": p.description,
        "auth_settings": auth,
        "id": p.id,
        "parent_id": p.parent_id,
    })
}

/// A flow as it is exported (download): `FlowRead` with API-key-looking secrets removed.
pub fn flow_export(f: &FlowRecord) -> ApiResult<Value> {
    let mut value = serde_json::to_value(flow_read(f)?).map_err(ApiError::internal)?;
    if let Some(data) = value.get_mut("data") {
        remove_api_keys(data);
    }
    Ok(value)
}

/// Langflow's `has_api_terms`.
fn has_api_terms(word: &str) -> bool {
    word.contains("api") && (word.contains("key") || (word.contains("token") && !word.contains("tokens")))
}

/// Langflow's `remove_api_keys`: password fields whose name looks like an API key or token are
/// emptied before a flow leaves the server as a file.
fn remove_api_keys(data: &mut Value) {
    let Some(nodes) = data.get_mut("nodes").and_then(Value::as_array_mut) else { return };
    for node in nodes {
        let Some(template) = node.pointer_mut("/data/node/template").and_then(Value::as_object_mut) else { continue };
        for field in template.values_mut() {
            let Some(field) = field.as_object_mut() else { continue };
            let secret = field.get("name").and_then(Value::as_str).is_some_and(has_api_terms)
                && field.get("password").and_then(Value::as_bool) == Some(true);
            if secret {
                field.insert("value".into(), Value::Null);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn api_keys_are_removed_from_exports_only_for_password_fields() {
        let mut data = json!({"nodes": [{"data": {"node": {"template": {
            "api_key": {"name": "api_key", "password": true, "value": "sk-secret"},
            "max_tokens": {"name": "max_tokens", "password": false, "value": 5},
            "api_tokens": {"name": "api_tokens", "password": true, "value": "keep"},
            "text": {"name": "text", "value": "hello"}
        }}}}], "edges": []});
        remove_api_keys(&mut data);
        let t = &data["nodes"][0]["data"]["node"]["template"];
        assert_eq!(t["api_key"]["value"], Value::Null);
        assert_eq!(t["max_tokens"]["value"], 5);
        assert_eq!(t["api_tokens"]["value"], "keep");
        assert_eq!(t["text"]["value"], "hello");
    }

    #[test]
    fn update_model_clears_endpoint_names() {
        let (_, input) = parse_flow(&json!({"endpoint_name": ""}), FlowModel::Update).expect("parse");
        assert_eq!(input.endpoint_name, Some(None));
        let (_, input) = parse_flow(&json!({"endpoint_name": null}), FlowModel::Update).expect("parse");
        assert_eq!(input.endpoint_name, Some(None));
        let (_, input) = parse_flow(&json!({}), FlowModel::Update).expect("parse");
        assert_eq!(input.endpoint_name, None);
        assert!(parse_flow(&json!({"data": {}}), FlowModel::Create).is_err());
    }
}
