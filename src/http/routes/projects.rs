//! `/api/v1/projects` (Langflow's folders): create, list, read with the project's flows (paged
//! or whole), rename, delete with its flows, and ZIP download/upload. The legacy
//! `/api/v1/folders/...` paths answer 307 to the same URL under `/api/v1/projects`.
//!
//! Like flows, every lookup is scoped to the caller: another user's project is 404.

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use flowactor_actors::store::flows::{FlowError, FlowInput, NewProject, ProjectPatch, PROJECT_NOT_FOUND};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::http::auth::Identity;
use crate::http::body::path_uuid;
use crate::http::flow_files::{self, Upload};
use crate::http::flow_json::{self, FlowModel};
use crate::http::routes::{route, BodyKind, RouteSpec};
use crate::http::AppState;

/// What a project gets when the client sends no `auth_settings` and auto-login is off.
const DEFAULT_AUTH_SETTINGS: &str = r#"{"auth_type":"apikey"}"#;

pub fn routes() -> Vec<RouteSpec> {
    vec![
        route!(Any "/api/v1/folders{tail:(/.*)?}", User, legacy_redirect),
        route!(Post "/api/v1/projects/", User, create),
        route!(Get "/api/v1/projects/", User, list),
        route!(Post "/api/v1/projects/upload/", User, upload).body(BodyKind::Multipart),
        route!(Get "/api/v1/projects/download/{project_id}", User, download),
        route!(Get "/api/v1/projects/{project_id}", User, read),
        route!(Patch "/api/v1/projects/{project_id}", User, update),
        route!(Delete "/api/v1/projects/{project_id}", User, delete),
    ]
}

/// `/api/v1/folders/...` → 307 to `/api/v1/projects/...`, query string kept.
async fn legacy_redirect(req: HttpRequest) -> HttpResponse {
    let tail = req.path().strip_prefix("/api/v1/folders").unwrap_or_default();
    let query = req.query_string();
    let location =
        if query.is_empty() { format!("/api/v1/projects{tail}") } else { format!("/api/v1/projects{tail}?{query}") };
    HttpResponse::TemporaryRedirect().insert_header((header::LOCATION, location)).finish()
}

/// `auth_settings` as stored JSON text: an object, or `None` for null/absent.
fn auth_settings(map: &Map<String, Value>) -> ApiResult<Option<String>> {
    match map.get("auth_settings") {
        None | Some(Value::Null) => Ok(None),
        Some(obj @ Value::Object(_)) => Ok(Some(obj.to_string())),
        Some(_) => {
            Err(ApiError::validation("dict_type", &["body", "auth_settings"], "Input should be a valid dictionary"))
        }
    }
}

fn opt_text(map: &Map<String, Value>, field: &str) -> ApiResult<Option<String>> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::validation("string_type", &["body", field], "Input should be a valid string")),
    }
}

async fn create(state: web::Data<AppState>, caller: Identity, body: web::Json<Value>) -> ApiResult<HttpResponse> {
    let map = flow_json::object(&body)?;
    let name = match map.get("name") {
        None => return Err(ApiError::validation("missing", &["body", "name"], "Field required")),
        Some(Value::String(s)) => s.clone(),
        Some(_) => {
            return Err(ApiError::validation("string_type", &["body", "name"], "Input should be a valid string"))
        }
    };
    let mut auth = auth_settings(map)?;
    if auth.is_none() && !state.settings.auto_login {
        auth = Some(DEFAULT_AUTH_SETTINGS.to_owned());
    }
    let mut moved = flow_json::uuid_list(map.get("flows_list"), "flows_list")?;
    moved.extend(flow_json::uuid_list(map.get("components_list"), "components_list")?);
    let project = NewProject {
        name,
        description: opt_text(map, "description")?,
        auth_settings: auth,
        parent_id: flow_json::opt_uuid(map, "parent_id")?,
    };
    let user = caller.user.id;
    let rec = state.flows.write(move |f| f.create_project(user, project, &moved)).await?;
    Ok(HttpResponse::Created().json(flow_json::folder_read(&rec)))
}

async fn list(state: web::Data<AppState>, caller: Identity) -> ApiResult<HttpResponse> {
    let user = caller.user.id;
    let projects = state.flows.blocking(move |f| f.list_projects(user)).await?;
    Ok(HttpResponse::Ok().json(projects.iter().map(flow_json::folder_read).collect::<Vec<_>>()))
}

async fn read(
    state: web::Data<AppState>,
    caller: Identity,
    req: HttpRequest,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = path_uuid("project_id", &path)?;
    let user = caller.user.id;
    let project = state.flows.get_project(user, id)?.ok_or(FlowError::NotFound(PROJECT_NOT_FOUND))?;
    let (page, size) = flow_json::query_page(&req)?;
    let mut flows = state.flows.list(user, Some(id))?;
    let (Some(page), Some(size)) = (page, size) else {
        let mut body = flow_json::folder_read(&project);
        body["flows"] = serde_json::to_value(flow_json::flow_reads(&flows)?).map_err(ApiError::internal)?;
        return Ok(HttpResponse::Ok().json(body));
    };
    if flow_json::query_bool(&req, "is_component", false)? {
        flows.retain(|f| f.is_component);
    }
    if flow_json::query_bool(&req, "is_flow", false)? {
        flows.retain(|f| !f.is_component);
    }
    if let Some(search) = flow_json::query_value(&req, "search").filter(|s| !s.is_empty()) {
        let needle = search.to_lowercase();
        flows.retain(|f| f.name.to_lowercase().contains(&needle));
    }
    let page = flow_json::page(&flows, page, size, flow_json::flow_read)?;
    Ok(HttpResponse::Ok().json(json!({"folder": flow_json::folder_read(&project), "flows": page})))
}

async fn update(
    state: web::Data<AppState>,
    caller: Identity,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> ApiResult<HttpResponse> {
    let id = path_uuid("project_id", &path)?;
    let map = flow_json::object(&body)?;
    // `flows` / `components` are accepted and ignored, as in Langflow: a PATCH moves no flow.
    let patch = ProjectPatch {
        name: opt_text(map, "name")?,
        description: opt_text(map, "description")?,
        auth_settings: auth_settings(map)?,
        parent_id: flow_json::opt_uuid(map, "parent_id")?,
    };
    let user = caller.user.id;
    let rec = state.flows.write(move |f| f.update_project(user, id, patch)).await?;
    Ok(HttpResponse::Ok().json(flow_json::folder_read(&rec)))
}

async fn delete(state: web::Data<AppState>, caller: Identity, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let id = path_uuid("project_id", &path)?;
    let user = caller.user.id;
    let deleted = state.flows.write(move |f| f.delete_project(user, id)).await?;
    state.forget_flows(&deleted);
    Ok(HttpResponse::NoContent().finish())
}

async fn download(state: web::Data<AppState>, caller: Identity, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let id = path_uuid("project_id", &path)?;
    let user = caller.user.id;
    let project = state.flows.get_project(user, id)?.ok_or(FlowError::NotFound(PROJECT_NOT_FOUND))?;
    let flows = state.flows.list(user, Some(id))?;
    if flows.is_empty() {
        return Err(ApiError::not_found("No flows found in project"));
    }
    let files =
        flows.iter().map(|f| Ok((f.name.clone(), flow_json::flow_export(f)?))).collect::<ApiResult<Vec<_>>>()?;
    let bytes = web::block(move || flow_files::build_zip(&files)).await??;
    let name = flow_files::sanitize_file_stem(&project.name).replace(' ', "_");
    Ok(flow_files::zip_response(bytes, &format!("{}_{name}_flows.zip", flow_files::timestamp())))
}

type ParsedFlows = Vec<(Option<Uuid>, FlowInput)>;

/// `{"folder_name", "folder_description", "flows": [...]}` into the project and its flows.
fn project_document(doc: &Value) -> ApiResult<(NewProject, ParsedFlows)> {
    let Some(map) = doc.as_object() else {
        return Err(ApiError::bad_request(
            "Invalid project data: expected a JSON object with 'folder_name' and 'flows' fields",
        ));
    };
    let missing: Vec<&str> = ["folder_name", "flows"].into_iter().filter(|k| !map.contains_key(*k)).collect();
    if !missing.is_empty() {
        return Err(ApiError::bad_request(format!("Missing required field(s): {}", missing.join(", "))));
    }
    let name = match map.get("folder_name") {
        Some(Value::String(s)) => s.clone(),
        _ => {
            return Err(ApiError::bad_request(
                "Invalid project data: expected a JSON object with 'folder_name' and 'flows' fields",
            ))
        }
    };
    let Some(Value::Array(items)) = map.get("flows") else {
        return Err(ApiError::bad_request(
            "Invalid project data: expected a JSON object with 'folder_name' and 'flows' fields",
        ));
    };
    if items.is_empty() {
        return Err(ApiError::bad_request("No flows found in the file"));
    }
    let flows = items.iter().map(|v| flow_json::parse_flow(v, FlowModel::Create)).collect::<ApiResult<Vec<_>>>()?;
    let description = match map.get("folder_description") {
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    };
    Ok((NewProject { name, description, ..NewProject::default() }, flows))
}

/// A ZIP of flow files becomes a project named after the archive.
fn project_zip(upload: &Upload, limit: usize, limit_mb: u64) -> ApiResult<(NewProject, ParsedFlows)> {
    let docs = flow_files::zip_documents(&upload.bytes, limit, limit_mb)?;
    let mut flows = Vec::new();
    for doc in &docs {
        match doc.get("flows") {
            Some(Value::Array(items)) => {
                flows.extend(items.iter().filter_map(|v| flow_json::parse_flow(v, FlowModel::Create).ok()));
            }
            _ => flows.extend(flow_json::parse_flow(doc, FlowModel::Create).ok()),
        }
    }
    if flows.is_empty() {
        return Err(ApiError::bad_request("No flows found in the file"));
    }
    let stem = upload
        .filename
        .as_deref()
        .map(|f| f.rsplit(['/', '\\']).next().unwrap_or(f))
        .map(|f| f.strip_suffix(".zip").unwrap_or(f))
        .filter(|f| !f.trim().is_empty())
        .unwrap_or("Uploaded project");
    Ok((NewProject { name: stem.chars().take(255).collect(), ..NewProject::default() }, flows))
}

async fn upload(state: web::Data<AppState>, caller: Identity, multipart: Multipart) -> ApiResult<HttpResponse> {
    let (limit, limit_mb) = (state.settings.max_body_bytes(), state.settings.max_body_mb);
    let upload = flow_files::read_file_field(multipart, limit, limit_mb).await?;
    let (mut project, flows) = if flow_files::is_zip(&upload.bytes) {
        project_zip(&upload, limit, limit_mb)?
    } else {
        project_document(&flow_files::parse_json_file(&upload.bytes)?)?
    };
    if !state.settings.auto_login {
        project.auth_settings = Some(DEFAULT_AUTH_SETTINGS.to_owned());
    }
    let user = caller.user.id;
    let (_, created) = state.flows.write(move |f| f.import_project(user, project, flows)).await?;
    Ok(HttpResponse::Created().json(flow_json::flow_reads(&created)?))
}
