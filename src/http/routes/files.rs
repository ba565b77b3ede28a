//! File uploads in Langflow's shapes: v1 `/api/v1/files/*` (flow-scoped, stored as
//! `<flow_id>/<YYYY-MM-DD_HH-MM-SS>_<name>`), the legacy `POST /api/v1/upload/{flow_id}`, and v2
//! `/api/v2/files` (user-scoped records). Another user's flow or file is not found.
//!
//! Uploads stream to a temporary file in bounded chunks (never held whole in memory), counted
//! against `LANGFLOW_MAX_FILE_SIZE_UPLOAD`; a file becomes visible only once complete (see
//! `flowactor_actors::store::files`). Client file names are checked and used as bare names only.

use std::io::Write;

use actix_multipart::Multipart;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use flowactor_actors::clock::iso_micros;
use flowactor_actors::store::files::{split_extension, FileRecord, Files, PendingFile, UserUpload};
use futures_util::StreamExt;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::http::auth::Identity;
use crate::http::body::path_uuid;
use crate::http::flow_json::query_value;
use crate::http::routes::{route, BodyKind, RouteSpec};
use crate::http::AppState;

pub fn routes() -> Vec<RouteSpec> {
    vec![
        route!(Post "/api/v1/files/upload/{flow_id}", User, v1_upload).body(BodyKind::Multipart),
        route!(Get "/api/v1/files/list/{flow_id}", User, v1_list),
        route!(Get "/api/v1/files/download/{flow_id}/{file_name}", User, v1_download),
        route!(Get "/api/v1/files/images/{flow_id}/{file_name}", User, v1_image),
        route!(Delete "/api/v1/files/delete/{flow_id}/{file_name}", User, v1_delete),
        route!(Post "/api/v1/upload/{flow_id}", User, legacy_upload).body(BodyKind::Multipart),
        route!(Post "/api/v2/files", User, v2_upload).body(BodyKind::Multipart),
        route!(Post "/api/v2/files/", User, v2_upload).body(BodyKind::Multipart),
        route!(Get "/api/v2/files", User, v2_list),
        route!(Get "/api/v2/files/", User, v2_list),
        route!(Delete "/api/v2/files", User, v2_delete_all),
        route!(Delete "/api/v2/files/", User, v2_delete_all),
        route!(Post "/api/v2/files/batch/", User, v2_batch_download),
        route!(Delete "/api/v2/files/batch/", User, v2_batch_delete),
        route!(Get "/api/v2/files/{file_id}", User, v2_get),
        route!(Put "/api/v2/files/{file_id}", User, v2_rename),
        route!(Delete "/api/v2/files/{file_id}", User, v2_delete),
    ]
}

/// Bytes collected before one write to the temporary file.
const CHUNK: usize = 256 * 1024;

/// A received `file` field, complete on disk under a temporary name.
struct Received {
    pending: PendingFile,
    filename: Option<String>,
    sha256: String,
}

fn missing_file() -> ApiError {
    ApiError::validation("missing", &["body", "file"], "Field required")
}

fn too_large(limit_mb: u64, got: usize) -> ApiError {
    #[allow(clippy::cast_precision_loss)]
    let mb = (got as f64 / (1024.0 * 1024.0) * 1000.0).round() / 1000.0;
    let got = if mb.fract() == 0.0 { format!("{mb:.1}") } else { format!("{mb}") };
    ApiError::detail(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("Content size limit exceeded. Maximum allowed is {limit_mb}MB and got {got}MB."),
    )
}

async fn write_chunk(pending: PendingFile, buf: Vec<u8>) -> ApiResult<(PendingFile, Vec<u8>)> {
    let (pending, mut buf) = web::block(move || {
        let mut pending = pending;
        pending.write(&buf).map(|()| (pending, buf))
    })
    .await??;
    buf.clear();
    Ok((pending, buf))
}

/// Streams the multipart field `file` to a temporary file, counting the whole body against the
/// upload limit. Other fields are drained.
///
/// # Errors
/// 422 when there is no `file` field (or no multipart body), 400 for a malformed body, 413 past
/// the limit.
async fn receive(state: &AppState, files: &Files, mut multipart: Multipart) -> ApiResult<Received> {
    let limit_mb = state.settings.max_file_size_upload;
    let limit = usize::try_from(limit_mb.saturating_mul(1024 * 1024)).unwrap_or(usize::MAX);
    let mut total = 0usize;
    let mut found = None;
    while let Some(field) = multipart.next().await {
        let mut field = match field {
            Ok(field) => field,
            Err(
                actix_multipart::MultipartError::ContentTypeMissing
                | actix_multipart::MultipartError::ContentTypeParse
                | actix_multipart::MultipartError::ContentTypeIncompatible
                | actix_multipart::MultipartError::BoundaryMissing,
            ) => return Err(missing_file()),
            Err(_) => return Err(ApiError::bad_request("There was an error parsing the body")),
        };
        let is_file = found.is_none() && field.name() == Some("file");
        let filename = field.content_disposition().and_then(|cd| cd.get_filename()).map(str::to_owned);
        let mut target = if is_file {
            let files = files.clone();
            Some(web::block(move || files.begin()).await??)
        } else {
            None
        };
        let mut digest = ring::digest::Context::new(&ring::digest::SHA256);
        let mut buf = Vec::with_capacity(if is_file { CHUNK } else { 0 });
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|_| ApiError::bad_request("There was an error parsing the body"))?;
            total = total.saturating_add(chunk.len());
            if total > limit {
                return Err(too_large(limit_mb, total));
            }
            if let Some(pending) = target.take() {
                digest.update(&chunk);
                buf.extend_from_slice(&chunk);
                target = Some(if buf.len() >= CHUNK {
                    let (pending, b) = write_chunk(pending, std::mem::take(&mut buf)).await?;
                    buf = b;
                    pending
                } else {
                    pending
                });
            }
        }
        if let Some(pending) = target {
            let (pending, _) = write_chunk(pending, buf).await?;
            let sha256 = digest.finish().as_ref().iter().fold(String::new(), |mut s, b| {
                let _ = std::fmt::Write::write_fmt(&mut s, format_args!("{b:02x}"));
                s
            });
            found = Some(Received { pending, filename, sha256 });
        }
    }
    found.ok_or_else(missing_file)
}

/// The caller's flow, or 404 `Flow not found`.
fn owned_flow(state: &AppState, caller: &Identity, raw: &str) -> ApiResult<Uuid> {
    let id = path_uuid("flow_id", raw)?;
    match state.flows.get_owned(caller.user.id, id)? {
        Some(flow) => Ok(flow.id),
        None => Err(ApiError::not_found("Flow not found")),
    }
}

/// `attachment; filename="<name>"; filename*=UTF-8''<percent-encoded>`.
fn attachment(name: &str) -> String {
    let plain: String = name.chars().map(|c| if c == '"' || c.is_control() { '_' } else { c }).collect();
    let encoded = percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC);
    format!("attachment; filename=\"{plain}\"; filename*=UTF-8''{encoded}")
}

fn bytes_response(bytes: Vec<u8>, content_type: &str, name: &str) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type.to_owned()))
        .insert_header((header::CONTENT_DISPOSITION, attachment(name)))
        .body(bytes)
}

// ---- v1 ------------------------------------------------------------------------------------

async fn v1_upload(
    state: web::Data<AppState>,
    caller: Identity,
    path: web::Path<String>,
    multipart: Multipart,
) -> ApiResult<HttpResponse> {
    let flow = owned_flow(&state, &caller, &path)?;
    let files = state.files.clone();
    let received = receive(&state, &files, multipart).await?;
    let name = match received.filename.as_deref() {
        None | Some("") => received.sha256.clone(),
        Some(n) if n.contains(['/', '\\']) => {
            return Err(ApiError::detail(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Invalid file name: contains path separators",
            ))
        }
        Some(n) if n.contains(['\0', '\r', '\n']) || n == "." || n == ".." => {
            return Err(ApiError::bad_request(INVALID_NAME))
        }
        Some(n) => n.to_owned(),
    };
    let stored = format!("{}_{name}", chrono::Local::now().format("%Y-%m-%d_%H-%M-%S"));
    if stored.len() > 255 {
        return Err(ApiError::bad_request("File name is too long. Maximum 255 bytes allowed."));
    }
    let pending = received.pending;
    let name = stored.clone();
    web::block(move || files.commit_flow_file(pending, flow, &name)).await??;
    Ok(HttpResponse::Created().json(json!({"flowId": flow, "file_path": format!("{flow}/{stored}")})))
}

async fn v1_list(state: web::Data<AppState>, caller: Identity, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let flow = owned_flow(&state, &caller, &path)?;
    let files = state.files.clone();
    let names = web::block(move || files.list_flow(flow)).await??;
    Ok(HttpResponse::Ok().json(json!({ "files": names })))
}

/// Reads a flow's file, or 500 `File <name> not found in flow <id>` as Langflow answers.
async fn read_flow_file(state: &AppState, caller: &Identity, flow: &str, name: &str) -> ApiResult<Vec<u8>> {
    routed_name(name)?;
    let flow = owned_flow(state, caller, flow)?;
    let files = state.files.clone();
    let owned = name.to_owned();
    let bytes = web::block(move || files.flow_file(flow, &owned).map(std::fs::read).transpose()).await??;
    bytes.ok_or_else(|| {
        ApiError::detail(StatusCode::INTERNAL_SERVER_ERROR, format!("File {name} not found in flow {flow}"))
    })
}

async fn v1_download(
    state: web::Data<AppState>,
    caller: Identity,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (flow, name) = path.into_inner();
    let bytes = read_flow_file(&state, &caller, &flow, &name).await?;
    Ok(bytes_response(bytes, "application/octet-stream", &name))
}

/// A `{file_name}` segment holding an encoded `/` (`..%2F..%2Fetc`) matches no route in
/// Langflow: the same 404 here.
fn routed_name(name: &str) -> ApiResult<()> {
    if name.contains('/') {
        return Err(ApiError::not_found("Not Found"));
    }
    Ok(())
}

/// The content type Python's `mimetypes` guesses for common extensions.
fn guess_type(name: &str) -> &'static str {
    let ext = split_extension(name).1.to_ascii_lowercase();
    match ext.as_str() {
        ".png" => "image/png",
        ".jpg" | ".jpeg" => "image/jpeg",
        ".gif" => "image/gif",
        ".webp" => "image/webp",
        ".bmp" => "image/bmp",
        ".svg" => "image/svg+xml",
        ".ico" => "image/vnd.microsoft.icon",
        ".tif" | ".tiff" => "image/tiff",
        ".txt" | ".md" | ".py" | ".sh" | ".sql" => "text/plain",
        ".csv" => "text/csv",
        ".html" | ".htm" => "text/html",
        ".xml" => "application/xml",
        ".json" => "application/json",
        ".pdf" => "application/pdf",
        ".yaml" | ".yml" => "application/yaml",
        _ => "application/octet-stream",
    }
}

async fn v1_image(
    state: web::Data<AppState>,
    caller: Identity,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (flow, name) = path.into_inner();
    routed_name(&name)?;
    let content_type = guess_type(&name);
    if !content_type.starts_with("image/") {
        owned_flow(&state, &caller, &flow)?;
        return Err(ApiError::detail(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("Content type {content_type} is not an image"),
        ));
    }
    let bytes = read_flow_file(&state, &caller, &flow, &name).await?;
    Ok(HttpResponse::Ok().insert_header((header::CONTENT_TYPE, content_type)).body(bytes))
}

async fn v1_delete(
    state: web::Data<AppState>,
    caller: Identity,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (flow, name) = path.into_inner();
    routed_name(&name)?;
    let flow = owned_flow(&state, &caller, &flow)?;
    let files = state.files.clone();
    let owned = name.clone();
    web::block(move || files.delete_flow_file(flow, &owned)).await??;
    Ok(HttpResponse::Ok().json(json!({ "message": format!("File {name} deleted successfully") })))
}

/// `langflow.load.upload_file`'s route: stored by content hash, answered with the absolute path.
async fn legacy_upload(
    state: web::Data<AppState>,
    caller: Identity,
    path: web::Path<String>,
    multipart: Multipart,
) -> ApiResult<HttpResponse> {
    let flow = owned_flow(&state, &caller, &path)?;
    let files = state.files.clone();
    let received = receive(&state, &files, multipart).await?;
    let ext = received.filename.as_deref().map(|n| split_extension(n).1).unwrap_or_default();
    let ext = if ext.contains(['/', '\\', '\0']) || ext.len() > 32 { "" } else { ext };
    let name = format!("{}{ext}", received.sha256);
    let pending = received.pending;
    let stored = web::block(move || files.commit_cache_file(pending, flow, &name)).await??;
    Ok(HttpResponse::Created().json(json!({"flowId": flow, "file_path": stored.display().to_string()})))
}

// ---- v2 ------------------------------------------------------------------------------------

const INVALID_NAME: &str = "Invalid file name: paths, '..', NUL, CR/LF, and unsafe Unicode formatting are forbidden.";

/// Unicode format characters that can disguise a name (bidi overrides, zero-width characters).
fn is_unsafe_format(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}' | '\u{00AD}')
}

/// Langflow's v2 file-name rules.
///
/// # Errors
/// 400 with Langflow's message.
fn check_v2_name(name: &str) -> ApiResult<()> {
    if name.contains("..")
        || name.contains(['/', '\\', '\0', '\r', '\n'])
        || name.chars().any(|c| is_unsafe_format(c) || c.is_control())
    {
        return Err(ApiError::bad_request(INVALID_NAME));
    }
    let stem = name.split('.').next().unwrap_or_default().trim_end().to_ascii_uppercase();
    let reserved = matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || ((stem.starts_with("COM") || stem.starts_with("LPT"))
            && stem.len() == 4
            && stem.as_bytes()[3].is_ascii_digit()
            && stem.as_bytes()[3] != b'0');
    if reserved {
        return Err(ApiError::bad_request(format!("Invalid file name. '{name}' is a reserved system name.")));
    }
    if name.len() > 255 {
        return Err(ApiError::bad_request("File name is too long. Maximum 255 bytes allowed."));
    }
    Ok(())
}

fn query_flag(req: &HttpRequest, name: &str) -> ApiResult<bool> {
    match query_value(req, name).as_deref() {
        None | Some("false" | "False" | "0" | "no" | "off" | "f" | "n") => Ok(false),
        Some("true" | "True" | "1" | "yes" | "on" | "t" | "y") => Ok(true),
        Some(_) => Err(ApiError::validation(
            "bool_parsing",
            &["query", name],
            "Input should be a valid boolean, unable to interpret input",
        )),
    }
}

fn file_read(r: &FileRecord) -> Value {
    json!({"id": r.id, "name": r.name, "path": r.path, "size": r.size, "provider": null})
}

fn iso_z(micros: i64) -> String {
    let text = iso_micros(micros);
    text.strip_suffix("+00:00").map_or(text.clone(), |t| format!("{t}Z"))
}

fn file_row(r: &FileRecord) -> Value {
    json!({
        "path": r.path, "name": r.name, "provider": null, "updated_at": iso_z(r.updated_at),
        "user_id": r.user_id, "id": r.id, "size": r.size, "created_at": iso_z(r.created_at),
    })
}

async fn v2_upload(
    state: web::Data<AppState>,
    caller: Identity,
    req: HttpRequest,
    multipart: Multipart,
) -> ApiResult<HttpResponse> {
    let how = UserUpload { append: query_flag(&req, "append")?, ephemeral: query_flag(&req, "ephemeral")? };
    let files = state.files.clone();
    let received = receive(&state, &files, multipart).await?;
    let name = received.filename.clone().unwrap_or_default();
    if name.is_empty() {
        return Err(ApiError::bad_request("No file provided"));
    }
    check_v2_name(&name)?;
    let user = caller.user.id;
    let pending = received.pending;
    let record = web::block(move || files.create_user_file(user, pending, &name, how)).await??;
    Ok(HttpResponse::Created().json(file_read(&record)))
}

async fn v2_list(state: web::Data<AppState>, caller: Identity) -> ApiResult<HttpResponse> {
    let files = state.files.clone();
    let user = caller.user.id;
    let records = web::block(move || files.list_user(user)).await??;
    Ok(HttpResponse::Ok().json(records.iter().map(file_row).collect::<Vec<_>>()))
}

fn file_not_found() -> ApiError {
    ApiError::not_found("File not found")
}

async fn v2_get(
    state: web::Data<AppState>,
    caller: Identity,
    req: HttpRequest,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = path_uuid("file_id", &path)?;
    let return_content = query_flag(&req, "return_content")?;
    let files = state.files.clone();
    let user = caller.user.id;
    let found = web::block(move || -> std::io::Result<Option<(FileRecord, Vec<u8>)>> {
        let Some(record) = files.get_user_file(user, id)? else { return Ok(None) };
        let stored = record.path.rsplit('/').next().unwrap_or_default().to_owned();
        match std::fs::read(files.root().join(user.to_string()).join(&stored)) {
            Ok(bytes) => Ok(Some((record, bytes))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    })
    .await??;
    let (record, bytes) = found.ok_or_else(file_not_found)?;
    if return_content {
        return Ok(HttpResponse::Ok().json(String::from_utf8_lossy(&bytes)));
    }
    let stored = record.path.rsplit('/').next().unwrap_or_default();
    Ok(bytes_response(bytes, "application/octet-stream", stored))
}

async fn v2_rename(
    state: web::Data<AppState>,
    caller: Identity,
    req: HttpRequest,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = path_uuid("file_id", &path)?;
    let name = query_value(&req, "name")
        .ok_or_else(|| ApiError::validation("missing", &["query", "name"], "Field required"))?;
    if name.is_empty() {
        return Err(ApiError::bad_request(INVALID_NAME));
    }
    check_v2_name(&name)?;
    let files = state.files.clone();
    let user = caller.user.id;
    let record = web::block(move || files.rename_user_file(user, id, &name)).await??;
    Ok(HttpResponse::Ok().json(file_read(&record.ok_or_else(file_not_found)?)))
}

async fn v2_delete(state: web::Data<AppState>, caller: Identity, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let id = path_uuid("file_id", &path)?;
    let files = state.files.clone();
    let user = caller.user.id;
    let record = web::block(move || files.delete_user_file(user, id)).await??.ok_or_else(file_not_found)?;
    Ok(HttpResponse::Ok().json(json!({ "detail": format!("File {} deleted successfully", record.name) })))
}

async fn v2_delete_all(state: web::Data<AppState>, caller: Identity) -> ApiResult<HttpResponse> {
    let files = state.files.clone();
    let user = caller.user.id;
    web::block(move || -> std::io::Result<()> {
        for record in files.list_user(user)? {
            files.delete_user_file(user, record.id)?;
        }
        Ok(())
    })
    .await??;
    Ok(HttpResponse::Ok().json(json!({ "message": "All files deleted successfully" })))
}

/// A JSON array of file ids (FastAPI's 422 otherwise).
fn id_list(body: &[u8]) -> ApiResult<Vec<Uuid>> {
    let value = crate::http::body::optional_json(body)?
        .ok_or_else(|| ApiError::validation("missing", &["body"], "Field required"))?;
    let Value::Array(items) = value else {
        return Err(ApiError::validation("list_type", &["body"], "Input should be a valid list"));
    };
    items
        .iter()
        .map(|v| {
            v.as_str()
                .and_then(|s| Uuid::parse_str(s).ok())
                .ok_or_else(|| ApiError::validation("uuid_parsing", &["body", "0"], "Input should be a valid UUID"))
        })
        .collect()
}

async fn v2_batch_delete(state: web::Data<AppState>, caller: Identity, body: web::Bytes) -> ApiResult<HttpResponse> {
    let ids = id_list(&body)?;
    let files = state.files.clone();
    let user = caller.user.id;
    let deleted = web::block(move || -> std::io::Result<usize> {
        let mut n = 0;
        for id in ids {
            if files.delete_user_file(user, id)?.is_some() {
                n += 1;
            }
        }
        Ok(n)
    })
    .await??;
    if deleted == 0 {
        return Err(ApiError::detail(StatusCode::INTERNAL_SERVER_ERROR, "Error deleting files: 404: No files found"));
    }
    Ok(HttpResponse::Ok().json(json!({ "message": format!("{deleted} files deleted successfully") })))
}

async fn v2_batch_download(state: web::Data<AppState>, caller: Identity, body: web::Bytes) -> ApiResult<HttpResponse> {
    let ids = id_list(&body)?;
    let files = state.files.clone();
    let user = caller.user.id;
    let zipped = web::block(move || -> ApiResult<Option<Vec<u8>>> {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        let mut any = false;
        let mut seen = Vec::new();
        for id in ids {
            let Some(record) = files.get_user_file(user, id)? else { continue };
            let stored = record.path.rsplit('/').next().unwrap_or_default().to_owned();
            let Ok(bytes) = std::fs::read(files.root().join(user.to_string()).join(&stored)) else { continue };
            if seen.contains(&stored) {
                continue;
            }
            zip.start_file(stored.as_str(), options)?;
            zip.write_all(&bytes)?;
            seen.push(stored);
            any = true;
        }
        Ok(any.then(|| zip.finish().map(std::io::Cursor::into_inner)).transpose()?)
    })
    .await??;
    let bytes = zipped.ok_or_else(|| ApiError::not_found("No files found"))?;
    let name = format!("{}_langflow_files.zip", crate::http::flow_files::timestamp());
    Ok(bytes_response(bytes, "application/x-zip-compressed", &name))
}
