//! The flow document as stored: canonical JSON text and its content hash, and the webhook flag
//! derived from it at write time.
//!
//! `has_webhook` reads the node list of a document; it stays here rather than on the graph side
//! because it runs on every flow write without compiling a graph, and the store must not depend
//! on the graph layer (which sits above it).

use serde_json::Value;

use super::FlowError;
use crate::codec::CodecError;

fn write_canonical(value: &Value, out: &mut Vec<u8>) -> Result<(), FlowError> {
    let enc = |e: serde_json::Error| FlowError::Codec(CodecError::Encode(e.to_string()));
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push(b'{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                serde_json::to_writer(&mut *out, key).map_err(enc)?;
                out.push(b':');
                if let Some(v) = map.get(key) {
                    write_canonical(v, out)?;
                }
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out)?;
            }
            out.push(b']');
        }
        scalar => serde_json::to_writer(&mut *out, scalar).map_err(enc)?,
    }
    Ok(())
}

/// The canonical JSON bytes of a value: object keys sorted, no whitespace. Equal JSON values
/// (whatever their key order) give equal bytes, so the hash identifies the document.
///
/// # Errors
/// Never for values parsed from JSON.
pub fn canonical_json(value: &Value) -> Result<Vec<u8>, FlowError> {
    let mut out = Vec::new();
    write_canonical(value, &mut out)?;
    Ok(out)
}

/// Canonical text and content hash of a flow document.
pub(crate) fn document(data: &Value) -> Result<(Option<String>, [u8; 32]), FlowError> {
    let bytes = canonical_json(data)?;
    let hash = *blake3::hash(&bytes).as_bytes();
    if data.is_null() {
        return Ok((None, hash));
    }
    let text = String::from_utf8(bytes).map_err(|e| FlowError::Codec(CodecError::Encode(e.to_string())))?;
    Ok((Some(text), hash))
}

/// True when a node of the document is a Webhook component.
#[must_use]
pub fn has_webhook(data: &Value) -> bool {
    data.get("nodes").and_then(Value::as_array).is_some_and(|nodes| {
        nodes.iter().any(|n| n.get("data").and_then(|d| d.get("type")).and_then(Value::as_str) == Some("Webhook"))
    })
}
