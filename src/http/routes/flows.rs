//! `/api/v1/flows`: Langflow's flow CRUD, batch creation, upload and download.
//!
//! Handlers stay thin: they read Langflow's JSON ([`flow_json`]), call the flow store ([`Flows`])
//! with the caller's id (which scopes every lookup, so another user's flow is always 404), let it
//! run writes off the worker thread until they are durable, and render the answer. `GET` and the
//! write responses of one flow carry an `ETag`; `If-Match` on PATCH/PUT/DELETE turns a lost
//! update into 412.
//!
//! [`Flows`]: flowactor_actors::store::flows::Flows

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use flowactor_actors::store::flows::{FlowError, FlowRecord};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::http::auth::Identity;
use crate::http::body::path_uuid;
use crate::http::flow_files::{self, Upload};
use crate::http::flow_json::{self, FlowModel, DEFAULT_PAGE_SIZE};
use crate::http::routes::{route, BodyKind, RouteSpec};
use crate::http::AppState;

pub fn routes() -> Vec<RouteSpec> {
    vec![
        route!(Get "/api/v1/flows/", User, list).compressed(),
        route!(Post "/api/v1/flows/", User, create),
        route!(Delete "/api/v1/flows/", User, delete_many),
        route!(Post "/api/v1/flows/batch/", User, create_batch),
        route!(Post "/api/v1/flows/upload/", User, upload).body(BodyKind::Multipart),
        route!(Post "/api/v1/flows/download/", User, download),
        route!(Get "/api/v1/flows/basic_examples/", Public, basic_examples).compressed(),
        route!(Get "/api/v1/flows/{flow_id}", User, read),
        route!(Patch "/api/v1/flows/{flow_id}", User, update),
        route!(Put "/api/v1/flows/{flow_id}", User, upsert),
        route!(Delete "/api/v1/flows/{flow_id}", User, delete),
    ]
}

/// One flow with its `ETag`.
pub fn flow_response(mut builder: actix_web::HttpResponseBuilder, flow: &FlowRecord) -> ApiResult<HttpResponse> {
    Ok(builder.insert_header((header::ETAG, flow_json::etag(flow)?)).json(flow_json::flow_read(flow)?))
}

fn flow_list(flows: &[FlowRecord]) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(flow_json::flow_reads(flows)?))
}

async fn create(state: web::Data<AppState>, caller: Identity, body: web::Json<Value>) -> ApiResult<HttpResponse> {
    let (id, input) = flow_json::parse_flow(&body, FlowModel::Create)?;
    let user = caller.user.id;
    let flow = state.flows.write(move |f| f.create(user, id, input)).await?;
    flow_response(HttpResponse::Created(), &flow)
}

async fn list(state: web::Data<AppState>, caller: Identity, req: HttpRequest) -> ApiResult<HttpResponse> {
    let get_all = flow_json::query_bool(&req, "get_all", true)?;
    let header_flows = flow_json::query_bool(&req, "header_flows", false)?;
    let components_only = flow_json::query_bool(&req, "components_only", false)?;
    // flowactor ships no shared example folder, so there is nothing to remove; still validated.
    flow_json::query_bool(&req, "remove_example_flows", false)?;
    let folder = flow_json::query_uuid(&req, "folder_id")?;
    let (page, size) = flow_json::query_page(&req)?;
    let user = caller.user.id;
    if get_all {
        let mut flows = state.flows.list(user, folder)?;
        if components_only {
            flows.retain(|f| f.is_component);
        }
        if header_flows {
            let headers = flows.iter().map(flow_json::flow_header).collect::<ApiResult<Vec<_>>>()?;
            return Ok(HttpResponse::Ok().json(headers));
        }
        return flow_list(&flows);
    }
    let folder = match folder {
        Some(f) => f,
        None => state.flows.blocking(move |f| f.default_project(user)).await?.id,
    };
    let mut flows = state.flows.list(user, Some(folder))?;
    if components_only {
        flows.retain(|f| f.is_component);
    }
    let page = flow_json::page(&flows, page.unwrap_or(1), size.unwrap_or(DEFAULT_PAGE_SIZE), flow_json::flow_read)?;
    Ok(HttpResponse::Ok().json(page))
}

async fn read(state: web::Data<AppState>, caller: Identity, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let id = path_uuid("flow_id", &path)?;
    let flow = state.flows.get_owned(caller.user.id, id)?.ok_or(FlowError::NotFound("Flow not found"))?;
    flow_response(HttpResponse::Ok(), &flow)
}

async fn update(
    state: web::Data<AppState>,
    caller: Identity,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> ApiResult<HttpResponse> {
    let id = path_uuid("flow_id", &path)?;
    let (_, input) = flow_json::parse_flow(&body, FlowModel::Update)?;
    let (user, if_match) = (caller.user.id, flow_json::if_match(&req));
    let flow = match state.flows.write(move |f| f.update(user, id, input, if_match.as_ref())).await {
        // Langflow 1.13 answers PATCH name clashes with 400 (PUT uses 409).
        Err(FlowError::Conflict(m)) => return Err(ApiError::bad_request(m)),
        other => other?,
    };
    flow_response(HttpResponse::Ok(), &flow)
}

async fn upsert(
    state: web::Data<AppState>,
    caller: Identity,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> ApiResult<HttpResponse> {
    let id = path_uuid("flow_id", &path)?;
    let (_, input) = flow_json::parse_flow(&body, FlowModel::Create)?;
    let (user, if_match) = (caller.user.id, flow_json::if_match(&req));
    let (flow, created) = state.flows.write(move |f| f.upsert(user, id, input, if_match.as_ref())).await?;
    flow_response(if created { HttpResponse::Created() } else { HttpResponse::Ok() }, &flow)
}

async fn delete(
    state: web::Data<AppState>,
    caller: Identity,
    req: HttpRequest,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = path_uuid("flow_id", &path)?;
    let (user, if_match) = (caller.user.id, flow_json::if_match(&req));
    state.flows.write(move |f| f.delete_one(user, id, if_match.as_ref())).await?;
    state.forget_flows(&[id]);
    Ok(HttpResponse::Ok().json(json!({"message": "Flow deleted successfully"})))
}

async fn delete_many(state: web::Data<AppState>, caller: Identity, body: web::Json<Value>) -> ApiResult<HttpResponse> {
    let ids = flow_json::id_list_body(&body)?;
    let user = caller.user.id;
    let deleted = state.flows.write(move |f| f.delete(user, &ids)).await?;
    state.forget_flows(&deleted);
    Ok(HttpResponse::Ok().json(json!({"deleted": deleted.len()})))
}

async fn create_batch(state: web::Data<AppState>, caller: Identity, body: web::Json<Value>) -> ApiResult<HttpResponse> {
    let map = flow_json::object(&body)?;
    let items = match map.get("flows") {
        Some(Value::Array(items)) => items,
        Some(_) => return Err(ApiError::validation("list_type", &["body", "flows"], "Input should be a valid list")),
        None => return Err(ApiError::validation("missing", &["body", "flows"], "Field required")),
    };
    let flows = items.iter().map(|v| flow_json::parse_flow(v, FlowModel::Create)).collect::<ApiResult<Vec<_>>>()?;
    let user = caller.user.id;
    let created = state.flows.write(move |f| f.create_batch(user, flows)).await?;
    Ok(HttpResponse::Created().json(flow_json::flow_reads(&created)?))
}

/// The flow objects of an uploaded document: one flow, or `{"flows": [...]}`.
fn flows_of(doc: &Value) -> ApiResult<Vec<(Option<Uuid>, flowactor_actors::store::flows::FlowInput)>> {
    match doc.get("flows") {
        Some(Value::Array(items)) => items.iter().map(|v| flow_json::parse_flow(v, FlowModel::Create)).collect(),
        _ => Ok(vec![flow_json::parse_flow(doc, FlowModel::Create)?]),
    }
}

/// The flows of an uploaded file (flow JSON, `{"flows": [...]}`, or a ZIP of those).
fn uploaded_flows(
    upload: &Upload,
    limit: usize,
    limit_mb: u64,
) -> ApiResult<Vec<(Option<Uuid>, flowactor_actors::store::flows::FlowInput)>> {
    if flow_files::is_zip(&upload.bytes) {
        let docs = flow_files::zip_documents(&upload.bytes, limit, limit_mb)?;
        let mut flows = Vec::new();
        for doc in &docs {
            if let Ok(mut found) = flows_of(doc) {
                flows.append(&mut found);
            }
        }
        if flows.is_empty() {
            return Err(ApiError::bad_request("No valid flow JSON files found in the ZIP"));
        }
        return Ok(flows);
    }
    flows_of(&flow_files::parse_json_file(&upload.bytes)?)
}

async fn upload(
    state: web::Data<AppState>,
    caller: Identity,
    req: HttpRequest,
    multipart: Multipart,
) -> ApiResult<HttpResponse> {
    let folder = flow_json::query_uuid(&req, "folder_id")?;
    let (limit, limit_mb) = (state.settings.max_body_bytes(), state.settings.max_body_mb);
    let upload = flow_files::read_file_field(multipart, limit, limit_mb).await?;
    let flows = uploaded_flows(&upload, limit, limit_mb)?;
    let user = caller.user.id;
    let created = state.flows.write(move |f| f.import(user, flows, folder)).await?;
    Ok(HttpResponse::Created().json(flow_json::flow_reads(&created)?))
}

async fn download(state: web::Data<AppState>, caller: Identity, body: web::Json<Value>) -> ApiResult<HttpResponse> {
    let ids = flow_json::id_list_body(&body)?;
    let mut flows = Vec::new();
    for id in ids {
        if let Some(flow) = state.flows.get_owned(caller.user.id, id)? {
            if !flows.iter().any(|f: &FlowRecord| f.id == flow.id) {
                flows.push(flow);
            }
        }
    }
    match flows.as_slice() {
        [] => Err(ApiError::not_found("No flows found.")),
        [one] => Ok(HttpResponse::Ok().json(flow_json::flow_export(one)?)),
        several => {
            let files = several
                .iter()
                .map(|f| Ok((f.name.clone(), flow_json::flow_export(f)?)))
                .collect::<ApiResult<Vec<_>>>()?;
            let bytes = web::block(move || flow_files::build_zip(&files)).await??;
            Ok(flow_files::zip_response(bytes, &format!("{}_langflow_flows.zip", flow_files::timestamp())))
        }
    }
}

/// Langflow's shared starter projects; flowactor ships none.
async fn basic_examples() -> HttpResponse {
    HttpResponse::Ok().json(Vec::<Value>::new())
}
