//! Flow files in and out: the multipart `file` field of the upload routes (bounded, never
//! written to disk), flow JSON or ZIP archives in uploads, and ZIP archives for downloads.
//!
//! Everything is held in memory and capped by the body limit: an upload larger than the limit,
//! or a ZIP that inflates beyond it, is refused with 413 rather than buffered.

use std::collections::HashSet;
use std::io::{Cursor, Read, Write};

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::HttpResponse;
use futures_util::StreamExt;
use serde_json::Value;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use crate::error::{ApiError, ApiResult};

/// Most parts read from one multipart body.
const MAX_PARTS: usize = 16;
/// Most entries read from one uploaded ZIP.
const MAX_ZIP_ENTRIES: usize = 1000;
/// Longest file name (before `.json`) inside a downloaded archive.
const MAX_FILE_STEM: usize = 100;

/// An uploaded file: its bytes and the client's file name.
pub struct Upload {
    pub bytes: Vec<u8>,
    pub filename: Option<String>,
}

/// Reads the multipart field `file`. Other fields are drained and ignored; the whole body may
/// not exceed `limit` bytes.
///
/// # Errors
/// 400 `No file provided` (no such field, or not a multipart body), 400 for a malformed body,
/// 413 beyond the limit.
pub async fn read_file_field(mut multipart: Multipart, limit: usize, limit_mb: u64) -> ApiResult<Upload> {
    let mut total = 0usize;
    let mut found = None;
    let mut parts = 0usize;
    while let Some(field) = multipart.next().await {
        let mut field = match field {
            Ok(field) => field,
            Err(
                actix_multipart::MultipartError::ContentTypeMissing
                | actix_multipart::MultipartError::ContentTypeParse
                | actix_multipart::MultipartError::ContentTypeIncompatible
                | actix_multipart::MultipartError::BoundaryMissing,
            ) => return Err(ApiError::bad_request("No file provided")),
            Err(_) => return Err(ApiError::bad_request("There was an error parsing the body")),
        };
        parts += 1;
        if parts > MAX_PARTS {
            return Err(ApiError::bad_request("There was an error parsing the body"));
        }
        let is_file = found.is_none() && field.name() == Some("file");
        let filename = field.content_disposition().and_then(|cd| cd.get_filename()).map(str::to_owned);
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|_| ApiError::bad_request("There was an error parsing the body"))?;
            total = total.saturating_add(chunk.len());
            if total > limit {
                return Err(ApiError::PayloadTooLarge { limit_mb });
            }
            if is_file {
                bytes.extend_from_slice(&chunk);
            }
        }
        if is_file {
            found = Some(Upload { bytes, filename });
        }
    }
    found.ok_or_else(|| ApiError::bad_request("No file provided"))
}

/// True when the bytes start like a ZIP archive.
#[must_use]
pub fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06")
}

/// Parses an uploaded JSON file.
///
/// # Errors
/// 400 `The uploaded file is empty` / `Invalid JSON file: ...`.
pub fn parse_json_file(bytes: &[u8]) -> ApiResult<Value> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("The uploaded file is empty"));
    }
    serde_json::from_slice(bytes).map_err(|e| ApiError::bad_request(format!("Invalid JSON file: {e}")))
}

/// The JSON documents (`*.json` entries) of an uploaded ZIP; entries that are not valid JSON are
/// skipped. The inflated total may not exceed `limit` bytes.
///
/// # Errors
/// 400 for an unreadable archive, 413 beyond the limit.
pub fn zip_documents(bytes: &[u8], limit: usize, limit_mb: u64) -> ApiResult<Vec<Value>> {
    let mut archive =
        ZipArchive::new(Cursor::new(bytes)).map_err(|e| ApiError::bad_request(format!("Invalid ZIP file: {e}")))?;
    let mut budget = limit;
    let mut docs = Vec::new();
    for index in 0..archive.len().min(MAX_ZIP_ENTRIES) {
        let entry = archive.by_index(index).map_err(|e| ApiError::bad_request(format!("Invalid ZIP file: {e}")))?;
        let name = entry.name().to_owned();
        if entry.is_dir() || !name.to_ascii_lowercase().ends_with(".json") || name.starts_with("__MACOSX") {
            continue;
        }
        let mut text = Vec::new();
        let cap = u64::try_from(budget).unwrap_or(u64::MAX).saturating_add(1);
        entry.take(cap).read_to_end(&mut text).map_err(|e| ApiError::bad_request(format!("Invalid ZIP file: {e}")))?;
        if text.len() > budget {
            return Err(ApiError::PayloadTooLarge { limit_mb });
        }
        budget -= text.len();
        if let Ok(doc) = serde_json::from_slice::<Value>(&text) {
            docs.push(doc);
        }
    }
    Ok(docs)
}

/// A file name made only of letters, digits, spaces, `-`, `_` and `.` (safe in a ZIP and in a
/// `Content-Disposition` header).
#[must_use]
pub fn sanitize_file_stem(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.') { c } else { '_' })
        .take(MAX_FILE_STEM)
        .collect();
    let trimmed = cleaned.trim().trim_matches('.');
    if trimmed.is_empty() {
        "flow".to_owned()
    } else {
        trimmed.to_owned()
    }
}

/// A ZIP with one `<name>.json` per document; names made unique with ` (n)`.
///
/// # Errors
/// 500 if the archive cannot be written (memory only, so not expected).
pub fn build_zip(files: &[(String, Value)]) -> ApiResult<Vec<u8>> {
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    let mut used = HashSet::new();
    for (name, doc) in files {
        let stem = sanitize_file_stem(name);
        let mut file_name = format!("{stem}.json");
        let mut n = 1;
        while !used.insert(file_name.to_lowercase()) {
            file_name = format!("{stem} ({n}).json");
            n += 1;
        }
        let bytes = serde_json::to_vec_pretty(doc).map_err(ApiError::internal)?;
        writer.start_file(file_name, options)?;
        writer.write_all(&bytes)?;
    }
    Ok(writer.finish()?.into_inner())
}

/// A ZIP download response.
#[must_use]
pub fn zip_response(bytes: Vec<u8>, filename: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/x-zip-compressed")
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename={filename}")))
        .body(bytes)
}

/// `YYYYMMDD_HHMMSS` in UTC, the prefix of downloaded archive names.
#[must_use]
pub fn timestamp() -> String {
    chrono::Utc::now().format("%Y%m%d_%H%M%S").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn zips_round_trip_with_unique_names() {
        let files = vec![("a/b".to_owned(), json!({"n": 1})), ("a_b".to_owned(), json!({"n": 2}))];
        let bytes = build_zip(&files).expect("zip");
        assert!(is_zip(&bytes));
        let docs = zip_documents(&bytes, 1 << 20, 1).expect("read");
        assert_eq!(docs, vec![json!({"n": 1}), json!({"n": 2})]);
        assert!(matches!(zip_documents(&bytes, 4, 1), Err(ApiError::PayloadTooLarge { .. })));
    }

    #[test]
    fn file_names_are_header_safe() {
        assert_eq!(sanitize_file_stem("My \"flow\"\r\n/../x"), "My _flow____.._x");
        assert_eq!(sanitize_file_stem("..."), "flow");
        assert_eq!(sanitize_file_stem("Flüsse"), "Fl_sse");
    }
}
