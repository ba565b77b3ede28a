//! The one place that turns records into bytes for sled and back.
//!
//! Every value is one version byte followed by a bincode (2.0.1, standard config) body, so the
//! on-disk format can evolve here without touching callers. Nothing else in the workspace may
//! call bincode directly.

use serde::{de::DeserializeOwned, Serialize};

use crate::records::{ApiKeyRecord, KeyPolicy};

/// Version byte written in front of every record.
pub const FORMAT_VERSION: u8 = 1;

#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("record encoding failed: {0}")]
    Encode(String),
    #[error("record decoding failed: {0}")]
    Decode(String),
    #[error("unsupported record format version {0}")]
    Version(u8),
}

/// Encodes a record with the current format version.
///
/// # Errors
/// Fails only if serde refuses the value (a type the codec cannot represent).
pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, CodecError> {
    let mut out = vec![FORMAT_VERSION];
    let body = bincode::serde::encode_to_vec(value, bincode::config::standard())
        .map_err(|e| CodecError::Encode(e.to_string()))?;
    out.extend_from_slice(&body);
    Ok(out)
}

/// Decodes a record written by [`encode`].
///
/// # Errors
/// Unknown version byte or a body that does not decode as `T`.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
    let (&version, body) = bytes.split_first().ok_or_else(|| CodecError::Decode("empty record".into()))?;
    if version != FORMAT_VERSION {
        return Err(CodecError::Version(version));
    }
    let (value, _) = bincode::serde::decode_from_slice(body, bincode::config::standard())
        .map_err(|e| CodecError::Decode(e.to_string()))?;
    Ok(value)
}

/// Version byte of [`ApiKeyRecord`]s since they carry a [`KeyPolicy`]; records written before
/// (version [`FORMAT_VERSION`]) decode through the old layout as full-privilege keys.
pub const API_KEY_FORMAT_VERSION: u8 = 2;

/// The API-key record as version 1 stored it (no policy). Never written any more.
#[derive(serde::Deserialize)]
struct ApiKeyRecordV1 {
    id: uuid::Uuid,
    user_id: uuid::Uuid,
    name: Option<String>,
    hash: [u8; 32],
    visible_prefix: String,
    key_len: u16,
    created_at: crate::clock::Micros,
    expires_at: Option<crate::clock::Micros>,
    is_active: bool,
    total_uses: u64,
    last_used_at: Option<crate::clock::Micros>,
}

impl From<ApiKeyRecordV1> for ApiKeyRecord {
    fn from(v: ApiKeyRecordV1) -> Self {
        Self {
            id: v.id,
            user_id: v.user_id,
            name: v.name,
            hash: v.hash,
            visible_prefix: v.visible_prefix,
            key_len: v.key_len,
            created_at: v.created_at,
            expires_at: v.expires_at,
            is_active: v.is_active,
            total_uses: v.total_uses,
            last_used_at: v.last_used_at,
            policy: KeyPolicy::default(),
        }
    }
}

fn body_of<T: DeserializeOwned>(body: &[u8]) -> Result<T, CodecError> {
    let (value, _) = bincode::serde::decode_from_slice(body, bincode::config::standard())
        .map_err(|e| CodecError::Decode(e.to_string()))?;
    Ok(value)
}

/// Encodes an API-key record (version [`API_KEY_FORMAT_VERSION`]).
///
/// # Errors
/// As [`encode`].
pub fn encode_api_key(key: &ApiKeyRecord) -> Result<Vec<u8>, CodecError> {
    let mut out = encode(key)?;
    out[0] = API_KEY_FORMAT_VERSION;
    Ok(out)
}

/// Decodes an API-key record of either layout.
///
/// # Errors
/// Unknown version byte or a body that does not decode.
pub fn decode_api_key(bytes: &[u8]) -> Result<ApiKeyRecord, CodecError> {
    let (&version, body) = bytes.split_first().ok_or_else(|| CodecError::Decode("empty record".into()))?;
    match version {
        API_KEY_FORMAT_VERSION => body_of(body),
        FORMAT_VERSION => body_of::<ApiKeyRecordV1>(body).map(Into::into),
        other => Err(CodecError::Version(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, serde::Deserialize, PartialEq, Debug)]
    struct Sample {
        id: uuid::Uuid,
        name: String,
        n: Option<i64>,
    }

    #[test]
    fn round_trips_and_checks_version() {
        let s = Sample { id: uuid::Uuid::new_v4(), name: "x".into(), n: Some(-3) };
        let bytes = encode(&s).expect("encode");
        assert_eq!(bytes[0], FORMAT_VERSION);
        assert_eq!(decode::<Sample>(&bytes).expect("decode"), s);
        let mut bad = bytes.clone();
        bad[0] = 99;
        assert!(matches!(decode::<Sample>(&bad), Err(CodecError::Version(99))));
        assert!(decode::<Sample>(&[]).is_err());
    }

    /// The version-1 layout, as the code before key policies wrote it.
    #[derive(Serialize)]
    struct OldKey {
        id: uuid::Uuid,
        user_id: uuid::Uuid,
        name: Option<String>,
        hash: [u8; 32],
        visible_prefix: String,
        key_len: u16,
        created_at: i64,
        expires_at: Option<i64>,
        is_active: bool,
        total_uses: u64,
        last_used_at: Option<i64>,
    }

    #[test]
    fn old_api_key_records_decode_as_full_keys() {
        let old = OldKey {
            id: uuid::Uuid::new_v4(),
            user_id: uuid::Uuid::new_v4(),
            name: Some("ci".into()),
            hash: [7; 32],
            visible_prefix: "sk-abcde".into(),
            key_len: 46,
            created_at: 1_700_000_000_000_000,
            expires_at: Some(1_800_000_000_000_000),
            is_active: true,
            total_uses: 12,
            last_used_at: None,
        };
        let bytes = encode(&old).expect("encode");
        assert_eq!(bytes[0], 1);
        let key = decode_api_key(&bytes).expect("old layout decodes");
        assert_eq!((key.id, key.user_id, key.name.as_deref()), (old.id, old.user_id, Some("ci")));
        assert_eq!((key.hash, key.key_len, key.total_uses), ([7; 32], 46, 12));
        assert_eq!(key.expires_at, old.expires_at);
        assert_eq!(key.policy, KeyPolicy::default());
        assert!(key.policy.allows(crate::records::Scope::Admin));

        let mut scoped = key.clone();
        scoped.policy = KeyPolicy {
            scopes: Some(vec![crate::records::Scope::Run]),
            flow_ids: vec![uuid::Uuid::new_v4()],
            endpoint_names: vec!["bot".into()],
            rate_limit_per_minute: Some(100),
        };
        let bytes = encode_api_key(&scoped).expect("encode");
        assert_eq!(bytes[0], API_KEY_FORMAT_VERSION);
        assert_eq!(decode_api_key(&bytes).expect("decode"), scoped);
        let mut bad = bytes;
        bad[0] = 9;
        assert!(matches!(decode_api_key(&bad), Err(CodecError::Version(9))));
    }
}
